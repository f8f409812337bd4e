//! Noticing a client that hangs up in the middle of a streamed answer.
//!
//! A gateway must close its upstream connection when its own caller goes away, or the
//! vendor keeps generating (and billing) tokens nobody reads. Mocks serve such answers as
//! bodies that never end on their own; when the client hangs up, hyper drops the body
//! and [`HangUps`] counts it.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use bytes::Bytes;
use futures::StreamExt;
use tokio::sync::watch;

/// How many never-ending bodies their clients dropped; cheap to clone.
#[derive(Clone)]
pub struct HangUps(Arc<watch::Sender<usize>>);

/// Counts one hang-up when the body holding it is dropped.
struct Guard(HangUps);

impl Drop for Guard {
    fn drop(&mut self) {
        self.0.0.send_modify(|count| *count += 1);
    }
}

impl Default for HangUps {
    fn default() -> Self {
        HangUps(Arc::new(watch::channel(0).0))
    }
}

impl HangUps {
    /// The hang-ups so far.
    pub fn count(&self) -> usize {
        *self.0.borrow()
    }

    /// Waits until at least `n` clients hung up; `false` if `timeout` passes first.
    pub async fn wait_for(&self, n: usize, timeout: Duration) -> bool {
        let mut changes = self.0.subscribe();
        tokio::time::timeout(timeout, async move {
            changes.wait_for(|count| *count >= n).await.is_ok()
        })
        .await
        .unwrap_or(false)
    }

    /// A body that sends `frames`, then stays open until the client hangs up.
    pub fn body_then_stall(&self, frames: Vec<Bytes>) -> Body {
        let guard = Guard(self.clone());
        let frames = futures::stream::iter(frames)
            .chain(futures::stream::pending())
            .map(move |frame| {
                let _held_until_dropped = &guard;
                Ok::<_, std::io::Error>(frame)
            });
        Body::from_stream(frames)
    }
}
