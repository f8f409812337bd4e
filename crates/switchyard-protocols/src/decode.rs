//! Decoding wire bytes into typed values, with errors that name the offending field.

use serde::de::DeserializeOwned;

/// A request or response body that could not be decoded or does not make sense.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct DecodeError {
    /// The JSON path of the offending field (`messages[2].content`), when there is one.
    pub param: Option<String>,
    pub message: String,
}

impl DecodeError {
    pub fn new(message: impl Into<String>) -> Self {
        DecodeError {
            param: None,
            message: message.into(),
        }
    }

    /// An error about the field at `param`; the message is prefixed with the path.
    pub fn at(param: impl Into<String>, message: impl std::fmt::Display) -> Self {
        let param = param.into();
        DecodeError {
            message: format!("`{param}`: {message}"),
            param: Some(param),
        }
    }
}

/// How deep a body may nest: serde_json's own recursion limit, which every decoder here
/// keeps (a deeper body is refused before it is built, so no deep value is ever
/// dropped recursively).
pub const MAX_JSON_DEPTH: usize = 128;

/// Parses JSON into `T`, naming the path of the first field that does not fit.
///
/// Valid input takes the plain parser; only a failure is parsed again with path
/// tracking, which costs a few percent of a proxied request's CPU time on every call.
pub fn from_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, DecodeError> {
    match serde_json::from_slice(bytes) {
        Ok(value) => Ok(value),
        Err(_) => from_json_with_path(bytes),
    }
}

fn from_json_with_path<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, DecodeError> {
    let mut deserializer = serde_json::Deserializer::from_slice(bytes);
    let value = serde_path_to_error::deserialize(&mut deserializer).map_err(|error| {
        let path = error.path().to_string();
        let inner = error.into_inner();
        if inner.to_string().starts_with("recursion limit exceeded") {
            DecodeError::new(format!(
                "the body is not valid JSON: it nests deeper than {MAX_JSON_DEPTH} levels ({inner})"
            ))
        } else if inner.is_syntax() || inner.is_eof() {
            DecodeError::new(format!("the body is not valid JSON: {inner}"))
        } else if path == "." || path.is_empty() {
            DecodeError::new(format!(
                "invalid request body: {}",
                strip_position(&inner.to_string())
            ))
        } else {
            DecodeError::at(path, strip_position(&inner.to_string()))
        }
    })?;
    deserializer
        .end()
        .map_err(|error| DecodeError::new(format!("the body is not valid JSON: {error}")))?;
    Ok(value)
}

/// Refuses a text completion (a raw prompt) on the way to a chat-only API, which would
/// wrap it in a chat template and answer something else.
pub fn chat_only(request: &switchyard_types::ChatRequest, api: &str) -> Result<(), DecodeError> {
    match request.completion {
        Some(_) => Err(DecodeError::at(
            "prompt",
            format!("{api} does not serve text completions; send this model chat messages instead"),
        )),
        None => Ok(()),
    }
}

/// A tool call's arguments as the JSON object vendors with structured tool input
/// (Anthropic, Gemini, Bedrock) require; empty text is an empty object.
pub fn tool_arguments(
    arguments: &str,
    at: &str,
    vendor: &str,
) -> Result<serde_json::Value, DecodeError> {
    if arguments.trim().is_empty() {
        return Ok(serde_json::Value::Object(Default::default()));
    }
    match serde_json::from_str::<serde_json::Value>(arguments) {
        Ok(value @ serde_json::Value::Object(_)) => Ok(value),
        Ok(_) => Err(DecodeError::at(
            at,
            format!("tool call arguments must be a JSON object for {vendor}"),
        )),
        Err(error) => Err(DecodeError::at(
            at,
            format!("tool call arguments are not valid JSON: {error}"),
        )),
    }
}

/// serde_json appends " at line L column C" to data errors; with a field path in the
/// message the position only adds noise.
fn strip_position(message: &str) -> &str {
    match message.rfind(" at line ") {
        Some(index) => &message[..index],
        None => message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)]
    struct Outer {
        items: Vec<Inner>,
    }

    #[derive(Debug, serde::Deserialize)]
    #[allow(dead_code)]
    struct Inner {
        count: u32,
    }

    #[test]
    fn names_the_path_of_a_wrong_type() {
        let error = from_json::<Outer>(br#"{"items":[{"count":1},{"count":"x"}]}"#)
            .expect_err("a string is not a count");
        assert_eq!(error.param.as_deref(), Some("items[1].count"));
        assert_eq!(
            error.message,
            "`items[1].count`: invalid type: string \"x\", expected u32"
        );
    }

    #[test]
    fn reports_syntax_errors_without_a_path() {
        let error = from_json::<Outer>(br#"{"items": [}"#).expect_err("broken JSON");
        assert_eq!(error.param, None);
        assert!(error.message.starts_with("the body is not valid JSON"));
    }

    #[test]
    fn names_a_missing_field() {
        let error = from_json::<Outer>(br#"{"items":[{}]}"#).expect_err("count is required");
        assert_eq!(error.param.as_deref(), Some("items[0]"));
        assert_eq!(error.message, "`items[0]`: missing field `count`");
    }
}
