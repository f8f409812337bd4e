//! Canonical request → Messages API request (egress).
//!
//! The differences from OpenAI that matter: the system prompt is a top-level field;
//! turns alternate user/assistant, so tool results travel in a user turn; tool calls
//! carry their input as a JSON object, not text; `max_tokens` is required; reasoning
//! goes back with Anthropic's signature or not at all. Parameters Anthropic has no
//! equivalent for are refused by name unless the caller allows dropping them.

use serde_json::Value;
use switchyard_types::{
    ChatRequest, ContentBlock, Extra, ImageSource, Message, Reasoning, ResponseFormat, Role,
    ToolChoice,
};

use super::wire::{
    self, Block, InputMessage, KnownBlock, MessageContent, MessagesRequest, Metadata, System,
};
use crate::DecodeError;
use crate::decode::tool_arguments;

/// How a request is fitted to one Anthropic deployment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EncodeOptions {
    /// `max_tokens` when the caller sets none (Anthropic requires one).
    pub default_max_tokens: u32,
    /// Leave out parameters Anthropic cannot honour instead of refusing the request.
    pub drop_unsupported: bool,
}

impl Default for EncodeOptions {
    fn default() -> Self {
        EncodeOptions {
            default_max_tokens: 4096,
            drop_unsupported: false,
        }
    }
}

/// The protocol tag of [`ContentBlock::Opaque`] parts that came from Anthropic.
pub const PROTOCOL: &str = "anthropic";

/// Encodes `request` for the model Anthropic knows as `upstream_model`.
pub fn from_canonical_request(
    request: &ChatRequest,
    upstream_model: &str,
    options: EncodeOptions,
) -> Result<MessagesRequest, DecodeError> {
    crate::decode::chat_only(request, "Anthropic's Messages API")?;
    check_unsupported(request, options)?;
    let mut system: Vec<Block> = Vec::new();
    let mut messages: Vec<InputMessage> = Vec::new();
    for (index, message) in request.messages.iter().enumerate() {
        let at = format!("messages[{index}]");
        match message.role {
            // Anthropic has one system prompt; system turns anywhere join it, in order.
            Role::System | Role::Developer => {
                for (part, block) in message.content.iter().enumerate() {
                    system.push(block_from_canonical(
                        block,
                        &format!("{at}.content[{part}]"),
                    )?);
                }
            }
            Role::User | Role::Tool => push_turn(&mut messages, wire::Role::User, message, &at)?,
            Role::Assistant => push_turn(&mut messages, wire::Role::Assistant, message, &at)?,
        }
    }
    let tools = tools_from_canonical(request);
    let sampling = &request.sampling;
    let mut extra = request.extra.clone();
    // OpenAI-only controls that mean nothing here.
    for key in ["stream_options", "logit_bias", "service_tier_openai"] {
        extra.remove(key);
    }
    let top_k = extra
        .remove("top_k")
        .and_then(|value| value.as_u64())
        .map(|k| k as u32);
    // A `thinking` the caller wrote in Anthropic's own words (`adaptive`) stays as is.
    if let Some(thinking) = request.reasoning.as_ref().and_then(thinking) {
        extra.entry("thinking").or_insert(thinking);
    }
    if let Some(format) = output_format(request) {
        // Structured outputs: `output_config.format`, next to whatever else the caller
        // put in `output_config` (`effort`).
        let config = extra
            .entry("output_config".to_owned())
            .or_insert_with(|| Value::Object(Default::default()));
        if let Value::Object(config) = config {
            config.insert("format".to_owned(), format);
        }
    }
    Ok(MessagesRequest {
        model: upstream_model.to_owned(),
        max_tokens: sampling.max_tokens.unwrap_or(options.default_max_tokens),
        messages,
        system: (!system.is_empty()).then_some(System::Blocks(system)),
        stop_sequences: sampling.stop.as_ref().map(|stop| stop.as_slice().to_vec()),
        temperature: sampling.temperature,
        top_p: sampling.top_p,
        top_k,
        tools,
        tool_choice: tool_choice_from_canonical(request),
        metadata: request.user.as_ref().map(|user| Metadata {
            user_id: Some(user.clone()),
        }),
        stream: request.stream.then_some(true),
        extra,
    })
}

/// The fields `POST /v1/messages/count_tokens` takes; it refuses the others.
const COUNT_FIELDS: [&str; 6] = [
    "model",
    "messages",
    "system",
    "tools",
    "tool_choice",
    "thinking",
];

/// An encoded request as the body of Anthropic's token count: what generation alone
/// takes (`max_tokens`, sampling, `stream`, `metadata`) left out.
pub fn count_tokens_body(request: &MessagesRequest) -> serde_json::Value {
    let mut body = serde_json::to_value(request).unwrap_or_default();
    if let Some(fields) = body.as_object_mut() {
        fields.retain(|key, _| COUNT_FIELDS.contains(&key.as_str()));
    }
    body
}

/// The canonical reasoning setting as Claude's extended thinking: a budget, or off.
fn thinking(reasoning: &Reasoning) -> Option<serde_json::Value> {
    Some(match reasoning.budget_tokens()? {
        0 => serde_json::json!({"type": "disabled"}),
        budget => serde_json::json!({"type": "enabled", "budget_tokens": budget}),
    })
}

/// Refuses what Anthropic's Messages API cannot do, naming the parameter.
fn check_unsupported(request: &ChatRequest, options: EncodeOptions) -> Result<(), DecodeError> {
    if options.drop_unsupported {
        return Ok(());
    }
    let sampling = &request.sampling;
    let refused = [
        ("n", sampling.n.is_some_and(|n| n > 1)),
        ("seed", sampling.seed.is_some()),
        (
            "presence_penalty",
            sampling.presence_penalty.is_some_and(|p| p != 0.0),
        ),
        (
            "frequency_penalty",
            sampling.frequency_penalty.is_some_and(|p| p != 0.0),
        ),
        ("logprobs", sampling.logprobs == Some(true)),
        ("top_logprobs", sampling.top_logprobs.is_some()),
        (
            "response_format",
            matches!(request.response_format, Some(ResponseFormat::JsonObject)),
        ),
        ("logit_bias", request.extra.contains_key("logit_bias")),
        // An effort level with no budget in the shared table.
        (
            "reasoning_effort",
            request
                .reasoning
                .as_ref()
                .is_some_and(|reasoning| reasoning.budget_tokens().is_none()),
        ),
    ];
    match refused.iter().find(|(_, used)| *used) {
        Some((param, _)) => Err(DecodeError::at(
            *param,
            "Anthropic's Messages API has no equivalent; remove it, or allow dropping \
             unsupported parameters (`drop_unsupported_params`)",
        )),
        None => Ok(()),
    }
}

/// A JSON-schema response format as Anthropic's structured-output format. JSON mode
/// without a schema has no equivalent and is refused in [`check_unsupported`].
fn output_format(request: &ChatRequest) -> Option<Value> {
    match &request.response_format {
        Some(ResponseFormat::JsonSchema { schema, .. }) => Some(serde_json::json!({
            "type": "json_schema",
            "schema": schema.clone().unwrap_or_else(|| serde_json::json!({"type": "object"})),
        })),
        _ => None,
    }
}

/// Appends a message's blocks as a turn of `role`, joining it to the previous turn when
/// that has the same role (several OpenAI tool messages become one user turn).
fn push_turn(
    messages: &mut Vec<InputMessage>,
    role: wire::Role,
    message: &Message,
    at: &str,
) -> Result<(), DecodeError> {
    let mut blocks = Vec::with_capacity(message.content.len());
    for (part, block) in message.content.iter().enumerate() {
        // Reasoning from another vendor, or without a signature, cannot be replayed.
        if let ContentBlock::Reasoning {
            signature: None, ..
        } = block
        {
            continue;
        }
        blocks.push(block_from_canonical(
            block,
            &format!("{at}.content[{part}]"),
        )?);
    }
    if blocks.is_empty() {
        return Ok(());
    }
    match messages.last_mut() {
        Some(InputMessage {
            role: last,
            content: MessageContent::Blocks(previous),
        }) if *last == role => previous.extend(blocks),
        _ => messages.push(InputMessage {
            role,
            content: MessageContent::Blocks(blocks),
        }),
    }
    Ok(())
}

fn block_from_canonical(block: &ContentBlock, at: &str) -> Result<Block, DecodeError> {
    let known = match block {
        ContentBlock::Text { text, extra } => KnownBlock::Text {
            text: text.clone(),
            extra: extra.clone(),
        },
        ContentBlock::Image { source, extra, .. } => KnownBlock::Image {
            source: match source {
                ImageSource::Url { url } => wire::ImageSource::Url { url: url.clone() },
                ImageSource::Base64 { media_type, data } => wire::ImageSource::Base64 {
                    media_type: media_type.clone(),
                    data: data.clone(),
                },
            },
            extra: extra.clone(),
        },
        ContentBlock::ToolCall {
            id,
            name,
            arguments,
        } => KnownBlock::ToolUse {
            id: id.clone(),
            name: name.clone(),
            input: tool_arguments(arguments, at, "Anthropic")?,
            extra: Extra::new(),
        },
        ContentBlock::ToolResult {
            tool_call_id,
            content,
            is_error,
        } => KnownBlock::ToolResult {
            tool_use_id: tool_call_id.clone(),
            content: Some(MessageContent::Blocks(
                content
                    .iter()
                    .enumerate()
                    .map(|(part, block)| {
                        block_from_canonical(block, &format!("{at}.content[{part}]"))
                    })
                    .collect::<Result<_, _>>()?,
            )),
            is_error: is_error.then_some(true),
            extra: Extra::new(),
        },
        ContentBlock::Reasoning { text, signature } => KnownBlock::Thinking {
            thinking: text.clone(),
            signature: signature.clone().unwrap_or_default(),
        },
        ContentBlock::Opaque { protocol, value } if protocol == PROTOCOL => {
            return Ok(Block::Other(value.clone()));
        }
        ContentBlock::Opaque { protocol, value } => {
            let kind = value
                .get("type")
                .and_then(Value::as_str)
                .unwrap_or("unknown");
            return Err(DecodeError::at(
                at,
                format!("a `{kind}` part from the {protocol} protocol cannot be sent to Anthropic"),
            ));
        }
    };
    Ok(Block::Known(known))
}

/// Tools as Anthropic defines them; with `allowed_tools`, only the allowed ones
/// (Anthropic has no way to offer a tool that may not be called).
fn tools_from_canonical(request: &ChatRequest) -> Option<Vec<Value>> {
    if request.tools.is_empty() {
        return None;
    }
    let allowed = match &request.tool_choice {
        Some(ToolChoice::Allowed { names, .. }) => Some(names),
        _ => None,
    };
    let tools = request
        .tools
        .iter()
        .filter(|tool| allowed.is_none_or(|names| names.contains(&tool.name)))
        .map(|tool| {
            let mut definition = serde_json::Map::new();
            definition.insert("name".into(), Value::String(tool.name.clone()));
            if let Some(description) = &tool.description {
                definition.insert("description".into(), Value::String(description.clone()));
            }
            definition.insert(
                "input_schema".into(),
                tool.parameters
                    .clone()
                    .unwrap_or_else(|| serde_json::json!({"type": "object", "properties": {}})),
            );
            // `cache_control` and other Anthropic tool fields given by the caller.
            for (key, value) in &tool.extra {
                if key != "type" && key != "function" {
                    definition.insert(key.clone(), value.clone());
                }
            }
            Value::Object(definition)
        })
        .collect();
    Some(tools)
}

fn tool_choice_from_canonical(request: &ChatRequest) -> Option<wire::ToolChoice> {
    let serial = (request.parallel_tool_calls == Some(false)).then_some(true);
    let choice = match &request.tool_choice {
        None if serial.is_some() && !request.tools.is_empty() => wire::ToolChoice::Auto {
            disable_parallel_tool_use: serial,
        },
        None => return None,
        Some(ToolChoice::Auto) => wire::ToolChoice::Auto {
            disable_parallel_tool_use: serial,
        },
        Some(ToolChoice::None) => wire::ToolChoice::None,
        Some(ToolChoice::Required) => wire::ToolChoice::Any {
            disable_parallel_tool_use: serial,
        },
        Some(ToolChoice::Function { name }) => wire::ToolChoice::Tool {
            name: name.clone(),
            disable_parallel_tool_use: serial,
        },
        Some(ToolChoice::Allowed { required, .. }) => {
            if *required {
                wire::ToolChoice::Any {
                    disable_parallel_tool_use: serial,
                }
            } else {
                wire::ToolChoice::Auto {
                    disable_parallel_tool_use: serial,
                }
            }
        }
    };
    Some(choice)
}
