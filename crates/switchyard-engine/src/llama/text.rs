//! From token bytes to the text a caller may see: whole UTF-8 characters only, and
//! never any part of a stop sequence, even one that straddles tokens.

/// Joins token pieces into UTF-8 text. A character split across tokens (emoji, CJK in
/// byte-level vocabularies) is held back until it is complete.
#[derive(Debug, Default)]
pub struct Utf8Joiner {
    pending: Vec<u8>,
}

impl Utf8Joiner {
    /// The text completed by `bytes`.
    pub fn push(&mut self, bytes: &[u8]) -> String {
        self.pending.extend_from_slice(bytes);
        let mut text = String::new();
        loop {
            match std::str::from_utf8(&self.pending) {
                Ok(valid) => {
                    text.push_str(valid);
                    self.pending.clear();
                    return text;
                }
                Err(error) => {
                    let valid = error.valid_up_to();
                    // SAFETY of the unchecked-free path: `valid_up_to` bytes are valid.
                    text.push_str(std::str::from_utf8(&self.pending[..valid]).unwrap_or_default());
                    match error.error_len() {
                        // Bytes that can never become a character: replace and go on.
                        Some(bad) => {
                            text.push(char::REPLACEMENT_CHARACTER);
                            self.pending.drain(..valid + bad);
                        }
                        // An incomplete character at the end: wait for the next token.
                        None => {
                            self.pending.drain(..valid);
                            return text;
                        }
                    }
                }
            }
        }
    }

    /// What is left at the end of generation, lossily.
    pub fn finish(&mut self) -> String {
        let rest = String::from_utf8_lossy(&self.pending).into_owned();
        self.pending.clear();
        rest
    }
}

/// Holds back text that may be the start of a stop sequence.
#[derive(Debug, Default)]
pub struct StopMatcher {
    stops: Vec<String>,
    held: String,
}

/// What the matcher lets through for one piece of text.
#[derive(Debug, PartialEq, Eq)]
pub enum Release {
    /// Text that is safe to send (possibly empty).
    Text(String),
    /// A stop sequence was completed: send this text, then end the answer.
    Stopped(String),
}

impl StopMatcher {
    pub fn new(stops: impl IntoIterator<Item = String>) -> Self {
        StopMatcher {
            stops: stops.into_iter().filter(|stop| !stop.is_empty()).collect(),
            held: String::new(),
        }
    }

    pub fn push(&mut self, text: &str) -> Release {
        if self.stops.is_empty() {
            return Release::Text(text.to_owned());
        }
        self.held.push_str(text);
        // The earliest complete stop sequence wins.
        let earliest = self
            .stops
            .iter()
            .filter_map(|stop| self.held.find(stop.as_str()))
            .min();
        if let Some(at) = earliest {
            let before = self.held[..at].to_owned();
            self.held.clear();
            return Release::Stopped(before);
        }
        // Keep the longest tail that is a prefix of some stop sequence.
        let keep_from = self
            .held
            .char_indices()
            .map(|(index, _)| index)
            .find(|&index| {
                let tail = &self.held[index..];
                self.stops.iter().any(|stop| stop.starts_with(tail))
            })
            .unwrap_or(self.held.len());
        let released = self.held[..keep_from].to_owned();
        self.held.drain(..keep_from);
        Release::Text(released)
    }

    /// Text held back when generation ends for another reason.
    pub fn finish(&mut self) -> String {
        std::mem::take(&mut self.held)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_character_split_across_tokens_waits_for_its_end() {
        let mut joiner = Utf8Joiner::default();
        let crab = "🦀".as_bytes();
        assert_eq!(joiner.push(&crab[..2]), "");
        assert_eq!(joiner.push(&crab[2..]), "🦀");
        assert_eq!(joiner.push(b"ok\xff!"), "ok\u{fffd}!");
        assert_eq!(joiner.push(&crab[..1]), "");
        assert_eq!(joiner.finish(), "\u{fffd}");
    }

    #[test]
    fn a_stop_sequence_straddling_tokens_never_leaks() {
        let mut matcher = StopMatcher::new(["\n\nUser:".to_owned()]);
        assert_eq!(matcher.push("Paris."), Release::Text("Paris.".into()));
        assert_eq!(matcher.push("\n"), Release::Text(String::new()));
        assert_eq!(matcher.push("\nUs"), Release::Text(String::new()));
        assert_eq!(matcher.push("er: hi"), Release::Stopped(String::new()));
    }

    #[test]
    fn a_false_start_is_released_once_it_cannot_match() {
        let mut matcher = StopMatcher::new(["STOP".to_owned()]);
        assert_eq!(matcher.push("ST"), Release::Text(String::new()));
        assert_eq!(matcher.push("ART"), Release::Text("START".into()));
        assert_eq!(matcher.push("go ST"), Release::Text("go ".into()));
        assert_eq!(matcher.finish(), "ST");
    }

    #[test]
    fn the_earliest_of_several_stops_wins() {
        let mut matcher = StopMatcher::new(["b".to_owned(), "cd".to_owned()]);
        assert_eq!(matcher.push("a cd b"), Release::Stopped("a ".into()));
    }
}
