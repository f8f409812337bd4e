//! The OpenAPI 3.1 document of every route, generated from the code.
//!
//! Routes are registered through [`api_router`], which records each handler's
//! `#[utoipa::path]` description as it adds the route, and the schemas are derived from
//! the wire types themselves. The tests read the routed paths and methods back from
//! [`crate::app`] and compare them with the document, so a route added any other way
//! (a plain `.route(..)`) fails them.

use std::collections::BTreeMap;
use std::sync::OnceLock;

use axum::Json;
use switchyard_protocols::openai::ErrorBody;
use utoipa::openapi::header::{Header, HeaderBuilder};
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{ContentBuilder, Ref, RefOr, Response, ResponseBuilder};
use utoipa::{IntoResponses, Modify, OpenApi, PartialSchema, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::auth;
use crate::governance::{admin, usage};
use crate::ingress::anthropic::render_errors;
use crate::routes::{
    azure, catalog, chat, completions, embeddings, explain, health, messages, models, ops,
    responses,
};
use crate::state::AppState;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Switchyard",
        description = "One endpoint, many models: an AI gateway that speaks the OpenAI and Anthropic APIs."
    ),
    modifiers(&SecuritySchemes),
    components(schemas(ErrorBody, messages::AnthropicError, messages::TokenCount)),
    tags(
        (name = "chat", description = "Chat completions"),
        (name = "completions", description = "Legacy text completions: a prompt continued as written"),
        (name = "responses", description = "OpenAI's Responses API, with stored conversations"),
        (name = "messages", description = "Anthropic's Messages API"),
        (name = "azure", description = "Azure OpenAI's routes, for `AzureOpenAI` clients"),
        (name = "embeddings", description = "Vector embeddings"),
        (name = "routing", description = "How requests are routed, explained"),
        (name = "models", description = "The public model names"),
        (name = "operations", description = "Health, readiness, metrics and this document"),
        (name = "admin", description = "Virtual keys, organisations and teams, usage and the audit log (master keys only)"),
    )
)]
struct ApiDoc;

/// The ways a caller may present a master key (checked only when keys are configured).
struct SecuritySchemes;

impl Modify for SecuritySchemes {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
        components.add_security_scheme(
            "api_key",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::new("api-key"))),
        );
        components.add_security_scheme(
            "x_api_key",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::new("x-api-key"))),
        );
    }
}

// === Error responses ===

/// Every error status a model route can answer with, and when. The statuses follow the
/// code table in [`crate::error`]; each route documents the subset it can produce.
const MODEL_ERRORS: [(&str, &str); 11] = [
    (
        "400",
        "Malformed JSON, a wrong field (`param` names it), or a request the upstream rejects",
    ),
    (
        "401",
        "Missing or wrong key (master or virtual), or a revoked or expired virtual key",
    ),
    (
        "403",
        "A virtual key on the admin API, or an admin API with no master key configured",
    ),
    (
        "404",
        "Unknown model (the message suggests close names, unless the key is limited to some \
         models), or an unknown admin record",
    ),
    ("409", "The admin record cannot change that way"),
    ("413", "The body is larger than `server.max_body_bytes`"),
    (
        "429",
        "An upstream rate limit, or a key's, team's or organisation's limit \
         (`rate_limit_exceeded`) or budget (`insufficient_quota`); see `Retry-After` and \
         `x-ratelimit-*`",
    ),
    ("500", "A failure inside Switchyard"),
    (
        "502",
        "The upstream failed, refused our credentials, or answered outside its protocol",
    ),
    (
        "503",
        "The upstream is overloaded, the deployment is at its concurrency limit, or keys, \
         limits and budgets cannot be checked (`governance_unavailable`)",
    ),
    ("504", "An upstream deadline passed"),
];

/// OpenAI's error body for each of `statuses`, with the headers an error carries.
fn error_responses(statuses: &[&str]) -> BTreeMap<String, RefOr<Response>> {
    error_responses_as(statuses, ErrorBody::name().as_ref())
}

/// The error body named `schema` for each of `statuses`.
fn error_responses_as(statuses: &[&str], schema: &str) -> BTreeMap<String, RefOr<Response>> {
    MODEL_ERRORS
        .into_iter()
        .filter(|(status, _)| statuses.contains(status))
        .map(|(status, description)| {
            let mut response = ResponseBuilder::new()
                .description(description)
                .header("x-request-id", request_id_header())
                .content(
                    "application/json",
                    ContentBuilder::new()
                        .schema(Some(Ref::from_schema_name(schema)))
                        .build(),
                );
            if matches!(status, "429" | "503") {
                response = response.header(
                    "retry-after",
                    HeaderBuilder::new()
                        .schema(u64::schema())
                        .description(Some(
                            "Seconds to wait before retrying, when the upstream said",
                        ))
                        .build(),
                );
            }
            (status.to_owned(), RefOr::T(response.build()))
        })
        .collect()
}

fn request_id_header() -> Header {
    HeaderBuilder::new()
        .schema(String::schema())
        .description(Some("The caller's request id, or a generated one"))
        .build()
}

/// The errors of a model call: `POST /v1/chat/completions` and `POST /v1/embeddings`.
pub struct ModelCallErrors;

impl IntoResponses for ModelCallErrors {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        error_responses(&[
            "400", "401", "404", "413", "429", "500", "502", "503", "504",
        ])
    }
}

/// The errors of a model call in Anthropic's protocol, with Anthropic's error body.
pub struct AnthropicCallErrors;

impl IntoResponses for AnthropicCallErrors {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        error_responses_as(
            &[
                "400", "401", "404", "413", "429", "500", "502", "503", "504",
            ],
            messages::AnthropicError::name().as_ref(),
        )
    }
}

/// The errors of `GET /v1/models`, which reads only the catalog.
pub struct ListModelsErrors;

impl IntoResponses for ListModelsErrors {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        error_responses(&["401", "500"])
    }
}

/// The errors of `GET /v1/catalog`: a filter value that is not valid.
pub struct CatalogErrors;

impl IntoResponses for CatalogErrors {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        error_responses(&["400", "401", "500"])
    }
}

/// The errors of reading or deleting a stored response.
pub struct StoredResponseErrors;

impl IntoResponses for StoredResponseErrors {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        error_responses(&["400", "401", "404", "500"])
    }
}

/// The errors of the admin API.
pub struct AdminErrors;

impl IntoResponses for AdminErrors {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        error_responses(&["400", "401", "403", "404", "409", "503"])
    }
}

/// The errors of `GET /v1/models/{id}`, which reads only the catalog.
pub struct RetrieveModelErrors;

impl IntoResponses for RetrieveModelErrors {
    fn responses() -> BTreeMap<String, RefOr<Response>> {
        error_responses(&["401", "404", "500"])
    }
}

// === Registration ===

/// Every route of the app, each registered together with its documentation.
pub fn api_router(state: &AppState) -> OpenApiRouter<AppState> {
    // The routes that answer through the chat pipeline: routed, and saying how.
    let mut chat_calls = OpenApiRouter::new()
        .routes(routes!(chat::chat_completions))
        .routes(routes!(completions::create))
        .routes(routes!(responses::create))
        .routes(routes!(azure::deployment_chat))
        .routes(routes!(azure::deployment_completions))
        .routes(routes!(azure::v1_chat))
        .routes(routes!(azure::v1_completions))
        .routes(routes!(azure::v1_responses));
    document_served_by(chat_calls.get_openapi_mut(), Routed::WithReason);
    let mut embedding_calls = OpenApiRouter::new()
        .routes(routes!(embeddings::embeddings))
        .routes(routes!(azure::deployment_embeddings))
        .routes(routes!(azure::v1_embeddings));
    document_served_by(embedding_calls.get_openapi_mut(), Routed::InOrder);
    let model_api = OpenApiRouter::new()
        .merge(chat_calls)
        .merge(embedding_calls)
        .routes(routes!(responses::retrieve, responses::delete))
        .routes(routes!(responses::input_items))
        .routes(routes!(models::list))
        .routes(routes!(explain::explain))
        .routes(routes!(health::route_health))
        .routes(routes!(models::retrieve))
        .routes(routes!(catalog::list))
        .routes(routes!(azure::v1_response, azure::v1_delete_response))
        .routes(routes!(azure::v1_input_items))
        .routes(routes!(azure::v1_models))
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            auth::authenticate,
        ));
    // Anthropic's routes answer errors in Anthropic's shape, those of auth included.
    let mut messages = OpenApiRouter::new().routes(routes!(messages::create));
    document_served_by(messages.get_openapi_mut(), Routed::WithReason);
    let anthropic_api = messages
        .routes(routes!(messages::count_tokens))
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            auth::authenticate,
        ))
        .layer(axum::middleware::map_response(render_errors));
    let admin_api = OpenApiRouter::new()
        .routes(routes!(admin::create_key, admin::list_keys))
        .routes(routes!(admin::get_key, admin::update_key))
        .routes(routes!(admin::revoke_key))
        .routes(routes!(admin::rotate_key))
        .routes(routes!(admin::list_groups))
        .routes(routes!(admin::put_org))
        .routes(routes!(admin::put_team))
        .routes(routes!(admin::list_audit))
        .routes(routes!(usage::usage))
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            auth::require_admin,
        ));
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .merge(model_api)
        .merge(anthropic_api)
        .merge(admin_api)
        .routes(routes!(ops::healthz))
        .routes(routes!(ops::readyz))
        .routes(routes!(ops::metrics))
        .routes(routes!(serve))
}

/// Whether a model call's plan says why it chose its deployment (the chat pipeline
/// does; embeddings are tried in order).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Routed {
    WithReason,
    InOrder,
}

/// Adds the headers every answer of a model call carries to each operation's 200 in
/// `openapi`: written once here rather than in each route's annotation.
fn document_served_by(openapi: &mut utoipa::openapi::OpenApi, routed: Routed) {
    let string = |description: &str| {
        HeaderBuilder::new()
            .schema(String::schema())
            .description(Some(description))
            .build()
    };
    let mut headers = vec![
        ("x-request-id", request_id_header()),
        (
            "x-switchyard-model",
            string("The public model name that served the request"),
        ),
        (
            "x-switchyard-deployment",
            string("The deployment that answered"),
        ),
        (
            "x-switchyard-provider",
            string("The provider of that deployment"),
        ),
        (
            "x-switchyard-attempts",
            HeaderBuilder::new()
                .schema(u32::schema())
                .description(Some(
                    "How many calls were made, retries and fallbacks included",
                ))
                .build(),
        ),
    ];
    if routed == Routed::WithReason {
        headers.push((
            "x-switchyard-route-reason",
            string("Why the route's strategy (or language rule) chose the first deployment"),
        ));
    }
    let operations = openapi
        .paths
        .paths
        .values_mut()
        .flat_map(|item| [&mut item.get, &mut item.post])
        .flatten();
    for operation in operations {
        if let Some(RefOr::T(ok)) = operation.responses.responses.get_mut("200") {
            for (name, header) in &headers {
                ok.headers.insert((*name).to_owned(), header.clone());
            }
        }
    }
}

/// The document as served: axum's catch-all segments (`{*id}`) are written as plain
/// OpenAPI path parameters (`{id}`).
pub fn finish_document(mut document: utoipa::openapi::OpenApi) -> serde_json::Value {
    document.paths.paths = std::mem::take(&mut document.paths.paths)
        .into_iter()
        .map(|(path, item)| (path.replace("{*", "{"), item))
        .collect();
    serde_json::to_value(&document).unwrap_or_default()
}

static DOCUMENT: OnceLock<serde_json::Value> = OnceLock::new();

/// Stores the document built with the app; every app has the same routes.
pub(crate) fn publish(document: utoipa::openapi::OpenApi) {
    DOCUMENT.get_or_init(|| finish_document(document));
}

/// The OpenAPI 3.1 document of this server.
#[utoipa::path(
    get,
    path = "/openapi.json",
    operation_id = "openapi",
    tag = "operations",
    responses((status = 200, description = "This document", content_type = "application/json"))
)]
pub async fn serve() -> Json<serde_json::Value> {
    Json(DOCUMENT.get().cloned().unwrap_or_default())
}

#[cfg(test)]
#[path = "openapi_tests.rs"]
mod tests;
