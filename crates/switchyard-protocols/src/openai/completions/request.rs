//! Completions request ⇄ canonical [`ChatRequest`] with a [`TextCompletion`].

use switchyard_types::{ChatRequest, Prompt, Sampling, TextCompletion};

use super::super::request::{check_range, take_stream_options, upstream_stream_options};
use super::super::texts::{TextsOrTokens, texts_or_tokens};
use super::wire::CompletionRequest;
use crate::decode::from_json;
use crate::{DecodeError, bounds};

/// The most prompts one request may carry.
pub const MAX_PROMPTS: usize = 2048;

/// Parses a request body and converts it to the canonical model.
pub fn decode_completion_request(body: &[u8]) -> Result<ChatRequest, DecodeError> {
    to_canonical_completion_request(from_json::<CompletionRequest>(body)?)
}

pub fn to_canonical_completion_request(
    wire: CompletionRequest,
) -> Result<ChatRequest, DecodeError> {
    if wire.model.is_empty() {
        return Err(DecodeError::at("model", "must not be empty"));
    }
    let prompt = match texts_or_tokens(wire.prompt, "prompt")? {
        TextsOrTokens::Texts(texts) => Prompt::Texts(texts),
        TextsOrTokens::Tokens(tokens) => Prompt::Tokens(tokens),
    };
    if prompt.is_empty() {
        return Err(DecodeError::at("prompt", "must not be empty"));
    }
    if prompt.len() > MAX_PROMPTS {
        return Err(DecodeError::at(
            "prompt",
            format!(
                "at most {MAX_PROMPTS} prompts per request, got {}",
                prompt.len()
            ),
        ));
    }
    check_range("temperature", wire.temperature, 0.0, 2.0)?;
    check_range("top_p", wire.top_p, 0.0, 1.0)?;
    check_range("presence_penalty", wire.presence_penalty, -2.0, 2.0)?;
    check_range("frequency_penalty", wire.frequency_penalty, -2.0, 2.0)?;
    let stream = wire.stream.unwrap_or(false);
    let mut extra = wire.extra;
    let stream_include_usage = take_stream_options(wire.stream_options, &mut extra);
    let request = ChatRequest {
        model: wire.model,
        sampling: Sampling {
            temperature: wire.temperature,
            top_p: wire.top_p,
            max_tokens: wire.max_tokens,
            stop: wire.stop,
            seed: wire.seed,
            n: wire.n,
            presence_penalty: wire.presence_penalty,
            frequency_penalty: wire.frequency_penalty,
            logprobs: wire.logprobs.map(|_| true),
            top_logprobs: wire.logprobs,
            ..Sampling::default()
        },
        stream,
        stream_include_usage,
        user: wire.user,
        completion: Some(TextCompletion {
            prompt,
            echo: wire.echo.unwrap_or(false),
        }),
        extra,
        ..ChatRequest::default()
    };
    bounds::check(&request, &bounds::COMPLETIONS)?;
    Ok(request)
}

/// Encodes a canonical text completion for an OpenAI-compatible upstream.
pub fn from_canonical_completion_request(
    request: &ChatRequest,
    upstream_model: &str,
) -> Result<CompletionRequest, DecodeError> {
    let Some(completion) = &request.completion else {
        return Err(DecodeError::new(
            "a chat conversation cannot be sent as a text completion",
        ));
    };
    let prompt = match &completion.prompt {
        Prompt::Texts(texts) if texts.len() == 1 => serde_json::json!(texts[0]),
        Prompt::Texts(texts) => serde_json::json!(texts),
        Prompt::Tokens(tokens) if tokens.len() == 1 => serde_json::json!(tokens[0]),
        Prompt::Tokens(tokens) => serde_json::json!(tokens),
    };
    let mut extra = request.extra.clone();
    let stream_options = upstream_stream_options(request.stream, &mut extra);
    let sampling = &request.sampling;
    Ok(CompletionRequest {
        model: upstream_model.to_owned(),
        prompt,
        max_tokens: sampling.max_tokens,
        temperature: sampling.temperature,
        top_p: sampling.top_p,
        n: sampling.n,
        stream: request.stream.then_some(true),
        stream_options,
        logprobs: sampling
            .logprobs
            .unwrap_or(false)
            .then(|| sampling.top_logprobs.unwrap_or(0)),
        echo: completion.echo.then_some(true),
        stop: sampling.stop.clone(),
        presence_penalty: sampling.presence_penalty,
        frequency_penalty: sampling.frequency_penalty,
        seed: sampling.seed,
        user: request.user.clone(),
        extra,
    })
}
