//! The routing half of a request: the policies it is under, and its plan or the
//! refusal that says why no deployment may serve it.

use axum::http::{HeaderName, HeaderValue};
use axum::response::Response;
use serde::Deserialize;
use std::time::Instant;

use switchyard_router::{
    Conditions, Needs, NoCandidate, Plan, Policies, Policy, PolicySource, Route, Strategy, plan,
};
use switchyard_types::{CallContext, ChatRequest};

use crate::context::RequestContext;
use crate::error::{ApiError, Code};
use crate::metrics::{ModelLabels, TaskLabels};
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

/// The policies a request is under: the operator's, then the caller's from the
/// `x-switchyard-policy` header and from the body's `switchyard.policy` (taken out of
/// the request's `extra`, so no upstream sees it).
pub fn policies(
    state: &AppState,
    cx: &RequestContext,
    extra: &mut switchyard_types::Extra,
) -> Result<Policies, ApiError> {
    let from_body = match extra.remove("switchyard") {
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
        .with(PolicySource::Key, key_policy(cx)?)
        .with(PolicySource::Request, cx.policy.clone())
        .with(PolicySource::Request, from_body.policy))
}

/// The calling key's policy; none for the operator. It was checked when the key was
/// saved, so one that no longer reads is the server's fault.
fn key_policy(cx: &RequestContext) -> Result<Policy, ApiError> {
    let Some(stored) = cx
        .caller
        .principal()
        .and_then(|principal| principal.key.settings.policy.as_ref())
    else {
        return Ok(Policy::default());
    };
    serde_json::from_value::<Policy>(stored.clone()).map_err(|error| {
        tracing::error!(%error, "A key's stored policy does not read.");
        ApiError::new(
            Code::Internal,
            "the key's routing policy cannot be read; an administrator must update the key",
        )
    })
}

/// The plan for `request` on `route` and what it was planned for, or the caller's error
/// when no deployment may serve it.
pub async fn plan_for(
    state: &AppState,
    route: &Route,
    request: &ChatRequest,
    policies: &Policies,
    context: &CallContext,
) -> Result<(Plan, Needs), ApiError> {
    let needs = needs_of(state, route, request, context).await;
    let plan = planned(state, route, &needs, policies).map_err(refusal)?;
    Ok((plan, needs))
}

/// What `request` needs of a deployment of `route`, with its language when the route
/// has a language rule and its task under the `semantic` strategy. A prompt whose task
/// cannot be found in time goes by priority: routing never fails for it.
pub async fn needs_of(
    state: &AppState,
    route: &Route,
    request: &ChatRequest,
    context: &CallContext,
) -> Needs {
    let mut needs = Needs::of(request).with_language(route, request);
    if route.strategy == Strategy::Semantic
        && let Some(tasks) = &route.tasks
    {
        let started = Instant::now();
        let (task, label) = match tasks.classify(request, context).await {
            Ok(Some(task)) => {
                let label = task.task.clone();
                (Some(task), label)
            }
            Ok(None) => (None, "none".to_owned()),
            Err(error) => {
                tracing::warn!(model = %route.name, %error, "cannot find the prompt's task; routing by priority");
                (None, "error".to_owned())
            }
        };
        let metrics = state.metrics();
        metrics
            .task_duration
            .get_or_create(&ModelLabels {
                model: route.name.clone(),
            })
            .observe(started.elapsed().as_secs_f64());
        metrics
            .tasks
            .get_or_create(&TaskLabels {
                model: route.name.clone(),
                task: label,
            })
            .inc();
        needs.task = task;
    }
    needs
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
