//! [`AnthropicProvider`]: the `Provider` impl for Anthropic's Messages API.

use std::sync::Arc;

use http::header::{HeaderMap, HeaderValue};
use secrecy::ExposeSecret;
use switchyard_protocols::anthropic::{self, EncodeOptions, ErrorBody};
use switchyard_types::{
    CallContext, Capabilities, ChatRequest, ChatResponse, DeploymentId, DeploymentInfo, ErrorKind,
    EventStream, Provider, ProviderError, UpstreamModel,
};
use tokio::time::Instant;

use super::config::{API_VERSION, AnthropicConfig};
use super::stream::open_event_stream;
use crate::http_error::UpstreamErrorDetail;
use crate::sse::SseReader;
use crate::upstream::{
    DROP_UNSUPPORTED_PARAMS, Upstream, base_headers, drops_unsupported, encode_error,
    secret_header, to_body,
};

#[derive(Debug)]
pub struct AnthropicProvider {
    info: DeploymentInfo,
    config: AnthropicConfig,
    upstream: Upstream,
    messages_url: reqwest::Url,
    count_url: reqwest::Url,
    models_url: reqwest::Url,
}

/// `{"type": "error", "error": {"type", "message"}}`; the error type is the code.
fn read_error(body: &[u8]) -> Option<UpstreamErrorDetail> {
    let body: ErrorBody = serde_json::from_slice(body).ok()?;
    Some(UpstreamErrorDetail {
        message: Some(body.error.message),
        param: None,
        code: Some(body.error.kind),
    })
}

/// What an Anthropic error type means, for errors that arrive inside a stream (the
/// HTTP status then says 200).
pub(super) fn error_kind(kind: &str) -> ErrorKind {
    match kind {
        "overloaded_error" => ErrorKind::Overloaded,
        "rate_limit_error" => ErrorKind::RateLimited,
        "timeout_error" => ErrorKind::Timeout,
        "authentication_error" => ErrorKind::Authentication,
        "permission_error" | "billing_error" => ErrorKind::PermissionDenied,
        "not_found_error" => ErrorKind::NotFound,
        "invalid_request_error" | "request_too_large" => ErrorKind::InvalidRequest,
        _ => ErrorKind::Upstream,
    }
}

impl AnthropicProvider {
    pub fn new(id: DeploymentId, config: AnthropicConfig) -> Result<Self, ProviderError> {
        let upstream = Upstream::new(
            &config.provider,
            id.clone(),
            config.timeouts,
            config.max_concurrency,
            config.api_key.iter().cloned().collect(),
            read_error,
        )?;
        let url = |path: &str| {
            let base = config.base_url.trim_end_matches('/');
            reqwest::Url::parse(&format!("{base}{path}")).map_err(|error| {
                ProviderError::new(ErrorKind::Internal, format!("invalid base URL: {error}"))
            })
        };
        let info = DeploymentInfo {
            id,
            provider: upstream.provider.clone(),
            upstream_model: Arc::from(config.upstream_model.as_str()),
            capabilities: Capabilities {
                chat: true,
                streaming: true,
                tools: true,
                vision: true,
                json_schema: true,
                embeddings: false,
                completions: false,
            },
        };
        Ok(AnthropicProvider {
            info,
            messages_url: url("/v1/messages")?,
            count_url: url("/v1/messages/count_tokens")?,
            models_url: url("/v1/models")?,
            config,
            upstream,
        })
    }

    fn headers(&self, cx: &CallContext) -> HeaderMap {
        let mut headers = base_headers(&self.config.headers, cx);
        headers.insert("anthropic-version", HeaderValue::from_static(API_VERSION));
        if let Some(key) = self
            .config
            .api_key
            .as_ref()
            .and_then(|key| secret_header(key.expose_secret()))
        {
            headers.insert("x-api-key", key);
        }
        headers
    }

    /// The request body. `drop_unsupported_params: true` in the request (LiteLLM's
    /// spelling) or in the deployment lets parameters without an equivalent go.
    fn encode(&self, request: &ChatRequest) -> Result<Vec<u8>, ProviderError> {
        to_body(&self.wire(request)?)
    }

    fn wire(&self, request: &ChatRequest) -> Result<anthropic::MessagesRequest, ProviderError> {
        let options = EncodeOptions {
            default_max_tokens: self.config.default_max_tokens,
            drop_unsupported: drops_unsupported(
                &request.extra,
                self.config.drop_unsupported_params,
            ),
        };
        let mut wire =
            anthropic::from_canonical_request(request, &self.config.upstream_model, options)
                .map_err(encode_error)?;
        // A Switchyard control, not a field for the upstream.
        wire.extra.remove(DROP_UNSUPPORTED_PARAMS);
        Ok(wire)
    }

    async fn post(
        &self,
        body: Vec<u8>,
        cx: &CallContext,
        deadline: Instant,
    ) -> Result<reqwest::Response, ProviderError> {
        self.upstream
            .post(&self.messages_url, self.headers(cx), body, deadline)
            .await
    }
}

#[async_trait::async_trait]
impl Provider for AnthropicProvider {
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
        let deadline = self.upstream.deadline();
        request.stream = false;
        let body = self.encode(&request)?;
        let _permit = self.upstream.permit().await?;
        let response = self.post(body, cx, deadline).await?;
        self.upstream
            .read_body(response, deadline, anthropic::decode_response)
            .await
    }

    async fn chat_stream(
        &self,
        mut request: ChatRequest,
        cx: &CallContext,
    ) -> Result<EventStream, ProviderError> {
        let deadline = self.upstream.deadline();
        request.stream = true;
        let body = self.encode(&request)?;
        let permit = self.upstream.permit().await?;
        let response = self.post(body, cx, deadline).await?;
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
        open_event_stream(reader, provider, timeouts.idle, permit).await
    }

    /// Anthropic's own count, `POST /v1/messages/count_tokens`: free, and exact for the
    /// model, tools and thinking included.
    async fn count_tokens(
        &self,
        request: ChatRequest,
        cx: &CallContext,
    ) -> Result<u64, ProviderError> {
        #[derive(serde::Deserialize)]
        struct Count {
            input_tokens: u64,
        }
        let deadline = self.upstream.deadline();
        let body = to_body(&anthropic::count_tokens_body(&self.wire(&request)?))?;
        let _permit = self.upstream.permit().await?;
        let response = self
            .upstream
            .post(&self.count_url, self.headers(cx), body, deadline)
            .await?;
        let count = self
            .upstream
            .read_body(response, deadline, |body| {
                switchyard_protocols::decode::from_json::<Count>(body)
            })
            .await?;
        Ok(count.input_tokens)
    }

    async fn list_models(&self, cx: &CallContext) -> Result<Vec<UpstreamModel>, ProviderError> {
        #[derive(serde::Deserialize)]
        struct ModelList {
            data: Vec<ModelInfo>,
        }
        #[derive(serde::Deserialize)]
        struct ModelInfo {
            id: String,
        }
        let list: ModelList = self
            .upstream
            .get_json(&self.models_url, self.headers(cx))
            .await?;
        Ok(list
            .data
            .into_iter()
            .map(|model| UpstreamModel {
                id: model.id,
                owned_by: Some("anthropic".to_owned()),
                created: None,
            })
            .collect())
    }
}
