//! Reads server-sent events from an upstream response under two deadlines: the idle gap
//! between events and the call's total deadline.

mod bounded;
mod stray;

use std::sync::{Arc, Mutex};
use std::time::Duration;

use eventsource_stream::{EventStreamError, Eventsource};
use futures::stream::BoxStream;
use futures::{StreamExt, TryStreamExt};
use switchyard_types::StreamFrame;
use switchyard_types::{ErrorKind, ProviderError};
use tokio::sync::OwnedSemaphorePermit;
use tokio::time::Instant;

use crate::frames::{FrameSource, StreamDeadlines, open_frames};
use crate::http_error;
use stray::StrayText;

pub use bounded::MAX_EVENT_BYTES;
use bounded::{BodyError, bounded_events};

type EventResult = Result<eventsource_stream::Event, EventStreamError<BodyError>>;

/// The `data` payloads of an SSE response, one event at a time.
pub struct SseReader {
    events: BoxStream<'static, EventResult>,
    provider: Arc<str>,
    /// Scrubbed from every message built from the stream's text.
    secrets: Arc<[secrecy::SecretString]>,
    deadlines: StreamDeadlines,
    stray: Arc<Mutex<StrayText>>,
}

impl SseReader {
    pub fn new(
        response: reqwest::Response,
        provider: Arc<str>,
        idle: Duration,
        deadline: Instant,
        total: Duration,
    ) -> Self {
        let stray = Arc::new(Mutex::new(StrayText::default()));
        let tap = stray.clone();
        let bytes = response.bytes_stream().inspect_ok(move |chunk| {
            tap.lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner())
                .feed(chunk)
        });
        SseReader {
            events: bounded_events(bytes, MAX_EVENT_BYTES).eventsource().boxed(),
            provider,
            secrets: Arc::from(Vec::new()),
            stray,
            deadlines: StreamDeadlines {
                idle,
                deadline,
                total,
            },
        }
    }

    /// The upstream's secrets, scrubbed from the messages of a failed stream.
    #[must_use]
    pub fn with_secrets(mut self, secrets: Arc<[secrecy::SecretString]>) -> Self {
        self.secrets = secrets;
        self
    }

    fn secrets(&self) -> Vec<&str> {
        use secrecy::ExposeSecret;
        self.secrets
            .iter()
            .map(|secret| secret.expose_secret())
            .collect()
    }

    fn scrub(&self, message: &str) -> String {
        crate::scrub::scrub(message, &self.secrets())
    }

    /// Changes the longest allowed silence between events.
    pub fn set_idle(&mut self, idle: Duration) {
        self.deadlines.idle = idle;
    }

    /// Text the body carried outside any SSE field so far (see [`stray`]).
    pub fn stray_text(&self) -> String {
        self.stray
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .text()
    }

    /// The next event's data, `None` at the end of the body. Comment lines and events
    /// with empty data (keep-alives) are skipped.
    pub async fn next_data(&mut self) -> Option<Result<String, ProviderError>> {
        loop {
            let (wait_until, what, limit) = self.deadlines.next_wait();
            let next = match tokio::time::timeout_at(wait_until, self.events.next()).await {
                Ok(next) => next,
                Err(_) => return Some(Err(http_error::timeout(&self.provider, what, limit))),
            };
            return match next? {
                Ok(event) if event.data.is_empty() => continue,
                Ok(event) => Some(Ok(event.data)),
                Err(EventStreamError::Transport(BodyError::Transport(error))) => Some(Err(
                    http_error::from_transport(&self.provider, error, &self.secrets()),
                )),
                Err(EventStreamError::Transport(too_long)) => Some(Err(ProviderError::new(
                    ErrorKind::Upstream,
                    format!("upstream `{}` sent {too_long}", self.provider),
                ))),
                Err(error) => Some(Err(ProviderError::new(
                    ErrorKind::Upstream,
                    format!(
                        "upstream `{}` sent a malformed event stream: {error}",
                        self.provider
                    ),
                ))),
            };
        }
    }
}

/// What one `data:` payload meant, as an adapter's [`EventProtocol`] reads it.
#[derive(Debug)]
pub enum Step {
    /// Canonical events; an empty frame (a keep-alive, a bare role) is skipped.
    Frame(StreamFrame),
    /// The upstream said the answer is complete (`[DONE]`, `message_stop`).
    Done,
    /// The upstream reported a failure after the stream began: what kind, and its words.
    Failed(ErrorKind, String),
}

/// One vendor's event stream: `data:` payloads in, canonical frames out.
pub trait EventProtocol: Send + 'static {
    /// Reads one payload; `Err` says why it is not a valid event.
    fn step(&mut self, data: &str) -> Result<Step, String>;
    /// The body ended before [`Step::Done`]: the last events if the answer is
    /// complete all the same, else why it is not.
    fn at_end(&mut self) -> Result<StreamFrame, String>;
    /// Reads text the body carried outside any event (a raw error body some
    /// upstreams write into a stream); `None` when it is not a failure report.
    fn stray(&mut self, _text: &str) -> Option<Step> {
        None
    }
}

/// An SSE response read through an adapter's [`EventProtocol`].
struct SseStream<P> {
    reader: SseReader,
    protocol: P,
    provider: Arc<str>,
    done: bool,
    /// Held until the stream ends or is dropped, so the deployment's concurrency limit
    /// counts streams, not just request starts.
    _permit: Option<OwnedSemaphorePermit>,
}

impl<P: EventProtocol> SseStream<P> {
    fn fail(&mut self, error: ProviderError) -> Option<Result<StreamFrame, ProviderError>> {
        self.done = true;
        Some(Err(error))
    }

    fn failed_mid_stream(
        &mut self,
        kind: ErrorKind,
        message: &str,
    ) -> Option<Result<StreamFrame, ProviderError>> {
        let message = self.reader.scrub(&format!(
            "upstream `{}` failed mid-stream: {message}",
            self.provider
        ));
        self.fail(ProviderError::new(kind, message))
    }

    /// The body ended without the protocol's end marker. A failure report written
    /// outside the events explains why; else the protocol judges what arrived.
    fn at_end(&mut self) -> Option<Result<StreamFrame, ProviderError>> {
        self.done = true;
        let stray = self.reader.stray_text();
        if !stray.is_empty()
            && let Some(Step::Failed(kind, message)) = self.protocol.stray(&stray)
        {
            return self.failed_mid_stream(kind, &message);
        }
        match self.protocol.at_end() {
            Ok(frame) if frame.is_empty() => None,
            Ok(frame) => Some(Ok(frame)),
            Err(why) => {
                let mut message = format!("upstream `{}` {why}", self.provider);
                if !stray.is_empty() {
                    let excerpt: String = stray.chars().take(STRAY_EXCERPT).collect();
                    message.push_str(&format!(" (it also sent, outside any event: {excerpt})"));
                }
                self.fail(ProviderError::new(
                    ErrorKind::Upstream,
                    self.reader.scrub(&message),
                ))
            }
        }
    }
}

/// How much unrecognised stray text an error message quotes.
const STRAY_EXCERPT: usize = 300;

impl<P: EventProtocol> FrameSource for SseStream<P> {
    async fn next_frame(&mut self) -> Option<Result<StreamFrame, ProviderError>> {
        loop {
            if self.done {
                return None;
            }
            let data = match self.reader.next_data().await {
                Some(Ok(data)) => data,
                Some(Err(error)) => return self.fail(error),
                None => return self.at_end(),
            };
            match self.protocol.step(&data) {
                Ok(Step::Frame(frame)) if frame.is_empty() => {}
                Ok(Step::Frame(frame)) => return Some(Ok(frame)),
                Ok(Step::Done) => self.done = true,
                Ok(Step::Failed(kind, message)) => {
                    return self.failed_mid_stream(kind, &message);
                }
                Err(why) => {
                    return self.fail(ProviderError::new(
                        ErrorKind::Upstream,
                        format!(
                            "upstream `{}` sent an event that is not valid: {why}",
                            self.provider
                        ),
                    ));
                }
            }
        }
    }

    fn set_idle(&mut self, idle: Duration) {
        self.reader.set_idle(idle);
    }
}

/// Opens an SSE response read through `protocol`: resolves once the first frame
/// arrived, so a failure before that can still fall back.
pub async fn open_sse<P: EventProtocol>(
    reader: SseReader,
    protocol: P,
    provider: Arc<str>,
    idle: Duration,
    permit: Option<OwnedSemaphorePermit>,
) -> Result<switchyard_types::EventStream, ProviderError> {
    let stream = SseStream {
        reader,
        protocol,
        provider: provider.clone(),
        done: false,
        _permit: permit,
    };
    open_frames(stream, &provider, idle).await
}
