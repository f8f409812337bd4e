//! A bound on the requests the server works on at once (`server.max_concurrent_requests`),
//! so a flood sheds load with a 503 and `Retry-After` instead of growing without end.
//! A request holds its place until its response body ends: a stream counts for as
//! long as it streams. Health and metrics routes are never refused, so an overloaded
//! server can still be watched.

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::body::{Body, Bytes, HttpBody};
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::error::{ApiError, Code};
use crate::state::AppState;

/// Routes that answer however busy the server is.
const ALWAYS: [&str; 3] = ["/healthz", "/readyz", "/metrics"];

/// Admits the request if the server has room, and holds its place until the response
/// body ends.
pub async fn limit(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let Some(slots) = state.request_slots() else {
        return next.run(request).await;
    };
    if ALWAYS.contains(&request.uri().path()) {
        return next.run(request).await;
    }
    let Ok(permit) = slots.clone().try_acquire_owned() else {
        return ApiError {
            retry_after: Some(Duration::from_secs(1)),
            ..ApiError::new(
                Code::Overloaded,
                format!(
                    "this server is working on as many requests as it takes at once ({}, \
                     `server.max_concurrent_requests`); try again shortly",
                    state.settings().max_concurrent_requests.unwrap_or_default()
                ),
            )
        }
        .into_response();
    };
    next.run(request).await.map(|body| {
        Body::new(Held {
            body,
            _permit: permit,
        })
    })
}

/// The semaphore of [`limit`], for a server with a bound.
pub fn slots(max: Option<usize>) -> Option<Arc<Semaphore>> {
    max.map(|max| Arc::new(Semaphore::new(max.max(1))))
}

/// A response body that holds its request's place until it ends (or is dropped).
struct Held {
    body: Body,
    _permit: OwnedSemaphorePermit,
}

impl HttpBody for Held {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<http_body::Frame<Self::Data>, Self::Error>>> {
        Pin::new(&mut self.body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> http_body::SizeHint {
        self.body.size_hint()
    }
}
