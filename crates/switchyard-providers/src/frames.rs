//! What every streamed answer shares, whatever its framing (SSE in [`crate::sse`],
//! AWS's binary event stream in [`crate::eventstream`]): the deadline for the next
//! event, and opening a stream eagerly.

use std::time::Duration;

use futures::StreamExt;
use switchyard_types::{ErrorKind, EventStream, ProviderError, StreamFrame};
use tokio::time::Instant;

/// The two limits on a stream's waits: the silence allowed between events, and the
/// call's total deadline.
#[derive(Debug, Clone, Copy)]
pub struct StreamDeadlines {
    pub idle: Duration,
    pub deadline: Instant,
    pub total: Duration,
}

impl StreamDeadlines {
    /// When the next event must have arrived, what is awaited, and the limit that
    /// applies, for the timeout's message.
    pub fn next_wait(&self) -> (Instant, &'static str, Duration) {
        let idle_deadline = Instant::now() + self.idle;
        if idle_deadline < self.deadline {
            (idle_deadline, "stream event", self.idle)
        } else {
            (self.deadline, "end of stream", self.total)
        }
    }
}

/// An upstream stream being decoded: the next canonical frame, `None` once complete.
pub(crate) trait FrameSource: Send + 'static {
    fn next_frame(
        &mut self,
    ) -> impl std::future::Future<Output = Option<Result<StreamFrame, ProviderError>>> + Send;
    /// Changes the longest allowed silence between events.
    fn set_idle(&mut self, idle: Duration);
}

/// Waits for the first frame, then hands back the whole stream: a failure before the
/// first event is still the call's error, so the router can fall back. The first frame
/// may take the longer first-byte deadline; from then on the `idle` gap applies.
pub(crate) async fn open_frames<S: FrameSource>(
    mut source: S,
    provider: &str,
    idle: Duration,
) -> Result<EventStream, ProviderError> {
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
    source.set_idle(idle);
    let rest = futures::stream::unfold(source, |mut source| async move {
        let frame = source.next_frame().await?;
        Some((frame, source))
    });
    Ok(futures::stream::once(async move { Ok(first) })
        .chain(rest)
        .boxed())
}
