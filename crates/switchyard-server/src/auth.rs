//! Master-key authentication for the model API.
//!
//! A key may come in any header an SDK uses: `Authorization: Bearer` (OpenAI),
//! `api-key` (Azure OpenAI) or `x-api-key` (Anthropic). Keys are compared in constant
//! time. With no master keys configured, the API is open.

use axum::extract::{Request, State};
use axum::http::HeaderMap;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use secrecy::ExposeSecret;
use subtle::ConstantTimeEq;

use crate::error::{ApiError, Code};
use crate::state::AppState;

/// The key the caller presented, from whichever header carries one.
pub fn presented_key(headers: &HeaderMap) -> Option<&str> {
    if let Some(bearer) = headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| {
            value
                .strip_prefix("Bearer ")
                .or_else(|| value.strip_prefix("bearer "))
        })
    {
        return Some(bearer.trim());
    }
    ["api-key", "x-api-key"].into_iter().find_map(|name| {
        headers
            .get(name)
            .and_then(|value| value.to_str().ok())
            .map(str::trim)
    })
}

pub async fn require_master_key(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let keys = &state.settings().master_keys;
    if keys.is_empty() {
        return next.run(request).await;
    }
    let Some(presented) = presented_key(request.headers()) else {
        return ApiError::new(
            Code::InvalidApiKey,
            "no API key provided; send it as `Authorization: Bearer KEY`, `api-key` or `x-api-key`",
        )
        .into_response();
    };
    // Compare against every key without stopping early, so timing says nothing about
    // which key (or how much of one) matched.
    let matched = keys.iter().fold(false, |matched, key| {
        matched | bool::from(key.expose_secret().as_bytes().ct_eq(presented.as_bytes()))
    });
    if !matched {
        return ApiError::new(Code::InvalidApiKey, "the API key provided is not valid")
            .into_response();
    }
    next.run(request).await
}
