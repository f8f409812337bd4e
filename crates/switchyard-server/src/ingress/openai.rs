//! OpenAI Chat Completions as a [`ChatDialect`].

use axum::Json;
use axum::response::sse::Event;
use axum::response::{IntoResponse, Response};
use switchyard_protocols::openai::{self, ChunkEncoder};
use switchyard_types::{ChatRequest, ChatResponse, StreamFrame};

use super::{ChatDialect, StreamDialect};
use crate::error::ApiError;
use crate::state::AppState;

pub struct ChatCompletions;

impl ChatDialect for ChatCompletions {
    const ROUTE: &'static str = "chat_completions";
    type Call = ();
    type Stream = Chunks;

    async fn decode(_: &AppState, body: &[u8]) -> Result<(ChatRequest, ()), ApiError> {
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
        self.0
            .encode(frame)
            .map(|chunk| Event::default().data(serde_json::to_string(&chunk).unwrap_or_default()))
            .into_iter()
            .collect()
    }

    async fn end(&mut self) -> Vec<Event> {
        vec![Event::default().data("[DONE]")]
    }

    fn error(&mut self, error: &ApiError) -> Vec<Event> {
        vec![Event::default().data(error.to_openai_json().to_string())]
    }
}
