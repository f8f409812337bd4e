//! `GET /v1/catalog`: the built-in catalog of hosted models, filtered.
//!
//! The catalog describes models Switchyard knows about, configured or not: what they
//! can do, what they cost and where they may run. `GET /v1/models` lists only the
//! names this server serves.

use axum::Json;
use axum::extract::Query;
use axum::extract::rejection::QueryRejection;
use serde::{Deserialize, Serialize};
use switchyard_catalog::{CatalogModel, Filter};

use crate::error::{ApiError, Code};

/// The filters; each one that is given must hold.
#[derive(Debug, Default, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CatalogQuery {
    /// The platform's adapter type: `openai`, `anthropic`, `gemini`, `bedrock`, …
    provider: Option<String>,
    /// A country code (`US`, `FR`) or `EU`: the vendor is based there, or the platform
    /// hosts the model in a region there.
    jurisdiction: Option<String>,
    /// Comma-separated: `chat`, `tools`, `json_schema`, `vision`, `audio`, `reasoning`,
    /// `embeddings`.
    capability: Option<String>,
}

#[derive(Debug, Serialize, utoipa::ToSchema)]
pub struct CatalogList {
    /// Always `list`.
    object: &'static str,
    /// The day every row was last checked against its source.
    checked: String,
    data: Vec<CatalogModel>,
}

/// Lists the catalog's models, filtered by platform, jurisdiction and capability.
#[utoipa::path(
    get,
    path = "/v1/catalog",
    operation_id = "listCatalog",
    tag = "models",
    params(CatalogQuery),
    responses(
        (status = 200, description = "The matching catalog rows", body = CatalogList),
        crate::openapi::CatalogErrors,
    ),
    security((), ("bearer" = []), ("api_key" = []), ("x_api_key" = []))
)]
pub async fn list(
    query: Result<Query<CatalogQuery>, QueryRejection>,
) -> Result<Json<CatalogList>, ApiError> {
    let Query(query) =
        query.map_err(|rejection| ApiError::new(Code::InvalidValue, rejection.body_text()))?;
    let catalog = switchyard_catalog::builtin();
    let filter = Filter::parse(
        catalog,
        query.provider.as_deref(),
        query.jurisdiction.as_deref(),
        query.capability.as_deref(),
    )
    .map_err(|error| ApiError::new(Code::InvalidValue, error.message).with_param(error.param))?;
    Ok(Json(CatalogList {
        object: "list",
        checked: catalog.checked.clone(),
        data: catalog.filter(&filter).cloned().collect(),
    }))
}
