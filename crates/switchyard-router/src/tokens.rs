//! Input tokens of a request, estimated without the deployment's tokenizer.
//!
//! Deployments that can count exactly do (the local engine with its tokenizer and chat
//! template, Anthropic's counting endpoint); everything else gets this estimate, which
//! budgets, limits and context-window checks need before a request is sent. It counts
//! text with OpenAI's `o200k_base` encoding (exact for GPT-4o and later, close for
//! other modern tokenizers) and adds OpenAI's published per-message overhead.

use std::sync::OnceLock;

use switchyard_types::{ChatRequest, ContentBlock, Prompt};
use tiktoken_rs::CoreBPE;

/// Tokens every message costs beyond its content (role and separators), and those
/// that prime the answer, per OpenAI's counting guide.
const PER_MESSAGE: u64 = 3;
const REPLY_PRIMING: u64 = 3;
/// An image's cost when its size is unknown: OpenAI's figure for a 1024×1024 image at
/// high detail. Vendors count images differently; this is an order of magnitude.
const PER_IMAGE: u64 = 765;

fn encoding() -> &'static CoreBPE {
    static ENCODING: OnceLock<CoreBPE> = OnceLock::new();
    ENCODING
        .get_or_init(|| tiktoken_rs::o200k_base().expect("the bundled o200k_base encoding loads"))
}

/// Loads the encoding now (about 0.2 s), so that the first request to need it does
/// not wait: `serve` calls it at start-up, on a blocking thread.
pub fn warm_up() {
    encoding();
}

/// Tokens in `text` under `o200k_base`.
pub fn count_text(text: &str) -> u64 {
    encoding().encode_ordinary(text).len() as u64
}

/// The estimated input tokens of `request`: its messages, tool definitions and
/// response schema, or a text completion's prompts together.
pub fn estimate_input_tokens(request: &ChatRequest) -> u64 {
    if let Some(completion) = &request.completion {
        return prompt_tokens(&completion.prompt).sum();
    }
    let mut total = REPLY_PRIMING;
    for message in &request.messages {
        total += PER_MESSAGE + count_text(message.role.as_str());
        if let Some(name) = &message.name {
            total += 1 + count_text(name);
        }
        total += message.content.iter().map(count_block).sum::<u64>();
    }
    for tool in &request.tools {
        total += count_text(&tool.name);
        if let Some(description) = &tool.description {
            total += count_text(description);
        }
        if let Some(parameters) = &tool.parameters {
            total += count_text(&parameters.to_string());
        }
    }
    if let Some(format) = &request.response_format {
        total += count_text(&serde_json::to_string(format).unwrap_or_default());
    }
    total
}

/// The estimated tokens of the longest sequence `request` asks a model to hold: the
/// conversation, or a text completion's longest prompt (each prompt is answered on its
/// own). This, not the total, is what must fit a context window.
pub fn estimate_sequence_tokens(request: &ChatRequest) -> u64 {
    match &request.completion {
        Some(completion) => prompt_tokens(&completion.prompt).max().unwrap_or(0),
        None => estimate_input_tokens(request),
    }
}

/// Each prompt's tokens: counted for text, exact for token ids.
fn prompt_tokens(prompt: &Prompt) -> Box<dyn Iterator<Item = u64> + '_> {
    match prompt {
        Prompt::Texts(texts) => Box::new(texts.iter().map(|text| count_text(text))),
        Prompt::Tokens(lists) => Box::new(lists.iter().map(|tokens| tokens.len() as u64)),
    }
}

fn count_block(block: &ContentBlock) -> u64 {
    match block {
        ContentBlock::Text { text, .. } | ContentBlock::Reasoning { text, .. } => count_text(text),
        ContentBlock::Image { .. } => PER_IMAGE,
        ContentBlock::ToolCall {
            name, arguments, ..
        } => count_text(name) + count_text(arguments),
        ContentBlock::ToolResult { content, .. } => content.iter().map(count_block).sum(),
        ContentBlock::Opaque { value, .. } => count_text(&value.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use switchyard_types::{Message, Role};

    use super::*;

    #[test]
    fn counts_text_with_o200k() {
        // "Hello, world!" is four tokens in o200k_base: Hello | , | world | !
        assert_eq!(count_text("Hello, world!"), 4);
        assert_eq!(count_text(""), 0);
    }

    #[test]
    fn a_request_costs_its_text_plus_openais_overhead() {
        let request = ChatRequest {
            messages: vec![
                Message::text(Role::System, "Be brief."),
                Message::text(Role::User, "Hello, world!"),
            ],
            ..ChatRequest::default()
        };
        let expected = REPLY_PRIMING
            + (PER_MESSAGE + count_text("system") + count_text("Be brief."))
            + (PER_MESSAGE + count_text("user") + 4);
        assert_eq!(estimate_input_tokens(&request), expected);
        let mut longer = request.clone();
        longer
            .messages
            .push(Message::text(Role::User, "And more text to count."));
        assert!(estimate_input_tokens(&longer) > expected);
    }

    #[test]
    fn a_text_completion_costs_its_prompts_and_holds_its_longest() {
        let request = ChatRequest {
            completion: Some(switchyard_types::TextCompletion {
                prompt: Prompt::Tokens(vec![vec![1, 2, 3], vec![4; 10]]),
                echo: false,
            }),
            ..ChatRequest::default()
        };
        assert_eq!(estimate_input_tokens(&request), 13);
        assert_eq!(estimate_sequence_tokens(&request), 10);
    }
}
