//! `POST /v1/embeddings`.

use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use switchyard_protocols::openai::embeddings::{
    decode_embedding_request, from_canonical_embed_response,
};
use switchyard_router::execute;

use super::served_by_headers;
use crate::accounting::Accounting;
use crate::body::JsonBody;
use crate::context::RequestContext;
use crate::error::{ApiError, Code};
use crate::state::AppState;

const ROUTE: &str = "embeddings";

/// Creates embeddings, as OpenAI's `POST /v1/embeddings`.
#[utoipa::path(
    post,
    path = "/v1/embeddings",
    operation_id = "createEmbedding",
    tag = "embeddings",
    request_body = switchyard_protocols::openai::EmbeddingRequest,
    responses(
        (
            status = 200,
            description = "One vector per input, as floats or base64 (`encoding_format`)",
            body = switchyard_protocols::openai::EmbeddingResponse
        ),
        crate::openapi::ModelCallErrors,
    ),
    security((), ("bearer" = []), ("api_key" = []), ("x_api_key" = []))
)]
pub async fn embeddings(
    State(state): State<AppState>,
    cx: RequestContext,
    body: Result<JsonBody, ApiError>,
) -> Response {
    let mut accounting = Accounting::start(state.metrics().clone(), ROUTE, cx.request_id.clone());
    let result = async {
        let JsonBody(body) = body?;
        let (request, format) = decode_embedding_request(&body)?;
        let route = state.catalog().get(&request.model)?;
        accounting.set_model(&route.name);
        if !route.serves_embeddings() {
            return Err(ApiError::new(
                Code::Unsupported,
                format!("the model `{}` does not serve embeddings", route.name),
            )
            .with_param("model"));
        }
        let call = cx.call_context();
        let candidates = route
            .deployments
            .iter()
            .filter(|deployment| deployment.info().capabilities.embeddings)
            .cloned()
            .collect::<Vec<_>>();
        let outcome = execute(
            &candidates,
            state.health(),
            &state.routing().retry,
            |deployment| {
                let (request, call) = (request.clone(), call.clone());
                async move { deployment.embed(request, &call).await }
            },
        )
        .await
        .inspect_err(|error| accounting.record_route_error(error))?;
        accounting.record_outcome(&outcome);
        outcome.admission.succeeded();
        accounting.set_usage(outcome.value.usage.clone());
        let body = from_canonical_embed_response(&outcome.value, &outcome.value.model, format);
        let mut response = Json(body).into_response();
        served_by_headers(
            &mut response,
            &route.name,
            &outcome.deployment,
            outcome.attempts,
        );
        Ok(response)
    }
    .await;
    match result {
        Ok(response) => {
            accounting.finish_ok(response.status().as_u16());
            response
        }
        Err(error) => {
            accounting.finish_error(&error);
            error.into_response()
        }
    }
}
