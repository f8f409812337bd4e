//! OpenAI Chat Completions as a [`ChatDialect`].

use axum::Json;
use axum::response::sse::Event;
use axum::response::{IntoResponse, Response};
use switchyard_protocols::openai::{self, ChunkEncoder};
use switchyard_types::{ChatRequest, ChatResponse, StreamFrame};

use super::{ChatDialect, StreamDialect};
use crate::context::RequestContext;
use crate::error::ApiError;
use crate::state::AppState;

pub struct ChatCompletions;

impl ChatDialect for ChatCompletions {
    const ROUTE: &'static str = "chat_completions";
    type Call = ();
    type Stream = Chunks;

    async fn decode(
        _: &AppState,
        _: &RequestContext,
        body: &[u8],
    ) -> Result<(ChatRequest, ()), ApiError> {
        Ok((openai::decode_chat_request(body)?, ()))
    }

    async fn answer(_: &AppState, _: (), response: &ChatResponse) -> Response {
        Json(openai::from_canonical_response(response)).into_response()
    }

    fn stream(_: &AppState, _: (), request: &ChatRequest, _model: &str) -> Chunks {
        Chunks(ChunkEncoder::new(request.stream_include_usage))
    }
}

/// `data: <chat.completion.chunk>` events, ending in `data: [DONE]`.
pub struct Chunks(ChunkEncoder);

impl StreamDialect for Chunks {
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

// OpenAI's streams (chat chunks, text completion chunks) are `data:` lines only.

/// A chunk as one `data:` event; nothing when the frame had nothing to say.
pub(super) fn data_event(chunk: Option<impl serde::Serialize>) -> Vec<Event> {
    chunk
        .map(|chunk| Event::default().data(serde_json::to_string(&chunk).unwrap_or_default()))
        .into_iter()
        .collect()
}

/// The end of a complete stream.
pub(super) fn done() -> Vec<Event> {
    vec![Event::default().data("[DONE]")]
}

/// A failure after the stream began: OpenAI's error body as the last event.
pub(super) fn error_event(error: &ApiError) -> Vec<Event> {
    vec![Event::default().data(error.to_openai_json().to_string())]
}
