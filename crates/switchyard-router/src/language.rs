//! The language rule: a route may send prompts in a given language first to a given
//! deployment (French prompts to a Mistral deployment, say). The language is detected
//! with `whatlang` (trigram models, no I/O, microseconds on a prompt) and acted on only
//! when the detection is reliable.

use switchyard_types::ChatRequest;
use whatlang::Lang;

use crate::prompt;

/// How much of the prompt is read: enough for a reliable guess, bounded for long
/// prompts.
const SAMPLE_CHARS: usize = 2048;

/// A language by its ISO 639-3 code (`fra`) or English name (`French`), any case.
pub fn parse(name: &str) -> Option<&'static str> {
    let wanted = name.trim();
    Lang::all()
        .iter()
        .find(|lang| {
            lang.code().eq_ignore_ascii_case(wanted) || lang.eng_name().eq_ignore_ascii_case(wanted)
        })
        .map(|lang| lang.code())
}

/// The English name of the language with ISO 639-3 `code`.
pub fn name(code: &str) -> &'static str {
    Lang::from_code(code).map_or("unknown", |lang| lang.eng_name())
}

/// The ISO 639-3 code of the prompt's language: the last user message's text, or a
/// text completion's first prompt; `None` when there is no text or no reliable guess.
pub fn detect(request: &ChatRequest) -> Option<&'static str> {
    let sample = prompt::latest_text(request, SAMPLE_CHARS)?;
    whatlang::detect(&sample)
        .filter(whatlang::Info::is_reliable)
        .map(|info| info.lang().code())
}

#[cfg(test)]
mod tests {
    use switchyard_types::{Message, Role};

    use super::*;

    fn asking(text: &str) -> ChatRequest {
        ChatRequest {
            messages: vec![
                Message::text(Role::System, "You are a helpful assistant."),
                Message::text(Role::User, text),
            ],
            ..ChatRequest::default()
        }
    }

    #[test]
    fn detects_the_last_user_messages_language() {
        assert_eq!(
            detect(&asking(
                "Bonjour, pourriez-vous m'expliquer comment fonctionne la photosynthèse ?"
            )),
            Some("fra")
        );
        assert_eq!(
            detect(&asking(
                "Guten Tag, können Sie mir erklären, wie die Photosynthese funktioniert?"
            )),
            Some("deu")
        );
        assert_eq!(
            detect(&asking(
                "Hello, could you explain to me how photosynthesis works in plants? I would \
                 like to understand where the energy comes from and what the leaves do with it."
            )),
            Some("eng")
        );
    }

    #[test]
    fn an_unreliable_guess_or_no_text_is_no_language() {
        assert_eq!(detect(&asking("ok")), None);
        assert_eq!(detect(&ChatRequest::default()), None);
    }

    #[test]
    fn languages_are_named_by_code_or_english_name() {
        assert_eq!(parse("fra"), Some("fra"));
        assert_eq!(parse("French"), Some("fra"));
        assert_eq!(parse("GERMAN"), Some("deu"));
        assert_eq!(parse("Klingon"), None);
        assert_eq!(name("fra"), "French");
    }
}
