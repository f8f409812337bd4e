//! Canonical response → Messages API response (ingress).

use serde_json::Value;
use switchyard_types::{ChatResponse, ContentBlock, FinishReason, Usage};

use crate::anthropic::request::PROTOCOL;
use crate::anthropic::wire::{self, Block, KnownBlock, MessagesResponse};

/// The answer as Anthropic writes it: the first choice's content blocks, its stop
/// reason, and usage split Anthropic's way.
pub fn encode_response(response: &ChatResponse) -> MessagesResponse {
    let choice = response.choices.first();
    let content = choice
        .map(|choice| {
            choice
                .message
                .content
                .iter()
                .filter_map(block_from_canonical)
                .collect()
        })
        .unwrap_or_default();
    let stop_sequence = response
        .extra
        .get("stop_sequence")
        .and_then(Value::as_str)
        .map(str::to_owned);
    let stop_reason = choice
        .and_then(|choice| choice.finish_reason.as_ref())
        .map(|reason| stop_reason(reason, stop_sequence.is_some()).to_owned());
    MessagesResponse {
        id: message_id(&response.id),
        kind: "message".into(),
        role: "assistant".into(),
        content,
        model: response.model.clone(),
        stop_reason,
        stop_sequence,
        usage: response.usage.as_ref().map(usage).unwrap_or_default(),
        extra: Default::default(),
    }
}

/// Anthropic's ids start with `msg_`; SDKs do not check, but logs and tools that
/// grep for them do. An upstream's own id is kept after the prefix.
pub fn message_id(id: &str) -> String {
    if id.starts_with("msg_") {
        id.to_owned()
    } else {
        format!("msg_{id}")
    }
}

/// A canonical finish reason as Anthropic's `stop_reason`.
pub fn stop_reason(reason: &FinishReason, matched_stop_sequence: bool) -> &str {
    match reason {
        FinishReason::Stop if matched_stop_sequence => "stop_sequence",
        FinishReason::Stop => "end_turn",
        FinishReason::Length => "max_tokens",
        FinishReason::ToolCalls => "tool_use",
        FinishReason::ContentFilter => "refusal",
        // The one Anthropic reason with no canonical name goes back as it came; another
        // vendor's reason means the turn ended.
        FinishReason::Other(other) if other == "pause_turn" => other,
        FinishReason::Other(_) => "end_turn",
    }
}

/// Canonical usage counts cached prompt tokens inside `input_tokens`; Anthropic counts
/// cache reads and writes apart from it.
pub fn usage(usage: &Usage) -> wire::Usage {
    let read = usage.cached_input_tokens.unwrap_or(0);
    let written = usage.cache_creation_input_tokens.unwrap_or(0);
    wire::Usage {
        input_tokens: Some(usage.input_tokens.saturating_sub(read + written)),
        output_tokens: Some(usage.output_tokens),
        cache_creation_input_tokens: Some(written),
        cache_read_input_tokens: Some(read),
        extra: Default::default(),
    }
}

/// One content block of the answer; parts from another protocol's opaque kinds have
/// no Anthropic form and are left out.
fn block_from_canonical(block: &ContentBlock) -> Option<Block> {
    let known = match block {
        ContentBlock::Text { text, .. } => KnownBlock::Text {
            text: text.clone(),
            extra: Default::default(),
        },
        ContentBlock::Reasoning { text, signature } => KnownBlock::Thinking {
            thinking: text.clone(),
            signature: signature.clone().unwrap_or_default(),
        },
        ContentBlock::ToolCall {
            id,
            name,
            arguments,
        } => KnownBlock::ToolUse {
            id: id.clone(),
            name: name.clone(),
            input: tool_input(arguments),
            extra: Default::default(),
        },
        ContentBlock::Opaque { protocol, value } if protocol == PROTOCOL => {
            return Some(Block::Other(value.clone()));
        }
        ContentBlock::Image { .. }
        | ContentBlock::ToolResult { .. }
        | ContentBlock::Opaque { .. } => {
            return None;
        }
    };
    Some(Block::Known(known))
}

/// A tool call's arguments as the JSON object Anthropic's `input` is. A model that
/// wrote something else (broken JSON, an array) gets its text kept under `arguments`
/// rather than silently emptied.
pub fn tool_input(arguments: &str) -> Value {
    if arguments.trim().is_empty() {
        return Value::Object(Default::default());
    }
    match serde_json::from_str::<Value>(arguments) {
        Ok(object @ Value::Object(_)) => object,
        _ => serde_json::json!({ "arguments": arguments }),
    }
}
