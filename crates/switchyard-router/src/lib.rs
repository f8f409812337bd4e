//! Maps public model names to deployments and walks them in order until one answers.
//!
//! - [`catalog`]: [`Catalog`] and [`Route`]: public name → ordered candidate deployments,
//!   with close-name suggestions for unknown names.
//! - [`plan`]: which of a route's deployments may serve a request ([`Needs`]), in
//!   order, and why each other may not; a request none may serve is refused up front.
//! - [`execute`]: tries a plan's candidates in order, falling back when the error's
//!   data says another deployment may succeed.
//! - [`tokens`]: a request's input tokens, estimated where no deployment counts them.
//!
//! The router holds `Arc<dyn Provider>` and never names an adapter. Strategies,
//! policies, retries and circuit breakers build on this shape.

pub mod catalog;
pub mod execute;
pub mod plan;
pub mod tokens;

pub use catalog::{Catalog, Route, UnknownModel};
pub use execute::{Attempted, Outcome, RouteError, execute};
pub use plan::{Capability, Exclusion, Needs, NoCandidate, Plan, Policy, Reason, plan};
