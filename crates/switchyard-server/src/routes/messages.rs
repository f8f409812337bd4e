//! `POST /v1/messages`: Anthropic's Messages API, for Anthropic SDK clients, served by
//! any model behind Switchyard.

use axum::extract::State;
use axum::response::Response;
use serde::Serialize;
use utoipa::ToSchema;

use crate::body::JsonBody;
use crate::context::RequestContext;
use crate::error::ApiError;
use crate::ingress::{anthropic::Messages, serve_chat};
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
            content_type = "application/json",
            headers(
                ("x-request-id" = String, description = "The caller's request id, or a generated one"),
                ("x-switchyard-model" = String, description = "The public model name that served the request"),
                ("x-switchyard-deployment" = String, description = "The deployment that answered"),
                ("x-switchyard-provider" = String, description = "The provider of that deployment"),
                ("x-switchyard-attempts" = u32, description = "How many deployments were tried"),
            )
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
