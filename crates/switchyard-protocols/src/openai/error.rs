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
    /// Reads an upstream error body leniently: OpenAI's shape, or the bare
    /// `{"error":"text"}` / `{"message":..}` / `{"detail":..}` that some compatible
    /// servers send. Returns `None` when nothing readable is there.
    pub fn parse_lenient(body: &[u8]) -> Option<ErrorObject> {
        if let Ok(ErrorBody { error }) = serde_json::from_slice::<ErrorBody>(body) {
            return Some(error);
        }
        let value: Value = serde_json::from_slice(body).ok()?;
        let message = value
            .get("error")
            .and_then(Value::as_str)
            .or_else(|| value.get("message").and_then(Value::as_str))
            .or_else(|| value.get("detail").and_then(Value::as_str))?;
        Some(ErrorObject {
            message: message.to_owned(),
            kind: None,
            param: None,
            code: None,
        })
    }
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
