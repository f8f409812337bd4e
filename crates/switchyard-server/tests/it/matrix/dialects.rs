//! The ingress side: each client dialect's request for a scenario, and what a caller
//! reads back from its JSON answer or its stream, put in common terms.

use serde_json::{Value, json};

use super::upstreams::{CALL_ID, TOOL, arguments};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ingress {
    ChatCompletions,
    Messages,
    Responses,
    Completions,
}

impl Ingress {
    pub fn path(self) -> &'static str {
        match self {
            Ingress::ChatCompletions => "/v1/chat/completions",
            Ingress::Messages => "/v1/messages",
            Ingress::Responses => "/v1/responses",
            Ingress::Completions => "/v1/completions",
        }
    }

    /// How this dialect says an answer ended naturally, and with tool calls.
    pub fn finishes(self) -> (&'static str, &'static str) {
        match self {
            Ingress::ChatCompletions | Ingress::Completions => ("stop", "tool_calls"),
            Ingress::Messages => ("end_turn", "tool_use"),
            Ingress::Responses => ("completed", "completed"),
        }
    }
}

/// What a scenario asks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ask {
    /// A plain question.
    Text,
    /// A question with the weather tool offered.
    Tool,
    /// The question, the assistant's call of the tool, and its result (`18C`).
    ToolResult,
    /// A question whose answer must be JSON matching the city schema.
    Json,
}

pub const QUESTION: &str = "Weather in Paris?";

fn city_schema() -> Value {
    json!({"type": "object", "properties": {"city": {"type": "string"}},
           "required": ["city"], "additionalProperties": false})
}

/// The request body for `ask` in `ingress`'s dialect.
pub fn request(ingress: Ingress, model: &str, ask: Ask, stream: bool) -> Value {
    let arguments = arguments();
    let mut body = match ingress {
        Ingress::ChatCompletions => {
            let mut messages = vec![json!({"role": "user", "content": QUESTION})];
            if ask == Ask::ToolResult {
                messages.push(json!({"role": "assistant", "content": null, "tool_calls": [
                    {"id": CALL_ID, "type": "function",
                     "function": {"name": TOOL, "arguments": arguments.to_string()}}]}));
                messages.push(json!({"role": "tool", "tool_call_id": CALL_ID, "content": "18C"}));
            }
            let mut body = json!({"model": model, "messages": messages});
            if matches!(ask, Ask::Tool | Ask::ToolResult) {
                body["tools"] = json!([{"type": "function", "function":
                    {"name": TOOL, "parameters": city_schema()}}]);
            }
            if ask == Ask::Json {
                body["response_format"] = json!({"type": "json_schema", "json_schema":
                    {"name": "weather", "schema": city_schema(), "strict": true}});
            }
            if stream {
                body["stream_options"] = json!({"include_usage": true});
            }
            body
        }
        Ingress::Messages => {
            let mut messages = vec![json!({"role": "user", "content": QUESTION})];
            if ask == Ask::ToolResult {
                messages.push(json!({"role": "assistant", "content": [
                    {"type": "tool_use", "id": CALL_ID, "name": TOOL, "input": arguments}]}));
                messages.push(json!({"role": "user", "content": [
                    {"type": "tool_result", "tool_use_id": CALL_ID, "content": "18C"}]}));
            }
            let mut body = json!({"model": model, "max_tokens": 64, "messages": messages});
            if matches!(ask, Ask::Tool | Ask::ToolResult) {
                body["tools"] = json!([{"name": TOOL, "input_schema": city_schema()}]);
            }
            if ask == Ask::Json {
                body["output_config"] =
                    json!({"format": {"type": "json_schema", "schema": city_schema()}});
            }
            body
        }
        Ingress::Responses => {
            let mut input = vec![json!({"role": "user", "content": QUESTION})];
            if ask == Ask::ToolResult {
                input.push(
                    json!({"type": "function_call", "call_id": CALL_ID, "name": TOOL,
                                  "arguments": arguments.to_string()}),
                );
                input.push(
                    json!({"type": "function_call_output", "call_id": CALL_ID, "output": "18C"}),
                );
            }
            let mut body = json!({"model": model, "input": input, "store": false});
            if matches!(ask, Ask::Tool | Ask::ToolResult) {
                body["tools"] =
                    json!([{"type": "function", "name": TOOL, "parameters": city_schema()}]);
            }
            if ask == Ask::Json {
                body["text"] = json!({"format": {"type": "json_schema", "name": "weather",
                                                 "schema": city_schema(), "strict": true}});
            }
            body
        }
        Ingress::Completions => json!({"model": model, "prompt": QUESTION, "max_tokens": 16}),
    };
    if stream {
        body["stream"] = json!(true);
        if matches!(ingress, Ingress::Completions) {
            body["stream_options"] = json!({"include_usage": true});
        }
    }
    body
}

/// An answer in common terms.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Got {
    pub text: String,
    /// (id, name, arguments)
    pub calls: Vec<(String, String, Value)>,
    /// The dialect's own word for how the answer ended.
    pub finish: String,
    pub usage: Option<(u64, u64)>,
}

fn parse_arguments(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|_| Value::String(text.to_owned()))
}

/// Reads a complete JSON answer.
pub fn from_json(ingress: Ingress, body: &Value) -> Got {
    let mut got = Got::default();
    let number = |value: &Value| value.as_u64().unwrap_or_default();
    match ingress {
        Ingress::ChatCompletions => {
            let choice = &body["choices"][0];
            got.text = choice["message"]["content"]
                .as_str()
                .unwrap_or_default()
                .to_owned();
            for call in choice["message"]["tool_calls"]
                .as_array()
                .into_iter()
                .flatten()
            {
                got.calls.push((
                    call["id"].as_str().unwrap_or_default().to_owned(),
                    call["function"]["name"]
                        .as_str()
                        .unwrap_or_default()
                        .to_owned(),
                    parse_arguments(call["function"]["arguments"].as_str().unwrap_or_default()),
                ));
            }
            got.finish = choice["finish_reason"]
                .as_str()
                .unwrap_or_default()
                .to_owned();
            got.usage = Some((
                number(&body["usage"]["prompt_tokens"]),
                number(&body["usage"]["completion_tokens"]),
            ));
        }
        Ingress::Completions => {
            let choice = &body["choices"][0];
            got.text = choice["text"].as_str().unwrap_or_default().to_owned();
            got.finish = choice["finish_reason"]
                .as_str()
                .unwrap_or_default()
                .to_owned();
            got.usage = Some((
                number(&body["usage"]["prompt_tokens"]),
                number(&body["usage"]["completion_tokens"]),
            ));
        }
        Ingress::Messages => {
            for block in body["content"].as_array().into_iter().flatten() {
                match block["type"].as_str() {
                    Some("text") => got
                        .text
                        .push_str(block["text"].as_str().unwrap_or_default()),
                    Some("tool_use") => got.calls.push((
                        block["id"].as_str().unwrap_or_default().to_owned(),
                        block["name"].as_str().unwrap_or_default().to_owned(),
                        block["input"].clone(),
                    )),
                    _ => {}
                }
            }
            got.finish = body["stop_reason"].as_str().unwrap_or_default().to_owned();
            got.usage = Some((
                number(&body["usage"]["input_tokens"]),
                number(&body["usage"]["output_tokens"]),
            ));
        }
        Ingress::Responses => {
            for item in body["output"].as_array().into_iter().flatten() {
                match item["type"].as_str() {
                    Some("message") => {
                        for part in item["content"].as_array().into_iter().flatten() {
                            got.text.push_str(part["text"].as_str().unwrap_or_default());
                        }
                    }
                    Some("function_call") => got.calls.push((
                        item["call_id"].as_str().unwrap_or_default().to_owned(),
                        item["name"].as_str().unwrap_or_default().to_owned(),
                        parse_arguments(item["arguments"].as_str().unwrap_or_default()),
                    )),
                    _ => {}
                }
            }
            got.finish = body["status"].as_str().unwrap_or_default().to_owned();
            got.usage = Some((
                number(&body["usage"]["input_tokens"]),
                number(&body["usage"]["output_tokens"]),
            ));
        }
    }
    got
}

/// One server-sent event: its name, if any, and its data.
pub type SseEvent = (Option<String>, String);

pub fn parse_sse(body: &str) -> Vec<SseEvent> {
    body.split("\n\n")
        .filter(|block| !block.trim().is_empty())
        .filter_map(|block| {
            let name = block
                .lines()
                .find_map(|line| line.strip_prefix("event: "))
                .map(str::to_owned);
            let data: Vec<&str> = block
                .lines()
                .filter_map(|line| line.strip_prefix("data: "))
                .collect();
            (!data.is_empty()).then(|| (name, data.join("\n")))
        })
        .collect()
}

/// Reads a streamed answer, putting its pieces together as a client library would; a
/// stream that does not end as its dialect ends one fails the test.
pub fn from_stream(ingress: Ingress, events: &[SseEvent]) -> Got {
    let mut got = Got::default();
    let json = |data: &str| serde_json::from_str::<Value>(data).expect("each event's data is JSON");
    match ingress {
        Ingress::ChatCompletions | Ingress::Completions => {
            assert_eq!(events.last().map(|(_, data)| data.as_str()), Some("[DONE]"));
            // Tool calls by index: (id, name, arguments so far).
            let mut calls: Vec<(String, String, String)> = Vec::new();
            for (_, data) in &events[..events.len() - 1] {
                let chunk = json(data);
                if let Some(usage) = chunk.get("usage").filter(|usage| !usage.is_null()) {
                    got.usage = Some((
                        usage["prompt_tokens"].as_u64().unwrap_or_default(),
                        usage["completion_tokens"].as_u64().unwrap_or_default(),
                    ));
                }
                for choice in chunk["choices"].as_array().into_iter().flatten() {
                    let delta = if ingress == Ingress::Completions {
                        choice
                    } else {
                        &choice["delta"]
                    };
                    let text_field = if ingress == Ingress::Completions {
                        "text"
                    } else {
                        "content"
                    };
                    got.text
                        .push_str(delta[text_field].as_str().unwrap_or_default());
                    for call in delta["tool_calls"].as_array().into_iter().flatten() {
                        let index = call["index"].as_u64().unwrap_or_default() as usize;
                        if calls.len() <= index {
                            calls.resize(index + 1, Default::default());
                        }
                        if let Some(id) = call["id"].as_str() {
                            calls[index].0 = id.to_owned();
                        }
                        if let Some(name) = call["function"]["name"].as_str() {
                            calls[index].1 = name.to_owned();
                        }
                        calls[index]
                            .2
                            .push_str(call["function"]["arguments"].as_str().unwrap_or_default());
                    }
                    if let Some(finish) = choice["finish_reason"].as_str() {
                        got.finish = finish.to_owned();
                    }
                }
            }
            got.calls = calls
                .into_iter()
                .map(|(id, name, arguments)| (id, name, parse_arguments(&arguments)))
                .collect();
        }
        Ingress::Messages => {
            assert_eq!(
                events.last().and_then(|(name, _)| name.as_deref()),
                Some("message_stop")
            );
            // Blocks by index: (kind, id, name, text or partial JSON).
            let mut blocks: Vec<(String, String, String, String)> = Vec::new();
            let mut input_tokens = 0;
            for (name, data) in events {
                let event = json(data);
                assert_eq!(
                    name.as_deref(),
                    event["type"].as_str(),
                    "the event name is its type"
                );
                match event["type"].as_str() {
                    Some("message_start") => {
                        input_tokens = event["message"]["usage"]["input_tokens"]
                            .as_u64()
                            .unwrap_or_default();
                    }
                    Some("content_block_start") => {
                        let block = &event["content_block"];
                        blocks.push((
                            block["type"].as_str().unwrap_or_default().to_owned(),
                            block["id"].as_str().unwrap_or_default().to_owned(),
                            block["name"].as_str().unwrap_or_default().to_owned(),
                            String::new(),
                        ));
                    }
                    Some("content_block_delta") => {
                        let index = event["index"].as_u64().unwrap_or_default() as usize;
                        let delta = &event["delta"];
                        let piece = delta["text"]
                            .as_str()
                            .or(delta["partial_json"].as_str())
                            .unwrap_or_default();
                        blocks[index].3.push_str(piece);
                    }
                    Some("message_delta") => {
                        got.finish = event["delta"]["stop_reason"]
                            .as_str()
                            .unwrap_or_default()
                            .to_owned();
                        // The final count, where the stream could not know it at
                        // the start.
                        let usage = &event["usage"];
                        let input = usage["input_tokens"].as_u64().unwrap_or(input_tokens);
                        let output = usage["output_tokens"].as_u64().unwrap_or_default();
                        got.usage = Some((input, output));
                    }
                    _ => {}
                }
            }
            for (kind, id, name, content) in blocks {
                match kind.as_str() {
                    "text" => got.text.push_str(&content),
                    "tool_use" => got.calls.push((id, name, parse_arguments(&content))),
                    _ => {}
                }
            }
        }
        Ingress::Responses => {
            let (last, data) = events.last().expect("events");
            assert_eq!(last.as_deref(), Some("response.completed"));
            let mut deltas = String::new();
            for (number, (name, data)) in events.iter().enumerate() {
                let event = json(data);
                assert_eq!(name.as_deref(), event["type"].as_str());
                assert_eq!(event["sequence_number"], number as u64);
                if name.as_deref() == Some("response.output_text.delta") {
                    deltas.push_str(event["delta"].as_str().unwrap_or_default());
                }
            }
            got = from_json(Ingress::Responses, &json(data)["response"]);
            assert_eq!(deltas, got.text, "the deltas add up to the final text");
        }
    }
    got
}

/// The error status, and the error `type` in the dialect's error body.
pub fn error_of(ingress: Ingress, status: u16, body: &Value) -> (u16, String) {
    let kind = match ingress {
        Ingress::Messages => {
            assert_eq!(body["type"], "error", "{body}");
            &body["error"]["type"]
        }
        _ => &body["error"]["type"],
    };
    (status, kind.as_str().unwrap_or_default().to_owned())
}
