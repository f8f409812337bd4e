//! OpenAI's Responses API: `POST /v1/responses`, and the stored responses behind
//! `GET`/`DELETE /v1/responses/{id}` and `GET /v1/responses/{id}/input_items`.

use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Path, Query, State};
use axum::response::Response;
use serde::Deserialize;
use serde_json::Value;
use switchyard_protocols::openai::responses::{
    CreateResponse, DeletedResponse, InputItemList, ResponseObject,
};
use switchyard_store::StoredResponse;
use utoipa::IntoParams;

use crate::body::JsonBody;
use crate::context::RequestContext;
use crate::error::{ApiError, Code};
use crate::ingress::{responses::Responses, serve_chat};
use crate::state::AppState;

/// Creates a model response, as OpenAI's `POST /v1/responses`. Any model behind
/// Switchyard answers it; with `store` (the default) the response is kept for
/// `previous_response_id`, retrieval and its input items.
#[utoipa::path(
    post,
    path = "/v1/responses",
    operation_id = "createResponse",
    tag = "responses",
    request_body = CreateResponse,
    responses(
        (
            status = 200,
            description = "The response object; with `stream: true`, a `text/event-stream` of `response.*` events (`response.created`, `response.output_item.added`, `response.output_text.delta`, `response.function_call_arguments.delta`, …) ending in `response.completed`, or in `error` and `response.failed` if the upstream fails mid-stream",
            content(
                (ResponseObject = "application/json"),
                (Object = "text/event-stream"),
            )
        ),
        crate::openapi::ModelCallErrors,
    ),
    security((), ("bearer" = []), ("api_key" = []), ("x_api_key" = []))
)]
pub async fn create(
    State(state): State<AppState>,
    cx: RequestContext,
    body: Result<JsonBody, ApiError>,
) -> Response {
    serve_chat::<Responses>(state, cx, body).await
}

/// OpenAI's answer for a response that is not stored (or no longer).
fn not_found(id: &str) -> ApiError {
    ApiError::new(
        Code::ResponseNotFound,
        format!("Response with id '{id}' not found."),
    )
}

/// The caller's stored response `id`: another tenant's is not found, exactly like one
/// that never existed (or expired).
async fn stored(
    state: &AppState,
    cx: &RequestContext,
    id: &str,
) -> Result<StoredResponse, ApiError> {
    let now = crate::ingress::responses::unix_now() as i64;
    state
        .responses()
        .response(&cx.caller.owner().org, id, now)
        .await?
        .ok_or_else(|| not_found(id))
}

/// A stored response, as it was returned.
#[utoipa::path(
    get,
    path = "/v1/responses/{id}",
    operation_id = "getResponse",
    tag = "responses",
    params(("id" = String, Path, description = "The response's id (`resp_…`)")),
    responses(
        (status = 200, description = "The stored response", body = ResponseObject),
        crate::openapi::StoredResponseErrors,
    ),
    security((), ("bearer" = []), ("api_key" = []), ("x_api_key" = []))
)]
pub async fn retrieve(
    State(state): State<AppState>,
    cx: RequestContext,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    Ok(Json(stored(&state, &cx, &id).await?.response))
}

/// Deletes a stored response; a later `previous_response_id` naming it is refused.
#[utoipa::path(
    delete,
    path = "/v1/responses/{id}",
    operation_id = "deleteResponse",
    tag = "responses",
    params(("id" = String, Path, description = "The response's id (`resp_…`)")),
    responses(
        (status = 200, description = "The response was deleted", body = DeletedResponse),
        crate::openapi::StoredResponseErrors,
    ),
    security((), ("bearer" = []), ("api_key" = []), ("x_api_key" = []))
)]
pub async fn delete(
    State(state): State<AppState>,
    cx: RequestContext,
    Path(id): Path<String>,
) -> Result<Json<DeletedResponse>, ApiError> {
    let owner = cx.caller.owner();
    if !state.responses().delete_response(&owner.org, &id).await? {
        return Err(not_found(&id));
    }
    Ok(Json(DeletedResponse {
        id,
        object: "response.deleted".to_owned(),
        deleted: true,
    }))
}

/// Paging of `GET /v1/responses/{id}/input_items`.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct InputItemsQuery {
    /// How many items, 1 to 100; default 20.
    limit: Option<u32>,
    /// `asc` (oldest first) or `desc` (newest first, the default).
    order: Option<String>,
    /// List the items after this item id, in `order`.
    after: Option<String>,
    /// List the items before this item id, in `order`.
    before: Option<String>,
}

/// The input items of a stored response: its whole conversation's, oldest last unless
/// `order=asc`.
#[utoipa::path(
    get,
    path = "/v1/responses/{id}/input_items",
    operation_id = "listInputItems",
    tag = "responses",
    params(("id" = String, Path, description = "The response's id (`resp_…`)"), InputItemsQuery),
    responses(
        (status = 200, description = "A page of input items", body = InputItemList),
        crate::openapi::StoredResponseErrors,
    ),
    security((), ("bearer" = []), ("api_key" = []), ("x_api_key" = []))
)]
pub async fn input_items(
    State(state): State<AppState>,
    cx: RequestContext,
    Path(id): Path<String>,
    query: Result<Query<InputItemsQuery>, QueryRejection>,
) -> Result<Json<InputItemList>, ApiError> {
    let Query(query) =
        query.map_err(|rejection| ApiError::new(Code::InvalidValue, rejection.body_text()))?;
    let limit = query.limit.unwrap_or(20);
    if !(1..=100).contains(&limit) {
        return Err(
            ApiError::new(Code::InvalidValue, "`limit` must be between 1 and 100")
                .with_param("limit"),
        );
    }
    let mut items = stored(&state, &cx, &id).await?.input_items;
    match query.order.as_deref() {
        None | Some("desc") => items.reverse(),
        Some("asc") => {}
        Some(other) => {
            return Err(ApiError::new(
                Code::InvalidValue,
                format!("unknown order `{other}`; expected `asc` or `desc`"),
            )
            .with_param("order"));
        }
    }
    let position = |cursor: &str, param: &str| {
        items
            .iter()
            .position(|item| item.get("id").and_then(Value::as_str) == Some(cursor))
            .ok_or_else(|| {
                ApiError::new(
                    Code::InvalidValue,
                    format!("no input item `{cursor}` in this response"),
                )
                .with_param(param)
            })
    };
    let start = match &query.after {
        Some(after) => position(after, "after")? + 1,
        None => 0,
    };
    let end = match &query.before {
        Some(before) => position(before, "before")?,
        None => items.len(),
    };
    let window = items.get(start..end.max(start)).unwrap_or_default();
    let page: Vec<Value> = window.iter().take(limit as usize).cloned().collect();
    let id_of = |item: Option<&Value>| {
        item.and_then(|item| item.get("id"))
            .and_then(Value::as_str)
            .map(str::to_owned)
    };
    Ok(Json(InputItemList {
        object: "list".to_owned(),
        first_id: id_of(page.first()),
        last_id: id_of(page.last()),
        has_more: window.len() > page.len(),
        data: page,
    }))
}
