//! OpenAI's legacy text completions as a [`ChatDialect`]: a prompt continued as
//! written, served by deployments that can (the local engine, OpenAI-compatible hosts).

use axum::Json;
use axum::response::sse::Event;
use axum::response::{IntoResponse, Response};
use switchyard_protocols::openai::completions::{
    CompletionChunkEncoder, decode_completion_request, from_canonical_completion_response,
};
use switchyard_types::{ChatRequest, ChatResponse, StreamFrame};

use super::openai::{data_event, done, error_event};
use super::{ChatDialect, StreamDialect};
use crate::context::RequestContext;
use crate::error::ApiError;
use crate::state::AppState;

pub struct Completions;

impl ChatDialect for Completions {
    const ROUTE: &'static str = "completions";
    type Call = ();
    type Stream = CompletionChunks;

    async fn decode(
        _: &AppState,
        _: &RequestContext,
        body: &[u8],
    ) -> Result<(ChatRequest, ()), ApiError> {
        Ok((decode_completion_request(body)?, ()))
    }

    async fn answer(_: &AppState, _: (), response: &ChatResponse) -> Response {
        Json(from_canonical_completion_response(response)).into_response()
    }

    fn stream(_: &AppState, _: (), request: &ChatRequest, _model: &str) -> CompletionChunks {
        CompletionChunks(CompletionChunkEncoder::new(request.stream_include_usage))
    }
}

/// `data: <text_completion>` events, ending in `data: [DONE]`.
pub struct CompletionChunks(CompletionChunkEncoder);

impl StreamDialect for CompletionChunks {
    fn frame(&mut self, frame: StreamFrame) -> Vec<Event> {
        data_event(self.0.encode(frame))
    }

    async fn end(&mut self) -> Vec<Event> {
        done()
    }

    fn error(&mut self, error: &ApiError) -> Vec<Event> {
        error_event(error)
    }
}
