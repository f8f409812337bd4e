//! `POST /v1/chat/completions`.

use axum::extract::State;
use axum::response::Response;
use switchyard_protocols::openai;

use crate::body::JsonBody;
use crate::context::RequestContext;
use crate::error::ApiError;
use crate::ingress::{openai::ChatCompletions, serve_chat};
use crate::state::AppState;

/// Creates a chat completion, as OpenAI's `POST /v1/chat/completions`.
#[utoipa::path(
    post,
    path = "/v1/chat/completions",
    operation_id = "createChatCompletion",
    tag = "chat",
    request_body = openai::ChatCompletionRequest,
    responses(
        (
            status = 200,
            description = "The answer as a `chat.completion`; with `stream: true`, a `text/event-stream` of `data: <chat.completion.chunk>` events ending in `data: [DONE]` (or in a final `data: {\"error\": ...}` event if the upstream fails mid-stream)",
            content(
                (openai::ChatCompletionResponse = "application/json"),
                (openai::ChatCompletionChunk = "text/event-stream"),
            )
        ),
        crate::openapi::ModelCallErrors,
    ),
    security((), ("bearer" = []), ("api_key" = []), ("x_api_key" = []))
)]
pub async fn chat_completions(
    State(state): State<AppState>,
    cx: RequestContext,
    body: Result<JsonBody, ApiError>,
) -> Response {
    serve_chat::<ChatCompletions>(state, cx, body).await
}
