//! Completions answer ⇄ canonical [`ChatResponse`]: each choice's `text` is the
//! assistant message's one text block.

use serde_json::{Map, Value};
use switchyard_types::{
    ChatResponse, Choice, FinishReason, Message, Role, TokenLogprob, TopLogprob,
};

use super::super::response::{usage_from_canonical, usage_to_canonical};
use super::super::wire::{stash_object, unstash_object};
use super::wire::{CompletionChoice, CompletionLogprobs, CompletionResponse};
use crate::DecodeError;
use crate::decode::from_json;

/// The `object` of an answer and of each of its chunks.
pub(crate) const TEXT_COMPLETION_OBJECT: &str = "text_completion";

/// Parses an upstream answer and converts it to the canonical model.
pub fn decode_completion_response(body: &[u8]) -> Result<ChatResponse, DecodeError> {
    Ok(to_canonical_completion_response(from_json::<
        CompletionResponse,
    >(body)?))
}

pub fn to_canonical_completion_response(wire: CompletionResponse) -> ChatResponse {
    let mut extra = wire.extra;
    stash_object(&mut extra, wire.object, TEXT_COMPLETION_OBJECT);
    ChatResponse {
        id: wire.id,
        model: wire.model,
        created: wire.created,
        choices: wire
            .choices
            .into_iter()
            .map(|choice| Choice {
                index: choice.index,
                message: Message::text(Role::Assistant, choice.text),
                finish_reason: choice
                    .finish_reason
                    .as_deref()
                    .map(FinishReason::from_openai_str),
                logprobs: choice.logprobs.map(logprobs_to_canonical),
                extra: choice.extra,
            })
            .collect(),
        usage: wire.usage.map(usage_to_canonical),
        extra,
    }
}

/// Encodes a canonical answer as a `text_completion` object.
pub fn from_canonical_completion_response(response: &ChatResponse) -> CompletionResponse {
    let mut extra = response.extra.clone();
    let object = unstash_object(&mut extra, TEXT_COMPLETION_OBJECT);
    CompletionResponse {
        id: response.id.clone(),
        object,
        created: response.created,
        model: response.model.clone(),
        choices: response
            .choices
            .iter()
            .map(|choice| CompletionChoice {
                index: choice.index,
                text: choice.message.text_content(),
                logprobs: choice
                    .logprobs
                    .as_ref()
                    .map(|tokens| logprobs_from_canonical(tokens, &mut 0)),
                finish_reason: choice
                    .finish_reason
                    .as_ref()
                    .map(|reason| reason.as_openai_str().to_owned()),
                extra: choice.extra.clone(),
            })
            .collect(),
        usage: response.usage.as_ref().map(usage_from_canonical),
        extra,
    }
}

/// Parallel arrays → one canonical entry per token; alternatives ranked best first.
pub(crate) fn logprobs_to_canonical(wire: CompletionLogprobs) -> Vec<TokenLogprob> {
    let mut logprobs = wire.token_logprobs.into_iter();
    let mut alternatives = wire.top_logprobs.into_iter();
    wire.tokens
        .into_iter()
        .map(|token| {
            let mut top_logprobs: Vec<TopLogprob> = alternatives
                .next()
                .flatten()
                .unwrap_or_default()
                .into_iter()
                .filter_map(|(token, logprob)| {
                    logprob.as_f64().map(|logprob| TopLogprob {
                        token,
                        logprob,
                        bytes: None,
                    })
                })
                .collect();
            top_logprobs.sort_by(|a, b| b.logprob.total_cmp(&a.logprob));
            TokenLogprob {
                token,
                logprob: logprobs.next().flatten(),
                bytes: None,
                top_logprobs,
            }
        })
        .collect()
}

/// Canonical entries → parallel arrays, the first token at character `offset` of the
/// choice's text; `offset` moves past the last token, so that a stream's next chunk
/// continues where this one ended.
pub(crate) fn logprobs_from_canonical(
    tokens: &[TokenLogprob],
    offset: &mut u32,
) -> CompletionLogprobs {
    let mut wire = CompletionLogprobs::default();
    for token in tokens {
        wire.text_offset.push(*offset);
        *offset += token.token.chars().count() as u32;
        wire.tokens.push(token.token.clone());
        wire.token_logprobs.push(token.logprob);
        // The unpredicted first token has no alternatives either.
        wire.top_logprobs.push(token.logprob.map(|_| {
            token
                .top_logprobs
                .iter()
                .map(|top| (top.token.clone(), Value::from(top.logprob)))
                .collect::<Map<String, Value>>()
        }));
    }
    wire
}
