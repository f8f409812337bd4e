//! The mock's answers when no script is queued: derived from the request alone, so a
//! test can predict them (chat echoes the last user message, embeddings hash each input,
//! models lists what `set_models` set).

#[allow(clippy::wildcard_imports)]
use super::*;

pub(super) fn default_chat(shared: &Arc<Shared>, body: &Value, seq: u64) -> Response {
    if let Some(error) = require_object(body) {
        return error;
    }
    let Some(model) = body.get("model").and_then(Value::as_str) else {
        return invalid_request("you must provide a model parameter", None, None);
    };
    let Some(messages) = body.get("messages").and_then(Value::as_array) else {
        return invalid_request(
            "Missing required parameter: 'messages'.",
            Some("messages"),
            Some("missing_required_parameter"),
        );
    };

    let last_user = messages
        .iter()
        .rev()
        .find(|message| message.get("role").and_then(Value::as_str) == Some("user"))
        .map(|message| content_text(message.get("content").unwrap_or(&Value::Null)))
        .unwrap_or_default();
    let prompt_tokens: u64 = messages
        .iter()
        .map(|message| {
            fixtures::word_count(&content_text(
                message.get("content").unwrap_or(&Value::Null),
            ))
        })
        .sum();
    let reply = format!("echo: {last_user}");
    let completion_tokens = fixtures::word_count(&reply);
    let id = format!("chatcmpl-mock{seq:08}");

    let stream = body.get("stream").and_then(Value::as_bool) == Some(true);
    if !stream {
        let message = json!({
            "role": "assistant",
            "content": reply,
            "refusal": null,
            "annotations": [],
        });
        let completion = fixtures::completion_object(
            &id,
            model,
            message,
            "stop",
            fixtures::usage(prompt_tokens, completion_tokens),
        );
        return json_response(StatusCode::OK, &completion);
    }

    let include_usage = body
        .pointer("/stream_options/include_usage")
        .and_then(Value::as_bool)
        == Some(true);
    let mut chunks = vec![fixtures::chunk(
        &id,
        model,
        json!({ "role": "assistant", "content": "", "refusal": null }),
        None,
        include_usage,
    )];
    for piece in split_pieces(&reply) {
        chunks.push(fixtures::chunk(
            &id,
            model,
            json!({ "content": piece }),
            None,
            include_usage,
        ));
    }
    chunks.push(fixtures::chunk(
        &id,
        model,
        json!({}),
        Some("stop"),
        include_usage,
    ));
    if include_usage {
        chunks.push(fixtures::usage_chunk(
            &id,
            model,
            fixtures::usage(prompt_tokens, completion_tokens),
        ));
    }
    let mut events: VecDeque<Bytes> = chunks.iter().map(data_event).collect();
    events.push_back(Bytes::from_static(b"data: [DONE]\n\n"));
    sse_response(shared.clone(), events, Duration::ZERO, Tail::Finish)
}

/// A text completion: each prompt continued with `" echo: <prompt>"`, `n` times, numbered
/// prompt by prompt. Each word piece is a token whose logprob is -0.5 (the first token of
/// an echoed prompt has none), its alternatives the token itself and `" else"`.
pub(super) fn default_completion(shared: &Arc<Shared>, body: &Value, seq: u64) -> Response {
    if let Some(error) = require_object(body) {
        return error;
    }
    let Some(model) = body.get("model").and_then(Value::as_str) else {
        return invalid_request("you must provide a model parameter", None, None);
    };
    let prompts: Vec<String> = match body.get("prompt") {
        Some(Value::String(text)) => vec![text.clone()],
        Some(Value::Array(items)) if items.iter().all(Value::is_string) => items
            .iter()
            .filter_map(|item| item.as_str().map(str::to_owned))
            .collect(),
        _ => {
            return invalid_request(
                "mock: `prompt` must be a string or a list of strings",
                Some("prompt"),
                None,
            );
        }
    };
    let n = body.get("n").and_then(Value::as_u64).unwrap_or(1);
    let echo = body.get("echo").and_then(Value::as_bool) == Some(true);
    let logprobs = body.get("logprobs").and_then(Value::as_u64).is_some();
    let stream = body.get("stream").and_then(Value::as_bool) == Some(true);
    let id = format!("cmpl-mock{seq:08}");
    let prompt_tokens: u64 = prompts
        .iter()
        .map(|prompt| fixtures::word_count(prompt))
        .sum();
    let mut completion_tokens = 0;
    // Per choice: its pieces, each with a logprob (`None` for an echoed prompt's first).
    let mut choices: Vec<Vec<(&str, Option<f64>)>> = Vec::new();
    let answers: Vec<String> = prompts
        .iter()
        .map(|prompt| format!(" echo: {prompt}"))
        .collect();
    for (prompt, answer) in prompts.iter().zip(&answers) {
        for _ in 0..n {
            let mut pieces = Vec::new();
            if echo {
                for (index, piece) in split_pieces(prompt).into_iter().enumerate() {
                    pieces.push((piece, (index > 0).then_some(-0.5)));
                }
            }
            let generated = split_pieces(answer);
            completion_tokens += generated.len() as u64;
            pieces.extend(generated.into_iter().map(|piece| (piece, Some(-0.5))));
            choices.push(pieces);
        }
    }
    let logprobs_of = |pieces: &[(&str, Option<f64>)], mut offset: usize| {
        let mut text_offset = Vec::new();
        for (piece, _) in pieces {
            text_offset.push(offset);
            offset += piece.chars().count();
        }
        json!({
            "tokens": pieces.iter().map(|(piece, _)| *piece).collect::<Vec<_>>(),
            "token_logprobs": pieces.iter().map(|(_, logprob)| *logprob).collect::<Vec<_>>(),
            "top_logprobs": pieces.iter().map(|(piece, logprob)| logprob.map(|logprob| {
                json!({ *piece: logprob, " else": -2.0 })
            })).collect::<Vec<_>>(),
            "text_offset": text_offset,
        })
    };
    let object = |choices: Vec<Value>, usage: Option<Value>| {
        let mut object = json!({
            "id": id,
            "object": "text_completion",
            "created": 1_700_000_000,
            "model": model,
            "choices": choices,
        });
        if let Some(usage) = usage {
            object["usage"] = usage;
        }
        object
    };
    let usage = fixtures::usage(prompt_tokens, completion_tokens);
    if !stream {
        let choices = choices
            .iter()
            .enumerate()
            .map(|(index, pieces)| {
                json!({
                    "text": pieces.iter().map(|(piece, _)| *piece).collect::<String>(),
                    "index": index,
                    "logprobs": if logprobs { logprobs_of(pieces, 0) } else { Value::Null },
                    "finish_reason": "stop",
                })
            })
            .collect();
        return json_response(StatusCode::OK, &object(choices, Some(usage)));
    }
    let mut events: VecDeque<Bytes> = VecDeque::new();
    for (index, pieces) in choices.iter().enumerate() {
        let mut offset = 0;
        for piece in pieces {
            let chunk = json!({
                "text": piece.0,
                "index": index,
                "logprobs": if logprobs { logprobs_of(std::slice::from_ref(piece), offset) } else { Value::Null },
                "finish_reason": null,
            });
            offset += piece.0.chars().count();
            events.push_back(data_event(&object(vec![chunk], None)));
        }
        let last = json!({"text": "", "index": index, "logprobs": null, "finish_reason": "stop"});
        events.push_back(data_event(&object(vec![last], None)));
    }
    let include_usage = body
        .pointer("/stream_options/include_usage")
        .and_then(Value::as_bool)
        == Some(true);
    if include_usage {
        events.push_back(data_event(&object(Vec::new(), Some(usage))));
    }
    events.push_back(Bytes::from_static(b"data: [DONE]\n\n"));
    sse_response(shared.clone(), events, Duration::ZERO, Tail::Finish)
}

pub(super) fn default_embeddings(body: &Value) -> Response {
    if let Some(error) = require_object(body) {
        return error;
    }
    let Some(model) = body.get("model").and_then(Value::as_str) else {
        return invalid_request("you must provide a model parameter", None, None);
    };
    let Some(input) = body.get("input") else {
        return invalid_request(
            "Missing required parameter: 'input'.",
            Some("input"),
            Some("missing_required_parameter"),
        );
    };
    let Some(inputs) = embedding_inputs(input) else {
        return invalid_request("'$.input' is invalid.", Some("input"), None);
    };
    let dimensions = match body.get("dimensions") {
        None | Some(Value::Null) => DEFAULT_DIMENSIONS,
        Some(value) => match value.as_u64() {
            Some(n) if n > 0 => n,
            _ => return invalid_request("'$.dimensions' is invalid.", Some("dimensions"), None),
        },
    };
    let base64 = match body.get("encoding_format").and_then(Value::as_str) {
        None | Some("float") => false,
        Some("base64") => true,
        Some(other) => {
            return invalid_request(
                &format!("'{other}' is not one of ['float', 'base64'] - 'encoding_format'"),
                Some("encoding_format"),
                None,
            );
        }
    };
    let dimensions = usize::try_from(dimensions).unwrap_or(usize::MAX);
    let vectors: Vec<Vec<f32>> = inputs
        .iter()
        .map(|(text, _)| fixtures::embedding_for(text, dimensions))
        .collect();
    let prompt_tokens = inputs.iter().map(|(_, tokens)| tokens).sum();
    json_response(
        StatusCode::OK,
        &fixtures::embeddings(model, &vectors, prompt_tokens, base64),
    )
}

pub(super) fn default_models(models: &[String], id: Option<&str>) -> Response {
    match id {
        None => json_response(StatusCode::OK, &fixtures::model_list(models)),
        Some(id) if models.iter().any(|model| model == id) => {
            json_response(StatusCode::OK, &fixtures::model(id))
        }
        Some(id) => json_response(
            StatusCode::NOT_FOUND,
            &fixtures::error_body(
                &format!("The model '{id}' does not exist"),
                "invalid_request_error",
                Some("model"),
                Some("model_not_found"),
            ),
        ),
    }
}

/// The embedding inputs as `(text, token count)`: a string, an array of strings, an array of
/// token ids, or an array of token-id arrays (token arrays are hashed as their decimal text).
pub(super) fn embedding_inputs(input: &Value) -> Option<Vec<(String, u64)>> {
    fn tokens(items: &[Value]) -> Option<(String, u64)> {
        let ids: Option<Vec<String>> = items
            .iter()
            .map(|item| item.as_u64().map(|id| id.to_string()))
            .collect();
        Some((ids?.join(" "), items.len() as u64))
    }
    match input {
        Value::String(text) => Some(vec![(text.clone(), fixtures::word_count(text))]),
        Value::Array(items) if items.is_empty() => None,
        Value::Array(items) if items.iter().all(Value::is_string) => Some(
            items
                .iter()
                .filter_map(Value::as_str)
                .map(|text| (text.to_owned(), fixtures::word_count(text)))
                .collect(),
        ),
        Value::Array(items) if items.iter().all(Value::is_number) => Some(vec![tokens(items)?]),
        Value::Array(items) => items.iter().map(|item| tokens(item.as_array()?)).collect(),
        _ => None,
    }
}

/// The text of a message `content`: a string, or the `text` parts of a content array joined by
/// newlines.
pub(super) fn content_text(content: &Value) -> String {
    match content {
        Value::String(text) => text.clone(),
        Value::Array(parts) => parts
            .iter()
            .filter(|part| part.get("type").and_then(Value::as_str) == Some("text"))
            .filter_map(|part| part.get("text").and_then(Value::as_str))
            .collect::<Vec<_>>()
            .join("\n"),
        _ => String::new(),
    }
}

/// Splits `text` into word pieces that keep their leading whitespace, the way tokens stream
/// (`"echo: hi there"` becomes `["echo:", " hi", " there"]`); the pieces concatenate to `text`.
pub(super) fn split_pieces(text: &str) -> Vec<&str> {
    let mut pieces = Vec::new();
    let mut start = 0;
    let mut previous_was_space = true;
    for (index, ch) in text.char_indices() {
        if ch.is_whitespace() && !previous_was_space && index > start {
            pieces.push(&text[start..index]);
            start = index;
        }
        previous_was_space = ch.is_whitespace();
    }
    if start < text.len() {
        pieces.push(&text[start..]);
    }
    pieces
}
