//! Anthropic Messages as a [`ChatDialect`], and Anthropic's error body for every
//! response of its routes.

use std::sync::Arc;
use std::time::Duration;

use axum::Json;
use axum::response::sse::{Event, KeepAlive};
use axum::response::{IntoResponse, Response};
use serde_json::json;
use switchyard_protocols::anthropic::ingress::{
    self, StreamEncoder, decode_request, encode_response, event_name,
};
use switchyard_protocols::anthropic::wire;
use switchyard_types::{ChatRequest, ChatResponse, StreamFrame};

use super::{ChatDialect, StreamDialect};
use crate::context::RequestContext;
use crate::error::ApiError;
use crate::state::AppState;

/// How often an idle stream gets a `ping`, as Anthropic's own streams do.
const PING_EVERY: Duration = Duration::from_secs(15);

pub struct Messages;

impl ChatDialect for Messages {
    const ROUTE: &'static str = "messages";
    type Call = ();
    type Stream = MessageEvents;

    async fn decode(
        _: &AppState,
        _: &RequestContext,
        body: &[u8],
    ) -> Result<(ChatRequest, ()), ApiError> {
        Ok((decode_request(body)?, ()))
    }

    async fn answer(_: &AppState, _: (), response: &ChatResponse) -> Response {
        Json(encode_response(response)).into_response()
    }

    fn stream(_: &AppState, _: (), _request: &ChatRequest, model: &str) -> MessageEvents {
        MessageEvents(StreamEncoder::new(model))
    }

    fn keep_alive() -> Option<KeepAlive> {
        Some(
            KeepAlive::new()
                .interval(PING_EVERY)
                .event(Event::default().event("ping").data(r#"{"type":"ping"}"#)),
        )
    }
}

/// `event: <type>` + `data: <json>` pairs, `message_start` … `message_stop`.
pub struct MessageEvents(StreamEncoder);

impl StreamDialect for MessageEvents {
    fn frame(&mut self, frame: StreamFrame) -> Vec<Event> {
        self.0.encode(frame).iter().map(sse_event).collect()
    }

    async fn end(&mut self) -> Vec<Event> {
        self.0.finish().iter().map(sse_event).collect()
    }

    fn error(&mut self, error: &ApiError) -> Vec<Event> {
        let event = StreamEncoder::error(error_type(error), &error.message);
        vec![sse_event(&event)]
    }
}

fn sse_event(event: &wire::StreamEvent) -> Event {
    Event::default()
        .event(event_name(event))
        .data(serde_json::to_string(event).unwrap_or_default())
}

/// Anthropic's error `type` for an error.
fn error_type(error: &ApiError) -> &'static str {
    ingress::error_type(error.status().as_u16())
}

/// Anthropic's error body, `{"type": "error", "error": {"type", "message"}}`.
pub fn error_json(error: &ApiError) -> serde_json::Value {
    json!({
        "type": "error",
        "error": {"type": error_type(error), "message": error.message},
    })
}

/// Rewrites every error response of an Anthropic route, whoever raised it (auth, body
/// limits, the handler), into Anthropic's body; status and headers stay.
pub async fn render_errors(response: Response) -> Response {
    let Some(error) = response.extensions().get::<Arc<ApiError>>().cloned() else {
        return response;
    };
    let (mut parts, _) = response.into_parts();
    parts.headers.remove(axum::http::header::CONTENT_LENGTH);
    let body = Json(error_json(&error)).into_response();
    let (body_parts, body) = body.into_parts();
    parts.headers.extend(body_parts.headers);
    Response::from_parts(parts, body)
}
