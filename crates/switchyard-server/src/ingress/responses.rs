//! OpenAI's Responses API as a [`ChatDialect`]: a continued conversation is loaded
//! from the store before routing, and every answer with `store: true` (streamed or
//! not) is saved before the caller sees its end, so that a follow-up can name it at
//! once.

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use axum::Json;
use axum::response::sse::Event;
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value};
use switchyard_protocols::openai::responses::{
    ResponseEvent, ResponseEventEncoder, ResponseObject, decode_response_request, new_response_id,
    response_object,
};
use switchyard_store::{Owner, ResponseStore, StoredResponse};
use switchyard_types::{ChatRequest, ChatResponse, StreamFrame};

use super::{ChatDialect, StreamDialect};
use crate::context::RequestContext;
use crate::error::{ApiError, Code};
use crate::state::AppState;

pub struct Responses;

/// What a response needs beside its canonical request.
pub struct ResponseCall {
    id: String,
    owner: Owner,
    created_at: u64,
    /// When the stored response is gone (`server.response_retention` after it is made).
    expires_at: u64,
    /// The conversation's input items, to store with the response.
    items: Vec<Value>,
    settings: Map<String, Value>,
    store: bool,
}

impl ResponseCall {
    /// Saves the response if the caller asked for it to be kept (once: the items move
    /// into the record). A failure to save is logged, not returned: the caller still
    /// gets the answer it paid for.
    async fn keep(&mut self, store: &Arc<dyn ResponseStore>, response: &ResponseObject) {
        if !self.store {
            return;
        }
        let record = StoredResponse {
            id: self.id.clone(),
            owner: self.owner.clone(),
            created_at: self.created_at as i64,
            expires_at: i64::try_from(self.expires_at).unwrap_or(i64::MAX),
            response: serde_json::to_value(response).unwrap_or_default(),
            input_items: std::mem::take(&mut self.items),
        };
        if let Err(error) = store.save_response(&record).await {
            tracing::error!(response = %self.id, error = %error, "Could not store a response.");
        }
    }
}

/// Unix seconds now: when a response is made, and what expiry is measured against.
pub(crate) fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_secs())
}

/// The conversation items of a stored response: its input, then its output.
fn conversation_of(stored: StoredResponse) -> Vec<Value> {
    let mut items = stored.input_items;
    if let Some(Value::Array(output)) = stored.response.get("output") {
        items.extend(output.iter().cloned());
    }
    items
}

impl ChatDialect for Responses {
    const ROUTE: &'static str = "responses";
    type Call = ResponseCall;
    type Stream = ResponseEvents;

    async fn decode(
        state: &AppState,
        cx: &RequestContext,
        body: &[u8],
    ) -> Result<(ChatRequest, ResponseCall), ApiError> {
        let mut request = decode_response_request(body)?;
        let owner = cx.caller.owner();
        let created_at = unix_now();
        if let Some(previous) = request.previous_response_id.clone() {
            // Another tenant's response is not found, exactly like one that never was.
            let stored = state
                .responses()
                .response(&owner.org, &previous, created_at as i64)
                .await?;
            let Some(stored) = stored else {
                return Err(ApiError::new(
                    Code::PreviousResponseNotFound,
                    format!("Previous response with id '{previous}' not found."),
                )
                .with_param("previous_response_id"));
            };
            request.continue_from(conversation_of(stored))?;
        }
        let retention = state.settings().response_retention.as_secs();
        let call = ResponseCall {
            id: new_response_id(),
            owner,
            created_at,
            expires_at: created_at.saturating_add(retention),
            items: request.items,
            settings: request.settings,
            store: request.store,
        };
        Ok((request.chat, call))
    }

    async fn answer(state: &AppState, mut call: ResponseCall, response: &ChatResponse) -> Response {
        let object = response_object(&call.id, call.created_at, &call.settings, response);
        call.keep(state.responses(), &object).await;
        Json(object).into_response()
    }

    fn stream(
        state: &AppState,
        call: ResponseCall,
        _: &ChatRequest,
        model: &str,
    ) -> ResponseEvents {
        let encoder = ResponseEventEncoder::new(
            call.id.clone(),
            call.created_at,
            call.settings.clone(),
            model,
        );
        ResponseEvents {
            encoder,
            call,
            store: state.responses().clone(),
        }
    }
}

/// `event: response.*` + `data: <event>` pairs, ending in `response.completed`.
pub struct ResponseEvents {
    encoder: ResponseEventEncoder,
    call: ResponseCall,
    store: Arc<dyn ResponseStore>,
}

impl StreamDialect for ResponseEvents {
    fn frame(&mut self, frame: StreamFrame) -> Vec<Event> {
        self.encoder.encode(frame).iter().map(sse_event).collect()
    }

    async fn end(&mut self) -> Vec<Event> {
        let (events, response) = self.encoder.finish();
        self.call.keep(&self.store, &response).await;
        events.iter().map(sse_event).collect()
    }

    fn error(&mut self, error: &ApiError) -> Vec<Event> {
        let code = error
            .upstream_code
            .as_deref()
            .unwrap_or(error.code.as_str());
        self.encoder
            .fail(code, &error.message, error.param.as_deref())
            .iter()
            .map(sse_event)
            .collect()
    }
}

fn sse_event(event: &ResponseEvent) -> Event {
    Event::default()
        .event(event.name)
        .data(event.data.to_string())
}
