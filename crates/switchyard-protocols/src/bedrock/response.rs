//! Converse response → canonical response, and the pieces the stream decoder shares
//! with it: stop reasons, usage, content blocks.

use switchyard_types::{
    ChatResponse, Choice, ContentBlock, Extra, FinishReason, ImageSource, Message, Role, Usage,
};

use super::request::PROTOCOL;
use super::wire::{
    self, ConverseResponse, KnownBlock, KnownToolResultContent, ReasoningContentBlock,
    ToolResultContent,
};
use crate::DecodeError;
use crate::decode::from_json;

/// Decodes a complete answer's body. Converse answers carry neither an id nor a model
/// name: `id` (the `x-amzn-RequestId`) and `model` (the configured model id) name it.
pub fn decode_response(body: &[u8], model: &str, id: &str) -> Result<ChatResponse, DecodeError> {
    to_canonical_response(from_json::<ConverseResponse>(body)?, model, id)
}

/// One choice, as Converse always answers; `created` is the time of decoding. A
/// `malformed_*` stop reason is an error: the model's output could not be used.
pub fn to_canonical_response(
    wire: ConverseResponse,
    model: &str,
    id: &str,
) -> Result<ChatResponse, DecodeError> {
    let finish = finish_reason(&wire.stop_reason)?;
    let content: Vec<ContentBlock> = wire
        .output
        .message
        .map(|message| message.content)
        .unwrap_or_default()
        .into_iter()
        .map(block_to_canonical)
        .collect();
    let content_is_text = content.len() == 1 && matches!(content[0], ContentBlock::Text { .. });
    let mut choice_extra = Extra::new();
    if finish == FinishReason::Stop && !is_known_stop(&wire.stop_reason) {
        // A stop reason added after this was written: kept, so it is not lost.
        choice_extra.insert("stop_reason".into(), wire.stop_reason.clone().into());
    }
    let mut extra = wire.extra;
    if let Some(fields) = wire.additional_model_response_fields {
        extra.insert("additionalModelResponseFields".into(), fields);
    }
    if let Some(metrics) = wire.metrics {
        extra.insert("metrics".into(), metrics);
    }
    Ok(ChatResponse {
        id: id.to_owned(),
        model: model.to_owned(),
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
            finish_reason: Some(finish),
            logprobs: None,
            extra: choice_extra,
        }],
        usage: Some(usage_to_canonical(&wire.usage)),
        extra,
    })
}

fn is_known_stop(stop_reason: &str) -> bool {
    matches!(stop_reason, "end_turn" | "stop_sequence")
}

/// Converse's `stopReason` as a canonical finish reason (SOURCES.md's table). The
/// `malformed_*` reasons say the model's output could not be parsed, which is the
/// upstream's failure, not an answer; a reason added later reads as a plain stop.
pub fn finish_reason(stop_reason: &str) -> Result<FinishReason, DecodeError> {
    Ok(match stop_reason {
        "max_tokens" | "model_context_window_exceeded" => FinishReason::Length,
        "tool_use" => FinishReason::ToolCalls,
        "guardrail_intervened" | "content_filtered" => FinishReason::ContentFilter,
        "malformed_model_output" | "malformed_tool_use" => {
            return Err(DecodeError::new(format!(
                "Bedrock stopped with `{stop_reason}`: the model's output could not be parsed"
            )));
        }
        _ => FinishReason::Stop,
    })
}

/// Canonical usage counts every prompt token in `input_tokens`, as OpenAI does, with the
/// cached ones also in `cached_input_tokens`; Converse counts cache reads and writes
/// apart from `inputTokens`, so they are added back.
pub fn usage_to_canonical(usage: &wire::TokenUsage) -> Usage {
    let read = usage.cache_read_input_tokens;
    let written = usage.cache_write_input_tokens;
    Usage {
        input_tokens: usage.input_tokens + read.unwrap_or(0) + written.unwrap_or(0),
        output_tokens: usage.output_tokens,
        cached_input_tokens: read,
        cache_creation_input_tokens: written,
        reasoning_tokens: None,
        extra: usage.extra.clone(),
    }
}

/// A content block of an answer (or of a tool result) in canonical form; kinds the
/// canonical model does not name stay Bedrock-opaque, whole, so that a Bedrock hop can
/// send them back.
pub fn block_to_canonical(block: wire::ContentBlock) -> ContentBlock {
    let known = match block {
        wire::ContentBlock::Known(known) => known,
        wire::ContentBlock::Other(value) => return opaque(value),
    };
    match known {
        KnownBlock::Text(text) => ContentBlock::text(text),
        KnownBlock::Image(image) => image_to_canonical(image),
        KnownBlock::ToolUse(call) => ContentBlock::ToolCall {
            id: call.tool_use_id,
            name: call.name,
            arguments: call.input.to_string(),
        },
        KnownBlock::ToolResult(result) => ContentBlock::ToolResult {
            tool_call_id: result.tool_use_id,
            content: result
                .content
                .into_iter()
                .map(|part| match part {
                    ToolResultContent::Known(KnownToolResultContent::Text(text)) => {
                        ContentBlock::text(text)
                    }
                    ToolResultContent::Known(KnownToolResultContent::Json(value)) => {
                        ContentBlock::text(value.to_string())
                    }
                    ToolResultContent::Known(KnownToolResultContent::Image(image)) => {
                        image_to_canonical(image)
                    }
                    ToolResultContent::Other(value) => opaque(value),
                })
                .collect(),
            is_error: result.status.as_deref() == Some("error"),
        },
        KnownBlock::ReasoningContent(ReasoningContentBlock::ReasoningText(reasoning)) => {
            ContentBlock::Reasoning {
                text: reasoning.text,
                signature: reasoning.signature,
            }
        }
        other @ (KnownBlock::ReasoningContent(ReasoningContentBlock::RedactedContent(_))
        | KnownBlock::CachePoint(_)) => {
            opaque(serde_json::to_value(wire::ContentBlock::Known(other)).unwrap_or_default())
        }
    }
}

fn image_to_canonical(image: wire::ImageBlock) -> ContentBlock {
    match image.source.bytes {
        Some(data) => ContentBlock::Image {
            source: ImageSource::Base64 {
                media_type: format!("image/{}", image.format),
                data,
            },
            detail: None,
            extra: Extra::new(),
        },
        // An S3 location has no canonical form; a Bedrock hop sends it back as it was.
        None => opaque(
            serde_json::to_value(wire::ContentBlock::Known(KnownBlock::Image(image)))
                .unwrap_or_default(),
        ),
    }
}

fn opaque(value: serde_json::Value) -> ContentBlock {
    ContentBlock::Opaque {
        protocol: PROTOCOL.to_owned(),
        value,
    }
}

pub(super) fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |since| since.as_secs())
}
