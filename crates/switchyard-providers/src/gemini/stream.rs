//! Gemini's SSE stream → a canonical [`EventStream`], opened eagerly like the other
//! adapters': the call resolves once the first event arrived, so a failure before that
//! can still fall back to another deployment.
//!
//! Gemini sends no end-of-stream event: the stream is complete when the body ends
//! after every candidate reported a finish reason. An `{"error": …}` event, or a body
//! that ends earlier, is a failure.

use std::sync::Arc;
use std::time::Duration;

use switchyard_protocols::gemini::{Decoded, EventDecoder};
use switchyard_types::{ErrorKind, EventStream, ProviderError, StreamFrame};
use tokio::sync::OwnedSemaphorePermit;

use super::provider::error_kind;
use crate::sse::{FrameSource, SseReader, open_frames};

struct StreamState {
    reader: SseReader,
    decoder: EventDecoder,
    provider: Arc<str>,
    done: bool,
    _permit: Option<OwnedSemaphorePermit>,
}

impl StreamState {
    async fn next_frame(&mut self) -> Option<Result<StreamFrame, ProviderError>> {
        loop {
            if self.done {
                return None;
            }
            let data = match self.reader.next_data().await {
                Some(Ok(data)) => data,
                Some(Err(error)) => return self.fail(error),
                None => {
                    self.done = true;
                    return match self.decoder.end() {
                        Ok(frame) if frame.is_empty() => None,
                        Ok(frame) => Some(Ok(frame)),
                        Err(_) => self.fail(ProviderError::new(
                            ErrorKind::Upstream,
                            format!(
                                "upstream `{}` ended the stream before a finish reason",
                                self.provider
                            ),
                        )),
                    };
                }
            };
            match self.decoder.decode_data(data.as_bytes()) {
                Ok(Decoded::Frame(frame)) if frame.is_empty() => {}
                Ok(Decoded::Frame(frame)) => return Some(Ok(frame)),
                Ok(Decoded::Error(status)) => {
                    return self.fail(ProviderError::new(
                        error_kind(&status.status),
                        crate::scrub::scrub(
                            &format!(
                                "upstream `{}` failed mid-stream: {}: {}",
                                self.provider, status.status, status.message
                            ),
                            &[],
                        ),
                    ));
                }
                Err(error) => {
                    return self.fail(ProviderError::new(
                        ErrorKind::Upstream,
                        format!(
                            "upstream `{}` sent an event that is not valid: {error}",
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
    model: &str,
    idle: Duration,
    permit: Option<OwnedSemaphorePermit>,
) -> Result<EventStream, ProviderError> {
    let state = StreamState {
        reader,
        decoder: EventDecoder::new(model),
        provider: provider.clone(),
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
