//! Messages API response → canonical response, and the pieces the stream decoder shares
//! with it: stop reasons, usage, content blocks.

use switchyard_types::{
    ChatResponse, Choice, ContentBlock, Extra, FinishReason, ImageSource, Message, Role, Usage,
};

use super::request::PROTOCOL;
use super::wire::{self, Block, KnownBlock, MessageContent, MessagesResponse};
use crate::DecodeError;
use crate::decode::from_json;

/// Decodes a complete answer's body.
pub fn decode_response(body: &[u8]) -> Result<ChatResponse, DecodeError> {
    Ok(to_canonical_response(from_json::<MessagesResponse>(body)?))
}

/// One choice, as Anthropic always answers; `created` is the time of decoding, since
/// Anthropic's answers carry none.
pub fn to_canonical_response(wire: MessagesResponse) -> ChatResponse {
    let content: Vec<ContentBlock> = wire.content.into_iter().map(block_to_canonical).collect();
    let content_is_text = content.len() == 1 && matches!(content[0], ContentBlock::Text { .. });
    let mut extra = wire.extra;
    if let Some(stop_sequence) = wire.stop_sequence {
        extra.insert("stop_sequence".into(), stop_sequence.into());
    }
    ChatResponse {
        id: wire.id,
        model: wire.model,
        created: unix_now(),
        choices: vec![Choice {
            index: 0,
            message: Message {
                role: Role::Assistant,
                content,
                name: None,
                content_is_text,
                extra: Extra::new(),
            },
            finish_reason: wire.stop_reason.as_deref().map(finish_reason),
            logprobs: None,
            extra: Extra::new(),
        }],
        usage: Some(usage_to_canonical(&wire.usage)),
        extra,
    }
}

/// Anthropic's `stop_reason` as a canonical finish reason.
pub fn finish_reason(stop_reason: &str) -> FinishReason {
    match stop_reason {
        "end_turn" | "stop_sequence" => FinishReason::Stop,
        "max_tokens" | "model_context_window_exceeded" => FinishReason::Length,
        "tool_use" => FinishReason::ToolCalls,
        "refusal" => FinishReason::ContentFilter,
        other => FinishReason::Other(other.to_owned()),
    }
}

/// Canonical usage counts every prompt token in `input_tokens`, as OpenAI does, with the
/// cached ones also in `cached_input_tokens`; Anthropic counts cache reads and writes
/// apart from `input_tokens`, so they are added back.
pub fn usage_to_canonical(usage: &wire::Usage) -> Usage {
    let read = usage.cache_read_input_tokens;
    let written = usage.cache_creation_input_tokens;
    Usage {
        input_tokens: usage.input_tokens.unwrap_or(0) + read.unwrap_or(0) + written.unwrap_or(0),
        output_tokens: usage.output_tokens.unwrap_or(0),
        cached_input_tokens: read,
        cache_creation_input_tokens: written,
        reasoning_tokens: None,
        extra: usage.extra.clone(),
    }
}

/// A content block of an answer (or of a tool result) in canonical form; kinds the
/// canonical model does not name stay Anthropic-opaque.
pub fn block_to_canonical(block: Block) -> ContentBlock {
    let known = match block {
        Block::Known(known) => known,
        Block::Other(value) => {
            return ContentBlock::Opaque {
                protocol: PROTOCOL.to_owned(),
                value,
            };
        }
    };
    match known {
        KnownBlock::Text { text, extra } => ContentBlock::Text { text, extra },
        KnownBlock::Image { source, extra } => ContentBlock::Image {
            source: match source {
                wire::ImageSource::Url { url } => ImageSource::Url { url },
                wire::ImageSource::Base64 { media_type, data } => {
                    ImageSource::Base64 { media_type, data }
                }
            },
            detail: None,
            extra,
        },
        KnownBlock::ToolUse {
            id, name, input, ..
        } => ContentBlock::ToolCall {
            id,
            name,
            arguments: input.to_string(),
        },
        KnownBlock::ToolResult {
            tool_use_id,
            content,
            is_error,
            ..
        } => ContentBlock::ToolResult {
            tool_call_id: tool_use_id,
            content: match content {
                None => Vec::new(),
                Some(MessageContent::Text(text)) => vec![ContentBlock::text(text)],
                Some(MessageContent::Blocks(blocks)) => {
                    blocks.into_iter().map(block_to_canonical).collect()
                }
            },
            is_error: is_error.unwrap_or(false),
        },
        KnownBlock::Thinking {
            thinking,
            signature,
        } => ContentBlock::Reasoning {
            text: thinking,
            signature: Some(signature),
        },
        redacted @ KnownBlock::RedactedThinking { .. } => ContentBlock::Opaque {
            protocol: PROTOCOL.to_owned(),
            value: serde_json::to_value(redacted).unwrap_or_default(),
        },
    }
}

fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |since| since.as_secs())
}
