//! `GET /v1/route/health`: what the router sees of each deployment now.

use axum::Json;
use axum::extract::State;
use serde::Serialize;
use switchyard_router::{Observed, Profile};
use utoipa::ToSchema;

use crate::state::AppState;

/// Every deployment's state.
#[derive(Debug, Serialize, ToSchema)]
pub struct RouteHealth {
    pub deployments: Vec<DeploymentHealth>,
}

/// One deployment: its circuit breaker, calls in flight, latency averages and call
/// counts, and the profile policies are checked against.
#[derive(Debug, Serialize, ToSchema)]
pub struct DeploymentHealth {
    pub deployment: String,
    pub provider: String,
    pub upstream_model: String,
    /// The public models that route to it.
    pub models: Vec<String>,
    /// `circuit` (`{"state": "closed" | "open" | "half_open", "retry_in"}`),
    /// `in_flight`, `time_to_first_token` and `latency` (moving averages, seconds),
    /// `successes`, `failures`.
    #[serde(flatten)]
    #[schema(value_type = Object)]
    pub observed: Observed,
    #[schema(value_type = Object)]
    pub profile: Profile,
}

/// The circuit breaker, load and latency of every configured deployment.
#[utoipa::path(
    get,
    path = "/v1/route/health",
    operation_id = "routeHealth",
    tag = "routing",
    responses(
        (status = 200, description = "Each deployment's state", body = RouteHealth),
        crate::openapi::ModelCallErrors,
    ),
    security((), ("bearer" = []), ("api_key" = []), ("x_api_key" = []))
)]
pub async fn route_health(
    State(state): State<AppState>,
    cx: crate::context::RequestContext,
) -> Json<RouteHealth> {
    // A key limited to some models sees only their deployments, as it sees only those
    // models in `/v1/models`.
    let visible = |model: &str| {
        cx.caller.principal().is_none_or(|principal| {
            principal.key.settings.models.is_empty() || principal.key.allows_model(model)
        })
    };
    let deployments = state
        .deployments()
        .into_iter()
        .filter_map(|deployment| {
            let info = deployment.info();
            let models: Vec<String> = state
                .catalog()
                .routes()
                .filter(|route| {
                    visible(&route.name)
                        && route
                            .deployments
                            .iter()
                            .any(|candidate| candidate.info().id == info.id)
                })
                .map(|route| route.name.clone())
                .collect();
            if models.is_empty() && cx.caller.principal().is_some() {
                return None;
            }
            Some(DeploymentHealth {
                deployment: info.id.to_string(),
                provider: info.provider.to_string(),
                upstream_model: info.upstream_model.to_string(),
                models,
                observed: state.health().observe(&info.id),
                profile: deployment.profile.as_ref().clone(),
            })
        })
        .collect();
    Json(RouteHealth { deployments })
}
