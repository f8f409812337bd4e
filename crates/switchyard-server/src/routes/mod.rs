//! HTTP handlers, one module per resource.
//!
//! - [`azure`]: Azure OpenAI's deployment and `/openai/v1` routes.
//! - [`catalog`]: `GET /v1/catalog`, the built-in catalog of hosted models.
//! - [`chat`]: `POST /v1/chat/completions`, JSON and SSE.
//! - [`completions`]: `POST /v1/completions`, legacy text completions.
//! - [`embeddings`]: `POST /v1/embeddings`.
//! - [`explain`]: `POST /v1/route/explain`, a routing plan without dispatch.
//! - [`health`]: `GET /v1/route/health`, each deployment's breaker, load and latency.
//! - [`messages`]: `POST /v1/messages`, Anthropic's Messages API.
//! - [`models`]: `GET /v1/models`, `GET /v1/models/{id}`.
//! - [`responses`]: `POST /v1/responses`, and the stored responses behind it.
//! - [`ops`]: `/healthz`, `/readyz`, `/metrics`, and the fallbacks for unknown routes.

pub mod azure;
pub mod catalog;
pub mod chat;
pub mod completions;
pub mod embeddings;
pub mod explain;
pub mod health;
pub mod messages;
pub mod models;
pub mod ops;
pub mod responses;

use axum::http::{HeaderName, HeaderValue};
use axum::response::Response;
use switchyard_types::DeploymentInfo;

pub const MODEL_HEADER: HeaderName = HeaderName::from_static("x-switchyard-model");
pub const DEPLOYMENT_HEADER: HeaderName = HeaderName::from_static("x-switchyard-deployment");
pub const PROVIDER_HEADER: HeaderName = HeaderName::from_static("x-switchyard-provider");
pub const ATTEMPTS_HEADER: HeaderName = HeaderName::from_static("x-switchyard-attempts");

/// Names what served the request in response headers.
pub fn served_by_headers(
    response: &mut Response,
    model: &str,
    deployment: &DeploymentInfo,
    attempts: u32,
) {
    let headers = response.headers_mut();
    let values = [
        (MODEL_HEADER, model),
        (DEPLOYMENT_HEADER, deployment.id.as_str()),
        (PROVIDER_HEADER, &deployment.provider),
    ];
    for (name, value) in values {
        if let Ok(value) = HeaderValue::from_str(value) {
            headers.insert(name, value);
        }
    }
    headers.insert(ATTEMPTS_HEADER, HeaderValue::from(attempts));
}
