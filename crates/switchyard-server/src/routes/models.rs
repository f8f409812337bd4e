//! `GET /v1/models` and `GET /v1/models/{id}`: the public model names.

use axum::Json;
use axum::extract::{Path, State};
use switchyard_protocols::openai::{Model, ModelList};
use switchyard_router::Route;

use crate::context::RequestContext;
use crate::error::ApiError;
use crate::state::AppState;

fn model_object(route: &Route, created: u64) -> Model {
    let owned_by = route
        .deployments
        .first()
        .map_or("switchyard".to_owned(), |deployment| {
            deployment.info().provider.to_string()
        });
    let mut model = Model::new(route.name.clone(), created, owned_by);
    model.description = route.description.clone();
    model
}

/// Lists the public model names.
#[utoipa::path(
    get,
    path = "/v1/models",
    operation_id = "listModels",
    tag = "models",
    responses(
        (status = 200, description = "The public model names", body = ModelList),
        crate::openapi::ListModelsErrors,
    ),
    security((), ("bearer" = []), ("api_key" = []), ("x_api_key" = []))
)]
pub async fn list(State(state): State<AppState>, cx: RequestContext) -> Json<ModelList> {
    let created = state.started_at();
    let allowed = |name: &str| {
        cx.caller
            .principal()
            .is_none_or(|principal| principal.key.allows_model(name))
    };
    Json(ModelList::new(
        state
            .catalog()
            .routes()
            .filter(|route| allowed(&route.name))
            .map(|route| model_object(route, created))
            .collect(),
    ))
}

/// Retrieves one model by name.
//
// Model ids may contain `/` (`meta-llama/Llama-3.1-8B-Instruct`), so the id is the rest
// of the path.
#[utoipa::path(
    get,
    path = "/v1/models/{*id}",
    operation_id = "retrieveModel",
    tag = "models",
    params(("id" = String, Path, description = "The model name; it may contain `/`")),
    responses(
        (status = 200, description = "The model", body = Model),
        crate::openapi::RetrieveModelErrors,
    ),
    security((), ("bearer" = []), ("api_key" = []), ("x_api_key" = []))
)]
pub async fn retrieve(
    State(state): State<AppState>,
    cx: RequestContext,
    Path(id): Path<String>,
) -> Result<Json<Model>, ApiError> {
    let route = crate::governance::route_for(&state, &cx, &id)?;
    Ok(Json(model_object(route, state.started_at())))
}
