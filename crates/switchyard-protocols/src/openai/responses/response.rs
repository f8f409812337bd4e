//! Canonical answer → a Responses API `response` object and its output items.

use serde_json::{Map, Value, json};
use switchyard_types::{ChatResponse, ContentBlock, FinishReason, TokenLogprob, Usage};

use super::super::response::logprob_from_canonical;
use super::items::new_id;
use super::wire::{InputTokensDetails, OutputTokensDetails, ResponseObject, ResponseUsage};

/// A fresh response id.
pub fn new_response_id() -> String {
    new_id("resp")
}

/// An assistant message item.
pub(crate) fn message_item(id: &str, status: &str, content: Vec<Value>) -> Value {
    json!({"type": "message", "id": id, "status": status, "role": "assistant", "content": content})
}

/// A text part of an assistant message, with its tokens' logprobs.
pub(crate) fn output_text(text: &str, logprobs: &[TokenLogprob]) -> Value {
    let logprobs: Vec<_> = logprobs.iter().map(logprob_from_canonical).collect();
    json!({"type": "output_text", "text": text, "annotations": [], "logprobs": logprobs})
}

pub(crate) fn refusal_part(text: &str) -> Value {
    json!({"type": "refusal", "refusal": text})
}

pub(crate) fn function_call_item(
    id: &str,
    status: &str,
    call_id: &str,
    name: &str,
    arguments: &str,
) -> Value {
    json!({
        "type": "function_call", "id": id, "call_id": call_id, "name": name,
        "arguments": arguments, "status": status,
    })
}

/// Reasoning the model showed, as open-weight models' reasoning text (not a summary).
pub(crate) fn reasoning_item(id: &str, status: &str, text: &str) -> Value {
    json!({
        "type": "reasoning", "id": id, "status": status, "summary": [],
        "content": [{"type": "reasoning_text", "text": text}],
    })
}

/// `status` and `incomplete_details` for an answer that stopped for `finish`.
pub(crate) fn outcome(finish: Option<&FinishReason>) -> (&'static str, Option<Value>) {
    match finish {
        Some(FinishReason::Length) => ("incomplete", Some(json!({"reason": "max_output_tokens"}))),
        Some(FinishReason::ContentFilter) => {
            ("incomplete", Some(json!({"reason": "content_filter"})))
        }
        _ => ("completed", None),
    }
}

pub(crate) fn usage_to_wire(usage: &Usage) -> ResponseUsage {
    ResponseUsage {
        input_tokens: usage.input_tokens,
        input_tokens_details: InputTokensDetails {
            cached_tokens: usage.cached_input_tokens.unwrap_or(0),
        },
        output_tokens: usage.output_tokens,
        output_tokens_details: OutputTokensDetails {
            reasoning_tokens: usage.reasoning_tokens.unwrap_or(0),
        },
        total_tokens: usage.total_tokens(),
    }
}

/// The response object for a complete answer (its first choice: the Responses API has
/// no `n`), with the request's `settings` repeated.
pub fn response_object(
    id: &str,
    created_at: u64,
    settings: &Map<String, Value>,
    answer: &ChatResponse,
) -> ResponseObject {
    let choice = answer.choices.first();
    let mut output = Vec::new();
    if let Some(choice) = choice {
        // The choice's logprobs are its text's, which the first message item carries.
        let mut logprobs = choice.logprobs.as_deref();
        let mut text: Option<String> = None;
        let mut flush_text = |text: &mut Option<String>, output: &mut Vec<Value>| {
            if let Some(text) = text.take() {
                let tokens = logprobs.take().unwrap_or_default();
                output.push(message_item(
                    &new_id("msg"),
                    "completed",
                    vec![output_text(&text, tokens)],
                ));
            }
        };
        for block in &choice.message.content {
            match block {
                ContentBlock::Text { text: piece, .. } => {
                    text.get_or_insert_with(String::new).push_str(piece)
                }
                ContentBlock::Reasoning { text: thought, .. } => {
                    flush_text(&mut text, &mut output);
                    output.push(reasoning_item(&new_id("rs"), "completed", thought));
                }
                ContentBlock::ToolCall {
                    id: call_id,
                    name,
                    arguments,
                } => {
                    flush_text(&mut text, &mut output);
                    output.push(function_call_item(
                        &new_id("fc"),
                        "completed",
                        call_id,
                        name,
                        arguments,
                    ));
                }
                _ => {}
            }
        }
        flush_text(&mut text, &mut output);
        if let Some(Value::String(refusal)) = choice.message.extra.get("refusal") {
            output.push(message_item(
                &new_id("msg"),
                "completed",
                vec![refusal_part(refusal)],
            ));
        }
    }
    let (status, incomplete_details) =
        outcome(choice.and_then(|choice| choice.finish_reason.as_ref()));
    ResponseObject {
        id: id.to_owned(),
        object: "response".to_owned(),
        created_at,
        status: status.to_owned(),
        error: None,
        incomplete_details,
        model: answer.model.clone(),
        output,
        usage: answer.usage.as_ref().map(usage_to_wire),
        settings: settings.clone(),
    }
}
