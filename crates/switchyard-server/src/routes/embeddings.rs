//! `POST /v1/embeddings`.

use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use switchyard_protocols::openai::embeddings::{
    decode_embedding_request, from_canonical_embed_response,
};
use switchyard_router::{execute, tokens};
use switchyard_types::EmbedInput;

use super::served_by_headers;
use crate::accounting::Accounting;
use crate::body::JsonBody;
use crate::context::RequestContext;
use crate::error::{ApiError, Code};
use crate::governance;
use crate::ingress::prepare;
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
    let mut accounting = Accounting::start(&state, ROUTE, &cx);
    let result = async {
        let JsonBody(body) = body?;
        let (mut request, format) = decode_embedding_request(&body)?;
        let resolved = prepare::resolve(&state, &cx, &request.model, &mut request.extra)?;
        let route = resolved.route;
        accounting.set_model(&route.name);
        if !route.serves_embeddings() {
            return Err(ApiError::new(
                Code::Unsupported,
                format!("the model `{}` does not serve embeddings", route.name),
            )
            .with_param("model"));
        }
        let call = cx.call_context();
        let mut candidates = prepare::plan_embedding(&state, &resolved)?.candidates;
        governance::priced_for_budget(&state, &cx, &mut candidates)?;
        let input_tokens = match &request.input {
            EmbedInput::Texts(texts) => texts.iter().map(|text| tokens::count_text(text)).sum(),
            EmbedInput::Tokens(inputs) => inputs.iter().map(|tokens| tokens.len() as u64).sum(),
        };
        accounting.set_input_estimate(input_tokens);
        let estimate = governance::Estimate {
            input_tokens,
            max_output_tokens: Some(0),
            answers: 1,
        };
        let grant =
            governance::admit(&state, &cx, accounting.ledger_id(), &candidates, estimate).await?;
        let quota = grant.as_ref().map(|grant| grant.quota);
        accounting.set_grant(grant);
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
        if let Some(quota) = &quota {
            governance::quota_headers(response.headers_mut(), quota);
        }
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
