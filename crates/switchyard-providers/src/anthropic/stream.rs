//! Anthropic's SSE stream → a canonical [`EventStream`], opened eagerly like the
//! OpenAI adapter's: the call resolves once the first event arrived, so a failure before
//! that can still fall back to another deployment.
//!
//! The stream is complete at `message_stop`. An `error` event (sent with HTTP 200 after
//! the answer began) or a body that ends before `message_stop` is a failure.

use std::sync::Arc;
use std::time::Duration;

use switchyard_protocols::anthropic::{Decoded, EventDecoder};
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
                    return self.fail(ProviderError::new(
                        ErrorKind::Upstream,
                        format!(
                            "upstream `{}` ended the stream before `message_stop`",
                            self.provider
                        ),
                    ));
                }
            };
            match self.decoder.decode_data(data.as_bytes()) {
                Ok(Decoded::Frame(frame)) if frame.is_empty() => {}
                Ok(Decoded::Frame(frame)) => return Some(Ok(frame)),
                Ok(Decoded::End) => self.done = true,
                Ok(Decoded::Error(error)) => {
                    return self.fail(ProviderError::new(
                        error_kind(&error.kind),
                        crate::scrub::scrub(
                            &format!(
                                "upstream `{}` failed mid-stream: {}: {}",
                                self.provider, error.kind, error.message
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
    idle: Duration,
    permit: Option<OwnedSemaphorePermit>,
) -> Result<EventStream, ProviderError> {
    let state = StreamState {
        reader,
        decoder: EventDecoder::new(),
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
