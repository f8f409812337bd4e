//! An upstream SSE response → a canonical [`EventStream`].
//!
//! The stream is opened eagerly: [`open_event_stream`] returns only once the first
//! event has arrived, so an upstream that accepts the request and then fails or stalls
//! before saying anything can still be replaced by a fallback deployment.

use std::sync::Arc;
use std::time::Duration;

use switchyard_protocols::openai::{ChunkDecoder, ErrorBody};
use switchyard_types::{ErrorKind, EventStream, ProviderError, StreamEvent, StreamFrame};
use tokio::sync::OwnedSemaphorePermit;

use crate::sse::{FrameSource, SseReader, open_frames};

struct StreamState {
    reader: SseReader,
    decoder: ChunkDecoder,
    provider: Arc<str>,
    saw_finish: bool,
    done: bool,
    /// Held until the stream ends or is dropped, so the deployment's concurrency limit
    /// counts streams, not just request starts.
    _permit: Option<OwnedSemaphorePermit>,
}

impl StreamState {
    /// The next canonical frame, or `None` once the upstream said `[DONE]`.
    async fn next_frame(&mut self) -> Option<Result<StreamFrame, ProviderError>> {
        loop {
            if self.done {
                return None;
            }
            let data = match self.reader.next_data().await {
                Some(Ok(data)) => data,
                Some(Err(error)) => return self.fail(error),
                None if self.saw_finish => {
                    // Some servers end the body without `[DONE]` after a finish reason;
                    // the answer is complete all the same.
                    self.done = true;
                    return None;
                }
                None => {
                    return self.fail(ProviderError::new(
                        ErrorKind::Upstream,
                        format!(
                            "upstream `{}` ended the stream before it was complete",
                            self.provider
                        ),
                    ));
                }
            };
            if data == "[DONE]" {
                self.done = true;
                continue;
            }
            match self.decoder.decode_data(data.as_bytes()) {
                // A chunk that says nothing new (a bare role announcement) is skipped.
                Ok(frame) if frame.is_empty() => {}
                Ok(frame) => {
                    self.saw_finish |= frame
                        .iter()
                        .any(|event| matches!(event, StreamEvent::Finish { .. }));
                    return Some(Ok(frame));
                }
                // OpenAI reports a failure after the stream started as an event with
                // an error body instead of a chunk.
                Err(_) if let Some(error) = ErrorBody::parse_lenient(data.as_bytes()) => {
                    return self.fail(ProviderError::new(
                        ErrorKind::Upstream,
                        crate::scrub::scrub(
                            &format!(
                                "upstream `{}` failed mid-stream: {}",
                                self.provider, error.message
                            ),
                            &[],
                        ),
                    ));
                }
                Err(error) => {
                    return self.fail(ProviderError::new(
                        ErrorKind::Upstream,
                        format!(
                            "upstream `{}` sent a chunk that is not valid: {error}",
                            self.provider
                        ),
                    ));
                }
            }
        }
    }

    fn fail(&mut self, error: ProviderError) -> Option<Result<StreamFrame, ProviderError>> {
        self.done = true;
        Some(Err(error))
    }
}

/// Waits for the first frame, then hands back the whole stream.
pub(super) async fn open_event_stream(
    reader: SseReader,
    provider: Arc<str>,
    idle: Duration,
    permit: Option<OwnedSemaphorePermit>,
) -> Result<EventStream, ProviderError> {
    let state = StreamState {
        reader,
        decoder: ChunkDecoder::new(),
        provider: provider.clone(),
        saw_finish: false,
        done: false,
        _permit: permit,
    };
    open_frames(state, &provider, idle).await
}

impl FrameSource for StreamState {
    async fn next_frame(&mut self) -> Option<Result<StreamFrame, ProviderError>> {
        StreamState::next_frame(self).await
    }

    fn reader(&mut self) -> &mut SseReader {
        &mut self.reader
    }
}
