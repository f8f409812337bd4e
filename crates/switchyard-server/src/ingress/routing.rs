//! The routing half of a request: the policies it is under, and its plan or the
//! refusal that says why no deployment may serve it.

use axum::http::{HeaderName, HeaderValue};
use axum::response::Response;
use serde::Deserialize;
use switchyard_router::{
    Conditions, Needs, NoCandidate, Plan, Policies, Policy, PolicySource, Route, plan,
};
use switchyard_types::ChatRequest;

use crate::context::RequestContext;
use crate::error::{ApiError, Code};
use crate::state::AppState;

/// Why the first deployment was chosen.
pub const ROUTE_REASON_HEADER: HeaderName = HeaderName::from_static("x-switchyard-route-reason");

/// The `switchyard` field a request body may carry, beside its protocol's own.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Options {
    #[serde(default)]
    policy: Policy,
}

/// The policies `request` is under: the operator's, then the caller's from the
/// `x-switchyard-policy` header and from the body's `switchyard.policy` (taken out of
/// the request, so no upstream sees it).
pub fn policies(
    state: &AppState,
    cx: &RequestContext,
    request: &mut ChatRequest,
) -> Result<Policies, ApiError> {
    let from_body = match request.extra.remove("switchyard") {
        None => Options::default(),
        Some(value) => serde_json::from_value::<Options>(value).map_err(|error| {
            ApiError::new(
                Code::InvalidValue,
                format!("`switchyard` is not valid: {error}"),
            )
            .with_param("switchyard")
        })?,
    };
    from_body.policy.check().map_err(|error| {
        ApiError::new(Code::InvalidValue, format!("`switchyard.policy`: {error}"))
            .with_param("switchyard.policy")
    })?;
    Ok(Policies::default()
        .with(PolicySource::Config, state.routing().policy.clone())
        .with(PolicySource::Request, cx.policy.clone())
        .with(PolicySource::Request, from_body.policy))
}

/// The plan for `request` on `route`, or the caller's error when none may serve it.
pub fn plan_for(
    state: &AppState,
    route: &Route,
    request: &ChatRequest,
    policies: &Policies,
) -> Result<Plan, ApiError> {
    let needs = Needs::of(request).with_language(route, request);
    planned(state, route, &needs, policies).map_err(refusal)
}

/// [`plan`] under the server's health and a fresh random draw.
pub fn planned(
    state: &AppState,
    route: &Route,
    needs: &Needs,
    policies: &Policies,
) -> Result<Plan, NoCandidate> {
    let mut rng = fastrand::Rng::new();
    plan(
        route,
        needs,
        policies,
        Conditions {
            health: state.health(),
            rng: &mut rng,
        },
    )
}

/// A request no deployment may serve: the caller's to change (400), unless every
/// deployment is only failing, when it may come back later (503 with `Retry-After`).
pub fn refusal(refused: NoCandidate) -> ApiError {
    match refused.unavailable_for() {
        Some(retry_in) => ApiError {
            retry_after: Some(retry_in),
            ..ApiError::new(Code::Overloaded, refused.to_string())
        },
        // The caller's SDK knows this error by its code: shorten the request.
        None if refused.too_long() => {
            ApiError::new(Code::ContextLengthExceeded, refused.to_string()).with_param("messages")
        }
        None => ApiError::new(Code::NoEligibleDeployment, refused.to_string()).with_param("model"),
    }
}

/// Says in a header why the plan chose what it chose.
pub fn reason_header(response: &mut Response, reason: &str) {
    if let Ok(value) = HeaderValue::from_str(reason) {
        response.headers_mut().insert(ROUTE_REASON_HEADER, value);
    }
}
