//! Operational endpoints: liveness, readiness, metrics, and protocol-shaped answers for
//! unknown routes and methods.

use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::error::{ApiError, Code};
use crate::state::AppState;

/// Alive: the process answers.
pub async fn healthz() -> Json<serde_json::Value> {
    Json(json!({"status": "ok"}))
}

/// Ready: the config is loaded and every model is ready to answer.
pub async fn readyz(State(state): State<AppState>) -> Response {
    let models = state.catalog().len();
    if state.is_ready() {
        (
            StatusCode::OK,
            Json(json!({"status": "ready", "models": models})),
        )
            .into_response()
    } else {
        ApiError::new(Code::NotReady, "models are still loading").into_response()
    }
}

pub async fn metrics(State(state): State<AppState>) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        state.metrics().render(),
    )
        .into_response()
}

pub async fn not_found(uri: Uri) -> ApiError {
    ApiError::new(
        Code::RouteNotFound,
        format!("no route for `{}`", uri.path()),
    )
}

pub async fn method_not_allowed(uri: Uri) -> ApiError {
    ApiError::new(
        Code::MethodNotAllowed,
        format!("this method is not allowed on `{}`", uri.path()),
    )
}
