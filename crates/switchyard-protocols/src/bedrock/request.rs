//! Canonical request → Converse request (egress).
//!
//! The differences from OpenAI that matter: the system prompt is a list of blocks
//! beside the turns; turns alternate `user`/`assistant`, so tool results travel in a
//! user turn and consecutive turns of one role are joined; tool arguments are JSON
//! objects, not text; images are base64 bytes with a `format`, never URLs; reasoning
//! goes back only with its signature; sampling lives in `inferenceConfig`, and what
//! Converse does not name (`top_k`, Claude's `thinking`) in the model-native
//! `additionalModelRequestFields`. Parameters Converse has no equivalent for are
//! refused by name unless the caller allows dropping them.

use serde_json::{Map, Value};
use switchyard_types::{
    ChatRequest, ContentBlock, ImageSource, Message, Reasoning, ResponseFormat, Role, ToolChoice,
};

use super::wire::{
    self, CachePointBlock, ConverseRequest, ImageBlock, InferenceConfig, JsonSchemaDefinition,
    KnownBlock, KnownTool, KnownToolResultContent, OutputConfig, OutputFormat,
    OutputFormatStructure, ReasoningContentBlock, ReasoningText, ToolConfig, ToolInputSchema,
    ToolResultBlock, ToolResultContent, ToolSpec, ToolUseBlock,
};
use crate::DecodeError;
use crate::decode::tool_arguments;

/// The protocol tag of [`ContentBlock::Opaque`] parts that came from Bedrock.
pub const PROTOCOL: &str = "bedrock";

/// How a request is fitted to one Bedrock deployment.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct EncodeOptions {
    /// Leave out parameters Converse cannot honour instead of refusing the request.
    pub drop_unsupported: bool,
}

/// OpenAI request fields with no Converse equivalent, refused by name.
const OPENAI_ONLY: [&str; 8] = [
    "logit_bias",
    "store",
    "service_tier",
    "prediction",
    "modalities",
    "audio",
    "web_search_options",
    "verbosity",
];

/// Geography prefixes of cross-region inference profile ids (`eu.anthropic.…`).
const GEO_PREFIXES: [&str; 7] = ["us.", "eu.", "apac.", "global.", "us-gov.", "jp.", "au."];

/// The model family of a model or inference-profile id (`anthropic.claude-…` for
/// `global.anthropic.claude-…`); an ARN does not reveal it.
pub fn model_family(model_id: &str) -> &str {
    GEO_PREFIXES
        .iter()
        .find_map(|prefix| model_id.strip_prefix(prefix))
        .unwrap_or(model_id)
}

fn is_claude(model_id: &str) -> bool {
    model_family(model_id).starts_with("anthropic.")
}

/// Encodes `request` for the model, inference profile or ARN `upstream_model`.
pub fn from_canonical_request(
    request: &ChatRequest,
    upstream_model: &str,
    options: EncodeOptions,
) -> Result<ConverseRequest, DecodeError> {
    crate::decode::chat_only(request, "Bedrock's Converse API")?;
    check_unsupported(request, upstream_model, options)?;
    let mut system = Vec::new();
    let mut messages: Vec<wire::Message> = Vec::new();
    for (index, message) in request.messages.iter().enumerate() {
        let at = format!("messages[{index}]");
        match message.role {
            // Converse has one system prompt; system turns anywhere join it, in order.
            Role::System | Role::Developer => {
                for (part, block) in message.content.iter().enumerate() {
                    let at = format!("{at}.content[{part}]");
                    match block {
                        ContentBlock::Text { .. } => push_block(block, &at, &mut system)?,
                        _ => {
                            return Err(DecodeError::at(
                                at,
                                "Bedrock's system prompt takes text only",
                            ));
                        }
                    }
                }
            }
            Role::User | Role::Tool => push_turn(&mut messages, wire::Role::User, message, &at)?,
            Role::Assistant => push_turn(&mut messages, wire::Role::Assistant, message, &at)?,
        }
    }
    let mut extra = request.extra.clone();
    // Controls handled here, or meaningless to Converse.
    for key in ["stream_options", "drop_unsupported_params"] {
        extra.remove(key);
    }
    for key in OPENAI_ONLY {
        extra.remove(key);
    }
    let mut model_fields = match extra.remove("additionalModelRequestFields") {
        Some(Value::Object(fields)) => fields,
        _ => Map::new(),
    };
    if let Some(top_k) = extra.remove("top_k") {
        model_fields.insert("top_k".into(), top_k);
    }
    if let Some(thinking) = request
        .reasoning
        .as_ref()
        .and_then(claude_thinking)
        .filter(|_| is_claude(upstream_model))
    {
        model_fields.insert("thinking".into(), thinking);
    }
    if let Some(metadata) = request_metadata(request)
        && !extra.contains_key("requestMetadata")
    {
        extra.insert("requestMetadata".into(), Value::Object(metadata));
    }
    Ok(ConverseRequest {
        messages,
        system,
        inference_config: inference_config(request),
        tool_config: tool_config(request, options)?,
        additional_model_request_fields: (!model_fields.is_empty()).then_some(model_fields),
        output_config: output_config(request, &mut extra),
        extra,
    })
}

/// Refuses what Converse cannot do, naming the parameter.
fn check_unsupported(
    request: &ChatRequest,
    upstream_model: &str,
    options: EncodeOptions,
) -> Result<(), DecodeError> {
    if options.drop_unsupported {
        return Ok(());
    }
    let sampling = &request.sampling;
    let effort_without_thinking = request
        .reasoning
        .as_ref()
        .and_then(claude_thinking)
        .is_some()
        && !is_claude(upstream_model);
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
        // JSON mode without a schema; structured output needs one.
        (
            "response_format",
            matches!(request.response_format, Some(ResponseFormat::JsonObject)),
        ),
        // Converse cannot be told to make one call at a time.
        (
            "parallel_tool_calls",
            request.parallel_tool_calls == Some(false),
        ),
        // Only Claude's `thinking` is mapped; other families name it their own way.
        ("reasoning_effort", effort_without_thinking),
    ];
    let refused = refused
        .iter()
        .find(|(_, used)| *used)
        .map(|(param, _)| *param)
        .or_else(|| {
            OPENAI_ONLY
                .into_iter()
                .find(|key| request.extra.contains_key(*key))
        });
    match refused {
        Some(param) => Err(DecodeError::at(
            param,
            "Bedrock's Converse API has no equivalent; remove it, or allow dropping \
             unsupported parameters (`drop_unsupported_params`)",
        )),
        None => Ok(()),
    }
}

/// The canonical reasoning setting as Claude's extended thinking; thinking off (or an
/// effort level with no budget) leaves it out.
fn claude_thinking(reasoning: &Reasoning) -> Option<Value> {
    let budget = reasoning.budget_tokens().filter(|budget| *budget > 0)?;
    Some(serde_json::json!({"type": "enabled", "budget_tokens": budget}))
}

/// OpenAI's `metadata` (string values, as OpenAI requires) as `requestMetadata`, which
/// Bedrock records in its invocation logs.
fn request_metadata(request: &ChatRequest) -> Option<Map<String, Value>> {
    let metadata: Map<String, Value> = request
        .metadata
        .as_ref()?
        .iter()
        .filter(|(_, value)| value.is_string())
        .map(|(key, value)| (key.clone(), value.clone()))
        .collect();
    (!metadata.is_empty()).then_some(metadata)
}

/// Appends a message's blocks as a turn of `role`, joining it to the previous turn when
/// that has the same role (several OpenAI tool messages become one user turn, as
/// Converse requires of parallel calls' results).
fn push_turn(
    messages: &mut Vec<wire::Message>,
    role: wire::Role,
    message: &Message,
    at: &str,
) -> Result<(), DecodeError> {
    let mut blocks = Vec::with_capacity(message.content.len());
    for (part, block) in message.content.iter().enumerate() {
        push_block(block, &format!("{at}.content[{part}]"), &mut blocks)?;
    }
    if blocks.is_empty() {
        return Ok(());
    }
    match messages.last_mut() {
        Some(last) if last.role == role => last.content.extend(blocks),
        _ => messages.push(wire::Message {
            role,
            content: blocks,
        }),
    }
    Ok(())
}

/// Appends one canonical block's Converse blocks: none for blank text or unsigned
/// reasoning, two for a block marked for caching (the block, then a `cachePoint`).
fn push_block(
    block: &ContentBlock,
    at: &str,
    out: &mut Vec<wire::ContentBlock>,
) -> Result<(), DecodeError> {
    let known = match block {
        // Converse refuses blank text blocks.
        ContentBlock::Text { text, .. } if text.is_empty() => return Ok(()),
        ContentBlock::Text { text, extra } => {
            out.push(wire::ContentBlock::Known(KnownBlock::Text(text.clone())));
            if let Some(cache_point) = cache_point(extra) {
                out.push(wire::ContentBlock::Known(KnownBlock::CachePoint(
                    cache_point,
                )));
            }
            return Ok(());
        }
        ContentBlock::Image { source, .. } => KnownBlock::Image(image_block(source, at)?),
        ContentBlock::ToolCall {
            id,
            name,
            arguments,
        } => KnownBlock::ToolUse(ToolUseBlock {
            tool_use_id: id.clone(),
            name: name.clone(),
            input: tool_arguments(arguments, at, "Bedrock")?,
            extra: Default::default(),
        }),
        ContentBlock::ToolResult {
            tool_call_id,
            content,
            is_error,
        } => KnownBlock::ToolResult(ToolResultBlock {
            tool_use_id: tool_call_id.clone(),
            content: content
                .iter()
                .enumerate()
                .map(|(part, block)| tool_result_part(block, &format!("{at}.content[{part}]")))
                .collect::<Result<_, _>>()?,
            // Sent only on failure: `status` is refused by models other than Nova and
            // Claude, and success is the default.
            status: is_error.then(|| "error".to_owned()),
        }),
        // Reasoning from another vendor, or without a signature, cannot be replayed.
        ContentBlock::Reasoning {
            signature: None, ..
        } => return Ok(()),
        ContentBlock::Reasoning {
            text,
            signature: Some(signature),
        } => KnownBlock::ReasoningContent(ReasoningContentBlock::ReasoningText(ReasoningText {
            text: text.clone(),
            signature: Some(signature.clone()),
        })),
        ContentBlock::Opaque { protocol, value } if protocol == PROTOCOL => {
            out.push(wire::ContentBlock::Other(value.clone()));
            return Ok(());
        }
        ContentBlock::Opaque { protocol, .. } => {
            return Err(DecodeError::at(
                at,
                format!("a `{protocol}` content part cannot be sent to Bedrock"),
            ));
        }
    };
    out.push(wire::ContentBlock::Known(known));
    Ok(())
}

/// A `cachePoint` for a part marked with Anthropic-style `cache_control`.
fn cache_point(extra: &switchyard_types::Extra) -> Option<CachePointBlock> {
    let control = extra.get("cache_control")?;
    Some(CachePointBlock {
        kind: "default".to_owned(),
        ttl: control
            .get("ttl")
            .and_then(Value::as_str)
            .map(str::to_owned),
    })
}

fn tool_result_part(block: &ContentBlock, at: &str) -> Result<ToolResultContent, DecodeError> {
    Ok(match block {
        ContentBlock::Text { text, .. } => {
            ToolResultContent::Known(KnownToolResultContent::Text(text.clone()))
        }
        ContentBlock::Image { source, .. } => {
            ToolResultContent::Known(KnownToolResultContent::Image(image_block(source, at)?))
        }
        ContentBlock::Opaque { protocol, value } if protocol == PROTOCOL => {
            ToolResultContent::Other(value.clone())
        }
        _ => {
            return Err(DecodeError::at(
                at,
                "Bedrock tool results take text, images and documents only",
            ));
        }
    })
}

/// An image as Converse takes it: base64 bytes with a `format`, or an `s3://` location.
/// Converse fetches no web URLs.
fn image_block(source: &ImageSource, at: &str) -> Result<ImageBlock, DecodeError> {
    match source {
        ImageSource::Base64 { media_type, data } => {
            let format = image_format(media_type.strip_prefix("image/").unwrap_or(media_type))
                .ok_or_else(|| {
                    DecodeError::at(
                        at,
                        format!("Bedrock takes png, jpeg, gif and webp images, not `{media_type}`"),
                    )
                })?;
            Ok(ImageBlock {
                format: format.to_owned(),
                source: wire::ImageSource {
                    bytes: Some(data.clone()),
                    s3_location: None,
                },
            })
        }
        ImageSource::Url { url } if url.starts_with("s3://") => {
            let extension = url.rsplit('.').next().unwrap_or_default();
            let format = image_format(&extension.to_ascii_lowercase()).ok_or_else(|| {
                DecodeError::at(
                    at,
                    "an S3 image needs a .png, .jpeg, .gif or .webp name to tell its format",
                )
            })?;
            Ok(ImageBlock {
                format: format.to_owned(),
                source: wire::ImageSource {
                    bytes: None,
                    s3_location: Some(serde_json::json!({ "uri": url })),
                },
            })
        }
        ImageSource::Url { .. } => Err(DecodeError::at(
            at,
            "Bedrock does not fetch image URLs; send the image inline (a base64 data URL) or \
             as an s3:// location",
        )),
    }
}

fn image_format(subtype: &str) -> Option<&'static str> {
    match subtype {
        "png" => Some("png"),
        "jpeg" | "jpg" => Some("jpeg"),
        "gif" => Some("gif"),
        "webp" => Some("webp"),
        _ => None,
    }
}

fn inference_config(request: &ChatRequest) -> Option<InferenceConfig> {
    let sampling = &request.sampling;
    let config = InferenceConfig {
        max_tokens: sampling.max_tokens,
        temperature: sampling.temperature,
        top_p: sampling.top_p,
        stop_sequences: sampling
            .stop
            .as_ref()
            .map(|stop| stop.as_slice().to_vec())
            .unwrap_or_default(),
    };
    (config != InferenceConfig::default()).then_some(config)
}

/// Tools and the choice among them. With `allowed_tools`, only the allowed ones are
/// offered (Converse cannot offer a tool that may not be called). Converse has no
/// `none`: the tools are left out instead, unless the conversation already holds tool
/// blocks, which Converse refuses without a `toolConfig`.
fn tool_config(
    request: &ChatRequest,
    options: EncodeOptions,
) -> Result<Option<ToolConfig>, DecodeError> {
    let tool_choice = match &request.tool_choice {
        None => None,
        Some(ToolChoice::Auto) => Some(wire::ToolChoice::Auto {}),
        Some(ToolChoice::Required) => Some(wire::ToolChoice::Any {}),
        Some(ToolChoice::Function { name }) => Some(wire::ToolChoice::Tool { name: name.clone() }),
        Some(ToolChoice::Allowed { required: true, .. }) => Some(wire::ToolChoice::Any {}),
        Some(ToolChoice::Allowed {
            required: false, ..
        }) => Some(wire::ToolChoice::Auto {}),
        Some(ToolChoice::None) if !holds_tool_blocks(request) => return Ok(None),
        Some(ToolChoice::None) if options.drop_unsupported => Some(wire::ToolChoice::Auto {}),
        Some(ToolChoice::None) => {
            return Err(DecodeError::at(
                "tool_choice",
                "Bedrock's Converse API cannot forbid tool calls in a conversation that \
                 already holds some; remove it, or allow dropping unsupported parameters \
                 (`drop_unsupported_params`)",
            ));
        }
    };
    let allowed = match &request.tool_choice {
        Some(ToolChoice::Allowed { names, .. }) => Some(names),
        _ => None,
    };
    let mut tools = Vec::new();
    for tool in request
        .tools
        .iter()
        .filter(|tool| allowed.is_none_or(|names| names.contains(&tool.name)))
    {
        tools.push(wire::Tool::Known(KnownTool::ToolSpec(ToolSpec {
            name: tool.name.clone(),
            description: tool.description.clone(),
            input_schema: ToolInputSchema {
                json: tool
                    .parameters
                    .clone()
                    .unwrap_or_else(|| serde_json::json!({"type": "object", "properties": {}})),
            },
            strict: tool.strict,
        })));
        if let Some(cache_point) = cache_point(&tool.extra) {
            tools.push(wire::Tool::Known(KnownTool::CachePoint(cache_point)));
        }
    }
    if tools.is_empty() {
        return Ok(None);
    }
    Ok(Some(ToolConfig { tools, tool_choice }))
}

fn holds_tool_blocks(request: &ChatRequest) -> bool {
    request
        .messages
        .iter()
        .flat_map(|message| &message.content)
        .any(|block| {
            matches!(
                block,
                ContentBlock::ToolCall { .. } | ContentBlock::ToolResult { .. }
            )
        })
}

/// A JSON-schema response format as `outputConfig.textFormat`, beside whatever else the
/// caller put in `outputConfig` (`effort`). The schema travels as a JSON string.
fn output_config(
    request: &ChatRequest,
    extra: &mut switchyard_types::Extra,
) -> Option<OutputConfig> {
    let mut config = extra
        .remove("outputConfig")
        .and_then(|value| serde_json::from_value::<OutputConfig>(value).ok())
        .unwrap_or_default();
    if let Some(ResponseFormat::JsonSchema {
        name,
        description,
        schema,
        ..
    }) = &request.response_format
    {
        let schema = schema
            .clone()
            .unwrap_or_else(|| serde_json::json!({"type": "object"}));
        config.text_format = Some(OutputFormat {
            kind: "json_schema".to_owned(),
            structure: OutputFormatStructure {
                json_schema: JsonSchemaDefinition {
                    schema: schema.to_string(),
                    name: Some(name.clone()),
                    description: description.clone(),
                },
            },
        });
    }
    (config != OutputConfig::default()).then_some(config)
}
