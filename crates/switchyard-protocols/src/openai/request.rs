//! Chat Completions request ⇄ canonical [`ChatRequest`].

use base64::Engine as _;
use switchyard_types::{
    ChatRequest, ContentBlock, Extra, ImageDetail, ImageSource, MaxTokensField, Message, Reasoning,
    ResponseFormat, Role, Sampling, Tool, ToolChoice,
};

use super::wire::{
    self, ChatCompletionRequest, ChatMessage, ContentPart, MessageContent, StreamOptions,
    ToolDefinition,
};
use crate::decode::from_json;
use crate::{DecodeError, bounds};

/// The protocol name recorded in [`ContentBlock::Opaque`] parts from this module.
pub const PROTOCOL: &str = "openai";

/// Parses a request body and converts it to the canonical model.
pub fn decode_chat_request(body: &[u8]) -> Result<ChatRequest, DecodeError> {
    to_canonical_request(from_json::<ChatCompletionRequest>(body)?)
}

pub fn to_canonical_request(wire: ChatCompletionRequest) -> Result<ChatRequest, DecodeError> {
    if wire.model.is_empty() {
        return Err(DecodeError::at("model", "must not be empty"));
    }
    if wire.messages.is_empty() {
        return Err(DecodeError::at(
            "messages",
            "must contain at least one message",
        ));
    }
    let messages = wire
        .messages
        .into_iter()
        .enumerate()
        .map(|(index, message)| message_to_canonical(message, index))
        .collect::<Result<Vec<_>, _>>()?;
    let tools = wire
        .tools
        .unwrap_or_default()
        .into_iter()
        .enumerate()
        .map(|(index, tool)| tool_to_canonical(tool, index))
        .collect::<Result<Vec<_>, _>>()?;
    let tool_choice = wire.tool_choice.map(tool_choice_to_canonical).transpose()?;
    let response_format = wire.response_format.map(|format| match format {
        wire::ResponseFormat::Text => ResponseFormat::Text,
        wire::ResponseFormat::JsonObject => ResponseFormat::JsonObject,
        wire::ResponseFormat::JsonSchema { json_schema } => ResponseFormat::JsonSchema {
            name: json_schema.name,
            description: json_schema.description,
            schema: json_schema.schema,
            strict: json_schema.strict,
        },
    });
    let (max_tokens, max_tokens_field) = match (wire.max_completion_tokens, wire.max_tokens) {
        (Some(limit), _) => (Some(limit), MaxTokensField::MaxCompletionTokens),
        (None, limit) => (limit, MaxTokensField::MaxTokens),
    };
    check_range("temperature", wire.temperature, 0.0, 2.0)?;
    check_range("top_p", wire.top_p, 0.0, 1.0)?;
    check_range("presence_penalty", wire.presence_penalty, -2.0, 2.0)?;
    check_range("frequency_penalty", wire.frequency_penalty, -2.0, 2.0)?;
    let stream = wire.stream.unwrap_or(false);
    let mut extra = wire.extra;
    let stream_include_usage = take_stream_options(wire.stream_options, &mut extra);
    let reasoning = match extra.remove("reasoning_effort") {
        None | Some(serde_json::Value::Null) => None,
        Some(serde_json::Value::String(effort)) => Some(Reasoning::effort(&effort)),
        Some(_) => return Err(DecodeError::at("reasoning_effort", "must be a string")),
    };
    let request = ChatRequest {
        model: wire.model,
        messages,
        tools,
        tool_choice,
        parallel_tool_calls: wire.parallel_tool_calls,
        response_format,
        sampling: Sampling {
            temperature: wire.temperature,
            top_p: wire.top_p,
            max_tokens,
            max_tokens_field,
            stop: wire.stop,
            seed: wire.seed,
            n: wire.n,
            presence_penalty: wire.presence_penalty,
            frequency_penalty: wire.frequency_penalty,
            logprobs: wire.logprobs,
            top_logprobs: wire.top_logprobs,
        },
        stream,
        stream_include_usage,
        user: wire.user,
        metadata: wire.metadata,
        reasoning,
        completion: None,
        extra,
    };
    let names = match max_tokens_field {
        MaxTokensField::MaxCompletionTokens => bounds::FieldNames {
            max_tokens: "max_completion_tokens",
            ..bounds::CHAT_COMPLETIONS
        },
        MaxTokensField::MaxTokens => bounds::CHAT_COMPLETIONS,
    };
    bounds::check(&request, &names)?;
    Ok(request)
}

/// Whether the caller asked for usage in its stream; the options Switchyard does not
/// model (e.g. `include_obfuscation`) are kept in `extra` for a same-protocol hop.
pub(crate) fn take_stream_options(options: Option<StreamOptions>, extra: &mut Extra) -> bool {
    let Some(StreamOptions {
        include_usage,
        extra: options_extra,
    }) = options
    else {
        return false;
    };
    if !options_extra.is_empty() {
        extra.insert(
            "stream_options".to_owned(),
            serde_json::Value::Object(options_extra),
        );
    }
    include_usage
}

/// The `stream_options` to send upstream, taking the kept ones out of `extra`. Usage is
/// always asked for: Switchyard meters every streamed token, whether or not the caller
/// wants to see the count.
pub(crate) fn upstream_stream_options(stream: bool, extra: &mut Extra) -> Option<StreamOptions> {
    let kept = extra.remove("stream_options");
    stream.then(|| StreamOptions {
        include_usage: true,
        extra: match kept {
            Some(serde_json::Value::Object(map)) => map,
            _ => Extra::new(),
        },
    })
}

pub(crate) fn check_range(
    field: &str,
    value: Option<f64>,
    min: f64,
    max: f64,
) -> Result<(), DecodeError> {
    match value {
        Some(value) if !(min..=max).contains(&value) => Err(DecodeError::at(
            field,
            format!("must be between {min} and {max}, got {value}"),
        )),
        _ => Ok(()),
    }
}

fn message_to_canonical(message: ChatMessage, index: usize) -> Result<Message, DecodeError> {
    let at = |field: &str| format!("messages[{index}].{field}");
    let role = match message.role.as_str() {
        "system" => Role::System,
        "developer" => Role::Developer,
        "user" => Role::User,
        "assistant" => Role::Assistant,
        "tool" => Role::Tool,
        other => {
            return Err(DecodeError::at(
                at("role"),
                format!(
                    "unknown role `{other}`; expected one of `system`, `developer`, `user`, `assistant`, `tool`"
                ),
            ));
        }
    };
    let content_is_text = matches!(message.content, Some(MessageContent::Text(_)));
    let mut content = match message.content {
        None => Vec::new(),
        Some(MessageContent::Text(text)) => vec![ContentBlock::text(text)],
        Some(MessageContent::Parts(parts)) => parts
            .into_iter()
            .enumerate()
            .map(|(part_index, part)| {
                part_to_canonical(part, &at(&format!("content[{part_index}]")))
            })
            .collect::<Result<Vec<_>, _>>()?,
    };
    let mut extra = message.extra;
    if let Some(refusal) = message.refusal {
        extra.insert("refusal".to_owned(), serde_json::Value::String(refusal));
    }
    match role {
        Role::Assistant => {
            if let Some(reasoning) = message.reasoning_content {
                content.insert(
                    0,
                    ContentBlock::Reasoning {
                        text: reasoning,
                        signature: None,
                    },
                );
            }
            for call in message.tool_calls.unwrap_or_default() {
                content.push(ContentBlock::ToolCall {
                    id: call.id,
                    name: call.function.name,
                    arguments: call.function.arguments,
                });
            }
        }
        Role::Tool => {
            let Some(tool_call_id) = message.tool_call_id else {
                return Err(DecodeError::at(
                    at("tool_call_id"),
                    "is required for `tool` messages",
                ));
            };
            content = vec![ContentBlock::ToolResult {
                tool_call_id,
                content,
                is_error: false,
            }];
        }
        _ => {
            if message.tool_calls.is_some() {
                return Err(DecodeError::at(
                    at("tool_calls"),
                    "is only allowed on `assistant` messages",
                ));
            }
        }
    }
    if role != Role::Assistant && content.is_empty() {
        return Err(DecodeError::at(
            at("content"),
            format!("is required for `{}` messages", role.as_str()),
        ));
    }
    Ok(Message {
        role,
        content,
        name: message.name,
        content_is_text,
        extra,
    })
}

fn part_to_canonical(part: ContentPart, at: &str) -> Result<ContentBlock, DecodeError> {
    match part.kind.as_str() {
        "text" => {
            let Some(text) = part.text else {
                return Err(DecodeError::at(
                    format!("{at}.text"),
                    "is required for `text` parts",
                ));
            };
            Ok(ContentBlock::Text {
                text,
                extra: part.extra,
            })
        }
        "image_url" => {
            let Some(image_url) = part.image_url else {
                return Err(DecodeError::at(
                    format!("{at}.image_url"),
                    "is required for `image_url` parts",
                ));
            };
            let source = image_source_from_url(&image_url.url)
                .map_err(|message| DecodeError::at(format!("{at}.image_url.url"), message))?;
            let detail = match image_url.detail.as_deref() {
                None => None,
                Some("auto") => Some(ImageDetail::Auto),
                Some("low") => Some(ImageDetail::Low),
                Some("high") => Some(ImageDetail::High),
                Some(other) => {
                    return Err(DecodeError::at(
                        format!("{at}.image_url.detail"),
                        format!("unknown detail `{other}`; expected `auto`, `low` or `high`"),
                    ));
                }
            };
            Ok(ContentBlock::Image {
                source,
                detail,
                extra: part.extra,
            })
        }
        _ => {
            let value = serde_json::to_value(&part)
                .map_err(|error| DecodeError::at(at, format!("cannot keep part: {error}")))?;
            Ok(ContentBlock::Opaque {
                protocol: PROTOCOL.to_owned(),
                value,
            })
        }
    }
}

/// Splits a `data:` URL into media type and base64 payload; other URLs are kept as-is.
pub(crate) fn image_source_from_url(url: &str) -> Result<ImageSource, String> {
    let Some(rest) = url.strip_prefix("data:") else {
        if url.starts_with("http://") || url.starts_with("https://") {
            return Ok(ImageSource::Url {
                url: url.to_owned(),
            });
        }
        return Err("must be an http(s) URL or a base64 `data:` URL".to_owned());
    };
    let Some((header, data)) = rest.split_once(',') else {
        return Err("a `data:` URL needs a `,` before its payload".to_owned());
    };
    let Some(media_type) = header.strip_suffix(";base64") else {
        return Err("only base64 `data:` URLs are supported".to_owned());
    };
    if base64::engine::general_purpose::STANDARD
        .decode(data.as_bytes())
        .is_err()
    {
        return Err("the `data:` URL payload is not valid base64".to_owned());
    }
    Ok(ImageSource::Base64 {
        media_type: media_type.to_owned(),
        data: data.to_owned(),
    })
}

fn tool_to_canonical(tool: ToolDefinition, index: usize) -> Result<Tool, DecodeError> {
    if tool.kind != "function" {
        return Err(DecodeError::at(
            format!("tools[{index}].type"),
            format!("unsupported tool type `{}`; expected `function`", tool.kind),
        ));
    }
    let Some(function) = tool.function else {
        return Err(DecodeError::at(
            format!("tools[{index}].function"),
            "is required for `function` tools",
        ));
    };
    let mut extra = tool.extra;
    if !function.extra.is_empty() {
        extra.insert(
            "function".to_owned(),
            serde_json::Value::Object(function.extra),
        );
    }
    Ok(Tool {
        name: function.name,
        description: function.description,
        parameters: function.parameters,
        strict: function.strict,
        extra,
    })
}

fn tool_choice_to_canonical(choice: wire::ToolChoice) -> Result<ToolChoice, DecodeError> {
    let object = match choice {
        wire::ToolChoice::Mode(mode) => {
            return match mode.as_str() {
                "auto" => Ok(ToolChoice::Auto),
                "none" => Ok(ToolChoice::None),
                "required" => Ok(ToolChoice::Required),
                other => Err(DecodeError::at(
                    "tool_choice",
                    format!("unknown mode `{other}`; expected `auto`, `none` or `required`"),
                )),
            };
        }
        wire::ToolChoice::Object(object) => object,
    };
    match object.kind.as_str() {
        "function" => match object.function {
            Some(function) => Ok(ToolChoice::Function {
                name: function.name,
            }),
            None => Err(DecodeError::at(
                "tool_choice.function",
                "is required when `type` is `function`",
            )),
        },
        "allowed_tools" => {
            let Some(allowed) = object.allowed_tools else {
                return Err(DecodeError::at(
                    "tool_choice.allowed_tools",
                    "is required when `type` is `allowed_tools`",
                ));
            };
            let required = match allowed.mode.as_str() {
                "auto" => false,
                "required" => true,
                other => {
                    return Err(DecodeError::at(
                        "tool_choice.allowed_tools.mode",
                        format!("unknown mode `{other}`; expected `auto` or `required`"),
                    ));
                }
            };
            let names = allowed
                .tools
                .into_iter()
                .enumerate()
                .map(|(index, tool)| match tool.function {
                    Some(function) if tool.kind == "function" => Ok(function.name),
                    _ => Err(DecodeError::at(
                        format!("tool_choice.allowed_tools.tools[{index}]"),
                        "must be `{\"type\": \"function\", \"function\": {\"name\": ...}}`",
                    )),
                })
                .collect::<Result<_, _>>()?;
            Ok(ToolChoice::Allowed { names, required })
        }
        other => Err(DecodeError::at(
            "tool_choice.type",
            format!(
                "unsupported tool choice type `{other}`; expected `function` or `allowed_tools`"
            ),
        )),
    }
}

// === Canonical → wire ===

/// Encodes a canonical request for an OpenAI-compatible upstream that knows the model
/// as `upstream_model`. Opaque parts from other protocols cannot be expressed here and
/// are an error naming them.
pub fn from_canonical_request(
    request: &ChatRequest,
    upstream_model: &str,
) -> Result<ChatCompletionRequest, DecodeError> {
    crate::decode::chat_only(request, "Chat Completions")?;
    let messages = request
        .messages
        .iter()
        .enumerate()
        .map(|(index, message)| message_from_canonical(message, index))
        .collect::<Result<Vec<_>, _>>()?
        .into_iter()
        .flatten()
        .collect();
    let tools = (!request.tools.is_empty()).then(|| {
        request
            .tools
            .iter()
            .map(|tool| {
                let mut extra = tool.extra.clone();
                let function_extra = match extra.remove("function") {
                    Some(serde_json::Value::Object(map)) => map,
                    _ => Extra::new(),
                };
                ToolDefinition {
                    kind: "function".to_owned(),
                    function: Some(wire::FunctionDefinition {
                        name: tool.name.clone(),
                        description: tool.description.clone(),
                        parameters: tool.parameters.clone(),
                        strict: tool.strict,
                        extra: function_extra,
                    }),
                    extra,
                }
            })
            .collect()
    });
    let tool_choice = request.tool_choice.as_ref().map(|choice| match choice {
        ToolChoice::Auto => wire::ToolChoice::Mode("auto".to_owned()),
        ToolChoice::None => wire::ToolChoice::Mode("none".to_owned()),
        ToolChoice::Required => wire::ToolChoice::Mode("required".to_owned()),
        ToolChoice::Function { name } => wire::ToolChoice::Object(wire::ToolChoiceObject {
            kind: "function".to_owned(),
            function: Some(wire::FunctionName { name: name.clone() }),
            allowed_tools: None,
            extra: Default::default(),
        }),
        ToolChoice::Allowed { names, required } => {
            wire::ToolChoice::Object(wire::ToolChoiceObject {
                kind: "allowed_tools".to_owned(),
                function: None,
                allowed_tools: Some(wire::AllowedTools {
                    mode: if *required { "required" } else { "auto" }.to_owned(),
                    tools: names
                        .iter()
                        .map(|name| wire::NamedTool {
                            kind: "function".to_owned(),
                            function: Some(wire::FunctionName { name: name.clone() }),
                        })
                        .collect(),
                }),
                extra: Default::default(),
            })
        }
    });
    let response_format = request.response_format.as_ref().map(|format| match format {
        ResponseFormat::Text => wire::ResponseFormat::Text,
        ResponseFormat::JsonObject => wire::ResponseFormat::JsonObject,
        ResponseFormat::JsonSchema {
            name,
            description,
            schema,
            strict,
        } => wire::ResponseFormat::JsonSchema {
            json_schema: wire::JsonSchemaFormat {
                name: name.clone(),
                description: description.clone(),
                schema: schema.clone(),
                strict: *strict,
            },
        },
    });
    let sampling = &request.sampling;
    let (max_tokens, max_completion_tokens) = match sampling.max_tokens_field {
        MaxTokensField::MaxTokens => (sampling.max_tokens, None),
        MaxTokensField::MaxCompletionTokens => (None, sampling.max_tokens),
    };
    let mut extra = request.extra.clone();
    let stream_options = upstream_stream_options(request.stream, &mut extra);
    // Kept among the unnamed fields, where each host's rules look for it.
    if let Some(effort) = request.reasoning.as_ref().and_then(Reasoning::effort_level) {
        extra
            .entry("reasoning_effort")
            .or_insert(serde_json::Value::String(effort));
    }
    Ok(ChatCompletionRequest {
        model: upstream_model.to_owned(),
        messages,
        tools,
        tool_choice,
        parallel_tool_calls: request.parallel_tool_calls,
        response_format,
        temperature: sampling.temperature,
        top_p: sampling.top_p,
        max_tokens,
        max_completion_tokens,
        stop: sampling.stop.clone(),
        seed: sampling.seed,
        n: sampling.n,
        presence_penalty: sampling.presence_penalty,
        frequency_penalty: sampling.frequency_penalty,
        logprobs: sampling.logprobs,
        top_logprobs: sampling.top_logprobs,
        user: request.user.clone(),
        metadata: request.metadata.clone(),
        stream: request.stream.then_some(true),
        stream_options,
        extra,
    })
}

/// One canonical message becomes one wire message, except a tool message carrying
/// several results (as Anthropic sends them), which becomes one wire message each.
fn message_from_canonical(
    message: &Message,
    index: usize,
) -> Result<Vec<ChatMessage>, DecodeError> {
    let at = |part: usize| format!("messages[{index}].content[{part}]");
    let mut extra = message.extra.clone();
    let refusal = match extra.remove("refusal") {
        Some(serde_json::Value::String(refusal)) => Some(refusal),
        _ => None,
    };
    if message.role == Role::Tool
        || message
            .content
            .iter()
            .all(|block| matches!(block, ContentBlock::ToolResult { .. }))
            && !message.content.is_empty()
    {
        let mut results = Vec::new();
        for (part, block) in message.content.iter().enumerate() {
            let ContentBlock::ToolResult {
                tool_call_id,
                content,
                ..
            } = block
            else {
                return Err(DecodeError::at(
                    at(part),
                    "a `tool` message may only carry tool results",
                ));
            };
            results.push(ChatMessage {
                role: "tool".to_owned(),
                content: Some(parts_from_canonical(
                    content,
                    message.content_is_text,
                    &at(part),
                )?),
                tool_call_id: Some(tool_call_id.clone()),
                name: message.name.clone(),
                extra: extra.clone(),
                ..ChatMessage::default()
            });
        }
        return Ok(results);
    }

    let mut reasoning = None::<String>;
    let mut tool_calls = Vec::new();
    let mut content_blocks = Vec::new();
    for block in &message.content {
        match block {
            ContentBlock::Reasoning { text, .. } => {
                reasoning.get_or_insert_with(String::new).push_str(text)
            }
            ContentBlock::ToolCall {
                id,
                name,
                arguments,
            } => tool_calls.push(wire::ToolCall {
                id: id.clone(),
                kind: "function".to_owned(),
                function: wire::FunctionCall {
                    name: name.clone(),
                    arguments: arguments.clone(),
                },
            }),
            other => content_blocks.push(other.clone()),
        }
    }
    let content = if content_blocks.is_empty() && message.role == Role::Assistant {
        None
    } else {
        Some(parts_from_canonical(
            &content_blocks,
            message.content_is_text,
            &format!("messages[{index}].content"),
        )?)
    };
    Ok(vec![ChatMessage {
        role: message.role.as_str().to_owned(),
        content,
        name: message.name.clone(),
        tool_calls: (!tool_calls.is_empty()).then_some(tool_calls),
        tool_call_id: None,
        refusal,
        reasoning_content: reasoning,
        extra,
    }])
}

/// Content as a plain string when it is one extra-free text block and the caller sent a
/// string (or `prefer_text`), else as a list of parts.
fn parts_from_canonical(
    blocks: &[ContentBlock],
    prefer_text: bool,
    at: &str,
) -> Result<MessageContent, DecodeError> {
    if prefer_text
        && blocks
            .iter()
            .all(|block| matches!(block, ContentBlock::Text { extra, .. } if extra.is_empty()))
    {
        let text: String = blocks
            .iter()
            .filter_map(|block| match block {
                ContentBlock::Text { text, .. } => Some(text.as_str()),
                _ => None,
            })
            .collect();
        return Ok(MessageContent::Text(text));
    }
    blocks
        .iter()
        .enumerate()
        .map(|(index, block)| part_from_canonical(block, &format!("{at}[{index}]")))
        .collect::<Result<Vec<_>, _>>()
        .map(MessageContent::Parts)
}

fn part_from_canonical(block: &ContentBlock, at: &str) -> Result<ContentPart, DecodeError> {
    match block {
        ContentBlock::Text { text, extra } => Ok(ContentPart {
            kind: "text".to_owned(),
            text: Some(text.clone()),
            extra: extra.clone(),
            ..ContentPart::default()
        }),
        ContentBlock::Image {
            source,
            detail,
            extra,
        } => Ok(ContentPart {
            kind: "image_url".to_owned(),
            image_url: Some(wire::ImageUrl {
                url: match source {
                    ImageSource::Url { url } => url.clone(),
                    ImageSource::Base64 { media_type, data } => {
                        format!("data:{media_type};base64,{data}")
                    }
                },
                detail: detail.map(|detail| {
                    match detail {
                        ImageDetail::Auto => "auto",
                        ImageDetail::Low => "low",
                        ImageDetail::High => "high",
                    }
                    .to_owned()
                }),
            }),
            extra: extra.clone(),
            ..ContentPart::default()
        }),
        ContentBlock::Opaque { protocol, value } if protocol == PROTOCOL => {
            serde_json::from_value(value.clone())
                .map_err(|error| DecodeError::at(at, format!("cannot restore part: {error}")))
        }
        ContentBlock::Opaque { protocol, value } => Err(DecodeError::at(
            at,
            format!(
                "a `{}` part from the {protocol} protocol cannot be sent to an OpenAI-compatible upstream",
                value
                    .get("type")
                    .and_then(|kind| kind.as_str())
                    .unwrap_or("unknown")
            ),
        )),
        ContentBlock::ToolCall { .. }
        | ContentBlock::ToolResult { .. }
        | ContentBlock::Reasoning { .. } => Err(DecodeError::at(
            at,
            "tool calls, tool results and reasoning cannot appear inside message content",
        )),
    }
}

#[cfg(test)]
#[path = "request_tests.rs"]
mod tests;
