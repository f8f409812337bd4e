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

use crate::frames::StreamDeadlines;
use crate::http_error;

/// The frames of an event-stream response, one at a time, CRCs checked.
pub struct EventStreamReader {
    chunks: BoxStream<'static, reqwest::Result<Bytes>>,
    decoder: FrameDecoder,
    provider: Arc<str>,
    deadlines: StreamDeadlines,
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
            deadlines: StreamDeadlines {
                idle,
                deadline,
                total,
            },
            ended: false,
        }
    }

    /// Changes the longest allowed silence between frames.
    pub fn set_idle(&mut self, idle: Duration) {
        self.deadlines.idle = idle;
    }

    /// The next frame, `None` at a clean end of the body. A body that ends inside a
    /// frame, or a frame that fails its checks, is an error.
    pub async fn next_frame(&mut self) -> Option<Result<Frame, ProviderError>> {
        // The idle gap is measured per frame, not per chunk, so that a trickle of
        // partial bytes cannot hold the stream open, as with SSE events.
        let (wait_until, what, limit) = self.deadlines.next_wait();
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
