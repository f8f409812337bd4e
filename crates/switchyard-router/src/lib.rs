//! Maps public model names to deployments and walks them in order until one answers.
//!
//! - [`catalog`]: [`Catalog`] and [`Route`]: public name → ordered candidate deployments,
//!   with close-name suggestions for unknown names.
//! - [`deployment`]: a route's [`Deployment`]: its provider and [`Profile`] (vendor home,
//!   hosting place, retention, price, context window), weight and eval score.
//! - [`policy`]: rules on where a request may go, layered operator → key → request.
//! - [`plan`]: which of a route's deployments may serve a request ([`Needs`]), ordered
//!   by the route's [`Strategy`], and why each other may not; a request none may serve
//!   is refused up front. Pure and synchronous.
//! - [`execute`]: walks a plan: retries with backoff, falls back when the error's data
//!   says another deployment may succeed, within the request's deadline.
//! - [`hedge`]: a second call when the first is slower than the route usually is; the
//!   first answer wins.
//! - [`check`]: active health checks that tell the breakers whether a deployment
//!   answers.
//! - [`health`]: latency averages, requests in flight and a circuit breaker per
//!   deployment, which plans and strategies read.
//! - [`strategy`]: priority, weighted, least-latency, least-busy, cheapest,
//!   quality-per-cost, semantic.
//! - [`language`]: a prompt's language, for routes that send languages to deployments.
//! - [`task`]: the task a prompt resembles most (by its examples' embeddings), for the
//!   `semantic` strategy.
//! - [`prompt`]: the text those two rules read.
//! - [`tokens`]: a request's input tokens, estimated where no deployment counts them.
//!
//! The router holds `Arc<dyn Provider>` and never names an adapter.

pub mod catalog;
pub mod check;
pub mod deployment;
pub mod execute;
pub mod health;
pub mod hedge;
pub mod language;
pub mod plan;
pub mod policy;
pub mod prompt;
pub mod strategy;
pub mod task;
pub mod tokens;

#[cfg(test)]
mod testing;

pub use catalog::{Catalog, Route, UnknownModel};
pub use deployment::{Deployment, Profile, Retention};
pub use execute::{Attempted, Outcome, RetrySettings, RouteError, execute};
pub use health::{BreakerSettings, Circuit, Health, Observed};
pub use hedge::{Hedge, HedgeAfter, Hedged, execute_hedged};
pub use plan::{Conditions, Exclusion, Needs, NoCandidate, Plan, Reason, plan};
pub use policy::{Capability, InvalidPolicy, Place, Policies, Policy, PolicySource};
pub use strategy::Strategy;
pub use task::{Task, TaskError, TaskMatch, Tasks};
