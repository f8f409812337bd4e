//! Chat Completions response ⇄ canonical [`ChatResponse`].

use switchyard_types::{
    ChatResponse, Choice, ContentBlock, Extra, FinishReason, Message, Role, TokenLogprob,
    TopLogprob, Usage,
};

use super::wire::{
    ChatCompletionResponse, ChatMessage, ChoiceLogprobs, CompletionTokensDetails, MessageContent,
    PromptTokensDetails, ResponseChoice, WireTokenLogprob, WireTopLogprob, WireUsage, stash_object,
    unstash_object,
};
use crate::DecodeError;
use crate::decode::from_json;

/// The `object` of a complete answer.
pub(crate) const COMPLETION_OBJECT: &str = "chat.completion";

/// Parses an upstream response body and converts it to the canonical model.
pub fn decode_chat_response(body: &[u8]) -> Result<ChatResponse, DecodeError> {
    Ok(to_canonical_response(from_json::<ChatCompletionResponse>(
        body,
    )?))
}

pub fn to_canonical_response(wire: ChatCompletionResponse) -> ChatResponse {
    let mut extra = wire.extra;
    stash_object(&mut extra, wire.object, COMPLETION_OBJECT);
    ChatResponse {
        id: wire.id,
        model: wire.model,
        created: wire.created,
        choices: wire.choices.into_iter().map(choice_to_canonical).collect(),
        usage: wire.usage.map(usage_to_canonical),
        extra,
    }
}

fn choice_to_canonical(choice: ResponseChoice) -> Choice {
    let mut message = choice.message;
    let mut content = Vec::new();
    if let Some(reasoning) = take_reasoning(message.reasoning_content.take(), &mut message.extra) {
        content.push(ContentBlock::Reasoning {
            text: reasoning,
            signature: None,
        });
    }
    let content_is_text = !matches!(message.content, Some(MessageContent::Parts(_)));
    match message.content {
        Some(MessageContent::Text(text)) => content.push(ContentBlock::text(text)),
        Some(MessageContent::Parts(parts)) => {
            content.extend(parts.into_iter().filter_map(|part| {
                part.text.map(|text| ContentBlock::Text {
                    text,
                    extra: part.extra,
                })
            }))
        }
        None => {}
    }
    for call in message.tool_calls.unwrap_or_default() {
        content.push(ContentBlock::ToolCall {
            id: call.id,
            name: call.function.name,
            arguments: call.function.arguments,
        });
    }
    let mut message_extra = message.extra;
    if let Some(refusal) = message.refusal {
        message_extra.insert("refusal".to_owned(), serde_json::Value::String(refusal));
    }
    Choice {
        index: choice.index,
        message: Message {
            role: Role::Assistant,
            content,
            name: message.name,
            content_is_text,
            extra: message_extra,
        },
        finish_reason: choice
            .finish_reason
            .as_deref()
            .map(FinishReason::from_openai_str),
        logprobs: choice
            .logprobs
            .and_then(|logprobs| logprobs.content)
            .map(|tokens| tokens.into_iter().map(logprob_to_canonical).collect()),
        extra: choice.extra,
    }
}

/// The logprob OpenAI reports for a token too unlikely to rank.
const UNLIKELY_LOGPROB: f64 = -9999.0;

pub(crate) fn logprob_to_canonical(token: WireTokenLogprob) -> TokenLogprob {
    TokenLogprob {
        token: token.token,
        logprob: Some(token.logprob),
        bytes: token.bytes,
        top_logprobs: token
            .top_logprobs
            .into_iter()
            .map(|top| TopLogprob {
                token: top.token,
                logprob: top.logprob,
                bytes: top.bytes,
            })
            .collect(),
    }
}

pub(crate) fn logprob_from_canonical(token: &TokenLogprob) -> WireTokenLogprob {
    WireTokenLogprob {
        token: token.token.clone(),
        // Only an echoed prompt's first token has none, and chat never echoes; OpenAI's
        // own stand-in for "vanishingly unlikely" keeps the field a number.
        logprob: token.logprob.unwrap_or(UNLIKELY_LOGPROB),
        bytes: token.bytes.clone(),
        top_logprobs: token
            .top_logprobs
            .iter()
            .map(|top| WireTopLogprob {
                token: top.token.clone(),
                logprob: top.logprob,
                bytes: top.bytes.clone(),
            })
            .collect(),
    }
}

/// Reasoning text under either name hosts use: `reasoning_content` (DeepSeek, xAI,
/// Fireworks, vLLM) or `reasoning` (Groq, Together, OpenRouter), the latter taken out
/// of the fields kept for a same-protocol hop.
pub(crate) fn take_reasoning(
    reasoning_content: Option<String>,
    extra: &mut serde_json::Map<String, serde_json::Value>,
) -> Option<String> {
    reasoning_content.or_else(|| match extra.remove("reasoning") {
        Some(serde_json::Value::String(text)) => Some(text),
        Some(other) => {
            // An object-valued `reasoning` is some other host's structure: keep it.
            extra.insert("reasoning".to_owned(), other);
            None
        }
        None => None,
    })
}

pub fn usage_to_canonical(wire: WireUsage) -> Usage {
    let mut extra = wire.extra;
    // DeepSeek reports its prompt cache as `prompt_cache_hit_tokens` (and
    // `prompt_cache_miss_tokens`) instead of `prompt_tokens_details.cached_tokens`.
    let cache_hits = extra
        .get("prompt_cache_hit_tokens")
        .and_then(serde_json::Value::as_u64);
    let cached_input_tokens = wire.prompt_tokens_details.and_then(|details| {
        if !details.extra.is_empty() {
            extra.insert(
                "prompt_tokens_details".to_owned(),
                serde_json::Value::Object(details.extra),
            );
        }
        details.cached_tokens
    });
    let cached_input_tokens = cached_input_tokens.or(cache_hits);
    let reasoning_tokens = wire.completion_tokens_details.and_then(|details| {
        if !details.extra.is_empty() {
            extra.insert(
                "completion_tokens_details".to_owned(),
                serde_json::Value::Object(details.extra),
            );
        }
        details.reasoning_tokens
    });
    Usage {
        input_tokens: wire.prompt_tokens,
        output_tokens: wire.completion_tokens,
        cached_input_tokens,
        cache_creation_input_tokens: None,
        reasoning_tokens,
        extra,
    }
}

pub fn usage_from_canonical(usage: &Usage) -> WireUsage {
    let mut extra = usage.extra.clone();
    let mut detail_extra = |key: &str| match extra.remove(key) {
        Some(serde_json::Value::Object(map)) => map,
        _ => Extra::new(),
    };
    let prompt_extra = detail_extra("prompt_tokens_details");
    let completion_extra = detail_extra("completion_tokens_details");
    WireUsage {
        prompt_tokens: usage.input_tokens,
        completion_tokens: usage.output_tokens,
        total_tokens: usage.total_tokens(),
        prompt_tokens_details: (usage.cached_input_tokens.is_some() || !prompt_extra.is_empty())
            .then(|| PromptTokensDetails {
                cached_tokens: usage.cached_input_tokens,
                extra: prompt_extra,
            }),
        completion_tokens_details: (usage.reasoning_tokens.is_some()
            || !completion_extra.is_empty())
        .then(|| CompletionTokensDetails {
            reasoning_tokens: usage.reasoning_tokens,
            extra: completion_extra,
        }),
        extra,
    }
}

/// Encodes a canonical response as an OpenAI `chat.completion` object.
pub fn from_canonical_response(response: &ChatResponse) -> ChatCompletionResponse {
    let mut extra = response.extra.clone();
    let object = unstash_object(&mut extra, COMPLETION_OBJECT);
    ChatCompletionResponse {
        id: response.id.clone(),
        object,
        created: response.created,
        model: response.model.clone(),
        choices: response.choices.iter().map(choice_from_canonical).collect(),
        usage: response.usage.as_ref().map(usage_from_canonical),
        extra,
    }
}

fn choice_from_canonical(choice: &Choice) -> ResponseChoice {
    let mut text = None::<String>;
    let mut reasoning = None::<String>;
    let mut tool_calls = Vec::new();
    for block in &choice.message.content {
        match block {
            ContentBlock::Text { text: piece, .. } => {
                text.get_or_insert_with(String::new).push_str(piece)
            }
            ContentBlock::Reasoning { text: piece, .. } => {
                reasoning.get_or_insert_with(String::new).push_str(piece)
            }
            ContentBlock::ToolCall {
                id,
                name,
                arguments,
            } => tool_calls.push(super::wire::ToolCall {
                id: id.clone(),
                kind: "function".to_owned(),
                function: super::wire::FunctionCall {
                    name: name.clone(),
                    arguments: arguments.clone(),
                },
            }),
            // Images, tool results and other parts do not occur in assistant answers.
            _ => {}
        }
    }
    let mut message_extra = choice.message.extra.clone();
    let refusal = match message_extra.remove("refusal") {
        Some(serde_json::Value::String(refusal)) => Some(refusal),
        _ => None,
    };
    // OpenAI always sends `content` on answers, `null` when there is none; the wire type
    // skips `None`, so an explicit null is restored through `extra`.
    if text.is_none() {
        message_extra.insert("content".to_owned(), serde_json::Value::Null);
    }
    if refusal.is_none() {
        message_extra
            .entry("refusal")
            .or_insert(serde_json::Value::Null);
    }
    ResponseChoice {
        index: choice.index,
        message: ChatMessage {
            role: "assistant".to_owned(),
            content: text.map(MessageContent::Text),
            name: choice.message.name.clone(),
            tool_calls: (!tool_calls.is_empty()).then_some(tool_calls),
            tool_call_id: None,
            refusal,
            reasoning_content: reasoning,
            extra: message_extra,
        },
        finish_reason: choice
            .finish_reason
            .as_ref()
            .map(|reason| reason.as_openai_str().to_owned()),
        logprobs: choice.logprobs.as_ref().map(|tokens| ChoiceLogprobs {
            content: Some(tokens.iter().map(logprob_from_canonical).collect()),
            refusal: None,
        }),
        extra: choice.extra.clone(),
    }
}

#[cfg(test)]
#[path = "response_tests.rs"]
mod tests;
