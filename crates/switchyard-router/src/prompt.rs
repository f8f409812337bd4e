//! What a request is about, as text: the part of it that routing rules read (the
//! language rule, task routing).

use switchyard_types::{ChatRequest, ContentBlock, Prompt, Role};

/// The latest thing the caller asked, cut to at most `max_chars` characters: the last
/// user message's text, or a text completion's first prompt. `None` when it has no
/// text (token ids, images only, no user message).
pub fn latest_text(request: &ChatRequest, max_chars: usize) -> Option<String> {
    let mut text = match &request.completion {
        Some(completion) => match &completion.prompt {
            Prompt::Texts(texts) => texts.first()?.clone(),
            Prompt::Tokens(_) => return None,
        },
        None => {
            let message = request
                .messages
                .iter()
                .rev()
                .find(|message| message.role == Role::User)?;
            let parts: Vec<&str> = message
                .content
                .iter()
                .filter_map(|block| match block {
                    ContentBlock::Text { text, .. } => Some(text.as_str()),
                    _ => None,
                })
                .collect();
            parts.join(" ")
        }
    };
    if let Some((end, _)) = text.char_indices().nth(max_chars) {
        text.truncate(end);
    }
    let trimmed = text.trim();
    (!trimmed.is_empty()).then(|| trimmed.to_owned())
}

#[cfg(test)]
mod tests {
    use switchyard_types::{Message, TextCompletion};

    use super::*;

    #[test]
    fn the_last_user_message_is_read_and_cut_on_a_character_boundary() {
        let request = ChatRequest {
            messages: vec![
                Message::text(Role::System, "Be brief."),
                Message::text(Role::User, "first question"),
                Message::text(Role::Assistant, "an answer"),
                Message::text(Role::User, "éléphant rose"),
            ],
            ..ChatRequest::default()
        };
        assert_eq!(latest_text(&request, 100).as_deref(), Some("éléphant rose"));
        assert_eq!(latest_text(&request, 3).as_deref(), Some("élé"));
    }

    #[test]
    fn a_text_completion_reads_its_prompt_and_no_text_is_none() {
        let completion = ChatRequest {
            completion: Some(TextCompletion {
                prompt: Prompt::Texts(vec!["Once upon a time".into()]),
                echo: false,
            }),
            ..ChatRequest::default()
        };
        assert_eq!(
            latest_text(&completion, 100).as_deref(),
            Some("Once upon a time")
        );
        let tokens = ChatRequest {
            completion: Some(TextCompletion {
                prompt: Prompt::Tokens(vec![vec![1, 2, 3]]),
                echo: false,
            }),
            ..ChatRequest::default()
        };
        assert_eq!(latest_text(&tokens, 100), None);
        assert_eq!(latest_text(&ChatRequest::default(), 100), None);
    }
}
