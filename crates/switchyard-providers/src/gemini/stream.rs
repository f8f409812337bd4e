//! Gemini's SSE events → canonical frames.
//!
//! Gemini sends no end-of-stream event: the stream is complete when the body ends
//! after every candidate reported a finish reason. An `{"error": …}` event, or a body
//! that ends earlier, is a failure; so is an error body written raw between the
//! events, which Gemini does on internal errors.

use std::sync::Arc;
use std::time::Duration;

use switchyard_protocols::gemini::wire::{ErrorBody, Status};
use switchyard_protocols::gemini::{Decoded, EventDecoder};
use switchyard_types::{EventStream, ProviderError, StreamFrame};
use tokio::sync::OwnedSemaphorePermit;

use super::provider::error_kind;
use crate::sse::{EventProtocol, SseReader, Step, open_sse};

struct Events(EventDecoder);

impl EventProtocol for Events {
    fn step(&mut self, data: &str) -> Result<Step, String> {
        Ok(
            match self
                .0
                .decode_data(data.as_bytes())
                .map_err(|e| e.to_string())?
            {
                Decoded::Frame(frame) => Step::Frame(frame),
                Decoded::Error(status) => failed(status),
            },
        )
    }

    fn stray(&mut self, text: &str) -> Option<Step> {
        ErrorBody::parse(text).map(|body| failed(body.error))
    }

    fn at_end(&mut self) -> Result<StreamFrame, String> {
        self.0
            .end()
            .map_err(|_| "ended the stream before a finish reason".to_owned())
    }
}

fn failed(status: Status) -> Step {
    Step::Failed(
        error_kind(&status.status),
        format!("{}: {}", status.status, status.message),
    )
}

/// Waits for the first frame, then hands back the whole stream.
pub(super) async fn open_event_stream(
    reader: SseReader,
    provider: Arc<str>,
    model: &str,
    idle: Duration,
    permit: Option<OwnedSemaphorePermit>,
) -> Result<EventStream, ProviderError> {
    open_sse(
        reader,
        Events(EventDecoder::new(model)),
        provider,
        idle,
        permit,
    )
    .await
}
