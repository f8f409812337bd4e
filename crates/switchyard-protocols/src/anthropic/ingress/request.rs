//! Messages API request → canonical request (ingress).
//!
//! The canonical model follows OpenAI's layout, so an Anthropic conversation is
//! reshaped on the way in: the top-level `system` becomes a system turn, and the
//! `tool_result` blocks that open a user turn become a tool turn of their own, ahead of
//! whatever else the user wrote. `thinking` (enabled or disabled) becomes the canonical
//! reasoning setting. Fields with no canonical name (other `thinking` kinds, `top_k`,
//! `service_tier`, `cache_control` on a tool…) travel in `extra`, so an Anthropic
//! upstream receives them unchanged.

use serde_json::Value;
use switchyard_types::{
    ChatRequest, ContentBlock, Extra, Message, Reasoning, ResponseFormat, Role, Sampling,
    StopSequences, Tool, ToolChoice,
};

use crate::anthropic::response::block_to_canonical;
use crate::anthropic::wire::{self, Block, KnownBlock, MessageContent, MessagesRequest, System};
use crate::decode::from_json;
use crate::{DecodeError, bounds};

/// Decodes a `POST /v1/messages` body.
pub fn decode_request(body: &[u8]) -> Result<ChatRequest, DecodeError> {
    to_canonical_request(from_json::<MessagesRequest>(body)?)
}

/// Decodes a `POST /v1/messages/count_tokens` body: a Messages request without
/// `max_tokens`, which counting does not need.
pub fn decode_count_request(body: &[u8]) -> Result<ChatRequest, DecodeError> {
    let mut value: Value = from_json(body)?;
    match &mut value {
        Value::Object(fields) => {
            fields.entry("max_tokens").or_insert(Value::from(1));
            fields.remove("stream");
        }
        _ => return Err(DecodeError::new("the body must be a JSON object")),
    }
    to_canonical_request(from_json(&serde_json::to_vec(&value).unwrap_or_default())?)
}

pub fn to_canonical_request(wire: MessagesRequest) -> Result<ChatRequest, DecodeError> {
    if wire.model.is_empty() {
        return Err(DecodeError::at("model", "must not be empty"));
    }
    if wire.max_tokens == 0 {
        return Err(DecodeError::at("max_tokens", "must be at least 1"));
    }
    if wire.messages.is_empty() {
        return Err(DecodeError::at(
            "messages",
            "must contain at least one message",
        ));
    }
    let mut messages = Vec::with_capacity(wire.messages.len() + 1);
    if let Some(system) = wire.system {
        messages.push(system_message(system));
    }
    for (index, message) in wire.messages.into_iter().enumerate() {
        push_message(&mut messages, message, index)?;
    }
    let tools = wire
        .tools
        .unwrap_or_default()
        .into_iter()
        .enumerate()
        .map(|(index, tool)| tool_to_canonical(tool, index))
        .collect::<Result<Vec<_>, _>>()?;
    let (tool_choice, parallel_tool_calls) = match wire.tool_choice {
        Some(choice) => tool_choice_to_canonical(choice),
        None => (None, None),
    };
    let mut extra = wire.extra;
    let response_format = output_format(&mut extra)?;
    let reasoning = thinking(&mut extra)?;
    if let Some(top_k) = wire.top_k {
        extra.insert("top_k".into(), top_k.into());
    }
    let request = ChatRequest {
        model: wire.model,
        messages,
        tools,
        tool_choice,
        parallel_tool_calls,
        response_format,
        sampling: Sampling {
            temperature: wire.temperature,
            top_p: wire.top_p,
            max_tokens: Some(wire.max_tokens),
            stop: wire.stop_sequences.map(StopSequences::Many),
            ..Sampling::default()
        },
        stream: wire.stream.unwrap_or(false),
        // Anthropic's stream always reports usage.
        stream_include_usage: true,
        user: wire.metadata.and_then(|metadata| metadata.user_id),
        metadata: None,
        reasoning,
        completion: None,
        extra,
    };
    bounds::check(&request, &bounds::MESSAGES)?;
    Ok(request)
}

/// `thinking` as the canonical reasoning setting: `enabled` with its budget, or
/// `disabled`. Other kinds (`adaptive`) stay in `extra`, for an Anthropic upstream.
fn thinking(extra: &mut Extra) -> Result<Option<Reasoning>, DecodeError> {
    let kind = extra
        .get("thinking")
        .and_then(|thinking| thinking.get("type"))
        .and_then(Value::as_str);
    let reasoning = match kind {
        Some("enabled") => {
            let budget = extra["thinking"]
                .get("budget_tokens")
                .and_then(Value::as_u64)
                .and_then(|budget| u32::try_from(budget).ok())
                .ok_or_else(|| {
                    DecodeError::at("thinking.budget_tokens", "is required: a number of tokens")
                })?;
            Reasoning::budget(budget)
        }
        Some("disabled") => Reasoning::effort("none"),
        _ => return Ok(None),
    };
    extra.remove("thinking");
    Ok(Some(reasoning))
}

fn system_message(system: System) -> Message {
    match system {
        System::Text(text) => Message::text(Role::System, text),
        System::Blocks(blocks) => Message {
            role: Role::System,
            content: blocks.into_iter().map(block_to_canonical).collect(),
            name: None,
            content_is_text: false,
            extra: Extra::new(),
        },
    }
}

/// Appends one Anthropic turn: a user turn's `tool_result` blocks as a tool turn, then
/// the rest in the turn's own role.
fn push_message(
    messages: &mut Vec<Message>,
    message: wire::InputMessage,
    index: usize,
) -> Result<(), DecodeError> {
    let role = match message.role {
        wire::Role::User => Role::User,
        wire::Role::Assistant => Role::Assistant,
    };
    let blocks = match message.content {
        MessageContent::Text(text) => {
            messages.push(Message::text(role, text));
            return Ok(());
        }
        MessageContent::Blocks(blocks) => blocks,
    };
    let mut results = Vec::new();
    let mut results_are_text = true;
    let mut content = Vec::with_capacity(blocks.len());
    for (part, block) in blocks.into_iter().enumerate() {
        if let Block::Known(KnownBlock::ToolResult { content, .. }) = &block {
            if role == Role::Assistant {
                return Err(DecodeError::at(
                    format!("messages[{index}].content[{part}]"),
                    "`tool_result` blocks belong in `user` turns",
                ));
            }
            results_are_text &= matches!(content, None | Some(MessageContent::Text(_)));
            results.push(block_to_canonical(block));
            continue;
        }
        if let Block::Known(KnownBlock::ToolUse { input, .. }) = &block
            && !input.is_object()
        {
            return Err(DecodeError::at(
                format!("messages[{index}].content[{part}].input"),
                "must be a JSON object",
            ));
        }
        content.push(block_to_canonical(block));
    }
    let only_results = !results.is_empty() && content.is_empty();
    if !results.is_empty() {
        messages.push(Message {
            role: Role::Tool,
            content: results,
            name: None,
            content_is_text: results_are_text,
            extra: Extra::new(),
        });
    }
    // A turn of nothing but tool results needs no second message; an empty turn
    // stays, for the upstream to judge.
    if !only_results {
        // Plain text reads best as a string to servers that take no parts; tool calls
        // and reasoning travel beside the content, not in it.
        let content_is_text = content.iter().all(|block| match block {
            ContentBlock::Text { extra, .. } => extra.is_empty(),
            ContentBlock::ToolCall { .. } | ContentBlock::Reasoning { .. } => true,
            _ => false,
        });
        messages.push(Message {
            role,
            content,
            name: None,
            content_is_text,
            extra: Extra::new(),
        });
    }
    Ok(())
}

/// A client tool (`{name, description, input_schema}`); Anthropic's server tools
/// (`web_search_…`, `code_execution_…`) run inside Anthropic and have no canonical form.
fn tool_to_canonical(tool: Value, index: usize) -> Result<Tool, DecodeError> {
    let at = |field: &str| format!("tools[{index}]{field}");
    let Value::Object(mut fields) = tool else {
        return Err(DecodeError::at(at(""), "must be an object"));
    };
    if let Some(kind) = fields.get("type").and_then(Value::as_str)
        && kind != "custom"
    {
        return Err(DecodeError::at(
            at(".type"),
            format!(
                "`{kind}` is one of Anthropic's server tools, which Switchyard cannot offer \
                 to other models; define it as a client tool with `input_schema`"
            ),
        ));
    }
    fields.remove("type");
    let name = match fields.remove("name") {
        Some(Value::String(name)) if !name.is_empty() => name,
        _ => return Err(DecodeError::at(at(".name"), "must be a non-empty string")),
    };
    let parameters = match fields.remove("input_schema") {
        Some(schema @ Value::Object(_)) => schema,
        _ => {
            return Err(DecodeError::at(
                at(".input_schema"),
                "must be a JSON Schema object",
            ));
        }
    };
    let description = match fields.remove("description") {
        None | Some(Value::Null) => None,
        Some(Value::String(description)) => Some(description),
        Some(_) => return Err(DecodeError::at(at(".description"), "must be a string")),
    };
    let strict = fields.remove("strict").and_then(|strict| strict.as_bool());
    Ok(Tool {
        name,
        description,
        parameters: Some(parameters),
        strict,
        extra: fields.into_iter().collect(),
    })
}

fn tool_choice_to_canonical(choice: wire::ToolChoice) -> (Option<ToolChoice>, Option<bool>) {
    let serial = |disable: Option<bool>| disable.filter(|&disable| disable).map(|_| false);
    match choice {
        wire::ToolChoice::Auto {
            disable_parallel_tool_use,
        } => (Some(ToolChoice::Auto), serial(disable_parallel_tool_use)),
        wire::ToolChoice::Any {
            disable_parallel_tool_use,
        } => (
            Some(ToolChoice::Required),
            serial(disable_parallel_tool_use),
        ),
        wire::ToolChoice::Tool {
            name,
            disable_parallel_tool_use,
        } => (
            Some(ToolChoice::Function { name }),
            serial(disable_parallel_tool_use),
        ),
        wire::ToolChoice::None => (Some(ToolChoice::None), None),
    }
}

/// Structured output: `output_config.format` (or the older top-level
/// `output_format`) with a JSON schema. The rest of `output_config` (`effort`) stays.
fn output_format(extra: &mut Extra) -> Result<Option<ResponseFormat>, DecodeError> {
    let (format, at) = match extra.get_mut("output_config") {
        Some(Value::Object(config)) if config.contains_key("format") => {
            let format = config.remove("format");
            if config.is_empty() {
                extra.remove("output_config");
            }
            (format, "output_config.format")
        }
        _ => (extra.remove("output_format"), "output_format"),
    };
    let Some(format) = format else {
        return Ok(None);
    };
    if format.get("type").and_then(Value::as_str) != Some("json_schema") {
        return Err(DecodeError::at(
            format!("{at}.type"),
            "must be \"json_schema\"",
        ));
    }
    let schema = match format.get("schema") {
        Some(schema @ Value::Object(_)) => schema.clone(),
        _ => {
            return Err(DecodeError::at(
                format!("{at}.schema"),
                "must be a JSON Schema object",
            ));
        }
    };
    Ok(Some(ResponseFormat::JsonSchema {
        name: "output".into(),
        description: None,
        schema: Some(schema),
        strict: Some(true),
    }))
}
