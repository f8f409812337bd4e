//! [`GeminiProvider`]: the `Provider` impl for Google's Gemini API.

use std::sync::Arc;

use http::header::HeaderMap;
use secrecy::ExposeSecret;
use switchyard_protocols::gemini::{self, EncodeOptions, ErrorBody};
use switchyard_types::{
    CallContext, Capabilities, ChatRequest, ChatResponse, DeploymentId, DeploymentInfo,
    EmbedRequest, EmbedResponse, ErrorKind, EventStream, Provider, ProviderError, UpstreamModel,
};
use tokio::time::Instant;

use super::config::GeminiConfig;
use super::stream::open_event_stream;
use crate::http_error::UpstreamErrorDetail;
use crate::sse::SseReader;
use crate::upstream::{
    Upstream, base_headers, drops_unsupported, encode_error, secret_header, to_body,
};

#[derive(Debug)]
pub struct GeminiProvider {
    info: DeploymentInfo,
    config: GeminiConfig,
    upstream: Upstream,
    generate_url: reqwest::Url,
    stream_url: reqwest::Url,
    embed_url: reqwest::Url,
    models_url: reqwest::Url,
}

/// `{"error": {"code", "message", "status", "details"}}`. The code is the reason of an
/// `ErrorInfo` detail where there is one (`API_KEY_INVALID`), else the status name.
fn read_error(body: &[u8]) -> Option<UpstreamErrorDetail> {
    let body: ErrorBody = serde_json::from_slice(body).ok()?;
    let reason = body
        .error
        .details
        .iter()
        .find_map(|detail| detail.get("reason").and_then(|reason| reason.as_str()))
        .map(str::to_owned);
    Some(UpstreamErrorDetail {
        message: Some(body.error.message),
        param: None,
        code: reason.or(Some(body.error.status).filter(|status| !status.is_empty())),
    })
}

/// What a `google.rpc` status name means, for errors that arrive inside a stream.
pub(super) fn error_kind(status: &str) -> ErrorKind {
    match status {
        "UNAVAILABLE" => ErrorKind::Overloaded,
        "RESOURCE_EXHAUSTED" => ErrorKind::RateLimited,
        "DEADLINE_EXCEEDED" => ErrorKind::Timeout,
        "UNAUTHENTICATED" => ErrorKind::Authentication,
        "PERMISSION_DENIED" => ErrorKind::PermissionDenied,
        "NOT_FOUND" => ErrorKind::NotFound,
        "INVALID_ARGUMENT" | "FAILED_PRECONDITION" | "OUT_OF_RANGE" => ErrorKind::InvalidRequest,
        _ => ErrorKind::Upstream,
    }
}

impl GeminiProvider {
    pub fn new(id: DeploymentId, config: GeminiConfig) -> Result<Self, ProviderError> {
        let upstream = Upstream::new(
            &config.provider,
            id.clone(),
            config.timeouts,
            config.max_concurrency,
            config.api_key.iter().cloned().collect(),
            read_error,
        )?;
        let base = config.base_url.trim_end_matches('/');
        let model = &config.upstream_model;
        let url = |path: String| {
            reqwest::Url::parse(&format!("{base}/v1beta/{path}")).map_err(|error| {
                ProviderError::new(ErrorKind::Internal, format!("invalid base URL: {error}"))
            })
        };
        let info = DeploymentInfo {
            id,
            provider: upstream.provider.clone(),
            upstream_model: Arc::from(model.as_str()),
            capabilities: Capabilities {
                chat: !config.embeddings,
                streaming: !config.embeddings,
                tools: !config.embeddings,
                vision: !config.embeddings,
                json_schema: !config.embeddings,
                embeddings: config.embeddings,
                completions: false,
            },
        };
        Ok(GeminiProvider {
            info,
            generate_url: url(format!("models/{model}:generateContent"))?,
            stream_url: url(format!("models/{model}:streamGenerateContent?alt=sse"))?,
            embed_url: url(format!("models/{model}:batchEmbedContents"))?,
            models_url: url("models?pageSize=1000".to_owned())?,
            config,
            upstream,
        })
    }

    fn headers(&self, cx: &CallContext) -> HeaderMap {
        let mut headers = base_headers(&self.config.headers, cx);
        if let Some(key) = self
            .config
            .api_key
            .as_ref()
            .and_then(|key| secret_header(key.expose_secret()))
        {
            headers.insert("x-goog-api-key", key);
        }
        headers
    }

    /// The request body; `drop_unsupported_params` in the request or the deployment
    /// lets parameters without an equivalent go.
    fn encode(&self, request: &ChatRequest) -> Result<Vec<u8>, ProviderError> {
        let options = EncodeOptions {
            drop_unsupported: drops_unsupported(
                &request.extra,
                self.config.drop_unsupported_params,
            ),
        };
        let wire = gemini::from_canonical_request(request, &self.config.upstream_model, options)
            .map_err(encode_error)?;
        to_body(&wire)
    }

    async fn post(
        &self,
        url: &reqwest::Url,
        body: Vec<u8>,
        cx: &CallContext,
        deadline: Instant,
    ) -> Result<reqwest::Response, ProviderError> {
        self.upstream
            .post(url, self.headers(cx), body, deadline)
            .await
    }

    fn chat_only(&self) -> Result<(), ProviderError> {
        if self.config.embeddings {
            return Err(ProviderError::unsupported("chat"));
        }
        Ok(())
    }
}

#[async_trait::async_trait]
impl Provider for GeminiProvider {
    fn info(&self) -> &DeploymentInfo {
        &self.info
    }

    fn longest_call(&self) -> Option<std::time::Duration> {
        Some(self.upstream.timeouts.total)
    }

    async fn chat(
        &self,
        mut request: ChatRequest,
        cx: &CallContext,
    ) -> Result<ChatResponse, ProviderError> {
        self.chat_only()?;
        let deadline = self.upstream.deadline();
        request.stream = false;
        let body = self.encode(&request)?;
        let _permit = self.upstream.permit().await?;
        let response = self.post(&self.generate_url, body, cx, deadline).await?;
        let model = &self.config.upstream_model;
        self.upstream
            .read_body(response, deadline, |body| {
                gemini::decode_response(body, model)
            })
            .await
    }

    async fn chat_stream(
        &self,
        mut request: ChatRequest,
        cx: &CallContext,
    ) -> Result<EventStream, ProviderError> {
        self.chat_only()?;
        let deadline = self.upstream.deadline();
        request.stream = true;
        let body = self.encode(&request)?;
        let permit = self.upstream.permit().await?;
        let response = self.post(&self.stream_url, body, cx, deadline).await?;
        let timeouts = self.upstream.timeouts;
        let provider = self.upstream.provider.clone();
        let reader = SseReader::new(
            response,
            provider.clone(),
            timeouts.first_byte,
            deadline,
            timeouts.total,
        )
        .with_secrets(self.upstream.shared_secrets());
        open_event_stream(
            reader,
            provider,
            &self.config.upstream_model,
            timeouts.idle,
            permit,
        )
        .await
    }

    async fn embed(
        &self,
        request: EmbedRequest,
        cx: &CallContext,
    ) -> Result<EmbedResponse, ProviderError> {
        if !self.config.embeddings {
            return Err(ProviderError::unsupported("embeddings"));
        }
        let deadline = self.upstream.deadline();
        let model = &self.config.upstream_model;
        let wire = gemini::from_canonical_embed_request(&request, model).map_err(encode_error)?;
        let inputs = request.input.len();
        let body = to_body(&wire)?;
        let _permit = self.upstream.permit().await?;
        let response = self.post(&self.embed_url, body, cx, deadline).await?;
        self.upstream
            .read_body(response, deadline, |body| {
                gemini::decode_embed_response(body, model, inputs)
            })
            .await
    }

    async fn list_models(&self, cx: &CallContext) -> Result<Vec<UpstreamModel>, ProviderError> {
        #[derive(serde::Deserialize)]
        struct ModelList {
            #[serde(default)]
            models: Vec<ModelInfo>,
        }
        #[derive(serde::Deserialize)]
        struct ModelInfo {
            /// `models/gemini-2.5-flash`.
            name: String,
        }
        let list: ModelList = self
            .upstream
            .get_json(&self.models_url, self.headers(cx))
            .await?;
        Ok(list
            .models
            .into_iter()
            .map(|model| UpstreamModel {
                id: model
                    .name
                    .strip_prefix("models/")
                    .map_or(model.name.clone(), str::to_owned),
                owned_by: Some("google".to_owned()),
                created: None,
            })
            .collect())
    }
}
