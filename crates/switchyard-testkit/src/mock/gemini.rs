//! [`MockGemini`]: a real HTTP server on loopback that speaks Google's Gemini API
//! (`models/{model}:generateContent`, `:streamGenerateContent?alt=sse`,
//! `:batchEmbedContents`, `GET models`), built from the API reference on plain JSON.
//!
//! It checks what Gemini checks before answering: an `x-goog-api-key` (403
//! `PERMISSION_DENIED` otherwise, as Google answers unregistered callers) and a body
//! with `contents` (400 `INVALID_ARGUMENT`). Then it answers from the queue of
//! [`GeminiScript`]s, or by default echoes the last user text (`"echo: <text>"`).
//! Streams are framed as Google frames them: `data: <json>` and a CRLF blank line.

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
use super::openai::RecordedRequest;

/// One scripted answer to the next `generateContent` or `streamGenerateContent` call.
#[derive(Clone, Debug, PartialEq)]
pub enum GeminiScript {
    /// A JSON body with a status.
    Reply { status: u16, body: Value },
    /// A `200 text/event-stream` body: each value becomes one `data:` event; the body
    /// then ends (Gemini sends no end marker).
    Stream { events: Vec<Value> },
    /// Like `Stream`, but the body then stays open until the client hangs up.
    StreamThenStall { events: Vec<Value> },
    /// Like `Stream`, then `raw` written as is, outside any `data:` field, as Gemini
    /// writes an error body when it fails mid-stream.
    StreamThenRaw { events: Vec<Value>, raw: String },
}

impl GeminiScript {
    /// An error status with Google's error body.
    pub fn error(status: u16, message: &str) -> Self {
        GeminiScript::Reply {
            status,
            body: error_body(status, message),
        }
    }
}

/// Google's `google.rpc.Status` error body, its status name chosen from the HTTP code.
pub fn error_body(code: u16, message: &str) -> Value {
    let status = match code {
        400 => "INVALID_ARGUMENT",
        401 => "UNAUTHENTICATED",
        403 => "PERMISSION_DENIED",
        404 => "NOT_FOUND",
        429 => "RESOURCE_EXHAUSTED",
        503 => "UNAVAILABLE",
        504 => "DEADLINE_EXCEEDED",
        _ => "INTERNAL",
    };
    json!({"error": {"code": code, "message": message, "status": status}})
}

#[derive(Default)]
struct MockState {
    scripts: VecDeque<GeminiScript>,
    requests: Vec<RecordedRequest>,
}

#[derive(Clone)]
struct Shared {
    state: Arc<Mutex<MockState>>,
    hang_ups: HangUps,
}

pub struct MockGemini {
    addr: SocketAddr,
    shared: Shared,
    task: JoinHandle<()>,
}

impl Drop for MockGemini {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl MockGemini {
    pub async fn start() -> MockGemini {
        let shared = Shared {
            state: Arc::default(),
            hang_ups: HangUps::default(),
        };
        let router = Router::new().fallback(handle).with_state(shared.clone());
        let (addr, task) = super::serve_on_loopback(router).await;
        MockGemini { addr, shared, task }
    }

    /// The API root, as a deployment's `base_url`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn push(&self, script: GeminiScript) {
        lock(&self.shared.state).scripts.push_back(script);
    }

    pub fn requests(&self) -> Vec<RecordedRequest> {
        lock(&self.shared.state).requests.clone()
    }

    /// Clients that hung up on a [`GeminiScript::StreamThenStall`] body.
    pub fn hang_ups(&self) -> &HangUps {
        &self.shared.hang_ups
    }
}

fn lock(state: &Mutex<MockState>) -> MutexGuard<'_, MockState> {
    state.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The model and method of `/v1beta/models/{model}:{method}`.
fn model_call(path: &str) -> Option<(&str, &str)> {
    path.strip_prefix("/v1beta/models/")?.split_once(':')
}

async fn handle(State(shared): State<Shared>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let bytes = axum::body::to_bytes(body, 64 << 20)
        .await
        .unwrap_or_default();
    let recorded = RecordedRequest::from_parts(&parts, &bytes);
    lock(&shared.state).requests.push(recorded.clone());
    if recorded.header("x-goog-api-key").is_none() {
        return json_response(
            403,
            &error_body(
                403,
                "Method doesn't allow unregistered callers (callers without established \
                 identity). Please use API Key or other form of API consumer identity to call \
                 this API.",
            ),
        );
    }
    let path = parts.uri.path();
    if parts.method == "GET" && path == "/v1beta/models" {
        return json_response(
            200,
            &json!({"models": [{"name": "models/gemini-mock", "displayName": "Gemini Mock",
                                "supportedGenerationMethods": ["generateContent"]}]}),
        );
    }
    let Some((model, method)) = model_call(path).filter(|_| parts.method == "POST") else {
        return json_response(404, &error_body(404, &format!("no route {path}")));
    };
    let body = &recorded.body;
    match method {
        "generateContent" | "streamGenerateContent" => {}
        "batchEmbedContents" => return embed(body),
        _ => {
            return json_response(404, &error_body(404, &format!("unknown method {method}")));
        }
    }
    if !body["contents"].is_array() {
        return json_response(
            400,
            &error_body(
                400,
                "* GenerateContentRequest.contents: contents is not specified",
            ),
        );
    }
    let script = lock(&shared.state).scripts.pop_front();
    let streaming = method == "streamGenerateContent";
    match script {
        Some(GeminiScript::Reply { status, body }) => json_response(status, &body),
        Some(GeminiScript::Stream { events }) => sse(Body::from_stream(futures::stream::iter(
            events
                .iter()
                .map(frame)
                .map(Ok::<_, std::io::Error>)
                .collect::<Vec<_>>(),
        ))),
        Some(GeminiScript::StreamThenRaw { events, raw }) => {
            let mut chunks: Vec<Bytes> = events.iter().map(frame).collect();
            chunks.push(Bytes::from(raw));
            sse(Body::from_stream(futures::stream::iter(
                chunks.into_iter().map(Ok::<_, std::io::Error>),
            )))
        }
        Some(GeminiScript::StreamThenStall { events }) => sse(shared
            .hang_ups
            .body_then_stall(events.iter().map(frame).collect())),
        None => {
            let answer = echo(model, &format!("echo: {}", last_user_text(body)));
            if streaming {
                sse(Body::from(frame(&answer)))
            } else {
                json_response(200, &answer)
            }
        }
    }
}

/// One vector of 8 dimensions per request, from the text's length, and no usage (the
/// API reports none).
fn embed(body: &Value) -> Response {
    let Some(requests) = body["requests"].as_array() else {
        return json_response(
            400,
            &error_body(400, "* requests: requests is not specified"),
        );
    };
    let embeddings: Vec<Value> = requests
        .iter()
        .map(|request| {
            let text = request["content"]["parts"][0]["text"]
                .as_str()
                .unwrap_or("");
            let dimensions = request["outputDimensionality"].as_u64().unwrap_or(8) as usize;
            let values: Vec<f64> = (0..dimensions)
                .map(|i| ((text.len() + i) % 7) as f64 / 7.0)
                .collect();
            json!({"values": values})
        })
        .collect();
    json_response(200, &json!({"embeddings": embeddings}))
}

fn last_user_text(body: &Value) -> String {
    body["contents"]
        .as_array()
        .and_then(|contents| contents.iter().rev().find(|c| c["role"] == "user"))
        .and_then(|content| content["parts"].as_array())
        .map(|parts| {
            parts
                .iter()
                .filter_map(|part| part["text"].as_str())
                .collect::<String>()
        })
        .unwrap_or_default()
}

/// A complete answer, as the API reference shows one.
pub fn echo(model: &str, text: &str) -> Value {
    json!({
        "candidates": [{"content": {"parts": [{"text": text}], "role": "model"},
                        "finishReason": "STOP", "index": 0}],
        "usageMetadata": {"promptTokenCount": 10, "candidatesTokenCount": 5, "totalTokenCount": 15},
        "modelVersion": model,
        "responseId": "mock-response-1"
    })
}

fn frame(event: &Value) -> Bytes {
    Bytes::from(format!("data: {event}\r\n\r\n"))
}

fn json_response(status: u16, body: &Value) -> Response {
    Response::builder()
        .status(StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR))
        .header("content-type", "application/json; charset=UTF-8")
        .body(Body::from(body.to_string()))
        .unwrap_or_else(|_| Response::new(Body::empty()))
}

fn sse(body: Body) -> Response {
    Response::builder()
        .status(StatusCode::OK)
        .header("content-type", "text/event-stream")
        .body(body)
        .unwrap_or_else(|_| Response::new(Body::empty()))
}
