//! [`MockOpenAi`]: a real HTTP server on loopback that speaks OpenAI's Chat Completions,
//! Embeddings and Models wire format.
//!
//! # How a request is handled
//!
//! 1. The body is read in full and the request is recorded (control routes under `/__mock/` are
//!    not recorded).
//! 2. If the route has a queued [`Script`], the oldest one is popped and carried out.
//! 3. Otherwise a deterministic default answer is derived from the request: chat completions echo
//!    the last user message (`"echo: <text>"`, streamed when `stream` is true), text completions
//!    continue each prompt with `" echo: <prompt>"` (with `echo`, `logprobs` and streaming as
//!    OpenAI shapes them), embeddings hash each input into a normalised vector, and models lists
//!    [`MockOpenAi::set_models`].
//!
//! Every API response carries an `x-request-id` header unless a script sets one.
//!
//! # Control routes (for other processes)
//!
//! * `POST /__mock/scripts/{chat_completions|completions|embeddings|models}` with a JSON
//!   [`Script`] queues it.
//! * `GET /__mock/requests` returns the recorded requests; `DELETE /__mock/requests` clears them.
//! * `PUT /__mock/models` with a JSON array of ids replaces the model list.
//! * `GET /__mock/stats` returns `{"streams_cancelled": n, "pending": {route: n}}`.
//!
//! The server is built on `serde_json::Value` and never on the project's wire types: it is the
//! independent reference those types are tested against.

use std::collections::{HashMap, VecDeque};
use std::future::Future;
use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::header::{CONTENT_TYPE, RETRY_AFTER};
use axum::http::{HeaderName, HeaderValue, Method, StatusCode};
use axum::response::Response;
use bytes::Bytes;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use hyper_util::service::TowerToHyperService;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::{JoinHandle, JoinSet};

use crate::fixtures;
use crate::mock::script::{Route, Script, StreamEnd};

mod defaults;

use defaults::{default_chat, default_completion, default_embeddings, default_models};

/// The largest request body the mock reads.
const MAX_BODY_BYTES: usize = 64 * 1024 * 1024;

/// The embedding dimension when the request does not set `dimensions`.
const DEFAULT_DIMENSIONS: u64 = 8;

/// The model list served until [`MockOpenAi::set_models`] is called.
const DEFAULT_MODEL: &str = "mock-gpt";

/// A mock OpenAI-compatible upstream serving on a loopback port in a background task.
///
/// Dropping it stops the server and closes every open connection, stalled ones included.
pub struct MockOpenAi {
    addr: SocketAddr,
    shared: Arc<Shared>,
    /// The accept loop; it owns every connection task, so aborting it closes them all.
    server: JoinHandle<()>,
}

/// One request as the mock received it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct RecordedRequest {
    /// The HTTP method, upper case (`POST`).
    pub method: String,
    /// The path including the query string, if any (`/v1/models?limit=1`).
    pub path: String,
    /// Headers in arrival order, names lower-cased; repeated headers appear once per value.
    pub headers: Vec<(String, String)>,
    /// The body parsed as JSON, or `Null` when it was empty or not JSON.
    pub body: Value,
}

/// State shared between the handle and the server task.
struct Shared {
    state: Mutex<MockState>,
    /// How many streamed bodies were dropped before they finished; a watch so tests can wait.
    cancelled: watch::Sender<usize>,
    /// Numbers responses, for `x-request-id` and completion ids.
    seq: AtomicU64,
}

#[derive(Default)]
struct MockState {
    scripts: HashMap<Route, VecDeque<Script>>,
    requests: Vec<RecordedRequest>,
    models: Vec<String>,
}

/// What a streamed body does once its events are sent.
enum Tail {
    /// End the body cleanly.
    Finish,
    /// Never end.
    Pending,
    /// Fail the body, which makes hyper abort the connection.
    Reset,
}

/// Counts a streamed body as cancelled when it is dropped before it finished.
struct CancelGuard {
    shared: Arc<Shared>,
    finished: bool,
}

struct SseState {
    guard: CancelGuard,
    events: VecDeque<Bytes>,
    delay: Duration,
    first: bool,
    tail: Option<Tail>,
}

type ResponseFuture = Pin<Box<dyn Future<Output = Response> + Send>>;

// === impl MockOpenAi ===

impl MockOpenAi {
    /// Binds `127.0.0.1:0` and serves in a background task.
    ///
    /// # Panics
    ///
    /// If no loopback port can be bound.
    pub async fn start() -> MockOpenAi {
        MockOpenAi::start_on(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)))
            .await
            .expect("binding a loopback port for the mock upstream")
    }

    /// Binds `addr` and serves in a background task.
    pub async fn start_on(addr: SocketAddr) -> io::Result<MockOpenAi> {
        let listener = TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared {
            state: Mutex::new(MockState {
                models: vec![DEFAULT_MODEL.to_owned()],
                ..MockState::default()
            }),
            cancelled: watch::Sender::new(0),
            seq: AtomicU64::new(0),
        });
        let router = Router::new().fallback(handle).with_state(shared.clone());
        let server = tokio::spawn(serve(listener, router));
        Ok(MockOpenAi {
            addr,
            shared,
            server,
        })
    }

    /// The bound socket address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The OpenAI base URL, `http://127.0.0.1:PORT/v1`.
    pub fn base_url(&self) -> String {
        format!("http://{}/v1", self.addr)
    }

    /// Queues `script` for the next request to `route` (FIFO per route).
    pub fn push(&self, route: Route, script: Script) {
        self.shared.push(route, script);
    }

    /// How many scripts are still queued for `route`.
    pub fn pending(&self, route: Route) -> usize {
        self.shared
            .lock()
            .scripts
            .get(&route)
            .map_or(0, VecDeque::len)
    }

    /// Replaces the model ids served by the default `GET /v1/models` (initially `["mock-gpt"]`).
    pub fn set_models(&self, models: Vec<String>) {
        self.shared.lock().models = models;
    }

    /// Every request received so far, in arrival order.
    pub fn requests(&self) -> Vec<RecordedRequest> {
        self.shared.lock().requests.clone()
    }

    /// The requests received so far that hit `route`.
    pub fn requests_to(&self, route: Route) -> Vec<RecordedRequest> {
        self.requests()
            .into_iter()
            .filter(|request| request.route() == Some(route))
            .collect()
    }

    /// Forgets the recorded requests.
    pub fn clear_requests(&self) {
        self.shared.lock().requests.clear();
    }

    /// How many streamed responses the client dropped before the stream finished.
    pub fn streams_cancelled(&self) -> usize {
        *self.shared.cancelled.borrow()
    }

    /// Waits until [`streams_cancelled`](Self::streams_cancelled) reaches `n`; `false` on timeout.
    pub async fn wait_for_cancelled(&self, n: usize, timeout: Duration) -> bool {
        let mut changes = self.shared.cancelled.subscribe();
        let reached = tokio::time::timeout(timeout, async move {
            changes.wait_for(|count| *count >= n).await.is_ok()
        })
        .await;
        reached.unwrap_or(false)
    }
}

impl Drop for MockOpenAi {
    fn drop(&mut self) {
        self.server.abort();
    }
}

impl std::fmt::Debug for MockOpenAi {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MockOpenAi")
            .field("addr", &self.addr)
            .finish_non_exhaustive()
    }
}

// === impl RecordedRequest ===

impl RecordedRequest {
    /// The request as it arrived: names lower-cased, the body parsed as JSON.
    pub(crate) fn from_parts(parts: &axum::http::request::Parts, body: &[u8]) -> Self {
        RecordedRequest {
            method: parts.method.as_str().to_owned(),
            path: parts
                .uri
                .path_and_query()
                .map_or_else(|| parts.uri.path().to_owned(), |pq| pq.as_str().to_owned()),
            headers: parts
                .headers
                .iter()
                .map(|(name, value)| {
                    (
                        name.as_str().to_ascii_lowercase(),
                        String::from_utf8_lossy(value.as_bytes()).into_owned(),
                    )
                })
                .collect(),
            body: serde_json::from_slice(body).unwrap_or(Value::Null),
        }
    }

    /// The first value of header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }

    /// The mocked route this request hit, if any.
    pub fn route(&self) -> Option<Route> {
        let path = self.path.split('?').next().unwrap_or_default();
        match_route(&self.method, path).map(|(route, _)| route)
    }
}

// === impl Shared ===

impl Shared {
    fn lock(&self) -> MutexGuard<'_, MockState> {
        // A panicking test thread must not wedge the mock for the assertions that follow.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn push(&self, route: Route, script: Script) -> usize {
        let mut state = self.lock();
        let queue = state.scripts.entry(route).or_default();
        queue.push_back(script);
        queue.len()
    }

    fn next_seq(&self) -> u64 {
        self.seq.fetch_add(1, Ordering::Relaxed) + 1
    }
}

// === impl CancelGuard ===

impl CancelGuard {
    /// Marks the stream as ended by the server, so dropping it is not a cancellation.
    fn finish(&mut self) {
        self.finished = true;
    }
}

impl Drop for CancelGuard {
    fn drop(&mut self) {
        if !self.finished {
            self.shared.cancelled.send_modify(|count| *count += 1);
        }
    }
}

// === server ===

/// Accepts connections until aborted; connection tasks live in a `JoinSet` so that aborting this
/// task drops (and closes) all of them.
async fn serve(listener: TcpListener, router: Router) {
    let mut connections = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let Ok((stream, _peer)) = accepted else {
                    // Accept errors (such as running out of file descriptors) are transient;
                    // back off briefly rather than spin.
                    tokio::time::sleep(Duration::from_millis(10)).await;
                    continue;
                };
                let service = TowerToHyperService::new(router.clone());
                connections.spawn(async move {
                    let builder = auto::Builder::new(TokioExecutor::new());
                    // Connection errors are the client's business (it hung up, or a script
                    // reset the stream); there is nobody to report them to.
                    let _ = builder
                        .serve_connection_with_upgrades(TokioIo::new(stream), service)
                        .await;
                });
            }
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
}

async fn handle(State(shared): State<Arc<Shared>>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let bytes = match axum::body::to_bytes(body, MAX_BODY_BYTES).await {
        Ok(bytes) => bytes,
        Err(error) => {
            return json_response(
                StatusCode::BAD_REQUEST,
                &fixtures::error_body(
                    &format!("mock: could not read the request body: {error}"),
                    "invalid_request_error",
                    None,
                    None,
                ),
            );
        }
    };
    let path = parts.uri.path().to_owned();
    if let Some(control_path) = path.strip_prefix("/__mock/") {
        return control(&shared, &parts.method, control_path, &bytes);
    }

    let recorded = RecordedRequest::from_parts(&parts, &bytes);
    let body = recorded.body.clone();
    let script = {
        let mut state = shared.lock();
        state.requests.push(recorded);
        match_route(parts.method.as_str(), &path).map(|(route, model_id)| {
            let script = state.scripts.get_mut(&route).and_then(VecDeque::pop_front);
            (route, model_id, script)
        })
    };

    let seq = shared.next_seq();
    let mut response = match script {
        None => invalid_url(&parts.method, &path),
        Some((_, _, Some(script))) => run_script(shared.clone(), script).await,
        Some((Route::ChatCompletions, _, None)) => default_chat(&shared, &body, seq),
        Some((Route::Completions, _, None)) => default_completion(&shared, &body, seq),
        Some((Route::Embeddings, _, None)) => default_embeddings(&body),
        Some((Route::Models, model_id, None)) => {
            let models = shared.lock().models.clone();
            default_models(&models, model_id.as_deref())
        }
    };
    let request_id = HeaderName::from_static("x-request-id");
    if !response.headers().contains_key(&request_id) {
        let value = HeaderValue::from_str(&format!("req_mock{seq:08}"))
            .expect("a formatted request id is a valid header value");
        response.headers_mut().insert(request_id, value);
    }
    response
}

/// Maps a method and path (no query) to a route and, for `GET /v1/models/{id}`, the model id.
fn match_route(method: &str, path: &str) -> Option<(Route, Option<String>)> {
    // Azure OpenAI serves the same operations under `/openai/deployments/{name}/…`
    // (with `?api-version=`) and under the version-less `/openai/v1/…`.
    if let Some(rest) = path.strip_prefix("/openai/deployments/")
        && let Some((_deployment, operation)) = rest.split_once('/')
    {
        return match (method, operation) {
            ("POST", "chat/completions") => Some((Route::ChatCompletions, None)),
            ("POST", "completions") => Some((Route::Completions, None)),
            ("POST", "embeddings") => Some((Route::Embeddings, None)),
            _ => None,
        };
    }
    // Azure AI Foundry's model inference serves every deployment under `/models/…`.
    match (method, path) {
        ("POST", "/models/chat/completions") => return Some((Route::ChatCompletions, None)),
        ("POST", "/models/embeddings") => return Some((Route::Embeddings, None)),
        _ => {}
    }
    let path = match path.strip_prefix("/openai") {
        Some(v1) if v1.starts_with("/v1/") => v1,
        _ => path,
    };
    match (method, path) {
        ("POST", "/v1/chat/completions") => Some((Route::ChatCompletions, None)),
        ("POST", "/v1/completions") => Some((Route::Completions, None)),
        ("POST", "/v1/embeddings") => Some((Route::Embeddings, None)),
        ("GET", "/v1/models") => Some((Route::Models, None)),
        ("GET", _) => path
            .strip_prefix("/v1/models/")
            .filter(|id| !id.is_empty())
            .map(|id| (Route::Models, Some(id.to_owned()))),
        _ => None,
    }
}

fn control(shared: &Arc<Shared>, method: &Method, path: &str, body: &[u8]) -> Response {
    match (method.as_str(), path) {
        ("POST", _) if path.starts_with("scripts/") => {
            let name = path.trim_start_matches("scripts/");
            let route = match name.parse::<Route>() {
                Ok(route) => route,
                Err(message) => return control_error(StatusCode::NOT_FOUND, &message),
            };
            match serde_json::from_slice::<Script>(body) {
                Ok(script) => {
                    let queued = shared.push(route, script);
                    json_response(StatusCode::OK, &json!({ "queued": queued }))
                }
                Err(error) => {
                    control_error(StatusCode::BAD_REQUEST, &format!("invalid script: {error}"))
                }
            }
        }
        ("GET", "requests") => {
            let requests = shared.lock().requests.clone();
            json_response(StatusCode::OK, &json!(requests))
        }
        ("DELETE", "requests") => {
            shared.lock().requests.clear();
            empty_response(StatusCode::NO_CONTENT)
        }
        ("PUT", "models") => match serde_json::from_slice::<Vec<String>>(body) {
            Ok(models) => {
                shared.lock().models = models;
                empty_response(StatusCode::NO_CONTENT)
            }
            Err(error) => control_error(
                StatusCode::BAD_REQUEST,
                &format!("expected a JSON array of model ids: {error}"),
            ),
        },
        ("GET", "stats") => {
            let pending: serde_json::Map<String, Value> = {
                let state = shared.lock();
                Route::ALL
                    .into_iter()
                    .map(|route| {
                        let n = state.scripts.get(&route).map_or(0, VecDeque::len);
                        (route.as_str().to_owned(), json!(n))
                    })
                    .collect()
            };
            let cancelled = *shared.cancelled.borrow();
            json_response(
                StatusCode::OK,
                &json!({ "streams_cancelled": cancelled, "pending": pending }),
            )
        }
        _ => control_error(
            StatusCode::NOT_FOUND,
            &format!("unknown control route {method} /__mock/{path}"),
        ),
    }
}

// === scripts ===

fn run_script(shared: Arc<Shared>, script: Script) -> ResponseFuture {
    Box::pin(async move {
        match script {
            Script::Reply {
                status,
                body,
                headers,
            } => {
                let Some(status) = status_code(status) else {
                    return bad_script(&format!("invalid status {status}"));
                };
                let mut builder = Response::builder().status(status);
                if !headers
                    .iter()
                    .any(|(name, _)| name.eq_ignore_ascii_case("content-type"))
                {
                    builder = builder.header(CONTENT_TYPE, "application/json");
                }
                for (name, value) in &headers {
                    builder = builder.header(name.as_str(), value.as_str());
                }
                builder
                    .body(Body::from(json_bytes(&body)))
                    .unwrap_or_else(|error| bad_script(&format!("invalid reply headers: {error}")))
            }
            Script::Stream {
                chunks,
                delay_ms,
                end,
            } => {
                let mut events: VecDeque<Bytes> = chunks.iter().map(data_event).collect();
                let tail = match end {
                    StreamEnd::Done => {
                        events.push_back(Bytes::from_static(b"data: [DONE]\n\n"));
                        Tail::Finish
                    }
                    StreamEnd::Stall => Tail::Pending,
                    StreamEnd::Truncate => Tail::Finish,
                    StreamEnd::Reset => Tail::Reset,
                    StreamEnd::Malformed => {
                        events.push_back(Bytes::from_static(b"data: {not json\n\n"));
                        Tail::Finish
                    }
                    StreamEnd::ErrorEvent { body } => {
                        events.push_back(data_event(&body));
                        Tail::Finish
                    }
                };
                sse_response(shared, events, Duration::from_millis(delay_ms), tail)
            }
            Script::Error {
                status,
                body,
                retry_after,
            } => {
                let Some(status) = status_code(status) else {
                    return bad_script(&format!("invalid status {status}"));
                };
                let mut response = json_response(status, &body);
                if let Some(retry_after) = retry_after {
                    match HeaderValue::from_str(&retry_after) {
                        Ok(value) => {
                            response.headers_mut().insert(RETRY_AFTER, value);
                        }
                        Err(_) => {
                            return bad_script(&format!("invalid retry_after {retry_after:?}"));
                        }
                    }
                }
                response
            }
            Script::Stall => std::future::pending().await,
            Script::Delay { ms, then } => {
                tokio::time::sleep(Duration::from_millis(ms)).await;
                run_script(shared, *then).await
            }
            Script::RawBody {
                status,
                content_type,
                body,
            } => {
                let Some(status) = status_code(status) else {
                    return bad_script(&format!("invalid status {status}"));
                };
                Response::builder()
                    .status(status)
                    .header(CONTENT_TYPE, content_type.as_str())
                    .body(Body::from(body))
                    .unwrap_or_else(|error| bad_script(&format!("invalid content_type: {error}")))
            }
        }
    })
}

/// A `text/event-stream` response that sends `events` with `delay` between them, then acts as
/// `tail`. Dropping the body before it finishes counts as a cancelled stream.
fn sse_response(
    shared: Arc<Shared>,
    events: VecDeque<Bytes>,
    delay: Duration,
    tail: Tail,
) -> Response {
    let state = SseState {
        guard: CancelGuard {
            shared,
            finished: false,
        },
        events,
        delay,
        first: true,
        tail: Some(tail),
    };
    let stream = futures::stream::unfold(state, |mut state| async move {
        if let Some(event) = state.events.pop_front() {
            if !state.first && !state.delay.is_zero() {
                tokio::time::sleep(state.delay).await;
            }
            state.first = false;
            return Some((Ok::<Bytes, io::Error>(event), state));
        }
        match state.tail.take()? {
            Tail::Finish => {
                state.guard.finish();
                None
            }
            Tail::Pending => std::future::pending().await,
            Tail::Reset => {
                // Hyper flushes buffered output only when the body is pending; yield once so the
                // headers and chunks reach the client before the connection is torn down.
                tokio::task::yield_now().await;
                state.guard.finish();
                let error = io::Error::new(
                    io::ErrorKind::ConnectionReset,
                    "mock: stream reset by script",
                );
                Some((Err(error), state))
            }
        }
    });
    Response::builder()
        .status(StatusCode::OK)
        .header(CONTENT_TYPE, "text/event-stream; charset=utf-8")
        .header("cache-control", "no-cache")
        .body(Body::from_stream(stream))
        .expect("static SSE headers are valid")
}

// === response helpers ===

fn data_event(value: &Value) -> Bytes {
    let mut event = b"data: ".to_vec();
    event.extend_from_slice(&json_bytes(value));
    event.extend_from_slice(b"\n\n");
    Bytes::from(event)
}

fn json_bytes(value: &Value) -> Vec<u8> {
    serde_json::to_vec(value).expect("serde_json::Value always serializes")
}

fn json_response(status: StatusCode, body: &Value) -> Response {
    Response::builder()
        .status(status)
        .header(CONTENT_TYPE, "application/json")
        .body(Body::from(json_bytes(body)))
        .expect("static JSON headers are valid")
}

fn empty_response(status: StatusCode) -> Response {
    Response::builder()
        .status(status)
        .body(Body::empty())
        .expect("an empty response is valid")
}

fn status_code(status: u16) -> Option<StatusCode> {
    StatusCode::from_u16(status).ok()
}

fn require_object(body: &Value) -> Option<Response> {
    (!body.is_object()).then(|| {
        invalid_request(
            "We could not parse the JSON body of your request. (HINT: This likely means you \
             aren't using your HTTP library correctly. The OpenAI API expects a JSON payload, \
             but what was sent was not valid JSON.)",
            None,
            None,
        )
    })
}

fn invalid_request(message: &str, param: Option<&str>, code: Option<&str>) -> Response {
    json_response(
        StatusCode::BAD_REQUEST,
        &fixtures::error_body(message, "invalid_request_error", param, code),
    )
}

fn invalid_url(method: &Method, path: &str) -> Response {
    json_response(
        StatusCode::NOT_FOUND,
        &fixtures::error_body(
            &format!("Invalid URL ({method} {path})"),
            "invalid_request_error",
            None,
            None,
        ),
    )
}

/// A script that cannot be carried out answers 500 so the test fails loudly.
fn bad_script(message: &str) -> Response {
    control_error(
        StatusCode::INTERNAL_SERVER_ERROR,
        &format!("mock: bad script: {message}"),
    )
}

fn control_error(status: StatusCode, message: &str) -> Response {
    json_response(
        status,
        &fixtures::error_body(message, "mock_error", None, None),
    )
}

#[cfg(test)]
mod tests {
    use super::defaults::{content_text, embedding_inputs, split_pieces};
    use super::*;

    #[test]
    fn pieces_concatenate_to_the_text() {
        assert_eq!(split_pieces("echo: hi there"), ["echo:", " hi", " there"]);
        assert_eq!(split_pieces("echo: "), ["echo:", " "]);
        assert_eq!(split_pieces("  a\nb"), ["  a", "\nb"]);
        let text = "echo: multi  space\ttext ";
        assert_eq!(split_pieces(text).concat(), text);
    }

    #[test]
    fn content_text_reads_strings_and_parts() {
        assert_eq!(content_text(&json!("hi")), "hi");
        assert_eq!(
            content_text(&json!([
                {"type": "text", "text": "a"},
                {"type": "image_url", "image_url": {"url": "x"}},
                {"type": "text", "text": "b"},
            ])),
            "a\nb"
        );
        assert_eq!(content_text(&Value::Null), "");
    }

    #[test]
    fn routes_match_methods_and_paths() {
        assert_eq!(
            match_route("POST", "/v1/chat/completions"),
            Some((Route::ChatCompletions, None))
        );
        assert_eq!(match_route("GET", "/v1/chat/completions"), None);
        assert_eq!(
            match_route("GET", "/v1/models/gpt"),
            Some((Route::Models, Some("gpt".to_owned())))
        );
        assert_eq!(match_route("POST", "/chat/completions"), None);
    }

    #[test]
    fn embedding_inputs_accept_every_openai_shape() {
        assert_eq!(
            embedding_inputs(&json!("a b")),
            Some(vec![("a b".into(), 2)])
        );
        assert_eq!(
            embedding_inputs(&json!(["a", "b c"])),
            Some(vec![("a".into(), 1), ("b c".into(), 2)])
        );
        assert_eq!(
            embedding_inputs(&json!([1, 2, 3])),
            Some(vec![("1 2 3".into(), 3)])
        );
        assert_eq!(
            embedding_inputs(&json!([[1], [2, 3]])),
            Some(vec![("1".into(), 1), ("2 3".into(), 2)])
        );
        assert_eq!(embedding_inputs(&json!([])), None);
        assert_eq!(embedding_inputs(&json!({"a": 1})), None);
    }
}
