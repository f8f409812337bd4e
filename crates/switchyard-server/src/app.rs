//! The router and the serve loop.

use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderName, header};
use axum::response::{IntoResponse, Response};
use tower::ServiceBuilder;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::sensitive_headers::SetSensitiveRequestHeadersLayer;
use tower_http::timeout::RequestBodyTimeoutLayer;

use crate::error::{ApiError, Code};
use crate::openapi;
use crate::routes::ops;
use crate::state::AppState;

pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

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
        .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
        .layer(PropagateRequestIdLayer::new(REQUEST_ID))
        .layer(CatchPanicLayer::custom(panic_response))
        .layer(RequestBodyTimeoutLayer::new(REQUEST_BODY_TIMEOUT));
    routes
        .fallback(ops::not_found)
        .method_not_allowed_fallback(ops::method_not_allowed)
        .layer(DefaultBodyLimit::max(state.settings().max_body_bytes))
        .layer(edge)
        .with_state(state)
}

fn panic_response(_panic: Box<dyn std::any::Any + Send + 'static>) -> Response {
    // The panic message may hold request data; it is not echoed to the caller.
    tracing::error!("A request handler panicked.");
    ApiError::new(
        Code::Internal,
        "the server failed while handling this request",
    )
    .into_response()
}
