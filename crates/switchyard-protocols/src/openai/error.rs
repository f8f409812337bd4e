//! OpenAI's error body: `{"error":{"message","type","param","code"}}`.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorObject,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ErrorObject {
    pub message: String,
    #[serde(rename = "type", default)]
    pub kind: Option<String>,
    #[serde(default)]
    pub param: Option<String>,
    /// A string for OpenAI; some compatible servers send a number.
    #[serde(default)]
    pub code: Option<Value>,
}

impl ErrorBody {
    /// Reads an upstream error body leniently: OpenAI's shape, or one of the
    /// looser shapes OpenAI-compatible servers send:
    ///
    /// - `{"error": "text"}` or `{"error": ["text", …]}`;
    /// - the flat `{"status", "code", "message" | "detail"}` of Azure AI Foundry;
    /// - FastAPI/pydantic validation errors,
    ///   `{"detail": [{"loc": ["body", "user"], "msg": "…", "type": "…"}]}`,
    ///   whose first location names the parameter.
    ///
    /// Returns `None` when nothing readable is there.
    pub fn parse_lenient(body: &[u8]) -> Option<ErrorObject> {
        let value: Value = serde_json::from_slice(body).ok()?;
        // serde would also read a struct from an array, so only an object counts.
        if let Some(error) = value.get("error").filter(|error| error.is_object())
            && let Ok(error) = ErrorObject::deserialize(error)
        {
            return Some(error);
        }
        let flat_code = value.get("code").filter(|code| code.is_string()).cloned();
        let flat = |message: String, param: Option<String>| ErrorObject {
            message,
            kind: value.get("type").and_then(Value::as_str).map(str::to_owned),
            param,
            code: flat_code.clone(),
        };
        if let Some(message) = value.get("error").and_then(joined_strings) {
            return Some(flat(message, None));
        }
        if let Some(message) = value.get("message").and_then(Value::as_str) {
            return Some(flat(message.to_owned(), None));
        }
        match value.get("detail")? {
            Value::String(detail) => Some(flat(detail.clone(), None)),
            Value::Array(problems) => {
                let (message, param) = validation_problems(problems)?;
                Some(flat(message, param))
            }
            _ => None,
        }
    }
}

/// A string, or the strings of an array joined with "; ".
fn joined_strings(value: &Value) -> Option<String> {
    match value {
        Value::String(text) => Some(text.clone()),
        Value::Array(items) => {
            let texts: Vec<&str> = items.iter().filter_map(Value::as_str).collect();
            (!texts.is_empty()).then(|| texts.join("; "))
        }
        _ => None,
    }
}

/// pydantic's `[{loc, msg}]` as "user: Extra inputs are not permitted; …", and the
/// first problem's location as the parameter.
fn validation_problems(problems: &[Value]) -> Option<(String, Option<String>)> {
    let mut lines = Vec::new();
    let mut first_param = None;
    for problem in problems {
        let Some(text) = problem.get("msg").and_then(Value::as_str) else {
            continue;
        };
        let location = problem
            .get("loc")
            .and_then(Value::as_array)
            .map(|parts| location_path(parts))
            .filter(|path| !path.is_empty());
        match &location {
            Some(path) => lines.push(format!("{path}: {text}")),
            None => lines.push(text.to_owned()),
        }
        if first_param.is_none() {
            first_param = location;
        }
    }
    (!lines.is_empty()).then(|| (lines.join("; "), first_param))
}

/// `["body", "messages", 0, "content"]` → `messages.0.content`: the request
/// part (`body`, `query`…) says nothing the caller can act on.
fn location_path(parts: &[Value]) -> String {
    let mut segments = parts.iter().map(|part| match part {
        Value::String(text) => text.clone(),
        other => other.to_string(),
    });
    let first = segments.next();
    let rest: Vec<String> = match first.as_deref() {
        Some("body" | "query" | "path" | "header") => segments.collect(),
        Some(_) => first.into_iter().chain(segments).collect(),
        None => Vec::new(),
    };
    rest.join(".")
}

impl ErrorObject {
    pub fn code_str(&self) -> Option<String> {
        match &self.code {
            Some(Value::String(code)) => Some(code.clone()),
            Some(Value::Number(code)) => Some(code.to_string()),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lenient(body: &str) -> ErrorObject {
        ErrorBody::parse_lenient(body.as_bytes()).expect("readable error body")
    }

    #[test]
    fn reads_openai_shape() {
        let error = lenient(
            r#"{"error":{"message":"bad","type":"invalid_request_error","param":"n","code":"x"}}"#,
        );
        assert_eq!(error.message, "bad");
        assert_eq!(error.param.as_deref(), Some("n"));
        assert_eq!(error.code_str().as_deref(), Some("x"));
    }

    #[test]
    fn reads_bare_and_listed_strings() {
        assert_eq!(
            lenient(r#"{"error":"model not found"}"#).message,
            "model not found"
        );
        assert_eq!(
            lenient(r#"{"error":["Input should be 'user'","Extra inputs are not permitted"]}"#)
                .message,
            "Input should be 'user'; Extra inputs are not permitted"
        );
    }

    #[test]
    fn reads_foundry_flat_body_with_its_code() {
        let error = lenient(
            r#"{"status":422,"code":"extra_parameters_not_allowed","message":"Extra parameters ['n'] are not allowed when extra-parameters is not set or set to be 'error'.","detail":"x"}"#,
        );
        assert!(error.message.starts_with("Extra parameters ['n']"));
        assert_eq!(
            error.code_str().as_deref(),
            Some("extra_parameters_not_allowed")
        );
    }

    #[test]
    fn reads_pydantic_validation_errors_with_the_parameter() {
        let error = lenient(
            r#"{"detail":[{"type":"extra_forbidden","loc":["body","user"],"msg":"Extra inputs are not permitted","input":"u1"},{"type":"missing","loc":["body","messages",0,"content"],"msg":"Field required"}]}"#,
        );
        assert_eq!(
            error.message,
            "user: Extra inputs are not permitted; messages.0.content: Field required"
        );
        assert_eq!(error.param.as_deref(), Some("user"));
        assert_eq!(error.code, None);
    }

    #[test]
    fn gives_up_on_unreadable_bodies() {
        for body in [
            "not json",
            "{}",
            r#"{"detail":[{"loc":["body"]}]}"#,
            r#"{"error":[1,2]}"#,
        ] {
            assert!(
                ErrorBody::parse_lenient(body.as_bytes()).is_none(),
                "{body}"
            );
        }
    }
}
