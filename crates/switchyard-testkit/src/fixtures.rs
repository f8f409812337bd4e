//! OpenAI wire-format fixture builders.
//!
//! Every function here returns a plain [`serde_json::Value`] shaped exactly like the objects in
//! OpenAI's public API reference (`chat.completion`, `chat.completion.chunk`, `embedding`,
//! `model`, and the `{"error": {...}}` body). They are built by hand on purpose: this module must
//! not know the project's own wire types, because it is the independent reference those types
//! are checked against.
//!
//! Fixtures are deterministic: ids are fixed (`chatcmpl-fixture`, `fp_mock`) and `created` is
//! [`CREATED`]. Tests that need different values can overwrite fields on the returned `Value`.
//!
//! Start with [`chat_completion`] and [`text_chunks`]; the mock server's default answers are built
//! from the same helpers ([`completion_object`], [`chunk`], [`usage`]).

use serde_json::{Map, Value, json};

/// The `created` timestamp used by every fixture and every default mock answer.
///
/// Real responses carry the current Unix time; a constant keeps snapshots stable.
pub const CREATED: u64 = 1_700_000_000;

/// The `id` of fixture completions and chunks.
pub const FIXTURE_ID: &str = "chatcmpl-fixture";

/// The `system_fingerprint` of fixture completions and chunks.
pub const SYSTEM_FINGERPRINT: &str = "fp_mock";

/// The `usage.prompt_tokens` of [`chat_completion`] and [`chat_completion_with_tool_calls`].
pub const FIXTURE_PROMPT_TOKENS: u64 = 10;

/// A complete `chat.completion` object whose single choice is assistant `text` with
/// `finish_reason: "stop"`.
///
/// `usage.prompt_tokens` is [`FIXTURE_PROMPT_TOKENS`]; `usage.completion_tokens` is the number of
/// whitespace-separated words in `text`.
pub fn chat_completion(model: &str, text: &str) -> Value {
    let message = assistant_message(Value::String(text.to_owned()), None);
    completion_object(
        FIXTURE_ID,
        model,
        message,
        "stop",
        usage(FIXTURE_PROMPT_TOKENS, word_count(text)),
    )
}

/// A complete `chat.completion` object whose single choice calls tools.
///
/// Each call is `(id, name, arguments)` where `arguments` is the JSON-encoded argument string, as
/// OpenAI sends it. The message has `content: null` and `finish_reason` is `"tool_calls"`.
pub fn chat_completion_with_tool_calls(model: &str, calls: &[(&str, &str, &str)]) -> Value {
    let tool_calls: Vec<Value> = calls
        .iter()
        .map(|(id, name, arguments)| {
            json!({
                "id": id,
                "type": "function",
                "function": { "name": name, "arguments": arguments },
            })
        })
        .collect();
    let completion_tokens = calls
        .iter()
        .map(|(_, name, arguments)| word_count(name) + word_count(arguments))
        .sum();
    let message = assistant_message(Value::Null, Some(tool_calls));
    completion_object(
        FIXTURE_ID,
        model,
        message,
        "tool_calls",
        usage(FIXTURE_PROMPT_TOKENS, completion_tokens),
    )
}

/// The chunks of a streamed text answer, in the order OpenAI sends them.
///
/// 1. A role chunk: `delta: {"role": "assistant", "content": "", "refusal": null}`.
/// 2. One chunk per piece: `delta: {"content": piece}`.
/// 3. A finish chunk: `delta: {}`, `finish_reason: "stop"`.
/// 4. When `include_usage` is `Some((prompt, completion))`: a usage chunk with `choices: []`.
///    As with `stream_options.include_usage`, every other chunk then carries `"usage": null`.
///
/// The SSE framing (`data: ...` and `data: [DONE]`) is added by the mock, not here.
pub fn text_chunks(model: &str, pieces: &[&str], include_usage: Option<(u64, u64)>) -> Vec<Value> {
    let with_usage = include_usage.is_some();
    let mut chunks = Vec::with_capacity(pieces.len() + 3);
    chunks.push(chunk(
        FIXTURE_ID,
        model,
        json!({ "role": "assistant", "content": "", "refusal": null }),
        None,
        with_usage,
    ));
    for piece in pieces {
        chunks.push(chunk(
            FIXTURE_ID,
            model,
            json!({ "content": piece }),
            None,
            with_usage,
        ));
    }
    chunks.push(chunk(
        FIXTURE_ID,
        model,
        json!({}),
        Some("stop"),
        with_usage,
    ));
    if let Some((prompt, completion)) = include_usage {
        chunks.push(usage_chunk(FIXTURE_ID, model, usage(prompt, completion)));
    }
    chunks
}

/// The chunks of a streamed tool-calling answer, in the order OpenAI sends them.
///
/// Each call is `(id, name, argument_fragments)`.
///
/// 1. The first delta of each call carries `index`, `id`, `type: "function"` and
///    `function: {"name": name, "arguments": ""}`; the very first chunk also carries
///    `role: "assistant"`, `content: null` and `refusal: null`.
/// 2. Each later delta carries only `index` and `function.arguments` (one fragment).
/// 3. A finish chunk: `delta: {}`, `finish_reason: "tool_calls"`.
pub fn tool_call_chunks(model: &str, calls: &[(&str, &str, &[&str])]) -> Vec<Value> {
    let mut chunks = Vec::new();
    for (index, (id, name, fragments)) in calls.iter().enumerate() {
        let opening = json!({
            "index": index,
            "id": id,
            "type": "function",
            "function": { "name": name, "arguments": "" },
        });
        let delta = if index == 0 {
            json!({
                "role": "assistant",
                "content": null,
                "tool_calls": [opening],
                "refusal": null,
            })
        } else {
            json!({ "tool_calls": [opening] })
        };
        chunks.push(chunk(FIXTURE_ID, model, delta, None, false));
        for fragment in fragments.iter() {
            let delta = json!({
                "tool_calls": [{ "index": index, "function": { "arguments": fragment } }],
            });
            chunks.push(chunk(FIXTURE_ID, model, delta, None, false));
        }
    }
    chunks.push(chunk(
        FIXTURE_ID,
        model,
        json!({}),
        Some("tool_calls"),
        false,
    ));
    chunks
}

/// An OpenAI error body: `{"error": {"message", "type", "param", "code"}}`.
///
/// `kind` is the `type` field (`invalid_request_error`, `rate_limit_error`, `server_error`, ...);
/// `param` and `code` are `null` when `None`, as OpenAI sends them.
pub fn error_body(message: &str, kind: &str, param: Option<&str>, code: Option<&str>) -> Value {
    json!({
        "error": {
            "message": message,
            "type": kind,
            "param": param,
            "code": code,
        }
    })
}

/// A `usage` object with the detail sub-objects OpenAI includes (all zero).
pub fn usage(prompt_tokens: u64, completion_tokens: u64) -> Value {
    json!({
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion_tokens,
        "total_tokens": prompt_tokens + completion_tokens,
        "prompt_tokens_details": { "cached_tokens": 0, "audio_tokens": 0 },
        "completion_tokens_details": {
            "reasoning_tokens": 0,
            "audio_tokens": 0,
            "accepted_prediction_tokens": 0,
            "rejected_prediction_tokens": 0,
        },
    })
}

/// A `chat.completion` object with one choice holding `message`.
pub fn completion_object(
    id: &str,
    model: &str,
    message: Value,
    finish_reason: &str,
    usage: Value,
) -> Value {
    json!({
        "id": id,
        "object": "chat.completion",
        "created": CREATED,
        "model": model,
        "choices": [{
            "index": 0,
            "message": message,
            "logprobs": null,
            "finish_reason": finish_reason,
        }],
        "usage": usage,
        "service_tier": "default",
        "system_fingerprint": SYSTEM_FINGERPRINT,
    })
}

/// One `chat.completion.chunk` object with a single choice at index 0.
///
/// `with_usage_null` adds `"usage": null`, which OpenAI does on every non-final chunk when the
/// request set `stream_options.include_usage`.
pub fn chunk(
    id: &str,
    model: &str,
    delta: Value,
    finish_reason: Option<&str>,
    with_usage_null: bool,
) -> Value {
    let mut object = chunk_envelope(id, model);
    object.insert(
        "choices".to_owned(),
        json!([{
            "index": 0,
            "delta": delta,
            "logprobs": null,
            "finish_reason": finish_reason,
        }]),
    );
    if with_usage_null {
        object.insert("usage".to_owned(), Value::Null);
    }
    Value::Object(object)
}

/// The final usage chunk of a stream with `stream_options.include_usage`: `choices: []`.
pub fn usage_chunk(id: &str, model: &str, usage: Value) -> Value {
    let mut object = chunk_envelope(id, model);
    object.insert("choices".to_owned(), json!([]));
    object.insert("usage".to_owned(), usage);
    Value::Object(object)
}

/// An `embedding` list response for `vectors`, in input order.
///
/// With `base64` set, each `embedding` is the base64 of the little-endian `f32` bytes, which is
/// what OpenAI returns for `encoding_format: "base64"`.
pub fn embeddings(model: &str, vectors: &[Vec<f32>], prompt_tokens: u64, base64: bool) -> Value {
    let data: Vec<Value> = vectors
        .iter()
        .enumerate()
        .map(|(index, vector)| {
            let embedding = if base64 {
                Value::String(encode_base64_f32(vector))
            } else {
                Value::Array(vector.iter().map(|x| json!(x)).collect())
            };
            json!({ "object": "embedding", "index": index, "embedding": embedding })
        })
        .collect();
    json!({
        "object": "list",
        "data": data,
        "model": model,
        "usage": { "prompt_tokens": prompt_tokens, "total_tokens": prompt_tokens },
    })
}

/// A `model` object as listed by `GET /v1/models`.
pub fn model(id: &str) -> Value {
    json!({ "id": id, "object": "model", "created": CREATED, "owned_by": "switchyard-mock" })
}

/// The `GET /v1/models` list response for `ids`.
pub fn model_list(ids: &[String]) -> Value {
    let data: Vec<Value> = ids.iter().map(|id| model(id)).collect();
    json!({ "object": "list", "data": data })
}

/// The deterministic, L2-normalised embedding the mock returns for `text`.
///
/// Values come from a 64-bit FNV-1a hash of the text that seeds a SplitMix64 sequence, so equal
/// texts give equal vectors and the result does not depend on the platform.
pub fn embedding_for(text: &str, dimensions: usize) -> Vec<f32> {
    let mut state = fnv1a(text.as_bytes());
    let raw: Vec<f64> = (0..dimensions)
        .map(|_| {
            let bits = splitmix64(&mut state) >> 11;
            // 53 random bits mapped onto [-1, 1).
            (bits as f64 / (1u64 << 53) as f64) * 2.0 - 1.0
        })
        .collect();
    let norm = raw.iter().map(|x| x * x).sum::<f64>().sqrt();
    raw.iter()
        .map(|x| if norm > 0.0 { (x / norm) as f32 } else { 0.0 })
        .collect()
}

/// Base64 (standard alphabet, padded) of the little-endian bytes of `vector`.
pub fn encode_base64_f32(vector: &[f32]) -> String {
    use base64::Engine as _;
    let bytes: Vec<u8> = vector.iter().flat_map(|x| x.to_le_bytes()).collect();
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// Number of whitespace-separated words: the mock's stand-in for a token count.
pub fn word_count(text: &str) -> u64 {
    text.split_whitespace().count() as u64
}

fn assistant_message(content: Value, tool_calls: Option<Vec<Value>>) -> Value {
    let mut message = Map::new();
    message.insert("role".to_owned(), json!("assistant"));
    message.insert("content".to_owned(), content);
    if let Some(tool_calls) = tool_calls {
        message.insert("tool_calls".to_owned(), Value::Array(tool_calls));
    }
    message.insert("refusal".to_owned(), Value::Null);
    message.insert("annotations".to_owned(), json!([]));
    Value::Object(message)
}

fn chunk_envelope(id: &str, model: &str) -> Map<String, Value> {
    let mut object = Map::new();
    object.insert("id".to_owned(), json!(id));
    object.insert("object".to_owned(), json!("chat.completion.chunk"));
    object.insert("created".to_owned(), json!(CREATED));
    object.insert("model".to_owned(), json!(model));
    object.insert("service_tier".to_owned(), json!("default"));
    object.insert("system_fingerprint".to_owned(), json!(SYSTEM_FINGERPRINT));
    object
}

fn fnv1a(bytes: &[u8]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in bytes {
        hash ^= u64::from(*byte);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    hash
}

fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_chunks_follow_openai_order() {
        let chunks = text_chunks("m", &["Hel", "lo"], Some((3, 2)));
        assert_eq!(chunks.len(), 5);
        assert_eq!(chunks[0]["choices"][0]["delta"]["role"], "assistant");
        assert_eq!(chunks[0]["choices"][0]["delta"]["content"], "");
        assert_eq!(chunks[0]["usage"], Value::Null);
        assert!(
            chunks[0]
                .as_object()
                .is_some_and(|o| o.contains_key("usage"))
        );
        assert_eq!(chunks[1]["choices"][0]["delta"]["content"], "Hel");
        assert_eq!(chunks[3]["choices"][0]["finish_reason"], "stop");
        assert_eq!(chunks[3]["choices"][0]["delta"], json!({}));
        assert_eq!(chunks[4]["choices"], json!([]));
        assert_eq!(chunks[4]["usage"]["total_tokens"], 5);
        for chunk in &chunks {
            assert_eq!(chunk["object"], "chat.completion.chunk");
            assert_eq!(chunk["id"], FIXTURE_ID);
        }
    }

    #[test]
    fn text_chunks_without_usage_have_no_usage_key() {
        let chunks = text_chunks("m", &["x"], None);
        assert_eq!(chunks.len(), 3);
        assert!(chunks.iter().all(|c| c.get("usage").is_none()));
    }

    #[test]
    fn tool_call_chunks_stream_like_openai() {
        let chunks = tool_call_chunks(
            "m",
            &[
                ("call_1", "get_weather", &["{\"city\":", "\"Paris\"}"]),
                ("call_2", "get_time", &["{}"]),
            ],
        );
        assert_eq!(chunks.len(), 6);
        let first = &chunks[0]["choices"][0]["delta"];
        assert_eq!(first["role"], "assistant");
        assert_eq!(first["content"], Value::Null);
        assert_eq!(
            first["tool_calls"][0],
            json!({
                "index": 0,
                "id": "call_1",
                "type": "function",
                "function": { "name": "get_weather", "arguments": "" },
            })
        );
        assert_eq!(
            chunks[1]["choices"][0]["delta"],
            json!({ "tool_calls": [{ "index": 0, "function": { "arguments": "{\"city\":" } }] })
        );
        assert_eq!(
            chunks[3]["choices"][0]["delta"]["tool_calls"][0]["index"],
            1
        );
        assert_eq!(
            chunks[3]["choices"][0]["delta"]["tool_calls"][0]["id"],
            "call_2"
        );
        assert_eq!(chunks[5]["choices"][0]["finish_reason"], "tool_calls");
    }

    #[test]
    fn tool_call_completion_has_null_content() {
        let body = chat_completion_with_tool_calls("m", &[("call_1", "f", "{\"a\":1}")]);
        let choice = &body["choices"][0];
        assert_eq!(choice["finish_reason"], "tool_calls");
        assert_eq!(choice["message"]["content"], Value::Null);
        assert_eq!(
            choice["message"]["tool_calls"][0]["function"]["arguments"],
            "{\"a\":1}"
        );
        assert_eq!(choice["message"]["tool_calls"][0]["type"], "function");
    }

    #[test]
    fn chat_completion_shape() {
        let body = chat_completion("gpt-x", "hello there");
        assert_eq!(body["object"], "chat.completion");
        assert_eq!(body["model"], "gpt-x");
        assert_eq!(body["choices"][0]["message"]["content"], "hello there");
        assert_eq!(body["usage"]["completion_tokens"], 2);
        assert_eq!(body["usage"]["total_tokens"], FIXTURE_PROMPT_TOKENS + 2);
    }

    #[test]
    fn embedding_is_deterministic_and_normalised() {
        let a = embedding_for("hello", 16);
        let b = embedding_for("hello", 16);
        let c = embedding_for("world", 16);
        assert_eq!(a, b);
        assert_ne!(a, c);
        let norm: f32 = a.iter().map(|x| x * x).sum::<f32>().sqrt();
        assert!((norm - 1.0).abs() < 1e-5, "norm was {norm}");
    }

    #[test]
    fn error_body_shape() {
        assert_eq!(
            error_body(
                "slow down",
                "rate_limit_error",
                None,
                Some("rate_limit_exceeded")
            ),
            json!({
                "error": {
                    "message": "slow down",
                    "type": "rate_limit_error",
                    "param": null,
                    "code": "rate_limit_exceeded",
                }
            })
        );
    }
}
