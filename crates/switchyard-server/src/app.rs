//! The router and the serve loop.

use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderName, header};
use axum::response::{IntoResponse, Response};
use tower::ServiceBuilder;
use tower::util::MapRequestLayer;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::request_id::{
    MakeRequestId, PropagateRequestIdLayer, RequestId, SetRequestIdLayer,
};
use tower_http::sensitive_headers::SetSensitiveRequestHeadersLayer;
use tower_http::timeout::RequestBodyTimeoutLayer;

use crate::error::{ApiError, Code};
use crate::openapi;
use crate::routes::ops;
use crate::state::AppState;

pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// The longest caller-sent request id we echo; a longer one is replaced.
pub const MAX_REQUEST_ID_LEN: usize = 128;

/// 4 MiB: room for a long conversation with a few inline images.
pub const DEFAULT_MAX_BODY_BYTES: usize = 4 << 20;

/// The longest a client may take to send its request body.
const REQUEST_BODY_TIMEOUT: Duration = Duration::from_secs(60);

/// The whole application, ready to serve or to drive in-process with `oneshot`.
pub fn app(state: AppState) -> Router {
    let (routes, document) = openapi::api_router(&state).split_for_parts();
    openapi::publish(document);
    let edge = ServiceBuilder::new()
        .layer(SetSensitiveRequestHeadersLayer::new([
            header::AUTHORIZATION,
            HeaderName::from_static("api-key"),
            HeaderName::from_static("x-api-key"),
        ]))
        .layer(MapRequestLayer::new(drop_unusable_request_id))
        .layer(SetRequestIdLayer::new(REQUEST_ID, RequestIds::new()))
        .layer(PropagateRequestIdLayer::new(REQUEST_ID))
        .layer(CatchPanicLayer::custom(panic_response))
        .layer(RequestBodyTimeoutLayer::new(REQUEST_BODY_TIMEOUT));
    routes
        .fallback(ops::not_found)
        .method_not_allowed_fallback(ops::method_not_allowed)
        .layer(DefaultBodyLimit::max(state.settings().max_body_bytes))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            crate::concurrency::limit,
        ))
        .layer(edge)
        .with_state(state)
}

/// What answers while the local models load: alive on `/healthz`, not ready on
/// `/readyz`, and a 503 with `Retry-After` for everything else.
pub fn starting_app() -> Router {
    const LOADING: &str = "Switchyard is starting: its local models are still loading";
    let not_ready = || async {
        let mut error = ApiError::new(Code::NotReady, LOADING);
        error.retry_after = Some(Duration::from_secs(1));
        error
    };
    Router::new()
        .route("/healthz", axum::routing::get(ops::healthz))
        .route("/readyz", axum::routing::get(not_ready))
        .fallback(not_ready)
}

/// A caller's `x-request-id` ends up in logs, metrics exemplars and upstream headers:
/// one that is too long or not printable ASCII is dropped, and a fresh one generated.
fn drop_unusable_request_id<B>(mut request: axum::http::Request<B>) -> axum::http::Request<B> {
    let unusable = request.headers().get(&REQUEST_ID).is_some_and(|id| {
        let id = id.as_bytes();
        id.is_empty()
            || id.len() > MAX_REQUEST_ID_LEN
            || !id.iter().all(|byte| byte.is_ascii_graphic())
    });
    if unusable {
        request.headers_mut().remove(&REQUEST_ID);
    }
    request
}

/// Request ids unique across processes without a random draw per request: a random
/// per-process prefix and a counter, 32 hex digits in all.
#[derive(Clone)]
struct RequestIds {
    prefix: u64,
    next: std::sync::Arc<std::sync::atomic::AtomicU64>,
}

impl RequestIds {
    fn new() -> Self {
        RequestIds {
            prefix: uuid::Uuid::new_v4().as_u64_pair().0,
            next: Default::default(),
        }
    }
}

impl MakeRequestId for RequestIds {
    fn make_request_id<B>(&mut self, _: &axum::http::Request<B>) -> Option<RequestId> {
        let sequence = self.next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let id = format!("{:016x}{sequence:016x}", self.prefix);
        axum::http::HeaderValue::try_from(id)
            .ok()
            .map(RequestId::new)
    }
}

fn panic_response(panic: Box<dyn std::any::Any + Send + 'static>) -> Response {
    // The panic message may hold request data: it goes to the log, where the operator
    // can find the bug, never to the caller.
    let message = panic
        .downcast_ref::<&str>()
        .map(|text| (*text).to_owned())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_default();
    tracing::error!(panic = %message, "A request handler panicked.");
    ApiError::new(
        Code::Internal,
        "the server failed while handling this request",
    )
    .into_response()
}
