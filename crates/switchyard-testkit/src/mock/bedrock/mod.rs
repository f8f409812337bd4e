//! [`MockBedrock`]: a real HTTP server on loopback that speaks the Bedrock Runtime
//! (`POST /model/{modelId}/converse`, `/converse-stream`, `/invoke`), built from the
//! service model on plain JSON.
//!
//! It checks what Bedrock checks before answering:
//!
//! 1. An `Authorization` header: `Bearer <key>`, or `AWS4-HMAC-SHA256` with a
//!    `…/bedrock/aws4_request` scope and `host` and `x-amz-date` among the signed
//!    headers. For the access keys it knows ([`MOCK_ACCESS_KEY_ID`]), it recomputes the
//!    signature itself ([`sigv4`]) over the path exactly as sent. Otherwise it answers
//!    403 with `x-amzn-ErrorType` and Bedrock's body.
//! 2. The Converse body's rules: a first user turn, alternating roles, one key per
//!    content block, no blank text, a `toolConfig` where tool blocks are used (400
//!    `ValidationException` otherwise).
//!
//! Then it answers from the queue of [`BedrockScript`]s, or by default echoes the last
//! user text (`"echo: <text>"`), as JSON or as a binary event stream whose frames are
//! written with `aws-smithy-eventstream`, CRCs included. InvokeModel answers embedding
//! requests for Titan and Cohere model ids. Every request is recorded with its raw path,
//! so tests can see `%3A` in a model id.

mod answers;
pub mod eventstream;
pub mod sigv4;

use std::collections::{HashMap, VecDeque};
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

pub use self::eventstream::{event_frame, exception_frame};
use super::HangUps;
use super::openai::RecordedRequest;

/// An access key the mock knows the secret of, and so verifies signatures for.
pub const MOCK_ACCESS_KEY_ID: &str = "AKIDMOCKBEDROCK0001";
/// The secret of [`MOCK_ACCESS_KEY_ID`].
pub const MOCK_SECRET_ACCESS_KEY: &str = "mock/Secret+Access/Key0123456789abcdefghij";

/// The namespace Bedrock's own errors carry in `x-amzn-ErrorType`.
const BEDROCK_NAMESPACE: &str = "http://internal.amazon.com/coral/com.amazon.bedrock/";
/// The namespace of errors from AWS's authentication layer.
const AUTH_NAMESPACE: &str = "http://internal.amazon.com/coral/com.amazon.coral.service/";

/// One scripted answer to the next request.
#[derive(Clone, Debug, PartialEq)]
pub enum BedrockScript {
    /// A JSON body with a status; `error_type` (`ThrottlingException`) goes in
    /// `x-amzn-ErrorType`, with Bedrock's namespace.
    Reply {
        status: u16,
        body: Value,
        error_type: Option<String>,
    },
    /// A `200 application/vnd.amazon.eventstream` body: each `(event type, payload)`
    /// becomes one event frame; the body then ends.
    Stream { events: Vec<(String, Value)> },
    /// Like `Stream`, but the body then stays open until the client hangs up
    /// ([`MockBedrock::hang_ups`]).
    StreamThenStall { events: Vec<(String, Value)> },
    /// Like `Stream`, then an exception frame (`throttlingException`,
    /// `internalServerException`, …) with `{"message": …}`; the body then ends.
    StreamException {
        events: Vec<(String, Value)>,
        exception_type: String,
        message: String,
    },
    /// These bytes as a `200` event-stream body, for corrupt or truncated frames.
    RawStream { body: Vec<u8> },
}

impl BedrockScript {
    /// An error status with Bedrock's error body and `x-amzn-ErrorType`.
    pub fn error(status: u16, error_type: &str, message: &str) -> Self {
        BedrockScript::Reply {
            status,
            body: json!({ "message": message }),
            error_type: Some(error_type.to_owned()),
        }
    }
}

#[derive(Default)]
struct MockState {
    scripts: VecDeque<BedrockScript>,
    requests: Vec<RecordedRequest>,
    /// Access key id → secret, for the signatures the mock verifies.
    secrets: HashMap<String, String>,
}

#[derive(Clone)]
struct Shared {
    state: Arc<Mutex<MockState>>,
    hang_ups: HangUps,
}

pub struct MockBedrock {
    addr: SocketAddr,
    shared: Shared,
    task: JoinHandle<()>,
}

impl Drop for MockBedrock {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl MockBedrock {
    /// Serves on a free loopback port, knowing the secret of [`MOCK_ACCESS_KEY_ID`].
    pub async fn start() -> MockBedrock {
        let mut state = MockState::default();
        state.secrets.insert(
            MOCK_ACCESS_KEY_ID.to_owned(),
            MOCK_SECRET_ACCESS_KEY.to_owned(),
        );
        let shared = Shared {
            state: Arc::new(Mutex::new(state)),
            hang_ups: HangUps::default(),
        };
        let router = Router::new().fallback(handle).with_state(shared.clone());
        let (addr, task) = crate::mock::serve_on_loopback(router).await;
        MockBedrock { addr, shared, task }
    }

    /// The endpoint, as a deployment's `base_url`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn push(&self, script: BedrockScript) {
        lock(&self.shared.state).scripts.push_back(script);
    }

    /// Every request received so far, in arrival order, with its raw path.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        lock(&self.shared.state).requests.clone()
    }

    /// Clients that hung up on a [`BedrockScript::StreamThenStall`] body.
    pub fn hang_ups(&self) -> &HangUps {
        &self.shared.hang_ups
    }
}

fn lock(state: &Mutex<MockState>) -> MutexGuard<'_, MockState> {
    state.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The model id (decoded) and operation of `/model/{modelId}/{operation}`.
fn model_call(raw_path: &str) -> Option<(String, &str)> {
    let (label, operation) = raw_path.strip_prefix("/model/")?.rsplit_once('/')?;
    Some((sigv4::percent_decode(label), operation))
}

async fn handle(State(shared): State<Shared>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let bytes = axum::body::to_bytes(body, 64 << 20)
        .await
        .unwrap_or_default();
    let recorded = RecordedRequest::from_parts(&parts, &bytes);
    lock(&shared.state).requests.push(recorded.clone());
    let raw_path = parts.uri.path();
    let signed = sigv4::SignedRequest {
        method: parts.method.as_str(),
        raw_path,
        raw_query: parts.uri.query().unwrap_or_default(),
        headers: &recorded.headers,
        body: &bytes,
    };
    if let Err(refusal) = authenticate(&shared, &signed) {
        return refusal.into_response();
    }
    let Some((model, operation)) = model_call(raw_path).filter(|_| parts.method == "POST") else {
        return error(
            404,
            "UnknownOperationException",
            BEDROCK_NAMESPACE,
            "Unknown operation",
        );
    };
    let body = &recorded.body;
    match operation {
        "converse" | "converse-stream" => {
            if let Some(message) = answers::converse_error(body) {
                return error(400, "ValidationException", BEDROCK_NAMESPACE, &message);
            }
        }
        "invoke" => {}
        _ => {
            return error(
                404,
                "UnknownOperationException",
                BEDROCK_NAMESPACE,
                "Unknown operation",
            );
        }
    }
    let script = lock(&shared.state).scripts.pop_front();
    match script {
        Some(BedrockScript::Reply {
            status,
            body,
            error_type,
        }) => {
            let mut response = json_response(status, &body);
            if let Some(value) =
                error_type.and_then(|kind| format!("{kind}:{BEDROCK_NAMESPACE}").parse().ok())
            {
                response.headers_mut().insert("x-amzn-errortype", value);
            }
            response
        }
        Some(BedrockScript::Stream { events }) => event_stream(Body::from(frames(&events))),
        Some(BedrockScript::StreamThenStall { events }) => event_stream(
            shared.hang_ups.body_then_stall(
                events
                    .iter()
                    .map(|(kind, payload)| event_frame(kind, payload))
                    .collect(),
            ),
        ),
        Some(BedrockScript::StreamException {
            events,
            exception_type,
            message,
        }) => {
            let mut bytes = frames(&events).to_vec();
            bytes.extend_from_slice(&exception_frame(&exception_type, &message));
            event_stream(Body::from(bytes))
        }
        Some(BedrockScript::RawStream { body }) => event_stream(Body::from(body)),
        None => default_answer(&model, operation, body),
    }
}

fn default_answer(model: &str, operation: &str, body: &Value) -> Response {
    let text = format!("echo: {}", answers::last_user_text(body));
    match operation {
        "converse" => json_response(200, &answers::echo_response(&text)),
        "converse-stream" => event_stream(Body::from(frames(&answers::echo_events(&text)))),
        _ => match answers::embedding(model, body) {
            Ok((answer, tokens)) => {
                let mut response = json_response(200, &answer);
                response
                    .headers_mut()
                    .insert("x-amzn-bedrock-input-token-count", tokens.into());
                response
            }
            Err(message) => error(400, "ValidationException", BEDROCK_NAMESPACE, &message),
        },
    }
}

/// Why AWS's authentication layer turned a request away: an error code and message.
struct Refusal {
    code: &'static str,
    message: String,
}

impl Refusal {
    fn new(code: &'static str, message: impl Into<String>) -> Self {
        Refusal {
            code,
            message: message.into(),
        }
    }

    fn into_response(self) -> Response {
        error(403, self.code, AUTH_NAMESPACE, &self.message)
    }
}

/// Checks the credentials as AWS's authentication layer does.
fn authenticate(shared: &Shared, request: &sigv4::SignedRequest<'_>) -> Result<(), Refusal> {
    let header = |name: &str| {
        request
            .headers
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    };
    let unrecognized = || {
        Refusal::new(
            "UnrecognizedClientException",
            "The security token included in the request is invalid.",
        )
    };
    let incomplete = |message: &str| Refusal::new("IncompleteSignatureException", message);
    let Some(authorization) = header("authorization") else {
        return Err(Refusal::new(
            "MissingAuthenticationTokenException",
            "Missing Authentication Token",
        ));
    };
    if let Some(key) = authorization.strip_prefix("Bearer ") {
        return if key.trim().is_empty() {
            Err(unrecognized())
        } else {
            Ok(())
        };
    }
    let parsed =
        sigv4::parse_authorization(authorization).map_err(|message| incomplete(&message))?;
    if parsed.service != "bedrock" {
        return Err(incomplete(&format!(
            "Credential should be scoped to correct service: 'bedrock'. (got '{}')",
            parsed.service
        )));
    }
    for required in ["host", "x-amz-date"] {
        if !parsed.signed_headers.iter().any(|name| name == required) {
            return Err(incomplete(&format!(
                "'{required}' must be a 'SignedHeader' in the AWS Authorization."
            )));
        }
    }
    let amz_date = header("x-amz-date").ok_or_else(|| {
        incomplete(
            "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' \
             header.",
        )
    })?;
    if !amz_date.starts_with(&parsed.date) {
        return Err(incomplete(
            "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date \
             from HTTP",
        ));
    }
    if header("x-amz-security-token").is_some()
        && !parsed
            .signed_headers
            .iter()
            .any(|name| name == "x-amz-security-token")
    {
        return Err(incomplete(
            "'x-amz-security-token' must be a 'SignedHeader' in the AWS Authorization.",
        ));
    }
    let secret = lock(&shared.state)
        .secrets
        .get(&parsed.access_key_id)
        .cloned();
    let Some(secret) = secret else {
        return Err(unrecognized());
    };
    let canonical = sigv4::canonical_request(request, &parsed.signed_headers);
    if sigv4::signature(&secret, &parsed, amz_date, &canonical) != parsed.signature {
        // AWS quotes the canonical string it expected, security token and all.
        return Err(Refusal::new(
            "InvalidSignatureException",
            format!(
                "The request signature we calculated does not match the signature you \
                 provided. Check your AWS Secret Access Key and signing method. Consult the \
                 service documentation for details.\n\nThe Canonical String for this request \
                 should have been\n'{canonical}'\n"
            ),
        ));
    }
    Ok(())
}

fn frames(events: &[(String, Value)]) -> Bytes {
    let mut bytes = Vec::new();
    for (kind, payload) in events {
        bytes.extend_from_slice(&event_frame(kind, payload));
    }
    Bytes::from(bytes)
}

fn error(status: u16, kind: &str, namespace: &str, message: &str) -> Response {
    let mut response = json_response(status, &json!({ "message": message }));
    if let Ok(value) = format!("{kind}:{namespace}").parse() {
        response.headers_mut().insert("x-amzn-errortype", value);
    }
    response
}

fn json_response(status: u16, body: &Value) -> Response {
    Response::builder()
        .status(StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR))
        .header("content-type", "application/json")
        .header("x-amzn-requestid", "00000000-0000-4000-8000-00000000mock")
        .body(Body::from(body.to_string()))
        .unwrap_or_else(|_| Response::new(Body::empty()))
}

fn event_stream(body: Body) -> Response {
    Response::builder()
        .status(StatusCode::OK)
        .header("content-type", "application/vnd.amazon.eventstream")
        .header("x-amzn-requestid", "00000000-0000-4000-8000-00000000mock")
        .body(body)
        .unwrap_or_else(|_| Response::new(Body::empty()))
}
