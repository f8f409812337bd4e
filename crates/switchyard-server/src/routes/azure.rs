//! Azure OpenAI's routes, so `AzureOpenAI` clients work unchanged:
//!
//! - `/openai/deployments/{deployment}/chat/completions?api-version=…`,
//!   `…/completions` and `…/embeddings`, where the deployment in the path names the
//!   public model;
//! - `/openai/v1/chat/completions`, `/openai/v1/completions`, `/openai/v1/responses`
//!   (with its stored responses), `/openai/v1/embeddings` and `/openai/v1/models`,
//!   Azure's version-less paths, which take the model in the body as OpenAI does.
//!
//! Azure's request and error bodies are OpenAI's, and its `api-key` header is one of
//! the key headers every route accepts; `api-version` is accepted whatever its value,
//! since Switchyard speaks one version of the protocol.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::response::Response;
use serde_json::Value;
use switchyard_protocols::openai::completions::CompletionRequest;
use switchyard_protocols::openai::{ChatCompletionRequest, EmbeddingRequest, ModelList};

use super::{embeddings, models, responses};
use crate::body::JsonBody;
use crate::context::RequestContext;
use crate::error::ApiError;
use crate::ingress::{completions::Completions, openai::ChatCompletions, serve_chat};
use crate::state::AppState;

/// The body with `model` set to the deployment named in the path, which is how Azure
/// chooses the model. A body that is not a JSON object is left for the decoder to
/// refuse with its usual message.
fn with_model(body: Result<JsonBody, ApiError>, deployment: &str) -> Result<JsonBody, ApiError> {
    let JsonBody(bytes) = body?;
    let Ok(Value::Object(mut fields)) = serde_json::from_slice::<Value>(&bytes) else {
        return Ok(JsonBody(bytes));
    };
    fields.insert("model".into(), Value::String(deployment.to_owned()));
    let bytes = serde_json::to_vec(&fields)
        .map(Bytes::from)
        .unwrap_or(bytes);
    Ok(JsonBody(bytes))
}

/// Creates a chat completion for an Azure deployment, as Azure OpenAI's route.
#[utoipa::path(
    post,
    path = "/openai/deployments/{deployment}/chat/completions",
    operation_id = "azureCreateChatCompletion",
    tag = "azure",
    params(
        ("deployment" = String, Path, description = "The public model name, as Azure's deployment name"),
        ("api-version" = Option<String>, Query, description = "Accepted and ignored"),
    ),
    request_body = ChatCompletionRequest,
    responses(
        (status = 200, description = "As `POST /v1/chat/completions`"),
        crate::openapi::ModelCallErrors,
    ),
    security((), ("bearer" = []), ("api_key" = []), ("x_api_key" = []))
)]
pub async fn deployment_chat(
    State(state): State<AppState>,
    Path(deployment): Path<String>,
    cx: RequestContext,
    body: Result<JsonBody, ApiError>,
) -> Response {
    serve_chat::<ChatCompletions>(state, cx, with_model(body, &deployment)).await
}

/// Creates a text completion for an Azure deployment, as Azure OpenAI's route.
#[utoipa::path(
    post,
    path = "/openai/deployments/{deployment}/completions",
    operation_id = "azureCreateCompletion",
    tag = "azure",
    params(
        ("deployment" = String, Path, description = "The public model name, as Azure's deployment name"),
        ("api-version" = Option<String>, Query, description = "Accepted and ignored"),
    ),
    request_body = CompletionRequest,
    responses(
        (status = 200, description = "As `POST /v1/completions`"),
        crate::openapi::ModelCallErrors,
    ),
    security((), ("bearer" = []), ("api_key" = []), ("x_api_key" = []))
)]
pub async fn deployment_completions(
    State(state): State<AppState>,
    Path(deployment): Path<String>,
    cx: RequestContext,
    body: Result<JsonBody, ApiError>,
) -> Response {
    serve_chat::<Completions>(state, cx, with_model(body, &deployment)).await
}

/// Creates embeddings for an Azure deployment, as Azure OpenAI's route.
#[utoipa::path(
    post,
    path = "/openai/deployments/{deployment}/embeddings",
    operation_id = "azureCreateEmbedding",
    tag = "azure",
    params(
        ("deployment" = String, Path, description = "The public model name, as Azure's deployment name"),
        ("api-version" = Option<String>, Query, description = "Accepted and ignored"),
    ),
    request_body = EmbeddingRequest,
    responses(
        (status = 200, description = "As `POST /v1/embeddings`"),
        crate::openapi::ModelCallErrors,
    ),
    security((), ("bearer" = []), ("api_key" = []), ("x_api_key" = []))
)]
pub async fn deployment_embeddings(
    state: State<AppState>,
    Path(deployment): Path<String>,
    cx: RequestContext,
    body: Result<JsonBody, ApiError>,
) -> Response {
    embeddings::embeddings(state, cx, with_model(body, &deployment)).await
}

/// Azure's version-less chat route: `POST /v1/chat/completions` under `/openai`.
#[utoipa::path(
    post,
    path = "/openai/v1/chat/completions",
    operation_id = "azureV1CreateChatCompletion",
    tag = "azure",
    request_body = ChatCompletionRequest,
    responses(
        (status = 200, description = "As `POST /v1/chat/completions`"),
        crate::openapi::ModelCallErrors,
    ),
    security((), ("bearer" = []), ("api_key" = []), ("x_api_key" = []))
)]
pub async fn v1_chat(
    State(state): State<AppState>,
    cx: RequestContext,
    body: Result<JsonBody, ApiError>,
) -> Response {
    serve_chat::<ChatCompletions>(state, cx, body).await
}

/// Azure's version-less text completions route.
#[utoipa::path(
    post,
    path = "/openai/v1/completions",
    operation_id = "azureV1CreateCompletion",
    tag = "azure",
    request_body = CompletionRequest,
    responses(
        (status = 200, description = "As `POST /v1/completions`"),
        crate::openapi::ModelCallErrors,
    ),
    security((), ("bearer" = []), ("api_key" = []), ("x_api_key" = []))
)]
pub async fn v1_completions(
    State(state): State<AppState>,
    cx: RequestContext,
    body: Result<JsonBody, ApiError>,
) -> Response {
    serve_chat::<Completions>(state, cx, body).await
}

/// Azure's version-less Responses API route.
#[utoipa::path(
    post,
    path = "/openai/v1/responses",
    operation_id = "azureV1CreateResponse",
    tag = "azure",
    request_body = switchyard_protocols::openai::responses::CreateResponse,
    responses(
        (status = 200, description = "As `POST /v1/responses`"),
        crate::openapi::ModelCallErrors,
    ),
    security((), ("bearer" = []), ("api_key" = []), ("x_api_key" = []))
)]
pub async fn v1_responses(
    state: State<AppState>,
    cx: RequestContext,
    body: Result<JsonBody, ApiError>,
) -> Response {
    responses::create(state, cx, body).await
}

/// A stored response, as `GET /v1/responses/{id}`.
#[utoipa::path(
    get,
    path = "/openai/v1/responses/{id}",
    operation_id = "azureV1GetResponse",
    tag = "azure",
    params(("id" = String, Path, description = "The response's id (`resp_…`)")),
    responses(
        (status = 200, description = "As `GET /v1/responses/{id}`"),
        crate::openapi::StoredResponseErrors,
    ),
    security((), ("bearer" = []), ("api_key" = []), ("x_api_key" = []))
)]
pub async fn v1_response(
    state: State<AppState>,
    cx: RequestContext,
    id: Path<String>,
) -> Result<Json<Value>, ApiError> {
    responses::retrieve(state, cx, id).await
}

/// Deletes a stored response, as `DELETE /v1/responses/{id}`.
#[utoipa::path(
    delete,
    path = "/openai/v1/responses/{id}",
    operation_id = "azureV1DeleteResponse",
    tag = "azure",
    params(("id" = String, Path, description = "The response's id (`resp_…`)")),
    responses(
        (status = 200, description = "As `DELETE /v1/responses/{id}`"),
        crate::openapi::StoredResponseErrors,
    ),
    security((), ("bearer" = []), ("api_key" = []), ("x_api_key" = []))
)]
pub async fn v1_delete_response(
    state: State<AppState>,
    cx: RequestContext,
    id: Path<String>,
) -> Result<Json<switchyard_protocols::openai::responses::DeletedResponse>, ApiError> {
    responses::delete(state, cx, id).await
}

/// A stored response's input items, as `GET /v1/responses/{id}/input_items`.
#[utoipa::path(
    get,
    path = "/openai/v1/responses/{id}/input_items",
    operation_id = "azureV1ListInputItems",
    tag = "azure",
    params(("id" = String, Path, description = "The response's id (`resp_…`)"), responses::InputItemsQuery),
    responses(
        (status = 200, description = "As `GET /v1/responses/{id}/input_items`"),
        crate::openapi::StoredResponseErrors,
    ),
    security((), ("bearer" = []), ("api_key" = []), ("x_api_key" = []))
)]
pub async fn v1_input_items(
    state: State<AppState>,
    cx: RequestContext,
    id: Path<String>,
    query: Result<
        axum::extract::Query<responses::InputItemsQuery>,
        axum::extract::rejection::QueryRejection,
    >,
) -> Result<Json<switchyard_protocols::openai::responses::InputItemList>, ApiError> {
    responses::input_items(state, cx, id, query).await
}

/// Azure's version-less embeddings route.
#[utoipa::path(
    post,
    path = "/openai/v1/embeddings",
    operation_id = "azureV1CreateEmbedding",
    tag = "azure",
    request_body = EmbeddingRequest,
    responses(
        (status = 200, description = "As `POST /v1/embeddings`"),
        crate::openapi::ModelCallErrors,
    ),
    security((), ("bearer" = []), ("api_key" = []), ("x_api_key" = []))
)]
pub async fn v1_embeddings(
    state: State<AppState>,
    cx: RequestContext,
    body: Result<JsonBody, ApiError>,
) -> Response {
    embeddings::embeddings(state, cx, body).await
}

/// Azure's version-less model list.
#[utoipa::path(
    get,
    path = "/openai/v1/models",
    operation_id = "azureV1ListModels",
    tag = "azure",
    responses(
        (status = 200, description = "The public model names", body = ModelList),
        crate::openapi::ListModelsErrors,
    ),
    security((), ("bearer" = []), ("api_key" = []), ("x_api_key" = []))
)]
pub async fn v1_models(
    state: State<AppState>,
    cx: crate::context::RequestContext,
) -> Json<ModelList> {
    models::list(state, cx).await
}
