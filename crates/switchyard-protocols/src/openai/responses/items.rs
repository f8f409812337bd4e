//! Items, the Responses API's unit of conversation, ⇄ canonical messages.
//!
//! Input arrives as a string or a list of items; [`normalize_input`] checks it and
//! writes every item in its full form, with an id, as `GET …/input_items` lists them.
//! [`items_to_messages`] turns a conversation of such items (input items, and the
//! output items of earlier responses, which are valid input too) into canonical
//! messages: a `function_call` joins the assistant turn before it, a
//! `function_call_output` is a tool turn, `reasoning` opens an assistant turn.

use serde_json::{Map, Value, json};
use switchyard_types::{ContentBlock, ImageDetail, Message, Role};

use super::super::request::image_source_from_url;
use crate::DecodeError;

/// A fresh item id with the kind's prefix (`msg`, `fc`, `rs`, ...).
pub(crate) fn new_id(prefix: &str) -> String {
    format!("{prefix}_{}", uuid::Uuid::new_v4().simple())
}

fn text_field<'a>(
    item: &'a Map<String, Value>,
    field: &str,
    at: &str,
) -> Result<&'a str, DecodeError> {
    match item.get(field) {
        Some(Value::String(text)) => Ok(text),
        Some(_) => Err(DecodeError::at(format!("{at}.{field}"), "must be a string")),
        None => Err(DecodeError::at(format!("{at}.{field}"), "is required")),
    }
}

/// The request's `input`, as full items with ids.
pub fn normalize_input(input: Value) -> Result<Vec<Value>, DecodeError> {
    match input {
        Value::String(text) => Ok(vec![message_item(
            new_id("msg"),
            "user",
            vec![json!({"type": "input_text", "text": text})],
        )]),
        Value::Array(items) => items
            .into_iter()
            .enumerate()
            .map(|(index, item)| normalize_item(item, &format!("input[{index}]")))
            .collect(),
        _ => Err(DecodeError::at(
            "input",
            "must be a string or a list of items",
        )),
    }
}

fn message_item(id: String, role: &str, content: Vec<Value>) -> Value {
    json!({"type": "message", "id": id, "role": role, "content": content, "status": "completed"})
}

fn normalize_item(item: Value, at: &str) -> Result<Value, DecodeError> {
    let Value::Object(mut item) = item else {
        return Err(DecodeError::at(at, "must be an object"));
    };
    let kind = match item.get("type") {
        None => "message".to_owned(),
        Some(Value::String(kind)) => kind.clone(),
        Some(_) => return Err(DecodeError::at(format!("{at}.type"), "must be a string")),
    };
    let id_prefix = match kind.as_str() {
        "message" => {
            let role = text_field(&item, "role", at)?.to_owned();
            if !matches!(role.as_str(), "user" | "assistant" | "system" | "developer") {
                return Err(DecodeError::at(
                    format!("{at}.role"),
                    format!(
                        "unknown role `{role}`; expected `user`, `assistant`, `system` or `developer`"
                    ),
                ));
            }
            let content = match item.remove("content") {
                // Assistant text is output; everything else is input.
                Some(Value::String(text)) if role == "assistant" => {
                    vec![json!({"type": "output_text", "text": text, "annotations": []})]
                }
                Some(Value::String(text)) => vec![json!({"type": "input_text", "text": text})],
                Some(Value::Array(parts)) => parts,
                Some(_) => {
                    return Err(DecodeError::at(
                        format!("{at}.content"),
                        "must be a string or a list of content parts",
                    ));
                }
                None => return Err(DecodeError::at(format!("{at}.content"), "is required")),
            };
            for (index, part) in content.iter().enumerate() {
                check_part(part, &role, &format!("{at}.content[{index}]"))?;
            }
            item.insert("type".to_owned(), json!("message"));
            item.insert("content".to_owned(), Value::Array(content));
            item.entry("status").or_insert(json!("completed"));
            "msg"
        }
        "function_call" => {
            for field in ["call_id", "name", "arguments"] {
                text_field(&item, field, at)?;
            }
            item.entry("status").or_insert(json!("completed"));
            "fc"
        }
        "function_call_output" => {
            text_field(&item, "call_id", at)?;
            match item.get("output") {
                Some(Value::String(_)) => {}
                Some(Value::Array(parts)) => {
                    for (index, part) in parts.iter().enumerate() {
                        check_part(part, "user", &format!("{at}.output[{index}]"))?;
                    }
                }
                _ => {
                    return Err(DecodeError::at(
                        format!("{at}.output"),
                        "must be a string or a list of content parts",
                    ));
                }
            }
            item.entry("status").or_insert(json!("completed"));
            "fco"
        }
        "reasoning" => "rs",
        "item_reference" => {
            return Err(DecodeError::at(
                format!("{at}.type"),
                "item references are not supported; continue a stored conversation with `previous_response_id`",
            ));
        }
        other => {
            return Err(DecodeError::at(
                format!("{at}.type"),
                format!(
                    "items of type `{other}` are not supported; expected `message`, `function_call`, `function_call_output` or `reasoning`"
                ),
            ));
        }
    };
    if !matches!(item.get("id"), Some(Value::String(_))) {
        item.insert("id".to_owned(), Value::String(new_id(id_prefix)));
    }
    Ok(Value::Object(item))
}

/// Checks a content part a `role` may send.
fn check_part(part: &Value, role: &str, at: &str) -> Result<(), DecodeError> {
    let Some(part) = part.as_object() else {
        return Err(DecodeError::at(at, "must be an object"));
    };
    let kind = part.get("type").and_then(Value::as_str).unwrap_or_default();
    let allowed: &[&str] = if role == "assistant" {
        &["output_text", "refusal"]
    } else {
        &["input_text", "input_image"]
    };
    if !allowed.contains(&kind) {
        let hint = if kind == "input_file" {
            "; files are not supported".to_owned()
        } else {
            format!("; expected {}", allowed.join(" or "))
        };
        return Err(DecodeError::at(
            format!("{at}.type"),
            format!("`{kind}` parts are not accepted in {role} content{hint}"),
        ));
    }
    match kind {
        "input_text" | "output_text" => text_field(part, "text", at).map(|_| ()),
        "refusal" => text_field(part, "refusal", at).map(|_| ()),
        _ => match part.get("image_url") {
            Some(Value::String(url)) => image_source_from_url(url)
                .map(|_| ())
                .map_err(|message| DecodeError::at(format!("{at}.image_url"), message)),
            _ if part.get("file_id").is_some() => Err(DecodeError::at(
                format!("{at}.file_id"),
                "uploaded files are not supported; send the image as a URL or a `data:` URL",
            )),
            _ => Err(DecodeError::at(format!("{at}.image_url"), "is required")),
        },
    }
}

/// A conversation of full items (see [`normalize_input`]) as canonical messages.
pub fn items_to_messages(items: &[Value]) -> Result<Vec<Message>, DecodeError> {
    let mut messages: Vec<Message> = Vec::new();
    for (index, item) in items.iter().enumerate() {
        let at = format!("input[{index}]");
        let Some(item) = item.as_object() else {
            return Err(DecodeError::at(at, "must be an object"));
        };
        match item
            .get("type")
            .and_then(Value::as_str)
            .unwrap_or("message")
        {
            "message" => {
                let role = match text_field(item, "role", &at)? {
                    "assistant" => Role::Assistant,
                    "system" => Role::System,
                    "developer" => Role::Developer,
                    _ => Role::User,
                };
                let parts = item
                    .get("content")
                    .and_then(Value::as_array)
                    .cloned()
                    .unwrap_or_default();
                let content = parts
                    .iter()
                    .enumerate()
                    .map(|(part_index, part)| {
                        part_to_block(part, &format!("{at}.content[{part_index}]"))
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                if role == Role::Assistant {
                    assistant_turn(&mut messages).content.extend(content);
                } else {
                    messages.push(message(role, content));
                }
            }
            "function_call" => {
                let block = ContentBlock::ToolCall {
                    id: text_field(item, "call_id", &at)?.to_owned(),
                    name: text_field(item, "name", &at)?.to_owned(),
                    arguments: text_field(item, "arguments", &at)?.to_owned(),
                };
                assistant_turn(&mut messages).content.push(block);
            }
            "function_call_output" => {
                let content = match item.get("output") {
                    Some(Value::Array(parts)) => parts
                        .iter()
                        .enumerate()
                        .map(|(part_index, part)| {
                            part_to_block(part, &format!("{at}.output[{part_index}]"))
                        })
                        .collect::<Result<Vec<_>, _>>()?,
                    Some(Value::String(text)) => vec![ContentBlock::text(text.as_str())],
                    _ => Vec::new(),
                };
                let result = ContentBlock::ToolResult {
                    tool_call_id: text_field(item, "call_id", &at)?.to_owned(),
                    content,
                    is_error: false,
                };
                messages.push(message(Role::Tool, vec![result]));
            }
            "reasoning" => {
                let text = reasoning_text(item);
                if !text.is_empty() {
                    messages.push(message(
                        Role::Assistant,
                        vec![ContentBlock::Reasoning {
                            text,
                            signature: None,
                        }],
                    ));
                }
            }
            other => {
                return Err(DecodeError::at(
                    format!("{at}.type"),
                    format!("items of type `{other}` are not supported"),
                ));
            }
        }
    }
    // Plain text travels as a string, as most chat servers expect it.
    for message in &mut messages {
        message.content_is_text = match message.content.as_slice() {
            [ContentBlock::Text { .. }] => true,
            [ContentBlock::ToolResult { content, .. }] => {
                matches!(content.as_slice(), [ContentBlock::Text { .. }])
            }
            _ => false,
        };
    }
    Ok(messages)
}

fn message(role: Role, content: Vec<ContentBlock>) -> Message {
    Message {
        role,
        content,
        name: None,
        content_is_text: false,
        extra: Default::default(),
    }
}

/// The assistant turn an assistant item belongs to: the last message if it is one,
/// else a new one.
fn assistant_turn(messages: &mut Vec<Message>) -> &mut Message {
    if messages
        .last()
        .is_none_or(|last| last.role != Role::Assistant)
    {
        messages.push(message(Role::Assistant, Vec::new()));
    }
    let last = messages.len() - 1;
    &mut messages[last]
}

/// A reasoning item's text: its `reasoning_text` content, else its summary.
fn reasoning_text(item: &Map<String, Value>) -> String {
    let texts = |field: &str| -> String {
        item.get(field)
            .and_then(Value::as_array)
            .map(|parts| {
                parts
                    .iter()
                    .filter_map(|part| part.get("text").and_then(Value::as_str))
                    .collect::<Vec<_>>()
                    .join("\n\n")
            })
            .unwrap_or_default()
    };
    let content = texts("content");
    if content.is_empty() {
        texts("summary")
    } else {
        content
    }
}

fn part_to_block(part: &Value, at: &str) -> Result<ContentBlock, DecodeError> {
    let kind = part.get("type").and_then(Value::as_str).unwrap_or_default();
    match kind {
        "input_text" | "output_text" => Ok(ContentBlock::text(text_of(part, "text"))),
        "refusal" => Ok(ContentBlock::text(text_of(part, "refusal"))),
        "input_image" => {
            let url = part
                .get("image_url")
                .and_then(Value::as_str)
                .unwrap_or_default();
            let source = image_source_from_url(url)
                .map_err(|message| DecodeError::at(format!("{at}.image_url"), message))?;
            let detail = match part.get("detail").and_then(Value::as_str) {
                Some("low") => Some(ImageDetail::Low),
                Some("high") => Some(ImageDetail::High),
                Some("auto") => Some(ImageDetail::Auto),
                _ => None,
            };
            Ok(ContentBlock::Image {
                source,
                detail,
                extra: Default::default(),
            })
        }
        other => Err(DecodeError::at(
            format!("{at}.type"),
            format!("`{other}` parts are not supported"),
        )),
    }
}

fn text_of(part: &Value, field: &str) -> String {
    part.get(field)
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned()
}
