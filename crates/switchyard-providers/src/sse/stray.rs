//! Text an upstream wrote outside any SSE field.
//!
//! An SSE parser ignores lines that are not `data:`, `event:`, `id:`, `retry:` or
//! comments, as the standard says it must. Some upstreams write a raw JSON error body
//! into the middle of an event stream all the same (Gemini does on internal errors);
//! without this record the caller would learn only that the stream ended early, not
//! why. Only the first bytes of each line are looked at to tell an SSE field from stray
//! text, so long `data:` lines are never copied.

/// Longest stray text kept; an error body is far shorter.
const KEEP: usize = 16 * 1024;
/// `retry` is the longest field name: five bytes and the colon decide.
const PREFIX: usize = 6;

#[derive(Debug, Default)]
pub struct StrayText {
    line: Line,
    prefix: Vec<u8>,
    text: Vec<u8>,
}

#[derive(Debug, Default, Clone, Copy, PartialEq)]
enum Line {
    /// Too few bytes seen yet to tell.
    #[default]
    Undecided,
    Field,
    Stray,
}

impl StrayText {
    /// Reads the next bytes of the body.
    pub fn feed(&mut self, bytes: &[u8]) {
        for &byte in bytes {
            if byte == b'\n' || byte == b'\r' {
                self.end_line();
                continue;
            }
            match self.line {
                Line::Field => {}
                Line::Stray => self.keep(byte),
                Line::Undecided => {
                    self.prefix.push(byte);
                    if byte == b':' || self.prefix.len() >= PREFIX {
                        self.decide();
                    }
                }
            }
        }
    }

    /// What was written outside the events, lines joined by `\n`; empty when nothing.
    /// A last line the body never ended counts too.
    pub fn text(&self) -> String {
        let mut text = self.text.clone();
        if self.line == Line::Undecided && !is_field(&self.prefix) {
            text.extend_from_slice(&self.prefix);
        }
        String::from_utf8_lossy(&text).trim().to_owned()
    }

    fn end_line(&mut self) {
        if self.line == Line::Undecided && !self.prefix.is_empty() {
            self.decide();
        }
        if self.line == Line::Stray {
            self.keep(b'\n');
        }
        self.line = Line::Undecided;
        self.prefix.clear();
    }

    fn decide(&mut self) {
        if is_field(&self.prefix) {
            self.line = Line::Field;
        } else {
            self.line = Line::Stray;
            let prefix = std::mem::take(&mut self.prefix);
            for byte in prefix {
                self.keep(byte);
            }
        }
    }

    fn keep(&mut self, byte: u8) {
        if self.text.len() < KEEP {
            self.text.push(byte);
        }
    }
}

/// Whether a line starting with `prefix` (its first bytes up to a colon or
/// [`PREFIX`] bytes, or the whole line) is an SSE field or comment. Blank lines are.
fn is_field(prefix: &[u8]) -> bool {
    let name = prefix
        .split(|&byte| byte == b':')
        .next()
        .unwrap_or_default();
    // An empty name is a blank line or a `:` comment.
    matches!(name, b"" | b"data" | b"event" | b"id" | b"retry")
        && (prefix.len() == name.len() || prefix[name.len()] == b':')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stray(chunks: &[&str]) -> String {
        let mut stray = StrayText::default();
        for chunk in chunks {
            stray.feed(chunk.as_bytes());
        }
        stray.text()
    }

    #[test]
    fn events_comments_and_blank_lines_are_not_stray() {
        assert_eq!(
            stray(&[
                "data: {\"a\":1}\r\n\r\n: keep-alive\n",
                "event: x\nid: 7\nretry: 10\ndata\n\n"
            ]),
            ""
        );
    }

    #[test]
    fn keeps_a_raw_json_body_between_events() {
        let body = "data: {\"candidates\":[]}\r\n\r\n{\n  \"error\": {\n    \"code\": 500,\n    \"status\": \"INTERNAL\"\n  }\n}\n";
        assert_eq!(
            stray(&[body]),
            "{\n  \"error\": {\n    \"code\": 500,\n    \"status\": \"INTERNAL\"\n  }\n}"
        );
    }

    #[test]
    fn a_line_split_across_chunks_is_judged_whole() {
        assert_eq!(
            stray(&["da", "ta: x\n", "[{\"er", "ror\": 1}]\n"]),
            "[{\"error\": 1}]"
        );
        // `datum:` starts like `data` but is not a field.
        assert_eq!(stray(&["dat", "um: 1\n"]), "datum: 1");
        assert_eq!(stray(&["identity\n"]), "identity");
        // A last line with no end of line counts.
        assert_eq!(stray(&["data: x\n}\n", "]"]), "}\n]");
    }

    #[test]
    fn keeps_at_most_the_cap() {
        let long = "x".repeat(KEEP * 2);
        assert_eq!(stray(&[&long]).len(), KEEP);
    }
}
