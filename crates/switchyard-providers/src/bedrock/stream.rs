//! ConverseStream's binary event stream → a canonical [`EventStream`], opened eagerly
//! like the other adapters': the call resolves once the first event arrived, so a
//! failure before that (an exception frame included) can still fall back to another
//! deployment.
//!
//! The stream is complete after `metadata`, which follows `messageStop` and carries the
//! usage. An exception frame, a corrupt frame, or a body that ends before `metadata` is
//! a failure.

use std::sync::Arc;
use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use switchyard_protocols::bedrock::{Decoded, EventDecoder};
use switchyard_types::{ErrorKind, EventStream, ProviderError, StreamFrame};
use tokio::sync::OwnedSemaphorePermit;

use super::error::from_stream_error;
use crate::eventstream::EventStreamReader;
use crate::frames::{FrameSource, open_frames};

struct StreamState {
    reader: EventStreamReader,
    decoder: EventDecoder,
    provider: Arc<str>,
    /// Scrubbed from exception messages.
    secrets: Vec<SecretString>,
    done: bool,
    _permit: Option<OwnedSemaphorePermit>,
}

impl StreamState {
    async fn next_frame(&mut self) -> Option<Result<StreamFrame, ProviderError>> {
        loop {
            if self.done {
                return None;
            }
            let frame = match self.reader.next_frame().await {
                Some(Ok(frame)) => frame,
                Some(Err(error)) => return self.fail(error),
                None => {
                    return self.fail(ProviderError::new(
                        ErrorKind::Upstream,
                        format!(
                            "upstream `{}` ended the stream before `metadata`",
                            self.provider
                        ),
                    ));
                }
            };
            match self.decoder.decode_frame(&frame) {
                Ok(Decoded::Frame(frame)) if frame.is_empty() => {}
                Ok(Decoded::Frame(frame)) => return Some(Ok(frame)),
                Ok(Decoded::End(frame)) => {
                    self.done = true;
                    return (!frame.is_empty()).then_some(Ok(frame));
                }
                Ok(Decoded::Error(error)) => {
                    let secrets: Vec<&str> =
                        self.secrets.iter().map(|s| s.expose_secret()).collect();
                    return self.fail(from_stream_error(&self.provider, error, &secrets));
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
    reader: EventStreamReader,
    decoder: EventDecoder,
    provider: Arc<str>,
    secrets: Vec<SecretString>,
    idle: Duration,
    permit: Option<OwnedSemaphorePermit>,
) -> Result<EventStream, ProviderError> {
    let state = StreamState {
        reader,
        decoder,
        provider: provider.clone(),
        secrets,
        done: false,
        _permit: permit,
    };
    open_frames(state, &provider, idle).await
}

impl FrameSource for StreamState {
    async fn next_frame(&mut self) -> Option<Result<StreamFrame, ProviderError>> {
        StreamState::next_frame(self).await
    }

    fn set_idle(&mut self, idle: Duration) {
        self.reader.set_idle(idle);
    }
}
