//! Anthropic's SSE events → canonical frames.
//!
//! The stream is complete at `message_stop`. An `error` event (sent with HTTP 200 after
//! the answer began) or a body that ends before `message_stop` is a failure.

use std::sync::Arc;
use std::time::Duration;

use switchyard_protocols::anthropic::{Decoded, EventDecoder};
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
                Decoded::End => Step::Done,
                Decoded::Error(error) => Step::Failed(
                    error_kind(&error.kind),
                    format!("{}: {}", error.kind, error.message),
                ),
            },
        )
    }

    fn at_end(&mut self) -> Result<StreamFrame, String> {
        Err("ended the stream before `message_stop`".to_owned())
    }
}

/// Waits for the first frame, then hands back the whole stream.
pub(super) async fn open_event_stream(
    reader: SseReader,
    provider: Arc<str>,
    idle: Duration,
    permit: Option<OwnedSemaphorePermit>,
) -> Result<EventStream, ProviderError> {
    open_sse(reader, Events(EventDecoder::new()), provider, idle, permit).await
}
