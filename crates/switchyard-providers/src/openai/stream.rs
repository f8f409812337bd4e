//! An upstream SSE response → a canonical [`EventStream`].
//!
//! The stream is opened eagerly: [`open_event_stream`] returns only once the first
//! event has arrived, so an upstream that accepts the request and then fails or stalls
//! before saying anything can still be replaced by a fallback deployment.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use switchyard_protocols::openai::{ChunkDecoder, ErrorBody};
use switchyard_types::{ErrorKind, EventStream, ProviderError, StreamEvent};
use tokio::sync::OwnedSemaphorePermit;

use crate::sse::SseReader;

struct StreamState {
    reader: SseReader,
    decoder: ChunkDecoder,
    provider: Arc<str>,
    pending: VecDeque<StreamEvent>,
    saw_finish: bool,
    done: bool,
    /// Held until the stream ends or is dropped, so the deployment's concurrency limit
    /// counts streams, not just request starts.
    _permit: Option<OwnedSemaphorePermit>,
}

impl StreamState {
    /// The next canonical event, or `None` once the upstream said `[DONE]`.
    async fn next_event(&mut self) -> Option<Result<StreamEvent, ProviderError>> {
        loop {
            if let Some(event) = self.pending.pop_front() {
                return Some(Ok(event));
            }
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
                Ok(events) => {
                    self.saw_finish |= events
                        .iter()
                        .any(|event| matches!(event, StreamEvent::Finish { .. }));
                    self.pending.extend(events);
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

    fn fail(&mut self, error: ProviderError) -> Option<Result<StreamEvent, ProviderError>> {
        self.done = true;
        self.pending.clear();
        Some(Err(error))
    }
}

/// Waits for the first event, then hands back the whole stream.
pub(super) async fn open_event_stream(
    reader: SseReader,
    provider: Arc<str>,
    idle: Duration,
    permit: Option<OwnedSemaphorePermit>,
) -> Result<EventStream, ProviderError> {
    let mut state = StreamState {
        reader,
        decoder: ChunkDecoder::new(),
        provider,
        pending: VecDeque::new(),
        saw_finish: false,
        done: false,
        _permit: permit,
    };
    let first = match state.next_event().await {
        Some(Ok(event)) => event,
        Some(Err(error)) => return Err(error),
        None => {
            return Err(ProviderError::new(
                ErrorKind::Upstream,
                format!("upstream `{}` sent an empty stream", state.provider),
            ));
        }
    };
    // The first event may have waited the longer first-byte deadline; from here on the
    // idle gap applies.
    state.reader.set_idle(idle);
    let rest = futures::stream::unfold(state, |mut state| async move {
        let event = state.next_event().await?;
        Some((event, state))
    });
    Ok(futures::stream::once(async move { Ok(first) })
        .chain(rest)
        .boxed())
}
