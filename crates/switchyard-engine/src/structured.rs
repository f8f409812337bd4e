//! Structured output: `response_format` and forced tool calls become a GBNF grammar
//! that constrains sampling, using llama.cpp's own JSON-Schema converter, so the answer
//! always parses and matches the schema.

use serde_json::{Value, json};
use switchyard_types::{ChatRequest, ErrorKind, ProviderError, ResponseFormat, Tool, ToolChoice};

/// What the answer must be.
#[derive(Debug, Clone, PartialEq)]
pub enum OutputShape {
    /// Free text.
    Text,
    /// A JSON document matching this grammar.
    Json { grammar: String },
    /// A call to one of these tools: `{"name": ..., "arguments": {...}}`.
    ToolCall { grammar: String },
}

fn invalid(param: &str, message: impl Into<String>) -> ProviderError {
    ProviderError::new(ErrorKind::InvalidRequest, message).with_param(Some(param.to_owned()))
}

fn grammar_for(schema: &Value, param: &str) -> Result<String, ProviderError> {
    llama_cpp_2::json_schema_to_grammar(&schema.to_string()).map_err(|error| {
        invalid(
            param,
            format!("the JSON schema cannot be enforced: {error}"),
        )
    })
}

/// The grammar of any JSON object, converted once.
fn any_object_grammar() -> Result<String, ProviderError> {
    static GRAMMAR: std::sync::OnceLock<Result<String, String>> = std::sync::OnceLock::new();
    GRAMMAR
        .get_or_init(|| {
            grammar_for(&json!({"type": "object"}), "response_format").map_err(|e| e.message)
        })
        .clone()
        .map_err(|message| invalid("response_format", message))
}

/// The shape a request asks for. A tool call is forced when `tool_choice` requires one
/// (`required`, a named function, or `allowed_tools` in `required` mode); with `auto`
/// the model answers in text.
pub fn output_shape(request: &ChatRequest) -> Result<OutputShape, ProviderError> {
    let forced: Option<Vec<&Tool>> = match &request.tool_choice {
        Some(ToolChoice::Required) => Some(request.tools.iter().collect()),
        Some(ToolChoice::Function { name }) => {
            let tool = request
                .tools
                .iter()
                .find(|tool| &tool.name == name)
                .ok_or_else(|| {
                    invalid("tool_choice", format!("no tool named `{name}` was given"))
                })?;
            Some(vec![tool])
        }
        Some(ToolChoice::Allowed {
            names,
            required: true,
        }) => Some(
            request
                .tools
                .iter()
                .filter(|tool| names.contains(&tool.name))
                .collect(),
        ),
        _ => None,
    };
    if let Some(tools) = forced {
        if tools.is_empty() {
            return Err(invalid(
                "tool_choice",
                "a tool call is required but no tool was given",
            ));
        }
        return Ok(OutputShape::ToolCall {
            grammar: grammar_for(&tool_call_schema(&tools), "tools")?,
        });
    }
    match &request.response_format {
        None | Some(ResponseFormat::Text) => Ok(OutputShape::Text),
        Some(ResponseFormat::JsonObject)
        | Some(ResponseFormat::JsonSchema { schema: None, .. }) => Ok(OutputShape::Json {
            grammar: any_object_grammar()?,
        }),
        Some(ResponseFormat::JsonSchema {
            schema: Some(schema),
            ..
        }) => Ok(OutputShape::Json {
            grammar: grammar_for(schema, "response_format.json_schema.schema")?,
        }),
    }
}

/// `{"name": <one of the tools>, "arguments": <that tool's parameters>}`.
fn tool_call_schema(tools: &[&Tool]) -> Value {
    let options: Vec<Value> = tools
        .iter()
        .map(|tool| {
            json!({
                "type": "object",
                "properties": {
                    "name": {"const": tool.name},
                    "arguments": tool.parameters.clone().unwrap_or_else(|| json!({"type": "object"})),
                },
                "required": ["name", "arguments"],
                "additionalProperties": false,
            })
        })
        .collect();
    if options.len() == 1 {
        options.into_iter().next().unwrap_or_default()
    } else {
        json!({"anyOf": options})
    }
}

/// The system note that tells the model which tools it is calling and how; chat
/// templates of small models seldom render tools themselves.
pub fn tool_instructions(tools: &[Tool]) -> String {
    let listed: Vec<Value> = tools
        .iter()
        .map(|tool| {
            json!({
                "name": tool.name,
                "description": tool.description,
                "parameters": tool.parameters,
            })
        })
        .collect();
    format!(
        "You call tools. Available tools: {}. Answer with one JSON object: \
         {{\"name\": <tool name>, \"arguments\": <arguments object>}}.",
        Value::Array(listed)
    )
}

/// Splits a constrained tool-call answer into name and arguments text.
pub fn parse_tool_call(text: &str) -> Option<(String, String)> {
    let value: Value = serde_json::from_str(text).ok()?;
    let name = value.get("name")?.as_str()?.to_owned();
    let arguments = value.get("arguments")?.to_string();
    Some((name, arguments))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tool_call_answer_splits_into_name_and_arguments() {
        assert_eq!(
            parse_tool_call(r#"{"name": "get_weather", "arguments": {"city": "Paris"}}"#),
            Some(("get_weather".into(), r#"{"city":"Paris"}"#.into()))
        );
        assert_eq!(parse_tool_call("not json"), None);
    }

    #[test]
    fn a_named_tool_that_was_not_given_is_an_error() {
        let request = ChatRequest {
            tool_choice: Some(ToolChoice::Function {
                name: "missing".into(),
            }),
            ..ChatRequest::default()
        };
        let error = output_shape(&request).expect_err("no such tool");
        assert_eq!(error.param.as_deref(), Some("tool_choice"));
    }
}
