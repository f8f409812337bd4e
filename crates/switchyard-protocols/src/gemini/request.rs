//! Canonical request → `generateContent` request (egress).
//!
//! The differences from OpenAI that matter: the system prompt is `systemInstruction`;
//! turns are `user` or `model`, so tool results travel in a user turn as
//! `functionResponse` parts, which name the function rather than the call id; tool
//! arguments and results are JSON objects, not text; reasoning goes back only as the
//! opaque `thoughtSignature` on the part that followed it. Parameters Gemini has no
//! equivalent for are refused by name unless the caller allows dropping them.

use std::collections::HashMap;

use serde_json::{Value, json};
use switchyard_types::{
    ChatRequest, ContentBlock, ImageSource, Message, Reasoning, ResponseFormat, Role, ToolChoice,
};

use super::wire::{
    Blob, Content, FileData, FunctionCall, FunctionCallingConfig, FunctionResponse,
    GenerateContentRequest, GenerationConfig, Part, ToolConfig,
};
use crate::DecodeError;
use crate::decode::tool_arguments;

/// The protocol tag of [`ContentBlock::Opaque`] parts that came from Gemini.
pub const PROTOCOL: &str = "gemini";

/// How a request is fitted to one Gemini deployment.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct EncodeOptions {
    /// Leave out parameters Gemini cannot honour instead of refusing the request.
    pub drop_unsupported: bool,
}

/// OpenAI request fields with no Gemini equivalent, refused by name.
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

/// Encodes `request` for the Gemini model `upstream_model` (`gemini-2.5-flash`, …).
pub fn from_canonical_request(
    request: &ChatRequest,
    upstream_model: &str,
    options: EncodeOptions,
) -> Result<GenerateContentRequest, DecodeError> {
    crate::decode::chat_only(request, "Gemini's generateContent API")?;
    check_unsupported(request, options)?;
    let names = tool_call_names(&request.messages);
    let mut system = Vec::new();
    let mut contents: Vec<Content> = Vec::new();
    for (index, message) in request.messages.iter().enumerate() {
        let at = format!("messages[{index}]");
        match message.role {
            Role::System | Role::Developer => {
                for (part, block) in message.content.iter().enumerate() {
                    match block {
                        ContentBlock::Text { text, .. } => system.push(Part {
                            text: Some(text.clone()),
                            ..Part::default()
                        }),
                        _ => {
                            return Err(DecodeError::at(
                                format!("{at}.content[{part}]"),
                                "Gemini's system instruction takes text only",
                            ));
                        }
                    }
                }
            }
            Role::User | Role::Tool => push_turn(&mut contents, "user", message, &names, &at)?,
            Role::Assistant => push_turn(&mut contents, "model", message, &names, &at)?,
        }
    }
    let mut extra = request.extra.clone();
    // Controls handled here or meaningless to Gemini.
    for key in ["stream_options", "drop_unsupported_params"] {
        extra.remove(key);
    }
    for key in OPENAI_ONLY {
        extra.remove(key);
    }
    let top_k = extra
        .remove("top_k")
        .and_then(|value| value.as_u64())
        .map(|k| k as u32);
    let thinking = request
        .reasoning
        .as_ref()
        .map(|reasoning| thinking_config(upstream_model, reasoning));
    let sampling = &request.sampling;
    let (response_mime_type, response_json_schema) = response_format(request);
    let generation = GenerationConfig {
        stop_sequences: sampling
            .stop
            .as_ref()
            .map(|stop| stop.as_slice().to_vec())
            .unwrap_or_default(),
        response_mime_type,
        response_json_schema,
        candidate_count: sampling.n.filter(|&n| n > 1),
        max_output_tokens: sampling.max_tokens,
        temperature: sampling.temperature,
        top_p: sampling.top_p,
        top_k,
        seed: sampling.seed,
        presence_penalty: sampling.presence_penalty,
        frequency_penalty: sampling.frequency_penalty,
        thinking_config: thinking,
        extra: Default::default(),
    };
    Ok(GenerateContentRequest {
        contents,
        system_instruction: (!system.is_empty()).then_some(Content {
            role: None,
            parts: system,
        }),
        tools: tools(request),
        tool_config: tool_config(request),
        generation_config: (generation != GenerationConfig::default()).then_some(generation),
        extra,
    })
}

/// Refuses what Gemini cannot do, naming the parameter.
fn check_unsupported(request: &ChatRequest, options: EncodeOptions) -> Result<(), DecodeError> {
    if options.drop_unsupported {
        return Ok(());
    }
    let sampling = &request.sampling;
    let refused = [
        ("logprobs", sampling.logprobs == Some(true)),
        ("top_logprobs", sampling.top_logprobs.is_some()),
        // Gemini decides on parallel calls itself; it cannot be told to make one.
        (
            "parallel_tool_calls",
            request.parallel_tool_calls == Some(false),
        ),
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
            "Gemini's API has no equivalent; remove it, or allow dropping unsupported \
             parameters (`drop_unsupported_params`)",
        )),
        None => Ok(()),
    }
}

/// Tool call id → function name, from the assistant turns: a `functionResponse` names
/// the function, where OpenAI's tool message names only the call.
fn tool_call_names(messages: &[Message]) -> HashMap<&str, &str> {
    messages
        .iter()
        .filter(|message| message.role == Role::Assistant)
        .flat_map(|message| &message.content)
        .filter_map(|block| match block {
            ContentBlock::ToolCall { id, name, .. } => Some((id.as_str(), name.as_str())),
            _ => None,
        })
        .collect()
}

/// Appends a message's parts as a turn of `role`, joining it to the previous turn when
/// that has the same role (the results of parallel calls must share one turn).
fn push_turn(
    contents: &mut Vec<Content>,
    role: &str,
    message: &Message,
    names: &HashMap<&str, &str>,
    at: &str,
) -> Result<(), DecodeError> {
    let mut parts = Vec::with_capacity(message.content.len());
    // A signature qualifies the part after the reasoning it signed.
    let mut signature: Option<String> = None;
    for (index, block) in message.content.iter().enumerate() {
        let at = format!("{at}.content[{index}]");
        if let ContentBlock::Reasoning {
            signature: signed, ..
        } = block
        {
            // The reasoning text itself is not sent back; Gemini keeps its thoughts
            // behind the signature.
            signature = signed.clone().or(signature);
            continue;
        }
        let mut part = part_from_canonical(block, names, &at)?;
        part.thought_signature = signature.take();
        // Gemini refuses a part without data, blank text included; one that carries a
        // signature is kept, as Google's SDKs replay it.
        if part.text.as_deref() == Some("") && part.thought_signature.is_none() {
            continue;
        }
        parts.push(part);
    }
    if parts.is_empty() {
        return Ok(());
    }
    // Results of parallel calls share one turn, and that turn holds nothing else.
    let answers_calls = |parts: &[Part]| parts.iter().any(|p| p.function_response.is_some());
    match contents.last_mut() {
        Some(last)
            if last.role.as_deref() == Some(role)
                && answers_calls(&last.parts) == answers_calls(&parts) =>
        {
            last.parts.extend(parts)
        }
        _ => contents.push(Content {
            role: Some(role.to_owned()),
            parts,
        }),
    }
    Ok(())
}

fn part_from_canonical(
    block: &ContentBlock,
    names: &HashMap<&str, &str>,
    at: &str,
) -> Result<Part, DecodeError> {
    let part = match block {
        ContentBlock::Text { text, .. } => Part {
            text: Some(text.clone()),
            ..Part::default()
        },
        ContentBlock::Image { source, .. } => match source {
            ImageSource::Base64 { media_type, data } => Part {
                inline_data: Some(Blob {
                    mime_type: media_type.clone(),
                    data: data.clone(),
                }),
                ..Part::default()
            },
            ImageSource::Url { url } => Part {
                file_data: Some(FileData {
                    mime_type: None,
                    file_uri: url.clone(),
                }),
                ..Part::default()
            },
        },
        ContentBlock::ToolCall {
            id,
            name,
            arguments,
        } => Part {
            function_call: Some(FunctionCall {
                id: gemini_call_id(id),
                name: name.clone(),
                args: Some(tool_arguments(arguments, at, "Gemini")?),
            }),
            ..Part::default()
        },
        ContentBlock::ToolResult {
            tool_call_id,
            content,
            is_error,
        } => {
            let name = names.get(tool_call_id.as_str()).ok_or_else(|| {
                DecodeError::at(
                    at,
                    format!(
                        "tool result for `{tool_call_id}`, but no earlier assistant turn made \
                         that call; Gemini needs the function's name"
                    ),
                )
            })?;
            Part {
                function_response: Some(FunctionResponse {
                    id: gemini_call_id(tool_call_id),
                    name: (*name).to_owned(),
                    response: tool_response(content, *is_error, at)?,
                }),
                ..Part::default()
            }
        }
        ContentBlock::Opaque { protocol, value } if protocol == PROTOCOL => {
            serde_json::from_value(value.clone())
                .map_err(|error| DecodeError::at(at, format!("not a Gemini part: {error}")))?
        }
        ContentBlock::Opaque { protocol, .. } => {
            return Err(DecodeError::at(
                at,
                format!("a `{protocol}` content part cannot be sent to Gemini"),
            ));
        }
        ContentBlock::Reasoning { .. } => unreachable!("handled by push_turn"),
    };
    Ok(part)
}

/// The prefix of ids Switchyard makes up for calls Gemini sent without one.
pub(crate) const MINTED_ID_PREFIX: &str = "call_gm";

/// A call id for Gemini's wire: its own ids go back; ids Switchyard minted for calls
/// that had none stay here.
fn gemini_call_id(id: &str) -> Option<String> {
    (!id.starts_with(MINTED_ID_PREFIX)).then(|| id.to_owned())
}

/// A tool result as the JSON object `functionResponse.response` must be: a result
/// that is already an object goes as is; anything else is wrapped in `result` (or
/// `error`, for a failed call), the keys Google's function-calling guide uses.
fn tool_response(content: &[ContentBlock], is_error: bool, at: &str) -> Result<Value, DecodeError> {
    let mut text = String::new();
    for block in content {
        match block {
            ContentBlock::Text { text: piece, .. } => text.push_str(piece),
            _ => {
                return Err(DecodeError::at(
                    at,
                    "Gemini tool results take text (or JSON) only",
                ));
            }
        }
    }
    let value = serde_json::from_str::<Value>(&text).unwrap_or(Value::String(text));
    Ok(match value {
        Value::Object(_) if !is_error => value,
        value if is_error => json!({ "error": value }),
        value => json!({ "result": value }),
    })
}

/// Function declarations, with their parameters as full JSON Schema.
fn tools(request: &ChatRequest) -> Vec<Value> {
    if request.tools.is_empty() {
        return Vec::new();
    }
    let declarations: Vec<Value> = request
        .tools
        .iter()
        .map(|tool| {
            let mut declaration = json!({ "name": tool.name });
            if let Some(description) = &tool.description {
                declaration["description"] = json!(description);
            }
            if let Some(parameters) = &tool.parameters {
                declaration["parametersJsonSchema"] = parameters.clone();
            }
            declaration
        })
        .collect();
    vec![json!({ "functionDeclarations": declarations })]
}

fn tool_config(request: &ChatRequest) -> Option<ToolConfig> {
    let (mode, allowed) = match request.tool_choice.as_ref()? {
        ToolChoice::Auto => ("AUTO", Vec::new()),
        ToolChoice::None => ("NONE", Vec::new()),
        ToolChoice::Required => ("ANY", Vec::new()),
        ToolChoice::Function { name } => ("ANY", vec![name.clone()]),
        // VALIDATED: the model may answer in text, but any call it makes is one of these.
        ToolChoice::Allowed { names, required } => {
            (if *required { "ANY" } else { "VALIDATED" }, names.clone())
        }
    };
    Some(ToolConfig {
        function_calling_config: FunctionCallingConfig {
            mode: mode.to_owned(),
            allowed_function_names: allowed,
        },
    })
}

/// `responseMimeType` and `responseJsonSchema` for a JSON answer.
fn response_format(request: &ChatRequest) -> (Option<String>, Option<Value>) {
    match &request.response_format {
        Some(ResponseFormat::JsonObject) => (Some("application/json".into()), None),
        Some(ResponseFormat::JsonSchema { schema, .. }) => {
            (Some("application/json".into()), schema.clone())
        }
        Some(ResponseFormat::Text) | None => (None, None),
    }
}

/// The canonical reasoning setting as a thinking configuration, with the thoughts
/// shown: Gemini 3 takes a level, Gemini 2.5 a token budget (a level this table does not
/// know is taken as the highest).
fn thinking_config(model: &str, reasoning: &Reasoning) -> Value {
    if model.starts_with("gemini-3") {
        let level = match reasoning.effort_level().as_deref() {
            Some("none" | "minimal") => "MINIMAL",
            Some("low") => "LOW",
            Some("medium") => "MEDIUM",
            _ => "HIGH",
        };
        return json!({ "thinkingLevel": level, "includeThoughts": true });
    }
    let budget = reasoning.budget_tokens().unwrap_or(24576);
    json!({ "thinkingBudget": budget, "includeThoughts": budget > 0 })
}

/// An embedding request as `batchEmbedContents`: one request per input text.
pub fn from_canonical_embed_request(
    request: &switchyard_types::EmbedRequest,
    upstream_model: &str,
) -> Result<super::wire::BatchEmbedContentsRequest, DecodeError> {
    let switchyard_types::EmbedInput::Texts(texts) = &request.input else {
        return Err(DecodeError::at(
            "input",
            "Gemini embeds text only, not token arrays",
        ));
    };
    let task_type = request
        .extra
        .get("task_type")
        .and_then(|value| value.as_str())
        .map(str::to_owned);
    let model = format!("models/{upstream_model}");
    Ok(super::wire::BatchEmbedContentsRequest {
        requests: texts
            .iter()
            .map(|text| super::wire::EmbedContentRequest {
                model: Some(model.clone()),
                content: Content {
                    role: None,
                    parts: vec![Part {
                        text: Some(text.clone()),
                        ..Part::default()
                    }],
                },
                task_type: task_type.clone(),
                output_dimensionality: request.dimensions,
            })
            .collect(),
    })
}
