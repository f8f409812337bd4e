//! `POST /v1/route/explain`: how Switchyard would route a request, without sending it.

use axum::Json;
use axum::extract::State;
use serde::Serialize;
use switchyard_protocols::openai;
use switchyard_router::{Needs, plan};
use switchyard_types::DeploymentInfo;
use utoipa::ToSchema;

use crate::body::JsonBody;
use crate::context::RequestContext;
use crate::error::ApiError;
use crate::state::AppState;

/// A routing decision, explained.
#[derive(Debug, Serialize, ToSchema)]
pub struct RouteExplanation {
    /// The public model name asked for.
    pub model: String,
    /// What the request needs of a deployment: `text_completion`, `streaming`, `tools`,
    /// `vision`, `json_output`.
    #[schema(value_type = Object)]
    pub needs: Needs,
    /// The deployments that may serve it, in the order they would be tried.
    pub candidates: Vec<DeploymentView>,
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
pub struct ExcludedView {
    #[serde(flatten)]
    pub deployment: DeploymentView,
    pub reason: String,
}

fn view(info: &DeploymentInfo) -> DeploymentView {
    DeploymentView {
        deployment: info.id.to_string(),
        provider: info.provider.to_string(),
        upstream_model: info.upstream_model.to_string(),
    }
}

/// Plans a Chat Completions request as the router would, with the caller's
/// `x-switchyard-policy`, without dispatching it: the candidates in order, and every
/// deployment left out with its reason.
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
    let request = openai::decode_chat_request(&body)?;
    let route = state.catalog().get(&request.model)?;
    let needs = Needs::of(&request);
    let explanation = match plan(route, &needs, &cx.policy) {
        Ok(plan) => RouteExplanation {
            model: route.name.clone(),
            needs,
            candidates: plan
                .candidates
                .iter()
                .map(|candidate| view(candidate.info()))
                .collect(),
            excluded: excluded_views(&plan.excluded),
            refusal: None,
        },
        Err(refused) => RouteExplanation {
            model: route.name.clone(),
            needs,
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
