//! `POST /v1/route/explain`: how Switchyard would route a request, without sending it.

use axum::Json;
use axum::extract::State;
use serde::Serialize;
use switchyard_protocols::openai;
use switchyard_router::{Deployment, Health, Needs, Observed, Profile};
use switchyard_types::DeploymentInfo;
use utoipa::ToSchema;

use crate::body::JsonBody;
use crate::context::RequestContext;
use crate::error::ApiError;
use crate::ingress::{prepare, routing};
use crate::state::AppState;

/// A routing decision, explained.
#[derive(Debug, Serialize, ToSchema)]
pub struct RouteExplanation {
    /// The public model name asked for.
    pub model: String,
    /// What the request needs of a deployment: `input_tokens` (estimated),
    /// `max_output_tokens`, `text_completion`, `streaming`, `tools`, `vision`,
    /// `json_output`, `language` (ISO 639-3, for routes with a language rule), `task`
    /// (the nearest task, its deployment and similarity, under `semantic`).
    #[schema(value_type = Object)]
    pub needs: Needs,
    /// The route's strategy (`priority`, `weighted`, `least-latency`, …).
    pub strategy: String,
    /// Why the first candidate would be chosen.
    pub reason: Option<String>,
    /// When the first candidate would be hedged with the rest, in milliseconds: the
    /// model's `hedge` delay, or its latency percentile once measured.
    pub hedge_after_ms: Option<f64>,
    /// The deployments that may serve it, in the order they would be tried, each with
    /// its profile and health.
    pub candidates: Vec<CandidateView>,
    /// The deployments left out, each with its reason.
    pub excluded: Vec<ExcludedView>,
    /// Why the request would be refused, when no deployment may serve it.
    pub refusal: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DeploymentView {
    pub deployment: String,
    pub provider: String,
    pub upstream_model: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct CandidateView {
    #[serde(flatten)]
    pub deployment: DeploymentView,
    /// Vendor home, hosting place, region, retention, price, context window.
    #[schema(value_type = Object)]
    pub profile: Profile,
    /// Circuit, requests in flight, latency averages.
    #[schema(value_type = Object)]
    pub health: Observed,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ExcludedView {
    #[serde(flatten)]
    pub deployment: DeploymentView,
    pub reason: String,
}

fn candidate(deployment: &Deployment, health: &Health) -> CandidateView {
    CandidateView {
        deployment: view(deployment.info()),
        profile: deployment.profile.as_ref().clone(),
        health: health.observe(&deployment.info().id),
    }
}

fn view(info: &DeploymentInfo) -> DeploymentView {
    DeploymentView {
        deployment: info.id.to_string(),
        provider: info.provider.to_string(),
        upstream_model: info.upstream_model.to_string(),
    }
}

/// Plans a Chat Completions request as the router would, under the operator's policy
/// and the caller's (`x-switchyard-policy`, `switchyard.policy`), without dispatching
/// it: the candidates in order with their profiles and health, and every deployment
/// left out with its reason.
#[utoipa::path(
    post,
    path = "/v1/route/explain",
    operation_id = "explainRoute",
    tag = "routing",
    request_body = openai::ChatCompletionRequest,
    responses(
        (status = 200, description = "The plan", body = RouteExplanation),
        crate::openapi::ModelCallErrors,
    ),
    security((), ("bearer" = []), ("api_key" = []), ("x_api_key" = []))
)]
pub async fn explain(
    State(state): State<AppState>,
    cx: RequestContext,
    body: Result<JsonBody, ApiError>,
) -> Result<Json<RouteExplanation>, ApiError> {
    let JsonBody(body) = body?;
    let mut request = openai::decode_chat_request(&body)?;
    // The same first half as the call itself: a key sees only its models, under its
    // policies.
    let prepare::Resolved { route, policies } =
        prepare::resolve(&state, &cx, &request.model, &mut request.extra)?;
    let needs = routing::needs_of(&state, route, &request, &cx.call_context()).await;
    let strategy = route.strategy.to_string();
    let hedge_after_ms = route
        .hedge
        .as_ref()
        .and_then(|hedge| hedge.delay(needs.streaming))
        .map(|delay| delay.as_secs_f64() * 1000.0);
    let explanation = match routing::planned(&state, route, &needs, &policies) {
        Ok(plan) => RouteExplanation {
            model: route.name.clone(),
            needs,
            strategy,
            reason: Some(plan.reason),
            hedge_after_ms,
            candidates: plan
                .candidates
                .iter()
                .map(|deployment| candidate(deployment, state.health()))
                .collect(),
            excluded: excluded_views(&plan.excluded),
            refusal: None,
        },
        Err(refused) => RouteExplanation {
            model: route.name.clone(),
            needs,
            strategy,
            reason: None,
            hedge_after_ms: None,
            candidates: Vec::new(),
            excluded: excluded_views(&refused.excluded),
            refusal: Some(refused.to_string()),
        },
    };
    Ok(Json(explanation))
}

fn excluded_views(excluded: &[switchyard_router::Exclusion]) -> Vec<ExcludedView> {
    excluded
        .iter()
        .map(|exclusion| ExcludedView {
            deployment: view(&exclusion.deployment),
            reason: exclusion.reason.to_string(),
        })
        .collect()
}
