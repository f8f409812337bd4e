//! One chat pipeline for every client protocol.
//!
//! A [`ChatDialect`] says how one protocol (OpenAI Chat Completions, Anthropic
//! Messages, …) decodes a request into the canonical model and encodes the answer,
//! the stream and its errors back. [`serve_chat`] does the rest the same way for all
//! of them: resolve the public model, route with fallback, meter, stream.
//!
//! - [`openai`]: `POST /v1/chat/completions`.
//! - [`anthropic`]: `POST /v1/messages`, and its error bodies.
//! - [`completions`]: `POST /v1/completions`, OpenAI's legacy text completions.
//! - [`responses`]: `POST /v1/responses`, OpenAI's Responses API, with conversation
//!   state in the store.
//! - [`routing`]: the policies a request is under, and its plan or refusal.

pub mod anthropic;
pub mod completions;
pub mod openai;
pub mod prepare;
pub mod responses;
pub mod routing;

use std::convert::Infallible;
use std::future::Future;

use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures::{Stream, StreamExt};
use switchyard_router::health::Admitted;
use switchyard_router::{RouteError, execute_hedged};
use switchyard_types::{
    ChatRequest, ChatResponse, ErrorKind, EventStream, StreamEvent, StreamFrame, usage_in,
};

use crate::accounting::Accounting;
use crate::body::JsonBody;
use crate::context::RequestContext;
use crate::error::ApiError;
use crate::governance;
use crate::routes::served_by_headers;
use crate::state::AppState;

/// How one client protocol speaks chat.
pub trait ChatDialect {
    /// The route's label in metrics and logs.
    const ROUTE: &'static str;
    /// What one call keeps beside its canonical request until the answer is written:
    /// the Responses API's conversation and settings; `()` for the others.
    type Call: Send + 'static;
    type Stream: StreamDialect;

    /// The caller's body as a canonical request, completed from server state where the
    /// protocol keeps some (a stored conversation of the caller's to continue).
    fn decode(
        state: &AppState,
        cx: &RequestContext,
        body: &[u8],
    ) -> impl Future<Output = Result<(ChatRequest, Self::Call), ApiError>> + Send;
    /// A complete answer as this protocol's response.
    fn answer(
        state: &AppState,
        call: Self::Call,
        response: &ChatResponse,
    ) -> impl Future<Output = Response> + Send;
    /// The encoder of a streamed answer to `request`, which named `model`.
    fn stream(
        state: &AppState,
        call: Self::Call,
        request: &ChatRequest,
        model: &str,
    ) -> Self::Stream;
    /// What keeps an idle stream open, if the protocol has something for it.
    fn keep_alive() -> Option<KeepAlive> {
        None
    }
}

/// Encodes one streamed answer as this protocol's server-sent events.
pub trait StreamDialect: Send + 'static {
    fn frame(&mut self, frame: StreamFrame) -> Vec<Event>;
    /// The events that close a complete answer (`[DONE]`, `message_stop`), after
    /// whatever the protocol keeps of it is saved.
    fn end(&mut self) -> impl Future<Output = Vec<Event>> + Send;
    /// The event that reports a failure after the stream began; the stream ends there.
    fn error(&mut self, error: &ApiError) -> Vec<Event>;
}

/// Serves one chat request in dialect `D`, from body to response.
pub async fn serve_chat<D: ChatDialect>(
    state: AppState,
    cx: RequestContext,
    body: Result<JsonBody, ApiError>,
) -> Response {
    let mut accounting = Accounting::start(&state, D::ROUTE, &cx);
    let JsonBody(body) = match body {
        Ok(body) => body,
        Err(error) => return fail(accounting, error),
    };
    let (mut request, call) = match D::decode(&state, &cx, &body).await {
        Ok(decoded) => decoded,
        Err(error) => return fail(accounting, error),
    };
    accounting.set_stream(request.stream);
    let resolved = match prepare::resolve(&state, &cx, &request.model, &mut request.extra) {
        Ok(resolved) => resolved,
        Err(error) => return fail(accounting, error),
    };
    let route = resolved.route;
    accounting.set_model(&route.name);
    let context = cx.call_context();
    // Deny before dispatch: a request no deployment can serve is refused with each
    // deployment's reason, and nothing is sent.
    let (mut plan, needs) = match prepare::plan(&state, &cx, &resolved, &request).await {
        Ok(planned) => planned,
        Err(error) => return fail(accounting, error),
    };
    // Limits and budget, before anything is sent; the plan names the deployments whose
    // prices bound the reservation.
    // A keyed request held by a token rate or a budget gets the output limit its
    // reservation assumes, so the reservation is a bound the upstream keeps.
    if request.sampling.max_tokens.is_none()
        && let Some(cap) = governance::output_cap(&state, &cx)
    {
        request.sampling.max_tokens = Some(cap);
    }
    let estimate = governance::Estimate::of(&request, &needs);
    if let Err(error) = governance::priced_for_budget(&state, &cx, &mut plan.candidates) {
        return fail(accounting, error);
    }
    accounting.set_input_estimate(estimate.input_tokens);
    let grant = governance::admit(
        &state,
        &cx,
        accounting.ledger_id(),
        &plan.candidates,
        estimate,
    )
    .await;
    let quota = match grant {
        Ok(grant) => {
            let quota = grant.as_ref().map(|grant| grant.quota);
            accounting.set_grant(grant);
            quota
        }
        Err(error) => return fail(accounting, error),
    };
    let (health, retry) = (state.health(), &state.routing().retry);
    let hedge = route.hedge.as_deref();
    // Each call reports where it goes as it starts: a request dropped while a call is
    // under way is billed by that deployment.
    let dispatched = accounting.dispatched();

    if request.stream {
        let encoder = D::stream(&state, call, &request, &route.name);
        let (outcome, hedged) =
            execute_hedged(&plan.candidates, health, retry, hedge, true, |deployment| {
                dispatched.to(deployment.info());
                let (request, context) = (request.clone(), context.clone());
                async move { deployment.chat_stream(request, &context).await }
            })
            .await;
        accounting.record_hedge(&hedged);
        let outcome = match outcome {
            Ok(outcome) => outcome,
            Err(error) => return route_failure(accounting, &route.name, error),
        };
        accounting.record_outcome(&outcome);
        accounting.mark_first_event();
        outcome.admission.first_token();
        let events = sse_events(outcome.value, encoder, accounting, outcome.admission);
        let sse = Sse::new(events);
        let mut response = match D::keep_alive() {
            Some(keep_alive) => sse.keep_alive(keep_alive).into_response(),
            None => sse.into_response(),
        };
        served_by_headers(
            &mut response,
            &route.name,
            &outcome.deployment,
            outcome.attempts,
        );
        routing::reason_header(&mut response, &plan.reason);
        if let Some(quota) = &quota {
            governance::quota_headers(response.headers_mut(), quota);
        }
        return response;
    }

    let (outcome, hedged) = execute_hedged(
        &plan.candidates,
        health,
        retry,
        hedge,
        false,
        |deployment| {
            dispatched.to(deployment.info());
            let (request, context) = (request.clone(), context.clone());
            async move { deployment.chat(request, &context).await }
        },
    )
    .await;
    accounting.record_hedge(&hedged);
    match outcome {
        Ok(outcome) => {
            accounting.record_outcome(&outcome);
            outcome.admission.succeeded();
            match &outcome.value.usage {
                Some(usage) => accounting.set_usage(usage.clone()),
                None => accounting.note_answer(&outcome.value),
            }
            let mut response = D::answer(&state, call, &outcome.value).await;
            served_by_headers(
                &mut response,
                &route.name,
                &outcome.deployment,
                outcome.attempts,
            );
            routing::reason_header(&mut response, &plan.reason);
            if let Some(quota) = &quota {
                governance::quota_headers(response.headers_mut(), quota);
            }
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
    let kind = error.error.kind;
    let mut api_error = ApiError::from(error);
    // A vendor's refusal of the operator's own account (its key, its project, its
    // limits) names the operator's organisation and quotas: a tenant gets a plain
    // message, the operator's log keeps the vendor's words.
    if accounting.caller_is_tenant()
        && matches!(
            kind,
            ErrorKind::Authentication
                | ErrorKind::PermissionDenied
                | ErrorKind::NotFound
                | ErrorKind::RateLimited
        )
    {
        tracing::warn!(
            request_id = %accounting.request_id(),
            upstream = %api_error.message,
            "An upstream refused the gateway's account; the caller sees a plain message."
        );
        api_error.message = match kind {
            ErrorKind::RateLimited => {
                "the upstream is rate-limiting this gateway; try again later".to_owned()
            }
            _ => "the upstream refused this gateway's request; the operator can see why in \
                  the log, by this request's x-request-id"
                .to_owned(),
        };
    }
    let mut response = fail(accounting, api_error);
    if let Some((deployment, attempts)) = tried {
        served_by_headers(&mut response, model, &deployment, attempts);
    }
    response
}

/// The error response, in OpenAI's shape; a dialect with another shape re-renders it
/// in a layer (see [`anthropic::render_errors`]), which also catches the errors raised
/// before a handler runs.
fn fail(accounting: Accounting, error: ApiError) -> Response {
    accounting.finish_error(&error);
    error.into_response()
}

struct SseState<E> {
    events: EventStream,
    encoder: E,
    accounting: Option<Accounting>,
    /// The call's place in its deployment's health, settled when the stream ends.
    admission: Option<Admitted>,
}

/// Encodes canonical frames in the dialect. An upstream failure after the stream has
/// started cannot change the status any more: it is sent as the dialect's error event,
/// and the stream ends there. Accounting finishes with the last event.
fn sse_events<E: StreamDialect>(
    events: EventStream,
    encoder: E,
    accounting: Accounting,
    admission: Admitted,
) -> impl Stream<Item = Result<Event, Infallible>> {
    let state = SseState {
        events,
        encoder,
        accounting: Some(accounting),
        admission: Some(admission),
    };
    futures::stream::unfold(state, |mut state| async move {
        // `accounting` is taken when the stream ends; after that there is nothing to send.
        state.accounting.as_ref()?;
        loop {
            let events = match state.events.next().await {
                Some(Ok(frame)) => {
                    if let Some(accounting) = state.accounting.as_mut() {
                        match usage_in(&frame) {
                            Some(usage) => accounting.set_usage(usage.clone()),
                            None => accounting.note_streamed(&frame),
                        }
                    }
                    state.encoder.frame(frame)
                }
                Some(Err(error)) => {
                    if let Some(admission) = state.admission.take() {
                        admission.failed(&error);
                    }
                    let error = ApiError::from(error);
                    if let Some(accounting) = state.accounting.take() {
                        accounting.finish_error(&error);
                    }
                    state.encoder.error(&error)
                }
                None => {
                    if let Some(admission) = state.admission.take() {
                        admission.succeeded();
                    }
                    // An upstream that never reported usage: the caller who asked for
                    // it gets the gateway's count (each dialect shows it if asked).
                    let mut events = state
                        .accounting
                        .as_mut()
                        .and_then(Accounting::estimate_missing_usage)
                        .map(|usage| state.encoder.frame(vec![StreamEvent::Usage(usage)]))
                        .unwrap_or_default();
                    events.extend(state.encoder.end().await);
                    if let Some(accounting) = state.accounting.take() {
                        accounting.finish_ok(200);
                    }
                    events
                }
            };
            if !events.is_empty() {
                return Some((futures::stream::iter(events.into_iter().map(Ok)), state));
            }
            state.accounting.as_ref()?;
        }
    })
    .flatten()
}
