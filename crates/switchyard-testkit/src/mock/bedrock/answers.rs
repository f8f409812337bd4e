//! What the mock checks in a body before answering, as Bedrock does (with Bedrock's own
//! `ValidationException` texts), and the answers it gives when no script is queued.

use serde_json::{Value, json};

/// A Converse body Bedrock would refuse, with its message.
pub fn converse_error(body: &Value) -> Option<String> {
    let Some(messages) = body["messages"].as_array() else {
        return Some(
            "1 validation error detected: Value null at 'messages' failed to satisfy \
             constraint: Member must not be null"
                .to_owned(),
        );
    };
    if messages.first().map(|m| &m["role"]) != Some(&json!("user")) {
        return Some(
            "A conversation must start with a user message. Try again with a conversation \
             that starts with a user message."
                .to_owned(),
        );
    }
    let mut uses_tools = false;
    for (index, message) in messages.iter().enumerate() {
        if index > 0 && message["role"] == messages[index - 1]["role"] {
            return Some(
                "A conversation must alternate between user and assistant roles. Make sure \
                 the conversation alternates between user and assistant roles and try again."
                    .to_owned(),
            );
        }
        let content = message["content"].as_array().filter(|c| !c.is_empty());
        let Some(content) = content else {
            return Some(format!(
                "The content field in the Message object at messages.{index} is empty. Add \
                 a ContentBlock object to the content field and try again."
            ));
        };
        for (part, block) in content.iter().enumerate() {
            if let Some(error) = block_error(block, &format!("messages.{index}.content.{part}")) {
                return Some(error);
            }
            uses_tools |= block.get("toolUse").is_some() || block.get("toolResult").is_some();
        }
    }
    for (part, block) in body["system"].as_array().into_iter().flatten().enumerate() {
        if let Some(error) = block_error(block, &format!("system.{part}")) {
            return Some(error);
        }
    }
    let tools = &body["toolConfig"]["tools"];
    if body.get("toolConfig").is_some() && tools.as_array().is_none_or(Vec::is_empty) {
        return Some(
            "1 validation error detected: Value at 'toolConfig.tools' failed to satisfy \
             constraint: Member must have length greater than or equal to 1"
                .to_owned(),
        );
    }
    if uses_tools && body.get("toolConfig").is_none() {
        return Some(
            "The toolConfig field must be defined when using toolUse and toolResult content \
             blocks."
                .to_owned(),
        );
    }
    let schema = &body["outputConfig"]["textFormat"]["structure"]["jsonSchema"]["schema"];
    if body["outputConfig"]["textFormat"].is_object() && !schema.is_string() {
        return Some(
            "The value at 'outputConfig.textFormat.structure.jsonSchema.schema' must be a string."
                .to_owned(),
        );
    }
    None
}

/// A union member must be an object with exactly one key, and text must not be blank.
fn block_error(block: &Value, at: &str) -> Option<String> {
    let Some(object) = block.as_object().filter(|object| object.len() == 1) else {
        return Some(format!(
            "The ContentBlock object at {at} must set exactly one of its members."
        ));
    };
    match object.get("text") {
        Some(Value::String(text)) if text.trim().is_empty() => Some(format!(
            "The text field in the ContentBlock object at {at} is blank. Add text to the \
             text field, and try again."
        )),
        _ => None,
    }
}

/// The text of the last user turn's text blocks.
pub fn last_user_text(body: &Value) -> String {
    body["messages"]
        .as_array()
        .and_then(|messages| messages.iter().rev().find(|m| m["role"] == "user"))
        .and_then(|message| message["content"].as_array())
        .map(|content| {
            content
                .iter()
                .filter_map(|block| block["text"].as_str())
                .collect::<String>()
        })
        .unwrap_or_default()
}

/// A complete Converse answer, as the user guide shows one.
pub fn echo_response(text: &str) -> Value {
    json!({
        "output": {"message": {"role": "assistant", "content": [{"text": text}]}},
        "stopReason": "end_turn",
        "usage": {"inputTokens": 10, "outputTokens": 5, "totalTokens": 15},
        "metrics": {"latencyMs": 42}
    })
}

/// The same answer as ConverseStream events: text blocks have no `contentBlockStart`,
/// the first delta is empty, and `metadata` follows `messageStop`.
pub fn echo_events(text: &str) -> Vec<(String, Value)> {
    [
        ("messageStart", json!({"role": "assistant"})),
        (
            "contentBlockDelta",
            json!({"contentBlockIndex": 0, "delta": {"text": ""}}),
        ),
        (
            "contentBlockDelta",
            json!({"contentBlockIndex": 0, "delta": {"text": text}}),
        ),
        ("contentBlockStop", json!({"contentBlockIndex": 0})),
        ("messageStop", json!({"stopReason": "end_turn"})),
        (
            "metadata",
            json!({"usage": {"inputTokens": 10, "outputTokens": 5, "totalTokens": 15},
                   "metrics": {"latencyMs": 42}}),
        ),
    ]
    .into_iter()
    .map(|(kind, payload)| (kind.to_owned(), payload))
    .collect()
}

/// A deterministic vector of `dimensions` values from a text's length.
fn vector(text: &str, dimensions: usize) -> Vec<f64> {
    (0..dimensions)
        .map(|i| ((text.len() + i) % 7) as f64 / 7.0)
        .collect()
}

fn words(text: &str) -> u64 {
    text.split_whitespace().count() as u64
}

/// An InvokeModel answer from an embedding model and the input-token count Bedrock
/// puts in `X-Amzn-Bedrock-Input-Token-Count`, or the `ValidationException` message.
pub fn embedding(model: &str, body: &Value) -> Result<(Value, u64), String> {
    let family = ["us.", "eu.", "apac.", "global."]
        .iter()
        .find_map(|prefix| model.strip_prefix(prefix))
        .unwrap_or(model);
    if family.starts_with("amazon.titan-embed") {
        let text = body["inputText"]
            .as_str()
            .ok_or("Malformed input request: #: required key [inputText] not found")?;
        let dimensions = body["dimensions"].as_u64().unwrap_or(1024) as usize;
        let embedding = vector(text, dimensions);
        let tokens = words(text);
        return Ok((
            json!({"embedding": embedding, "inputTextTokenCount": tokens,
                   "embeddingsByType": {"float": embedding}}),
            tokens,
        ));
    }
    if family.starts_with("cohere.embed") {
        let texts = body["texts"]
            .as_array()
            .ok_or("Malformed input request: #: required key [texts] not found")?;
        if !body["input_type"].is_string() {
            return Err("Malformed input request: #: required key [input_type] not found".into());
        }
        if texts.len() > 96 {
            return Err(format!(
                "Malformed input request: #/texts: expected maximum item count: 96, found: {}",
                texts.len()
            ));
        }
        let dimensions = body["output_dimension"].as_u64().unwrap_or(1024) as usize;
        let texts: Vec<&str> = texts.iter().filter_map(Value::as_str).collect();
        let vectors: Vec<Vec<f64>> = texts.iter().map(|t| vector(t, dimensions)).collect();
        let embeddings = if body["embedding_types"].is_array() {
            (json!({"float": vectors}), "embeddings_by_type")
        } else {
            (json!(vectors), "embeddings_floats")
        };
        let tokens = texts.iter().map(|text| words(text)).sum();
        return Ok((
            json!({"id": "mock-embed-1", "texts": texts, "embeddings": embeddings.0,
                   "response_type": embeddings.1}),
            tokens,
        ));
    }
    Err(format!(
        "Malformed input request: the mock has no InvokeModel body for `{model}`"
    ))
}
