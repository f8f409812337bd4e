//! `POST /v1/messages` and `POST /v1/messages/count_tokens`: Anthropic's Messages API,
//! for Anthropic SDK clients, served by any model behind Switchyard.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderName, HeaderValue};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use switchyard_protocols::anthropic::ingress::decode_count_request;
use switchyard_router::tokens::estimate_input_tokens;
use switchyard_types::ErrorKind;
use utoipa::ToSchema;

use super::DEPLOYMENT_HEADER;
use crate::body::JsonBody;
use crate::context::RequestContext;
use crate::error::ApiError;
use crate::ingress::{anthropic::Messages, prepare, serve_chat};
use crate::state::AppState;

/// Anthropic's error body, as every error of these routes is written.
#[derive(Serialize, ToSchema)]
pub struct AnthropicError {
    /// Always `error`.
    #[serde(rename = "type")]
    pub kind: String,
    pub error: AnthropicErrorObject,
}

#[derive(Serialize, ToSchema)]
pub struct AnthropicErrorObject {
    /// `invalid_request_error`, `authentication_error`, `not_found_error`,
    /// `rate_limit_error`, `api_error`, `overloaded_error`, …
    #[serde(rename = "type")]
    pub kind: String,
    pub message: String,
}

/// Creates a message, as Anthropic's `POST /v1/messages`.
#[utoipa::path(
    post,
    path = "/v1/messages",
    operation_id = "createMessage",
    tag = "messages",
    request_body(
        content = serde_json::Value,
        content_type = "application/json",
        description = "An Anthropic Messages request: `model`, `max_tokens`, `messages`, and optionally `system`, `tools`, `tool_choice`, `thinking`, `stop_sequences`, `temperature`, `top_p`, `top_k`, `metadata`, `output_config`, `stream`"
    ),
    responses(
        (
            status = 200,
            description = "The answer as an Anthropic `message`; with `stream: true`, a `text/event-stream` of `message_start`, `content_block_start`/`delta`/`stop`, `message_delta` and `message_stop` events, with `ping` while idle (or an `error` event if the upstream fails mid-stream)",
            content_type = "application/json"
        ),
        crate::openapi::AnthropicCallErrors,
    ),
    security((), ("bearer" = []), ("api_key" = []), ("x_api_key" = []))
)]
pub async fn create(
    State(state): State<AppState>,
    cx: RequestContext,
    body: Result<JsonBody, ApiError>,
) -> Response {
    serve_chat::<Messages>(state, cx, body).await
}

/// `{"input_tokens": N}`, as Anthropic's counting endpoint answers.
#[derive(Serialize, ToSchema)]
pub struct TokenCount {
    pub input_tokens: u64,
}

/// Whether a count came from the model's own tokenizer or is an estimate.
pub const COUNT_HEADER: HeaderName = HeaderName::from_static("x-switchyard-token-count");

/// Counts a message's input tokens, as Anthropic's `POST /v1/messages/count_tokens`.
///
/// The first deployment of the model that can count exactly does (the local engine
/// with its tokenizer and chat template); otherwise the count is estimated with
/// `o200k_base`, and `x-switchyard-token-count: estimate` says so.
#[utoipa::path(
    post,
    path = "/v1/messages/count_tokens",
    operation_id = "countMessageTokens",
    tag = "messages",
    request_body(
        content = serde_json::Value,
        content_type = "application/json",
        description = "A Messages request; `max_tokens` is not needed"
    ),
    responses(
        (
            status = 200,
            description = "The input tokens the request would take",
            body = TokenCount,
            headers(
                ("x-switchyard-token-count" = String, description = "`exact` (counted by the model's tokenizer) or `estimate`"),
                ("x-switchyard-deployment" = String, description = "The deployment that counted, when one did"),
            )
        ),
        crate::openapi::AnthropicCallErrors,
    ),
    security((), ("bearer" = []), ("api_key" = []), ("x_api_key" = []))
)]
pub async fn count_tokens(
    State(state): State<AppState>,
    cx: RequestContext,
    body: Result<JsonBody, ApiError>,
) -> Result<Response, ApiError> {
    let JsonBody(body) = body?;
    let mut request = decode_count_request(&body)?;
    // Counted only where the call itself may go: the key's models, every policy, the
    // breakers. A prompt no deployment may take is refused as the call would be.
    let resolved = prepare::resolve(&state, &cx, &request.model, &mut request.extra)?;
    let (plan, _) = prepare::plan(&state, &cx, &resolved, &request).await?;
    let call = cx.call_context();
    for deployment in &plan.candidates {
        match deployment
            .provider
            .count_tokens(request.clone(), &call)
            .await
        {
            Ok(input_tokens) => {
                let mut response = Json(TokenCount { input_tokens }).into_response();
                let headers = response.headers_mut();
                headers.insert(COUNT_HEADER, HeaderValue::from_static("exact"));
                if let Ok(id) = HeaderValue::from_str(deployment.info().id.as_str()) {
                    headers.insert(DEPLOYMENT_HEADER, id);
                }
                return Ok(response);
            }
            // A prompt longer than the model's context is the caller's to fix; any
            // other failure (no counting, content the model refuses) leaves the count
            // to the next deployment, or to the estimate.
            Err(error) if error.kind == ErrorKind::ContextLengthExceeded => {
                return Err(error.into());
            }
            Err(_) => {}
        }
    }
    let input_tokens = estimate_input_tokens(&request);
    let mut response = Json(TokenCount { input_tokens }).into_response();
    response
        .headers_mut()
        .insert(COUNT_HEADER, HeaderValue::from_static("estimate"));
    Ok(response)
}
