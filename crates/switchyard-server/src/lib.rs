//! The Switchyard HTTP server: an axum application that speaks the OpenAI protocol to
//! callers, routes each request through the catalog, and meters what it served.
//!
//! Layout:
//! - [`app()`] builds the router; [`run`] serves it, with deadlines on idle clients and
//!   graceful shutdown.
//! - [`config`]: `switchyard.toml` → validated [`config::Config`], every error at once.
//! - [`state`]: [`AppState`], built from a config: catalog, settings, metrics.
//! - [`routes`]: one handler module per resource.
//! - [`ingress`]: one chat pipeline, spoken in each client protocol's dialect.
//! - [`profile`]: what routing policies know of each deployment (catalog + config).
//! - [`error`]: [`error::ApiError`] and its stable code table, encoded per protocol.
//! - [`accounting`]: each model request's log line and metrics, recorded once.
//! - [`checks`]: active health checks of the deployments that ask for them.
//! - [`auth`], [`guard`] (what an open server refuses), [`concurrency`] (requests in
//!   flight), [`body`], [`context`], [`metrics`]: edge concerns.
//!
//! The server knows no provider wire details: it holds `Arc<dyn Provider>`s in the
//! router's catalog and converts the caller's protocol with `switchyard_protocols`.

pub mod accounting;
pub mod auth;
pub mod body;
pub mod checks;
pub mod concurrency;
pub mod config;
pub mod context;
pub mod error;
pub mod governance;
pub mod guard;
pub mod ingress;
pub mod metrics;
pub mod openapi;
pub mod pricing;
pub mod profile;
pub mod routes;
pub mod state;

mod app;
mod serve;

pub use app::{DEFAULT_MAX_BODY_BYTES, REQUEST_ID, app, starting_app};
pub use serve::{run, run_changing};
pub use state::AppState;
