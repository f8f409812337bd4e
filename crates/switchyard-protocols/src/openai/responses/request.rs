//! `POST /v1/responses` → canonical [`ChatRequest`], with what the answer repeats and
//! what the store needs kept beside it.

use serde_json::{Map, Value, json};
use switchyard_types::{
    ChatRequest, MaxTokensField, Message, Reasoning, ResponseFormat, Role, Sampling, Tool,
    ToolChoice,
};

use super::super::request::check_range;
use super::items::{items_to_messages, normalize_input};
use super::wire::{CreateResponse, TextFormat};
use crate::decode::from_json;
use crate::{DecodeError, bounds};

/// What `include` asks for to get logprobs on the output text.
const INCLUDE_LOGPROBS: &str = "message.output_text.logprobs";

/// A decoded `POST /v1/responses`.
#[derive(Debug, Clone, PartialEq)]
pub struct ResponseRequest {
    /// The canonical request; its `messages` hold this request's own turns until
    /// [`ResponseRequest::continue_from`] puts a stored conversation before them.
    pub chat: ChatRequest,
    /// The conversation's input items so far, oldest first, each with an id.
    pub items: Vec<Value>,
    pub instructions: Option<String>,
    pub previous_response_id: Option<String>,
    pub store: bool,
    /// The request's settings, as the response object repeats them.
    pub settings: Map<String, Value>,
}

impl ResponseRequest {
    /// Puts the items of an earlier conversation (a stored response's input items and
    /// its output) before this request's, and rebuilds the messages from them all.
    pub fn continue_from(&mut self, earlier: Vec<Value>) -> Result<(), DecodeError> {
        let mut items = earlier;
        items.append(&mut self.items);
        self.items = items;
        self.chat.messages = conversation(&self.items, self.instructions.as_deref())?;
        bounds::check(&self.chat, &bounds::RESPONSES)
    }
}

/// The messages of `items`, after the instructions as a system message.
fn conversation(items: &[Value], instructions: Option<&str>) -> Result<Vec<Message>, DecodeError> {
    let mut messages: Vec<Message> = instructions
        .map(|text| Message::text(Role::System, text))
        .into_iter()
        .collect();
    messages.extend(items_to_messages(items)?);
    Ok(messages)
}

pub fn decode_response_request(body: &[u8]) -> Result<ResponseRequest, DecodeError> {
    to_canonical_response_request(from_json::<CreateResponse>(body)?)
}

pub fn to_canonical_response_request(wire: CreateResponse) -> Result<ResponseRequest, DecodeError> {
    if wire.model.is_empty() {
        return Err(DecodeError::at("model", "must not be empty"));
    }
    if wire.background == Some(true) {
        return Err(DecodeError::at(
            "background",
            "background responses are not supported",
        ));
    }
    if wire
        .conversation
        .as_ref()
        .is_some_and(|value| !value.is_null())
    {
        return Err(DecodeError::at(
            "conversation",
            "conversations are not supported; continue a response with `previous_response_id`",
        ));
    }
    if let Some(truncation) = wire
        .truncation
        .as_deref()
        .filter(|mode| *mode != "disabled")
    {
        return Err(DecodeError::at(
            "truncation",
            format!(
                "`{truncation}` is not supported; a conversation longer than the context is refused (`disabled`)"
            ),
        ));
    }
    check_range("temperature", wire.temperature, 0.0, 2.0)?;
    check_range("top_p", wire.top_p, 0.0, 1.0)?;
    if wire.max_output_tokens == Some(0) {
        return Err(DecodeError::at("max_output_tokens", "must be at least 1"));
    }
    let store = wire.store.unwrap_or(true);
    let settings = settings(&wire, store);
    let items = normalize_input(wire.input)?;
    let tools = wire
        .tools
        .iter()
        .flatten()
        .enumerate()
        .map(|(index, tool)| tool_to_canonical(tool, index))
        .collect::<Result<Vec<_>, _>>()?;
    let tool_choice = wire
        .tool_choice
        .as_ref()
        .map(tool_choice_to_canonical)
        .transpose()?;
    let format = wire.text.as_ref().and_then(|text| text.format.clone());
    let response_format = format.map(|format| match format {
        TextFormat::Text => ResponseFormat::Text,
        TextFormat::JsonObject => ResponseFormat::JsonObject,
        TextFormat::JsonSchema {
            name,
            description,
            schema,
            strict,
        } => ResponseFormat::JsonSchema {
            name,
            description,
            schema,
            strict,
        },
    });
    let mut extra = wire.extra;
    let reasoning = wire
        .reasoning
        .as_ref()
        .and_then(|reasoning| reasoning.effort.as_deref())
        .map(Reasoning::effort);
    if let Some(verbosity) = wire.text.as_ref().and_then(|text| text.verbosity.clone()) {
        extra.insert("verbosity".to_owned(), Value::String(verbosity));
    }
    let wants_logprobs = wire
        .include
        .iter()
        .flatten()
        .any(|include| include == INCLUDE_LOGPROBS);
    let chat = ChatRequest {
        model: wire.model,
        messages: conversation(&items, wire.instructions.as_deref())?,
        tools,
        tool_choice,
        parallel_tool_calls: wire.parallel_tool_calls,
        response_format,
        sampling: Sampling {
            temperature: wire.temperature,
            top_p: wire.top_p,
            max_tokens: wire.max_output_tokens,
            max_tokens_field: MaxTokensField::MaxCompletionTokens,
            logprobs: wants_logprobs.then_some(true),
            top_logprobs: wire.top_logprobs.filter(|_| wants_logprobs),
            ..Sampling::default()
        },
        stream: wire.stream.unwrap_or(false),
        // The answer always reports usage.
        stream_include_usage: true,
        user: wire.user,
        metadata: None,
        reasoning,
        completion: None,
        extra,
    };
    bounds::check(&chat, &bounds::RESPONSES)?;
    Ok(ResponseRequest {
        chat,
        items,
        instructions: wire.instructions,
        previous_response_id: wire.previous_response_id,
        store,
        settings,
    })
}

/// The request's settings in the order OpenAI's response object lists them, with the
/// defaults it fills in.
fn settings(wire: &CreateResponse, store: bool) -> Map<String, Value> {
    let mut text = json!({
        "format": wire.text.as_ref().and_then(|text| text.format.clone()).unwrap_or(TextFormat::Text)
    });
    if let Some(verbosity) = wire.text.as_ref().and_then(|text| text.verbosity.as_ref()) {
        text["verbosity"] = json!(verbosity);
    }
    let reasoning = wire.reasoning.as_ref();
    let mut settings = Map::new();
    let mut put = |key: &str, value: Value| {
        settings.insert(key.to_owned(), value);
    };
    put("instructions", json!(wire.instructions));
    put("max_output_tokens", json!(wire.max_output_tokens));
    put(
        "parallel_tool_calls",
        json!(wire.parallel_tool_calls.unwrap_or(true)),
    );
    put("previous_response_id", json!(wire.previous_response_id));
    put(
        "reasoning",
        json!({
            "effort": reasoning.and_then(|reasoning| reasoning.effort.clone()),
            "summary": reasoning.and_then(|reasoning| reasoning.summary.clone()),
        }),
    );
    put("store", json!(store));
    put("temperature", json!(wire.temperature.unwrap_or(1.0)));
    put("text", text);
    put(
        "tool_choice",
        wire.tool_choice.clone().unwrap_or(json!("auto")),
    );
    put("tools", json!(wire.tools.clone().unwrap_or_default()));
    put("top_logprobs", json!(wire.top_logprobs.unwrap_or(0)));
    put("top_p", json!(wire.top_p.unwrap_or(1.0)));
    put("truncation", json!("disabled"));
    put("user", json!(wire.user));
    put("metadata", json!(wire.metadata.clone().unwrap_or_default()));
    settings
}

/// A function tool; built-in tools (web search, file search, ...) are refused by name.
fn tool_to_canonical(tool: &Value, index: usize) -> Result<Tool, DecodeError> {
    let at = format!("tools[{index}]");
    let Some(tool) = tool.as_object() else {
        return Err(DecodeError::at(at, "must be an object"));
    };
    match tool.get("type").and_then(Value::as_str) {
        Some("function") => {}
        Some(other) => {
            return Err(DecodeError::at(
                format!("{at}.type"),
                format!(
                    "built-in tools such as `{other}` are not supported; only `function` tools are"
                ),
            ));
        }
        None => return Err(DecodeError::at(format!("{at}.type"), "is required")),
    }
    let Some(name) = tool.get("name").and_then(Value::as_str) else {
        return Err(DecodeError::at(format!("{at}.name"), "is required"));
    };
    let mut extra = tool.clone();
    for known in ["type", "name", "description", "parameters", "strict"] {
        extra.remove(known);
    }
    Ok(Tool {
        name: name.to_owned(),
        description: tool
            .get("description")
            .and_then(Value::as_str)
            .map(str::to_owned),
        parameters: tool
            .get("parameters")
            .filter(|value| !value.is_null())
            .cloned(),
        strict: tool.get("strict").and_then(Value::as_bool),
        extra,
    })
}

fn tool_choice_to_canonical(choice: &Value) -> Result<ToolChoice, DecodeError> {
    let named = |tool: &Value| tool.get("name").and_then(Value::as_str).map(str::to_owned);
    match choice {
        Value::String(mode) => match mode.as_str() {
            "auto" => Ok(ToolChoice::Auto),
            "none" => Ok(ToolChoice::None),
            "required" => Ok(ToolChoice::Required),
            other => Err(DecodeError::at(
                "tool_choice",
                format!("unknown mode `{other}`; expected `auto`, `none` or `required`"),
            )),
        },
        Value::Object(object) => match object.get("type").and_then(Value::as_str) {
            Some("function") => named(choice)
                .map(|name| ToolChoice::Function { name })
                .ok_or_else(|| DecodeError::at("tool_choice.name", "is required")),
            Some("allowed_tools") => {
                let required = match object.get("mode").and_then(Value::as_str) {
                    Some("required") => true,
                    Some("auto") | None => false,
                    Some(other) => {
                        return Err(DecodeError::at(
                            "tool_choice.mode",
                            format!("unknown mode `{other}`; expected `auto` or `required`"),
                        ));
                    }
                };
                let names = object
                    .get("tools")
                    .and_then(Value::as_array)
                    .map(|tools| tools.iter().filter_map(named).collect())
                    .unwrap_or_default();
                Ok(ToolChoice::Allowed { names, required })
            }
            Some(other) => Err(DecodeError::at(
                "tool_choice.type",
                format!("`{other}` is not supported; expected `function` or `allowed_tools`"),
            )),
            None => Err(DecodeError::at("tool_choice.type", "is required")),
        },
        _ => Err(DecodeError::at(
            "tool_choice",
            "must be a string or an object",
        )),
    }
}
