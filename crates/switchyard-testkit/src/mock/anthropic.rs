//! [`MockAnthropic`]: a real HTTP server on loopback that speaks Anthropic's Messages API
//! (`POST /v1/messages`, `GET /v1/models`), built from the API reference on plain JSON.
//!
//! It checks what Anthropic checks before answering: an `x-api-key`, the
//! `anthropic-version` header, and a body with `model`, `max_tokens` and `messages`
//! (Anthropic's 401 and 400 bodies otherwise). Then it answers from the queue of
//! [`AnthropicScript`]s, or by default echoes the last user text (`"echo: <text>"`), as a
//! message or, with `stream: true`, as the documented event sequence.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::StatusCode;
use axum::response::Response;
use bytes::Bytes;
use serde_json::{Value, json};
use tokio::task::JoinHandle;

use super::HangUps;

/// One scripted answer to the next `POST /v1/messages`.
#[derive(Clone, Debug, PartialEq)]
pub enum AnthropicScript {
    /// A JSON body with a status and extra headers (`retry-after`, …).
    Reply {
        status: u16,
        body: Value,
        headers: Vec<(String, String)>,
    },
    /// A `200 text/event-stream` body: each value becomes `event: <its type>` and
    /// `data: <it>`, in order; the body then ends, whatever the last event was.
    Stream { events: Vec<Value> },
    /// Like `Stream`, but the body then stays open until the client hangs up
    /// ([`MockAnthropic::hang_ups`]).
    StreamThenStall { events: Vec<Value> },
}

impl AnthropicScript {
    /// An error status with Anthropic's error body.
    pub fn error(status: u16, kind: &str, message: &str) -> Self {
        AnthropicScript::Reply {
            status,
            body: error_body(kind, message),
            headers: Vec::new(),
        }
    }
}

/// Anthropic's error body.
pub fn error_body(kind: &str, message: &str) -> Value {
    json!({"type": "error", "error": {"type": kind, "message": message}, "request_id": "req_mock"})
}

/// A request as the mock received it.
#[derive(Clone, Debug)]
pub struct AnthropicRequest {
    pub path: String,
    /// Lower-case names.
    pub headers: Vec<(String, String)>,
    pub body: Value,
}

impl AnthropicRequest {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }
}

#[derive(Default)]
struct MockState {
    scripts: VecDeque<AnthropicScript>,
    requests: Vec<AnthropicRequest>,
}

pub struct MockAnthropic {
    addr: SocketAddr,
    state: Arc<Mutex<MockState>>,
    hang_ups: HangUps,
    task: JoinHandle<()>,
}

impl Drop for MockAnthropic {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl MockAnthropic {
    pub async fn start() -> MockAnthropic {
        let state = Arc::new(Mutex::new(MockState::default()));
        let hang_ups = HangUps::default();
        let router = Router::new()
            .fallback(handle)
            .with_state((state.clone(), hang_ups.clone()));
        let (addr, task) = super::serve_on_loopback(router).await;
        MockAnthropic {
            addr,
            state,
            hang_ups,
            task,
        }
    }

    /// The API root, as a deployment's `base_url`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn push(&self, script: AnthropicScript) {
        lock(&self.state).scripts.push_back(script);
    }

    pub fn requests(&self) -> Vec<AnthropicRequest> {
        lock(&self.state).requests.clone()
    }

    /// Clients that hung up on a [`AnthropicScript::StreamThenStall`] body.
    pub fn hang_ups(&self) -> &HangUps {
        &self.hang_ups
    }
}

fn lock(state: &Mutex<MockState>) -> MutexGuard<'_, MockState> {
    state.lock().unwrap_or_else(PoisonError::into_inner)
}

async fn handle(
    State((state, hang_ups)): State<(Arc<Mutex<MockState>>, HangUps)>,
    request: Request,
) -> Response {
    let (parts, body) = request.into_parts();
    let bytes = axum::body::to_bytes(body, 64 << 20)
        .await
        .unwrap_or_default();
    let headers: Vec<(String, String)> = parts
        .headers
        .iter()
        .map(|(name, value)| {
            (
                name.as_str().to_ascii_lowercase(),
                String::from_utf8_lossy(value.as_bytes()).into_owned(),
            )
        })
        .collect();
    let recorded = AnthropicRequest {
        path: parts.uri.path().to_owned(),
        headers,
        body: serde_json::from_slice(&bytes).unwrap_or(Value::Null),
    };
    let script = {
        let mut state = lock(&state);
        state.requests.push(recorded.clone());
        state.scripts.pop_front()
    };
    if recorded.header("x-api-key").is_none() {
        return json(
            401,
            &error_body("authentication_error", "x-api-key header is required"),
            &[],
        );
    }
    if recorded.header("anthropic-version").is_none() {
        return json(
            400,
            &error_body(
                "invalid_request_error",
                "anthropic-version: header is required",
            ),
            &[],
        );
    }
    match (parts.method.as_str(), recorded.path.as_str()) {
        ("GET", "/v1/models") => {
            return json(
                200,
                &json!({"data": [{"type": "model", "id": "claude-mock", "display_name": "Claude Mock",
                                  "created_at": "2025-01-01T00:00:00Z"}],
                        "has_more": false, "first_id": "claude-mock", "last_id": "claude-mock"}),
                &[],
            );
        }
        ("POST", "/v1/messages") => {}
        ("POST", "/v1/messages/count_tokens") => return count_tokens(&recorded.body, script),
        _ => {
            return json(
                404,
                &error_body("not_found_error", &format!("no route {}", recorded.path)),
                &[],
            );
        }
    }
    let body = &recorded.body;
    for field in ["model", "max_tokens", "messages"] {
        if body.get(field).is_none() {
            return json(
                400,
                &error_body("invalid_request_error", &format!("{field}: Field required")),
                &[],
            );
        }
    }
    match script {
        Some(AnthropicScript::Reply {
            status,
            body,
            headers,
        }) => json(status, &body, &headers),
        Some(AnthropicScript::Stream { events }) => sse(&events),
        Some(AnthropicScript::StreamThenStall { events }) => {
            event_stream(hang_ups.body_then_stall(events.iter().map(sse_frame).collect()))
        }
        None => {
            let answer = format!("echo: {}", last_user_text(body));
            let model = body["model"].as_str().unwrap_or("claude-mock").to_owned();
            if body["stream"] == json!(true) {
                sse(&echo_events(&model, &answer))
            } else {
                json(200, &echo_message(&model, &answer), &[])
            }
        }
    }
}

/// `POST /v1/messages/count_tokens`: a scripted reply, else a count of the words in
/// `system` and the messages, after Anthropic's checks (no `max_tokens` or other
/// generation field is allowed).
fn count_tokens(body: &Value, script: Option<AnthropicScript>) -> Response {
    if let Some(AnthropicScript::Reply {
        status,
        body,
        headers,
    }) = script
    {
        return json(status, &body, &headers);
    }
    for field in ["model", "messages"] {
        if body.get(field).is_none() {
            return json(
                400,
                &error_body("invalid_request_error", &format!("{field}: Field required")),
                &[],
            );
        }
    }
    const ALLOWED: [&str; 7] = [
        "model",
        "messages",
        "system",
        "tools",
        "tool_choice",
        "thinking",
        "mcp_servers",
    ];
    if let Some(extra) = body
        .as_object()
        .and_then(|fields| fields.keys().find(|key| !ALLOWED.contains(&key.as_str())))
    {
        return json(
            400,
            &error_body(
                "invalid_request_error",
                &format!("{extra}: Extra inputs are not permitted"),
            ),
            &[],
        );
    }
    let words = |value: &Value| -> usize {
        let mut texts = Vec::new();
        collect_text(value, &mut texts);
        texts
            .iter()
            .map(|text| text.split_whitespace().count())
            .sum()
    };
    let tokens = words(&body["system"]) + words(&body["messages"]);
    json(200, &json!({"input_tokens": tokens}), &[])
}

/// Every `text` string and plain string content under `value`.
fn collect_text<'a>(value: &'a Value, texts: &mut Vec<&'a str>) {
    match value {
        Value::String(text) => texts.push(text),
        Value::Array(items) => items.iter().for_each(|item| collect_text(item, texts)),
        Value::Object(fields) => {
            for (key, field) in fields {
                if matches!(key.as_str(), "text" | "content") {
                    collect_text(field, texts);
                }
            }
        }
        _ => {}
    }
}

fn last_user_text(body: &Value) -> String {
    let Some(message) = body["messages"]
        .as_array()
        .and_then(|messages| messages.iter().rev().find(|m| m["role"] == "user"))
    else {
        return String::new();
    };
    match &message["content"] {
        Value::String(text) => text.clone(),
        Value::Array(blocks) => blocks
            .iter()
            .filter(|block| block["type"] == "text")
            .filter_map(|block| block["text"].as_str())
            .collect::<Vec<_>>()
            .join(""),
        _ => String::new(),
    }
}

/// A complete answer, as the API reference shows one.
pub fn echo_message(model: &str, text: &str) -> Value {
    json!({
        "id": "msg_mock01",
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": [{"type": "text", "text": text}],
        "stop_reason": "end_turn",
        "stop_sequence": null,
        "usage": {"input_tokens": 10, "output_tokens": 5,
                  "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0}
    })
}

/// The documented event sequence of a streamed text answer, the text in two deltas.
pub fn echo_events(model: &str, text: &str) -> Vec<Value> {
    let middle = text
        .char_indices()
        .nth(text.chars().count() / 2)
        .map_or(0, |(at, _)| at);
    vec![
        json!({"type": "message_start", "message": {"id": "msg_mock01", "type": "message",
               "role": "assistant", "model": model, "content": [], "stop_reason": null,
               "stop_sequence": null, "usage": {"input_tokens": 10, "output_tokens": 1,
               "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0}}}),
        json!({"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}}),
        json!({"type": "ping"}),
        json!({"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": &text[..middle]}}),
        json!({"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": &text[middle..]}}),
        json!({"type": "content_block_stop", "index": 0}),
        json!({"type": "message_delta", "delta": {"stop_reason": "end_turn", "stop_sequence": null},
               "usage": {"output_tokens": 5}}),
        json!({"type": "message_stop"}),
    ]
}

fn json(status: u16, body: &Value, headers: &[(String, String)]) -> Response {
    let mut builder = Response::builder()
        .status(StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR))
        .header("content-type", "application/json")
        .header("request-id", "req_mock");
    for (name, value) in headers {
        builder = builder.header(name.as_str(), value.as_str());
    }
    builder
        .body(Body::from(body.to_string()))
        .unwrap_or_else(|_| Response::new(Body::from("mock: bad script headers")))
}

/// One event on the wire: `event:` is the payload's `type`, as Anthropic sends it.
fn sse_frame(event: &Value) -> Bytes {
    let name = event["type"].as_str().unwrap_or("message");
    Bytes::from(format!("event: {name}\ndata: {event}\n\n"))
}

fn sse(events: &[Value]) -> Response {
    let frames: Vec<Result<Bytes, std::io::Error>> = events.iter().map(sse_frame).map(Ok).collect();
    event_stream(Body::from_stream(futures::stream::iter(frames)))
}

fn event_stream(body: Body) -> Response {
    Response::builder()
        .status(StatusCode::OK)
        .header("content-type", "text/event-stream")
        .body(body)
        .unwrap_or_else(|_| Response::new(Body::empty()))
}
