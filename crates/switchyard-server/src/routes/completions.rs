//! `POST /v1/completions`, OpenAI's legacy text completions.

use axum::extract::State;
use axum::response::Response;
use switchyard_protocols::openai::completions::{CompletionRequest, CompletionResponse};

use crate::body::JsonBody;
use crate::context::RequestContext;
use crate::error::ApiError;
use crate::ingress::{completions::Completions, serve_chat};
use crate::state::AppState;

/// Continues a prompt as written, with no chat template, as OpenAI's
/// `POST /v1/completions`. Served by the local engine and by OpenAI-compatible
/// deployments whose host has the endpoint; `echo` with `logprobs` scores the prompt.
#[utoipa::path(
    post,
    path = "/v1/completions",
    operation_id = "createCompletion",
    tag = "completions",
    request_body = CompletionRequest,
    responses(
        (
            status = 200,
            description = "The answer as a `text_completion`; with `stream: true`, a `text/event-stream` of `data: <text_completion>` chunks ending in `data: [DONE]` (or in a final `data: {\"error\": ...}` event if the upstream fails mid-stream)",
            content(
                (CompletionResponse = "application/json"),
                (CompletionResponse = "text/event-stream"),
            )
        ),
        crate::openapi::ModelCallErrors,
    ),
    security((), ("bearer" = []), ("api_key" = []), ("x_api_key" = []))
)]
pub async fn create(
    State(state): State<AppState>,
    cx: RequestContext,
    body: Result<JsonBody, ApiError>,
) -> Response {
    serve_chat::<Completions>(state, cx, body).await
}
