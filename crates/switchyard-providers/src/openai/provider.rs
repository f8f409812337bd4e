//! [`OpenAiCompatProvider`]: the `Provider` impl for OpenAI-compatible upstreams.

use std::sync::Arc;

use futures::StreamExt;
use http::header::{AUTHORIZATION, CONTENT_TYPE, HeaderMap, HeaderValue};
use secrecy::ExposeSecret;
use switchyard_protocols::openai::{
    self, ErrorBody,
    embeddings::{decode_embedding_response, from_canonical_embed_request},
    response::decode_chat_response,
};
use switchyard_types::{
    CallContext, Capabilities, ChatRequest, ChatResponse, DeploymentId, DeploymentInfo,
    EmbedRequest, EmbedResponse, ErrorKind, EventStream, Provider, ProviderError, UpstreamModel,
};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::Instant;

use super::config::OpenAiCompatConfig;
use super::stream::open_event_stream;
use crate::http_error::{self, UpstreamErrorDetail};
use crate::sse::SseReader;

#[derive(Debug)]
struct Urls {
    chat: reqwest::Url,
    embeddings: reqwest::Url,
    models: reqwest::Url,
}

impl Urls {
    fn new(base_url: &str) -> Result<Self, ProviderError> {
        let base = base_url.trim_end_matches('/');
        let parse = |path: &str| {
            reqwest::Url::parse(&format!("{base}{path}")).map_err(|error| {
                ProviderError::new(ErrorKind::Internal, format!("invalid base URL: {error}"))
            })
        };
        Ok(Urls {
            chat: parse("/chat/completions")?,
            embeddings: parse("/embeddings")?,
            models: parse("/models")?,
        })
    }
}

#[derive(Debug)]
pub struct OpenAiCompatProvider {
    info: DeploymentInfo,
    config: OpenAiCompatConfig,
    provider_name: Arc<str>,
    client: reqwest::Client,
    /// Endpoint URLs, parsed once rather than on every call.
    urls: Urls,
    /// Bounds calls in flight; a permit lives as long as its call or stream.
    permits: Option<Arc<Semaphore>>,
}

impl OpenAiCompatProvider {
    /// Builds the adapter and its connection pool (HTTP/1.1 keep-alive, and HTTP/2
    /// where the server offers it through ALPN).
    pub fn new(id: DeploymentId, config: OpenAiCompatConfig) -> Result<Self, ProviderError> {
        let client = reqwest::Client::builder()
            .connect_timeout(config.timeouts.connect)
            .pool_idle_timeout(std::time::Duration::from_secs(90))
            .tcp_nodelay(true)
            .user_agent(concat!("switchyard/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|error| {
                ProviderError::new(ErrorKind::Internal, "cannot build the HTTP client")
                    .with_cause(error)
            })?;
        let capabilities = Capabilities {
            embeddings: config.embeddings,
            ..Capabilities::default()
        };
        let info = DeploymentInfo {
            id,
            provider: Arc::from(config.provider.as_str()),
            upstream_model: Arc::from(config.upstream_model.as_str()),
            capabilities,
        };
        Ok(OpenAiCompatProvider {
            provider_name: info.provider.clone(),
            info,
            urls: Urls::new(&config.base_url)?,
            permits: config
                .max_concurrency
                .map(|limit| Arc::new(Semaphore::new(limit))),
            config,
            client,
        })
    }

    fn secrets(&self) -> Vec<&str> {
        self.config
            .api_key
            .as_ref()
            .map(|key| key.expose_secret())
            .into_iter()
            .collect()
    }

    fn headers(&self, cx: &CallContext) -> HeaderMap {
        let mut headers = HeaderMap::new();
        headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
        for (name, value) in &self.config.headers {
            headers.insert(name.clone(), value.clone());
        }
        if let Some(key) = &self.config.api_key
            && let Ok(mut value) = HeaderValue::from_str(&format!("Bearer {}", key.expose_secret()))
        {
            value.set_sensitive(true);
            headers.insert(AUTHORIZATION, value);
        }
        if let Some(request_id) = &cx.request_id
            && let Ok(value) = HeaderValue::from_str(request_id)
        {
            headers.insert("x-request-id", value);
        }
        headers
    }

    /// Waits for a concurrency permit, no longer than the first-byte deadline.
    async fn permit(&self) -> Result<Option<OwnedSemaphorePermit>, ProviderError> {
        let Some(permits) = &self.permits else {
            return Ok(None);
        };
        let wait = self.config.timeouts.first_byte;
        match tokio::time::timeout(wait, permits.clone().acquire_owned()).await {
            Ok(Ok(permit)) => Ok(Some(permit)),
            Ok(Err(_closed)) => Err(ProviderError::new(
                ErrorKind::Internal,
                "the concurrency limiter was closed",
            )),
            Err(_) => Err(ProviderError::new(
                ErrorKind::Overloaded,
                format!(
                    "deployment `{}` is at its limit of {} concurrent calls",
                    self.info.id,
                    self.config.max_concurrency.unwrap_or_default()
                ),
            )),
        }
    }

    /// Sends a POST and waits for the response headers within the first-byte deadline;
    /// a non-success status becomes a classified error.
    async fn post(
        &self,
        url: &reqwest::Url,
        body: Vec<u8>,
        cx: &CallContext,
        deadline: Instant,
    ) -> Result<reqwest::Response, ProviderError> {
        let request = self
            .client
            .post(url.clone())
            .headers(self.headers(cx))
            .body(body);
        self.send(request, deadline).await
    }

    async fn send(
        &self,
        request: reqwest::RequestBuilder,
        deadline: Instant,
    ) -> Result<reqwest::Response, ProviderError> {
        let first_byte = self.config.timeouts.first_byte;
        let headers_by = (Instant::now() + first_byte).min(deadline);
        let response = self
            .within(headers_by, "response", first_byte, request.send())
            .await?;
        if response.status().is_success() {
            return Ok(response);
        }
        Err(self.error_from_response(response, deadline).await)
    }

    /// Awaits an HTTP step until `until`; a transport failure or the deadline becomes a
    /// classified error (`limit` is the configured deadline the message names).
    async fn within<T>(
        &self,
        until: Instant,
        what: &str,
        limit: std::time::Duration,
        step: impl std::future::Future<Output = reqwest::Result<T>>,
    ) -> Result<T, ProviderError> {
        match tokio::time::timeout_at(until, step).await {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(error)) => Err(http_error::from_transport(
                &self.provider_name,
                error,
                &self.secrets(),
            )),
            Err(_) => Err(http_error::timeout(&self.provider_name, what, limit)),
        }
    }

    async fn error_from_response(
        &self,
        response: reqwest::Response,
        deadline: Instant,
    ) -> ProviderError {
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        // The body of an error is small; never wait past the deadline for it.
        let body = tokio::time::timeout_at(deadline, response.bytes())
            .await
            .ok()
            .and_then(Result::ok)
            .unwrap_or_default();
        let detail = ErrorBody::parse_lenient(&body)
            .map(|error| UpstreamErrorDetail {
                code: error.code_str(),
                param: error.param.clone(),
                message: Some(error.message),
            })
            .unwrap_or_default();
        http_error::from_status(
            &self.provider_name,
            status,
            &headers,
            detail,
            &self.secrets(),
        )
    }

    /// Reads a whole success body within the total deadline and decodes it.
    async fn read_body<T>(
        &self,
        response: reqwest::Response,
        deadline: Instant,
        decode: impl FnOnce(&[u8]) -> Result<T, switchyard_protocols::DecodeError>,
    ) -> Result<T, ProviderError> {
        let total = self.config.timeouts.total;
        let body = self
            .within(deadline, "complete response", total, response.bytes())
            .await?;
        decode(&body).map_err(|error| match ErrorBody::parse_lenient(&body) {
            // Some servers report a failure with status 200 and an error body.
            Some(upstream) => ProviderError::new(
                ErrorKind::Upstream,
                crate::scrub::scrub(
                    &format!(
                        "upstream `{}` failed: {}",
                        self.provider_name, upstream.message
                    ),
                    &self.secrets(),
                ),
            ),
            None => ProviderError::new(
                ErrorKind::Upstream,
                format!(
                    "upstream `{}` sent a response that is not valid for its protocol: {error}",
                    self.provider_name
                ),
            ),
        })
    }

    fn encode_chat(&self, request: &ChatRequest) -> Result<Vec<u8>, ProviderError> {
        let wire = openai::from_canonical_request(request, &self.config.upstream_model).map_err(
            |error| {
                ProviderError::new(ErrorKind::InvalidRequest, error.message).with_param(error.param)
            },
        )?;
        serde_json::to_vec(&wire).map_err(|error| {
            ProviderError::new(ErrorKind::Internal, "cannot serialize the request")
                .with_cause(error)
        })
    }
}

fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split(';').next())
        .is_some_and(|media| media.trim().eq_ignore_ascii_case("application/json"))
}

#[async_trait::async_trait]
impl Provider for OpenAiCompatProvider {
    fn info(&self) -> &DeploymentInfo {
        &self.info
    }

    async fn chat(
        &self,
        mut request: ChatRequest,
        cx: &CallContext,
    ) -> Result<ChatResponse, ProviderError> {
        let deadline = Instant::now() + self.config.timeouts.total;
        request.stream = false;
        let body = self.encode_chat(&request)?;
        let _permit = self.permit().await?;
        let response = self.post(&self.urls.chat, body, cx, deadline).await?;
        self.read_body(response, deadline, decode_chat_response)
            .await
    }

    async fn chat_stream(
        &self,
        mut request: ChatRequest,
        cx: &CallContext,
    ) -> Result<EventStream, ProviderError> {
        let deadline = Instant::now() + self.config.timeouts.total;
        request.stream = true;
        let body = self.encode_chat(&request)?;
        let permit = self.permit().await?;
        let response = self.post(&self.urls.chat, body, cx, deadline).await?;
        if is_json(response.headers()) {
            // Some servers ignore `stream: true` and send the whole completion at once;
            // it is replayed as frames, so the caller still gets a stream.
            let answer = self
                .read_body(response, deadline, |body| {
                    switchyard_protocols::decode::from_json::<openai::ChatCompletionResponse>(body)
                })
                .await?;
            drop(permit);
            let frames = openai::frames_from_response(answer);
            return Ok(futures::stream::iter(frames.into_iter().map(Ok)).boxed());
        }
        let timeouts = self.config.timeouts;
        let reader = SseReader::new(
            response,
            self.provider_name.clone(),
            timeouts.first_byte,
            deadline,
            timeouts.total,
        );
        open_event_stream(reader, self.provider_name.clone(), timeouts.idle, permit).await
    }

    async fn embed(
        &self,
        request: EmbedRequest,
        cx: &CallContext,
    ) -> Result<EmbedResponse, ProviderError> {
        if !self.config.embeddings {
            return Err(ProviderError::unsupported("embeddings"));
        }
        let deadline = Instant::now() + self.config.timeouts.total;
        let wire = from_canonical_embed_request(&request, &self.config.upstream_model);
        let body = serde_json::to_vec(&wire).map_err(|error| {
            ProviderError::new(ErrorKind::Internal, "cannot serialize the request")
                .with_cause(error)
        })?;
        let _permit = self.permit().await?;
        let response = self.post(&self.urls.embeddings, body, cx, deadline).await?;
        self.read_body(response, deadline, decode_embedding_response)
            .await
    }

    async fn list_models(&self, cx: &CallContext) -> Result<Vec<UpstreamModel>, ProviderError> {
        let deadline = Instant::now() + self.config.timeouts.total;
        let request = self
            .client
            .get(self.urls.models.clone())
            .headers(self.headers(cx));
        let response = self.send(request, deadline).await?;
        let list = self
            .read_body(response, deadline, |body| {
                switchyard_protocols::decode::from_json::<openai::ModelList>(body)
            })
            .await?;
        Ok(list
            .data
            .into_iter()
            .map(|model| UpstreamModel {
                id: model.id,
                owned_by: Some(model.owned_by),
                created: Some(model.created),
            })
            .collect())
    }
}
