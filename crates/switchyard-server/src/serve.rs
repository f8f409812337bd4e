//! The accept loop: serves the app over HTTP/1.1 and HTTP/2 (cleartext, by prior
//! knowledge or upgrade) with a deadline on every client wait, and shuts down gracefully.
//!
//! `axum::serve` sets no timer, so hyper would wait forever for a client that opens a
//! connection and never finishes its request headers. Here hyper gets a timer, a
//! header-read deadline, and HTTP/2 keep-alive pings that close dead connections.

use std::future::Future;
use std::time::Duration;

use axum::Router;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tower::ServiceExt as _;

use crate::app::app;
use crate::state::AppState;

/// The longest a client may take to send a request's headers once it started one or
/// while its keep-alive connection sits idle.
const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(30);
/// How often an HTTP/2 connection is pinged, and how long a ping may go unanswered.
const HTTP2_KEEP_ALIVE: Duration = Duration::from_secs(30);

/// Serves `state` on `listener` until `shutdown` resolves, then stops accepting and
/// lets requests in flight (streams included) finish for up to `grace`.
pub async fn run(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
    grace: Duration,
) -> std::io::Result<()> {
    let (_keep, routers) = watch::channel(app(state));
    run_changing(listener, routers, shutdown, grace).await
}

/// As [`run`], serving each request with the router `routers` holds at that moment: a
/// server can listen (and answer `/healthz`) before its models are loaded, then switch
/// to the full app without dropping a connection.
pub async fn run_changing(
    listener: TcpListener,
    routers: watch::Receiver<Router>,
    shutdown: impl Future<Output = ()> + Send + 'static,
    grace: Duration,
) -> std::io::Result<()> {
    let service = TowerToHyperService::new(tower::service_fn(
        move |request: axum::extract::Request<hyper::body::Incoming>| {
            let router = routers.borrow().clone();
            router.oneshot(request)
        },
    ));
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(HEADER_READ_TIMEOUT);
    builder
        .http2()
        .timer(TokioTimer::new())
        .keep_alive_interval(HTTP2_KEEP_ALIVE)
        .keep_alive_timeout(HTTP2_KEEP_ALIVE);
    let graceful = GracefulShutdown::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let (stream, _peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    // Running out of file descriptors is temporary: back off, go on.
                    tracing::warn!(%error, "Cannot accept a connection; retrying.");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        // Small SSE frames must leave at once, not wait for Nagle's algorithm.
        let _ = stream.set_nodelay(true);
        let connection = builder
            .serve_connection_with_upgrades(TokioIo::new(stream), service.clone())
            .into_owned();
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            if let Err(error) = connection.await {
                tracing::debug!(error = %error, "Connection ended with an error.");
            }
        });
    }
    drop(listener);
    tracing::info!(
        grace_s = grace.as_secs_f64(),
        "Shutting down; finishing requests in flight."
    );
    tokio::select! {
        () = graceful.shutdown() => {}
        () = tokio::time::sleep(grace) => {
            tracing::warn!("Grace period over; closing the connections still open.");
        }
    }
    Ok(())
}
