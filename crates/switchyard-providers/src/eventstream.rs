//! Reads an `application/vnd.amazon.eventstream` body (AWS's binary framing, used by
//! Bedrock's ConverseStream) under the same two deadlines the SSE reader applies: the
//! idle gap between frames and the call's total deadline. The sibling of [`crate::sse`].

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures::StreamExt;
use futures::stream::BoxStream;
use switchyard_protocols::bedrock::{Frame, FrameDecoder, FrameError};
use switchyard_types::{ErrorKind, ProviderError};
use tokio::time::Instant;

use crate::http_error;

/// The frames of an event-stream response, one at a time, CRCs checked.
pub struct EventStreamReader {
    chunks: BoxStream<'static, reqwest::Result<Bytes>>,
    decoder: FrameDecoder,
    provider: Arc<str>,
    idle: Duration,
    deadline: Instant,
    total: Duration,
    /// The body ended; only frames already buffered remain.
    ended: bool,
}

impl EventStreamReader {
    pub fn new(
        response: reqwest::Response,
        provider: Arc<str>,
        idle: Duration,
        deadline: Instant,
        total: Duration,
    ) -> Self {
        EventStreamReader {
            chunks: response.bytes_stream().boxed(),
            decoder: FrameDecoder::new(),
            provider,
            idle,
            deadline,
            total,
            ended: false,
        }
    }

    /// Changes the longest allowed silence between frames.
    pub fn set_idle(&mut self, idle: Duration) {
        self.idle = idle;
    }

    /// The next frame, `None` at a clean end of the body. A body that ends inside a
    /// frame, or a frame that fails its checks, is an error.
    pub async fn next_frame(&mut self) -> Option<Result<Frame, ProviderError>> {
        // The idle gap is measured per frame, not per chunk, so that a trickle of
        // partial bytes cannot hold the stream open, as with SSE events.
        let idle_deadline = Instant::now() + self.idle;
        let (wait_until, what, limit) = if idle_deadline < self.deadline {
            (idle_deadline, "stream event", self.idle)
        } else {
            (self.deadline, "end of stream", self.total)
        };
        loop {
            match self.decoder.next_frame() {
                Ok(Some(frame)) => return Some(Ok(frame)),
                Ok(None) => {}
                Err(error) => return Some(Err(self.malformed(error))),
            }
            if self.ended {
                return self
                    .decoder
                    .finish()
                    .err()
                    .map(|error| Err(self.malformed(error)));
            }
            match tokio::time::timeout_at(wait_until, self.chunks.next()).await {
                Err(_) => return Some(Err(http_error::timeout(&self.provider, what, limit))),
                Ok(None) => self.ended = true,
                Ok(Some(Ok(chunk))) => self.decoder.push(&chunk),
                Ok(Some(Err(error))) => {
                    return Some(Err(http_error::from_transport(&self.provider, error, &[])));
                }
            }
        }
    }

    fn malformed(&self, error: FrameError) -> ProviderError {
        ProviderError::new(
            ErrorKind::Upstream,
            format!(
                "upstream `{}` sent a malformed event stream: {error}",
                self.provider
            ),
        )
    }
}

/// An upstream event stream being decoded: the next canonical frame, `None` once
/// complete.
pub trait FrameSource: Send + 'static {
    fn next_frame(
        &mut self,
    ) -> impl std::future::Future<
        Output = Option<Result<switchyard_types::StreamFrame, ProviderError>>,
    > + Send;
    fn reader(&mut self) -> &mut EventStreamReader;
}

/// Waits for the first frame, then hands back the whole stream, as
/// [`crate::sse::open_frames`] does for SSE: a failure before the first event is still
/// the call's error, so the router can fall back. The first frame may take the longer
/// first-byte deadline; from then on the `idle` gap applies.
pub async fn open_frames<S: FrameSource>(
    mut source: S,
    provider: &str,
    idle: Duration,
) -> Result<switchyard_types::EventStream, ProviderError> {
    let first = match source.next_frame().await {
        Some(Ok(frame)) => frame,
        Some(Err(error)) => return Err(error),
        None => {
            return Err(ProviderError::new(
                ErrorKind::Upstream,
                format!("upstream `{provider}` sent an empty stream"),
            ));
        }
    };
    source.reader().set_idle(idle);
    let rest = futures::stream::unfold(source, |mut source| async move {
        let frame = source.next_frame().await?;
        Some((frame, source))
    });
    Ok(futures::stream::once(async move { Ok(first) })
        .chain(rest)
        .boxed())
}
