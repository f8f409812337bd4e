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
#[utoipa::path(
    get,
    path = "/healthz",
    operation_id = "health",
    tag = "operations",
    responses((status = 200, description = "The process is alive: `{\"status\": \"ok\"}`", body = serde_json::Value))
)]
pub async fn healthz() -> Json<serde_json::Value> {
    Json(json!({"status": "ok"}))
}

/// Ready: the config is loaded and every model is ready to answer.
#[utoipa::path(
    get,
    path = "/readyz",
    operation_id = "readiness",
    tag = "operations",
    responses(
        (status = 200, description = "Ready: `{\"status\": \"ready\", \"models\": N}`", body = serde_json::Value),
        (status = 503, description = "Models are still loading", body = switchyard_protocols::openai::ErrorBody),
    )
)]
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

/// Prometheus metrics in the OpenMetrics text format.
#[utoipa::path(
    get,
    path = "/metrics",
    operation_id = "metrics",
    tag = "operations",
    responses((status = 200, description = "Requests, latency and time-to-first-token histograms, tokens, in-flight requests, upstream errors, each deployment's circuit, calls in flight and latency averages, governance refusals, budget alerts and ledger records", content_type = "application/openmetrics-text"))
)]
pub async fn metrics(State(state): State<AppState>, headers: axum::http::HeaderMap) -> Response {
    // Deployment names, volumes and circuit states are the operator's: on a server with
    // master keys they take one, unless `server.public_metrics` says otherwise.
    let settings = state.settings();
    if !settings.master_keys.is_empty()
        && !settings.public_metrics
        && !crate::auth::has_master_key(&state, &headers)
    {
        return ApiError::new(
            Code::InvalidApiKey,
            "the metrics of a server with master keys need one (or `server.public_metrics = true`)",
        )
        .into_response();
    }
    let health = state.health();
    state.metrics().observe_deployments(
        state
            .deployments()
            .into_iter()
            .map(|deployment| (deployment.info(), health.observe(&deployment.info().id))),
    );
    state
        .metrics()
        .observe_ledger(state.governance().writer().stats());
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
