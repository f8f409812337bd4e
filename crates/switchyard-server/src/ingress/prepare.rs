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
    check_premium_fields(&state.settings().passthrough_fields, extra)?;
    let policies = routing::policies(state, cx, extra)?;
    Ok(Resolved { route, policies })
}

/// Fields a caller could pass through to a vendor that buy a dearer service than the
/// price the gateway bills, or keep the caller's data with the vendor: each with what
/// it would do. Refused by name unless the operator lets it through
/// (`server.passthrough_fields`).
const PREMIUM_FIELDS: [(&str, &str); 6] = [
    (
        "service_tier",
        "buys a faster tier at about twice the price",
    ),
    (
        "modalities",
        "asks for audio output, billed at audio prices",
    ),
    ("audio", "asks for audio output, billed at audio prices"),
    ("web_search_options", "runs web searches, billed per call"),
    ("prediction", "bills rejected prediction tokens"),
    (
        "store",
        "keeps the conversation in the operator's vendor account",
    ),
];

/// Whether a field's value asks for more than the default: an absent, `null`, `false`
/// or default-tier value asks for nothing.
fn asks_for_more(field: &str, value: &serde_json::Value) -> bool {
    match (field, value) {
        (_, serde_json::Value::Null | serde_json::Value::Bool(false)) => false,
        ("service_tier", serde_json::Value::String(tier)) => {
            !matches!(tier.as_str(), "auto" | "default")
        }
        ("modalities", serde_json::Value::Array(kinds)) => kinds.iter().any(|kind| kind != "text"),
        _ => true,
    }
}

fn check_premium_fields(allowed: &[String], extra: &Extra) -> Result<(), ApiError> {
    for (field, effect) in PREMIUM_FIELDS {
        let Some(value) = extra.get(field) else {
            continue;
        };
        if asks_for_more(field, value) && !allowed.iter().any(|name| name == field) {
            return Err(ApiError::new(
                crate::error::Code::InvalidValue,
                format!(
                    "`{field}` {effect}, which this gateway does not bill; the operator can \
                     allow it with `server.passthrough_fields`"
                ),
            )
            .with_param(field));
        }
    }
    Ok(())
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
