//! `POST /v1/chat/completions`.

use std::convert::Infallible;

use axum::Json;
use axum::extract::State;
use axum::response::sse::{Event, Sse};
use axum::response::{IntoResponse, Response};
use futures::{Stream, StreamExt};
use switchyard_protocols::openai::{self, ChunkEncoder};
use switchyard_router::{RouteError, execute};
use switchyard_types::{EventStream, usage_in};

use super::served_by_headers;
use crate::accounting::Accounting;
use crate::body::JsonBody;
use crate::context::RequestContext;
use crate::error::{ApiError, Code};
use crate::state::AppState;

const ROUTE: &str = "chat_completions";

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
            ),
            headers(
                ("x-request-id" = String, description = "The caller's request id, or a generated one"),
                ("x-switchyard-model" = String, description = "The public model name that served the request"),
                ("x-switchyard-deployment" = String, description = "The deployment that answered"),
                ("x-switchyard-provider" = String, description = "The provider of that deployment"),
                ("x-switchyard-attempts" = u32, description = "How many deployments were tried"),
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
    let mut accounting = Accounting::start(state.metrics().clone(), ROUTE, cx.request_id.clone());
    let JsonBody(body) = match body {
        Ok(body) => body,
        Err(error) => return fail(accounting, error),
    };
    let request = match openai::decode_chat_request(&body) {
        Ok(request) => request,
        Err(error) => return fail(accounting, error.into()),
    };
    accounting.set_stream(request.stream);
    let route = match state.catalog().get(&request.model) {
        Ok(route) => route,
        Err(unknown) => return fail(accounting, unknown.into()),
    };
    accounting.set_model(&route.name);
    if !route.serves_chat() {
        return fail(
            accounting,
            ApiError::new(
                Code::Unsupported,
                format!("the model `{}` does not serve chat completions", route.name),
            )
            .with_param("model"),
        );
    }
    let call = cx.call_context();
    let candidates = route
        .deployments
        .iter()
        .filter(|deployment| deployment.info().capabilities.chat)
        .cloned()
        .collect::<Vec<_>>();

    if request.stream {
        let include_usage = request.stream_include_usage;
        let outcome = execute(&candidates, |deployment| {
            let (request, call) = (request.clone(), call.clone());
            async move { deployment.chat_stream(request, &call).await }
        })
        .await;
        let outcome = match outcome {
            Ok(outcome) => outcome,
            Err(error) => return route_failure(accounting, &route.name, error),
        };
        accounting.record_outcome(&outcome);
        accounting.mark_first_event();
        let events = sse_events(outcome.value, ChunkEncoder::new(include_usage), accounting);
        let mut response = Sse::new(events).into_response();
        served_by_headers(
            &mut response,
            &route.name,
            &outcome.deployment,
            outcome.attempts,
        );
        return response;
    }

    let outcome = execute(&candidates, |deployment| {
        let (request, call) = (request.clone(), call.clone());
        async move { deployment.chat(request, &call).await }
    })
    .await;
    match outcome {
        Ok(outcome) => {
            accounting.record_outcome(&outcome);
            if let Some(usage) = &outcome.value.usage {
                accounting.set_usage(usage.clone());
            }
            let mut response =
                Json(openai::from_canonical_response(&outcome.value)).into_response();
            served_by_headers(
                &mut response,
                &route.name,
                &outcome.deployment,
                outcome.attempts,
            );
            accounting.finish_ok(response.status().as_u16());
            response
        }
        Err(error) => route_failure(accounting, &route.name, error),
    }
}

/// An error from the deployments themselves: the response still names the last one
/// tried and how many were.
fn route_failure(mut accounting: Accounting, model: &str, error: RouteError) -> Response {
    accounting.record_route_error(&error);
    let tried = error
        .deployment
        .clone()
        .map(|deployment| (deployment, error.attempts));
    let mut response = fail(accounting, error.into());
    if let Some((deployment, attempts)) = tried {
        served_by_headers(&mut response, model, &deployment, attempts);
    }
    response
}

fn fail(accounting: Accounting, error: ApiError) -> Response {
    accounting.finish_error(&error);
    error.into_response()
}

struct SseState {
    events: EventStream,
    encoder: ChunkEncoder,
    accounting: Option<Accounting>,
}

/// Encodes canonical frames as OpenAI chunks, ending with `data: [DONE]`. An upstream
/// failure after the stream has started cannot change the status any more: it is sent
/// as an OpenAI error event, and the stream ends there.
fn sse_events(
    events: EventStream,
    encoder: ChunkEncoder,
    accounting: Accounting,
) -> impl Stream<Item = Result<Event, Infallible>> {
    let state = SseState {
        events,
        encoder,
        accounting: Some(accounting),
    };
    futures::stream::unfold(state, |mut state| async move {
        // `accounting` is taken when the stream ends; after that there is nothing to send.
        state.accounting.as_ref()?;
        loop {
            match state.events.next().await {
                Some(Ok(frame)) => {
                    if let (Some(usage), Some(accounting)) =
                        (usage_in(&frame), state.accounting.as_mut())
                    {
                        accounting.set_usage(usage.clone());
                    }
                    let Some(chunk) = state.encoder.encode(frame) else {
                        continue;
                    };
                    let data = serde_json::to_string(&chunk).unwrap_or_default();
                    return Some((Ok(Event::default().data(data)), state));
                }
                Some(Err(error)) => {
                    let error = ApiError::from(error);
                    if let Some(accounting) = state.accounting.take() {
                        accounting.finish_error(&error);
                    }
                    let data = error.to_openai_json().to_string();
                    return Some((Ok(Event::default().data(data)), state));
                }
                None => {
                    if let Some(accounting) = state.accounting.take() {
                        accounting.finish_ok(200);
                    }
                    return Some((Ok(Event::default().data("[DONE]")), state));
                }
            }
        }
    })
}
