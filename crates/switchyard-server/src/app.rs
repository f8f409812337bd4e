//! The router and the serve loop.

use std::time::Duration;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{HeaderName, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use tower::ServiceBuilder;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::sensitive_headers::SetSensitiveRequestHeadersLayer;
use tower_http::timeout::RequestBodyTimeoutLayer;

use crate::error::{ApiError, Code};
use crate::routes::{chat, embeddings, models, ops};
use crate::state::AppState;
use crate::{auth, openapi};

pub const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// 4 MiB: room for a long conversation with a few inline images.
pub const DEFAULT_MAX_BODY_BYTES: usize = 4 << 20;

/// The longest a client may take to send its request body.
const REQUEST_BODY_TIMEOUT: Duration = Duration::from_secs(60);

/// The whole application, ready to serve or to drive in-process with `oneshot`.
pub fn app(state: AppState) -> Router {
    let model_api = Router::new()
        .route("/v1/chat/completions", post(chat::chat_completions))
        .route("/v1/embeddings", post(embeddings::embeddings))
        .route("/v1/models", get(models::list))
        .route("/v1/models/{*id}", get(models::retrieve))
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            auth::require_master_key,
        ));
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
    Router::new()
        .merge(model_api)
        .route("/healthz", get(ops::healthz))
        .route("/readyz", get(ops::readyz))
        .route("/metrics", get(ops::metrics))
        .route("/openapi.json", get(openapi::serve))
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
