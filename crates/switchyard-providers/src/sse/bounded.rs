//! A bound on how much an upstream's event stream may send without ending an event.
//!
//! The SSE parser keeps the current line, and the `data:` lines of the current event,
//! in memory until a blank line ends the event. An upstream that never sends one (a
//! broken proxy, a hostile server on the LAN) would grow that buffer for as long as
//! the stream's deadlines allow. This adapter counts the bytes since the last blank
//! line and fails the stream past [`MAX_EVENT_BYTES`], before the parser sees them.

use bytes::Bytes;
use futures::{Stream, StreamExt};

/// The most bytes one event may take, its field names and line ends included.
pub const MAX_EVENT_BYTES: usize = 16 << 20;

/// Why a body stream stopped.
#[derive(Debug, thiserror::Error)]
pub enum BodyError {
    #[error(transparent)]
    Transport(reqwest::Error),
    #[error("an event longer than {limit} bytes")]
    EventTooLong { limit: usize },
}

/// Passes `chunks` through, failing once `limit` bytes arrive without a blank line.
pub fn bounded_events(
    chunks: impl Stream<Item = reqwest::Result<Bytes>> + Send + 'static,
    limit: usize,
) -> impl Stream<Item = Result<Bytes, BodyError>> + Send + 'static {
    let mut boundary = Boundary::default();
    chunks.map(move |chunk| {
        let chunk = chunk.map_err(BodyError::Transport)?;
        if boundary.feed(&chunk) > limit {
            return Err(BodyError::EventTooLong { limit });
        }
        Ok(chunk)
    })
}

/// Bytes since the last blank line (`\n\n`, `\r\n\r\n` or `\r\r`).
#[derive(Debug, Default)]
struct Boundary {
    since: usize,
    /// The last byte ended a line.
    at_line_start: bool,
    /// The last byte was a `\r`, which a `\n` may follow as one line end.
    after_cr: bool,
}

impl Boundary {
    fn feed(&mut self, chunk: &[u8]) -> usize {
        for &byte in chunk {
            self.since += 1;
            match byte {
                b'\n' if self.after_cr => self.after_cr = false,
                b'\n' | b'\r' => {
                    if self.at_line_start {
                        self.since = 0;
                    }
                    self.at_line_start = true;
                    self.after_cr = byte == b'\r';
                }
                _ => {
                    self.at_line_start = false;
                    self.after_cr = false;
                }
            }
        }
        self.since
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blank_lines_reset_the_count_in_every_spelling() {
        for separator in ["\n\n", "\r\n\r\n", "\r\r"] {
            let mut boundary = Boundary::default();
            let event = format!("data: {}{separator}", "x".repeat(100));
            assert!(boundary.feed(event.as_bytes()) < 10, "{separator:?}");
            assert!(boundary.feed(b"data: abc") < 20);
        }
    }

    #[test]
    fn an_endless_line_or_event_grows_the_count() {
        let mut boundary = Boundary::default();
        for _ in 0..10 {
            boundary.feed(b"data: 0123456789\n");
        }
        assert!(
            boundary.feed(b"") >= 170,
            "data lines without a blank line add up"
        );
        let mut boundary = Boundary::default();
        boundary.feed(b"data: aaaa");
        assert_eq!(boundary.feed(b"aaaa"), 14, "a line split across chunks");
    }

    #[tokio::test]
    async fn a_stream_past_the_limit_fails() {
        let chunks = futures::stream::iter(
            (0..4).map(|_| Ok::<_, reqwest::Error>(Bytes::from_static(b"data: 0123456789"))),
        );
        let results: Vec<_> = bounded_events(chunks, 40).collect().await;
        assert!(results[1].is_ok());
        assert!(matches!(
            results[2],
            Err(BodyError::EventTooLong { limit: 40 })
        ));
    }
}
