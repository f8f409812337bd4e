//! The first half of every model call, shared by every route that calls a model: chat
//! completions, messages, responses, text completions, embeddings, `count_tokens` and
//! route explain. A rule added here holds on all of them; none can skip a key's
//! restriction or a policy.
//!
//! 1. [`resolve`]: the public model name, as the caller's key may use it (a key limited
//!    to some models is told the others do not exist), and the policies the call is
//!    under: the operator's, the key's, the request's header and body.
//! 2. [`plan`] (or [`plan_embedding`]): the deployments that may serve it under those
//!    policies, its needs and the deployments' health, in the strategy's order.
//! 3. Admission ([`crate::governance::admit`]) then reserves its limits and budget
//!    before anything is sent, from the plan's candidates and the call's estimate.

use switchyard_router::{Needs, Plan, Policies, Route};
use switchyard_types::{ChatRequest, Extra};

use super::routing;
use crate::context::RequestContext;
use crate::error::ApiError;
use crate::governance;
use crate::state::AppState;

/// A call's model and the policies it is under.
pub struct Resolved<'s> {
    pub route: &'s Route,
    pub policies: Policies,
}

/// Step 1: the route `model` names, if the caller may use it, and the layered policies
/// (the body's `switchyard` field is taken out of `extra`, so no upstream sees it).
pub fn resolve<'s>(
    state: &'s AppState,
    cx: &RequestContext,
    model: &str,
    extra: &mut Extra,
) -> Result<Resolved<'s>, ApiError> {
    let route = governance::route_for(state, cx, model)?;
    let policies = routing::policies(state, cx, extra)?;
    Ok(Resolved { route, policies })
}

/// Step 2 for a conversation or a text completion: its plan and what it was planned
/// for, or the caller's error when no deployment may serve it.
pub async fn plan(
    state: &AppState,
    cx: &RequestContext,
    resolved: &Resolved<'_>,
    request: &ChatRequest,
) -> Result<(Plan, Needs), ApiError> {
    routing::plan_for(
        state,
        resolved.route,
        request,
        &resolved.policies,
        &cx.call_context(),
    )
    .await
}

/// Step 2 for embeddings: the deployments that embed, under the same policies and
/// breakers, in the route's order.
pub fn plan_embedding(state: &AppState, resolved: &Resolved<'_>) -> Result<Plan, ApiError> {
    routing::planned(
        state,
        resolved.route,
        &Needs::embedding(),
        &resolved.policies,
    )
    .map_err(routing::refusal)
}
