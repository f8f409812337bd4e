//! The bounds on every size a caller controls, checked once per request right after it
//! is decoded, before anything is sized from a caller's number.
//!
//! A request body is already bounded in bytes (`server.max_body_bytes`) and in JSON
//! nesting (serde_json's 128 levels, see [`crate::decode`]). Inside that, a few numbers
//! and lists cost far more than their bytes: `n` (and `n` × prompts) multiplies work and
//! memory, stop sequences are matched against every generated token, `logit_bias`
//! entries and tool schemas become sampler and grammar state. Each bound here is the
//! vendor's own where one is published (OpenAI's `n` ≤ 128, four stop sequences, 128
//! tools, `top_logprobs` ≤ 20) and otherwise far above what a real client sends.
//!
//! The check runs on the canonical [`ChatRequest`], so every dialect gets the same
//! bounds; [`FieldNames`] says what the caller's dialect calls each field, so the 400
//! names the field as the caller spelled it.

use serde_json::Value;
use switchyard_types::{ChatRequest, ContentBlock, ImageSource, ResponseFormat};

use crate::DecodeError;

/// The most alternatives one prompt may ask for (OpenAI's bound).
pub const MAX_N: u32 = 128;
/// The most answers one request may ask for: prompts × `n`.
pub const MAX_CHOICES: u64 = 2048;
/// The most output tokens a request may ask for; no model today emits more.
pub const MAX_OUTPUT_TOKENS: u32 = 1 << 20;
/// The longest stop sequence, in bytes.
pub const MAX_STOP_BYTES: usize = 256;
/// The most `logit_bias` entries, and the range of each bias (OpenAI's).
pub const MAX_LOGIT_BIAS_ENTRIES: usize = 1024;
pub const LOGIT_BIAS_RANGE: (f64, f64) = (-100.0, 100.0);
/// The most tools one request may offer (OpenAI's bound).
pub const MAX_TOOLS: usize = 128;
/// The most JSON values one tool schema or response schema may hold, and how deep it
/// may nest: enough for any real schema, small enough that turning it into a grammar
/// stays cheap.
pub const MAX_SCHEMA_VALUES: usize = 10_000;
pub const MAX_SCHEMA_DEPTH: usize = 32;
/// The most messages (or input items) one conversation may hold.
pub const MAX_MESSAGES: usize = 10_000;
/// The most images one request may carry (OpenAI's bound), and the largest one, in
/// base64 characters (20 MB of image, OpenAI's per-image bound).
pub const MAX_IMAGES: usize = 500;
pub const MAX_IMAGE_BASE64_BYTES: usize = 20_000_000 / 3 * 4 + 4;
/// The longest image URL.
pub const MAX_IMAGE_URL_BYTES: usize = 32 * 1024;
/// The most alternatives per token a caller may ask logprobs for.
pub const MAX_TOP_LOGPROBS: u32 = 20;

/// What a dialect calls the fields the bounds speak of.
#[derive(Debug, Clone, Copy)]
pub struct FieldNames {
    pub messages: &'static str,
    pub max_tokens: &'static str,
    pub stop: &'static str,
    pub top_logprobs: &'static str,
    /// The most stop sequences the dialect's vendor accepts.
    pub max_stop_sequences: usize,
}

/// OpenAI's Chat Completions.
pub const CHAT_COMPLETIONS: FieldNames = FieldNames {
    messages: "messages",
    max_tokens: "max_tokens",
    stop: "stop",
    top_logprobs: "top_logprobs",
    max_stop_sequences: 4,
};

/// OpenAI's legacy text completions.
pub const COMPLETIONS: FieldNames = FieldNames {
    messages: "prompt",
    top_logprobs: "logprobs",
    ..CHAT_COMPLETIONS
};

/// OpenAI's Responses API.
pub const RESPONSES: FieldNames = FieldNames {
    messages: "input",
    max_tokens: "max_output_tokens",
    ..CHAT_COMPLETIONS
};

/// Anthropic's Messages API, which publishes no count of stop sequences; 16 leaves room
/// for every client seen while keeping the matcher's work small.
pub const MESSAGES: FieldNames = FieldNames {
    messages: "messages",
    max_tokens: "max_tokens",
    stop: "stop_sequences",
    top_logprobs: "top_logprobs",
    max_stop_sequences: 16,
};

/// Checks every bound on `request`; the error names the first field over its bound.
pub fn check(request: &ChatRequest, names: &FieldNames) -> Result<(), DecodeError> {
    check_choices(request)?;
    let sampling = &request.sampling;
    if let Some(max_tokens) = sampling.max_tokens
        && max_tokens > MAX_OUTPUT_TOKENS
    {
        return Err(over(names.max_tokens, MAX_OUTPUT_TOKENS, max_tokens));
    }
    if let Some(top) = sampling.top_logprobs
        && top > MAX_TOP_LOGPROBS
    {
        return Err(DecodeError::at(
            names.top_logprobs,
            format!("must be between 0 and {MAX_TOP_LOGPROBS}, got {top}"),
        ));
    }
    if let Some(stop) = &sampling.stop {
        let stop = stop.as_slice();
        if stop.len() > names.max_stop_sequences {
            return Err(DecodeError::at(
                names.stop,
                format!(
                    "at most {} stop sequences, got {}",
                    names.max_stop_sequences,
                    stop.len()
                ),
            ));
        }
        if let Some((index, long)) = stop
            .iter()
            .enumerate()
            .find(|(_, stop)| stop.len() > MAX_STOP_BYTES)
        {
            return Err(DecodeError::at(
                format!("{}[{index}]", names.stop),
                format!(
                    "a stop sequence may be at most {MAX_STOP_BYTES} bytes, got {}",
                    long.len()
                ),
            ));
        }
    }
    if let Some(bias) = request.extra.get("logit_bias") {
        check_logit_bias(bias)?;
    }
    if request.messages.len() > MAX_MESSAGES {
        return Err(DecodeError::at(
            names.messages,
            format!(
                "at most {MAX_MESSAGES} messages, got {}",
                request.messages.len()
            ),
        ));
    }
    check_tools(request)?;
    check_images(request, names)
}

/// `n` within 1..=[`MAX_N`], and prompts × `n` within [`MAX_CHOICES`].
fn check_choices(request: &ChatRequest) -> Result<(), DecodeError> {
    let Some(n) = request.sampling.n else {
        return Ok(());
    };
    if !(1..=MAX_N).contains(&n) {
        return Err(DecodeError::at(
            "n",
            format!("must be between 1 and {MAX_N}, got {n}"),
        ));
    }
    let prompts = request
        .completion
        .as_ref()
        .map_or(1, |completion| completion.prompt.len()) as u64;
    let choices = prompts.saturating_mul(u64::from(n));
    if choices > MAX_CHOICES {
        return Err(DecodeError::at(
            "n",
            format!(
                "{prompts} prompts × n = {n} ask for {choices} answers; at most {MAX_CHOICES} per request"
            ),
        ));
    }
    Ok(())
}

fn check_logit_bias(bias: &Value) -> Result<(), DecodeError> {
    let entries = match bias {
        Value::Null => return Ok(()),
        Value::Object(entries) => entries,
        _ => {
            return Err(DecodeError::at(
                "logit_bias",
                "must be an object of token ids to biases",
            ));
        }
    };
    if entries.len() > MAX_LOGIT_BIAS_ENTRIES {
        return Err(DecodeError::at(
            "logit_bias",
            format!(
                "at most {MAX_LOGIT_BIAS_ENTRIES} entries, got {}",
                entries.len()
            ),
        ));
    }
    let (min, max) = LOGIT_BIAS_RANGE;
    for (token, value) in entries {
        match value.as_f64() {
            Some(bias) if (min..=max).contains(&bias) => {}
            _ => {
                return Err(DecodeError::at(
                    format!("logit_bias.{token}"),
                    format!("must be a number between {min} and {max}"),
                ));
            }
        }
    }
    Ok(())
}

fn check_tools(request: &ChatRequest) -> Result<(), DecodeError> {
    if request.tools.len() > MAX_TOOLS {
        return Err(DecodeError::at(
            "tools",
            format!("at most {MAX_TOOLS} tools, got {}", request.tools.len()),
        ));
    }
    for (index, tool) in request.tools.iter().enumerate() {
        if let Some(parameters) = &tool.parameters {
            check_schema(&format!("tools[{index}].parameters"), parameters)?;
        }
    }
    if let Some(ResponseFormat::JsonSchema {
        schema: Some(schema),
        ..
    }) = &request.response_format
    {
        check_schema("response_format.json_schema.schema", schema)?;
    }
    Ok(())
}

/// A schema within [`MAX_SCHEMA_VALUES`] values and [`MAX_SCHEMA_DEPTH`] levels.
fn check_schema(field: &str, schema: &Value) -> Result<(), DecodeError> {
    let mut values = 0usize;
    let mut pending = vec![(schema, 1usize)];
    while let Some((value, depth)) = pending.pop() {
        values += 1;
        if values > MAX_SCHEMA_VALUES {
            return Err(DecodeError::at(
                field,
                format!("a schema may hold at most {MAX_SCHEMA_VALUES} values"),
            ));
        }
        if depth > MAX_SCHEMA_DEPTH {
            return Err(DecodeError::at(
                field,
                format!("a schema may nest at most {MAX_SCHEMA_DEPTH} levels"),
            ));
        }
        match value {
            Value::Array(items) => pending.extend(items.iter().map(|item| (item, depth + 1))),
            Value::Object(fields) => pending.extend(fields.values().map(|item| (item, depth + 1))),
            _ => {}
        }
    }
    Ok(())
}

fn check_images(request: &ChatRequest, names: &FieldNames) -> Result<(), DecodeError> {
    let mut images = 0usize;
    for (index, message) in request.messages.iter().enumerate() {
        for block in blocks(&message.content) {
            let ContentBlock::Image { source, .. } = block else {
                continue;
            };
            images += 1;
            let at = || format!("{}[{index}].content", names.messages);
            if images > MAX_IMAGES {
                return Err(DecodeError::at(
                    at(),
                    format!("at most {MAX_IMAGES} images per request"),
                ));
            }
            let (size, bound, what) = match source {
                // An upstream reads other schemes (`s3://`, `gs://`) with the operator's
                // cloud identity: a caller could make it read the operator's storage.
                ImageSource::Url { url }
                    if !(url.starts_with("https://") || url.starts_with("http://")) =>
                {
                    return Err(DecodeError::at(
                        at(),
                        "an image URL must be http(s) (or the image sent inline); storage URLs \
                         such as `s3://` would be read with the operator's credentials",
                    ));
                }
                ImageSource::Url { url } => (url.len(), MAX_IMAGE_URL_BYTES, "an image URL"),
                ImageSource::Base64 { data, .. } => {
                    (data.len(), MAX_IMAGE_BASE64_BYTES, "an image's base64 data")
                }
            };
            if size > bound {
                return Err(DecodeError::at(
                    at(),
                    format!("{what} may be at most {bound} bytes, got {size}"),
                ));
            }
        }
    }
    Ok(())
}

/// The blocks of a message, those inside tool results included.
fn blocks(content: &[ContentBlock]) -> impl Iterator<Item = &ContentBlock> {
    content.iter().flat_map(|block| {
        let inner: &[ContentBlock] = match block {
            ContentBlock::ToolResult { content, .. } => content,
            _ => &[],
        };
        std::iter::once(block).chain(inner.iter())
    })
}

fn over(field: &str, bound: u32, got: u32) -> DecodeError {
    DecodeError::at(field, format!("must be at most {bound}, got {got}"))
}

#[cfg(test)]
mod tests;
