//! [`BedrockProvider`]: the `Provider` impl for the Bedrock Runtime.

use std::sync::Arc;

use http::header::HeaderMap;
use secrecy::SecretString;
use switchyard_protocols::bedrock::{self, EmbedFamily, EncodeOptions, EventDecoder};
use switchyard_types::{
    CallContext, Capabilities, ChatRequest, ChatResponse, DeploymentId, DeploymentInfo,
    EmbedRequest, EmbedResponse, ErrorKind, EventStream, Provider, ProviderError, UpstreamModel,
};
use tokio::time::Instant;

use super::auth::{Auth, CONTENT_TYPE, encode_label};
use super::config::{BedrockConfig, BedrockCredentials, default_base_url};
use super::error::{from_response, read_error_body, request_id};
use super::stream::open_event_stream;
use crate::eventstream::EventStreamReader;
use crate::upstream::{Upstream, base_headers, drops_unsupported, encode_error, to_body};

#[derive(Debug)]
pub struct BedrockProvider {
    info: DeploymentInfo,
    pub(super) config: BedrockConfig,
    pub(super) upstream: Upstream,
    auth: Auth,
    /// Scrubbed from the messages of errors that arrive inside a stream.
    secrets: Vec<SecretString>,
    /// Each URL is built once, with the model id percent-encoded once; the same string
    /// is signed and sent.
    converse_url: reqwest::Url,
    stream_url: reqwest::Url,
    pub(super) invoke_url: reqwest::Url,
    /// The InvokeModel body family, for an embeddings deployment.
    embed_family: Option<EmbedFamily>,
}

impl BedrockProvider {
    pub fn new(id: DeploymentId, config: BedrockConfig) -> Result<Self, ProviderError> {
        let invalid = |message: String| ProviderError::new(ErrorKind::Internal, message);
        // The region names a host and the signing scope.
        if config.region.is_empty()
            || !config
                .region
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        {
            return Err(invalid(format!("invalid AWS region `{}`", config.region)));
        }
        let secrets: Vec<SecretString> = match &config.credentials {
            BedrockCredentials::AccessKey {
                secret_access_key,
                session_token,
                ..
            } => std::iter::once(secret_access_key.clone())
                .chain(session_token.clone())
                .collect(),
            BedrockCredentials::ApiKey(key) => vec![key.clone()],
        };
        let upstream = Upstream::new(
            &config.provider,
            id.clone(),
            config.timeouts,
            config.max_concurrency,
            secrets.clone(),
            read_error_body,
        )?
        .classify_statuses_with(from_response);
        let base = config
            .base_url
            .clone()
            .unwrap_or_else(|| default_base_url(&config.region));
        let base = base.trim_end_matches('/');
        let model = encode_label(&config.upstream_model);
        let url = |operation: &str| {
            let url = reqwest::Url::parse(&format!("{base}/model/{model}/{operation}"))
                .map_err(|error| invalid(format!("invalid base URL: {error}")))?;
            // SigV4 signs the host, so there must be one.
            if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
                return Err(invalid(format!(
                    "invalid base URL `{base}`: it needs an http(s) scheme and a host"
                )));
            }
            Ok(url)
        };
        let embed_family = EmbedFamily::of(&config.upstream_model);
        if config.embeddings && embed_family.is_none() {
            return Err(invalid(format!(
                "cannot tell the embedding family of `{}`: Bedrock embeddings are served for \
                 `amazon.titan-embed*` and `cohere.embed*` model ids",
                config.upstream_model
            )));
        }
        let chat = !config.embeddings;
        let info = DeploymentInfo {
            id,
            provider: upstream.provider.clone(),
            upstream_model: Arc::from(config.upstream_model.as_str()),
            capabilities: Capabilities {
                chat,
                streaming: chat,
                tools: chat,
                vision: chat,
                json_schema: chat,
                embeddings: config.embeddings,
                completions: false,
            },
        };
        Ok(BedrockProvider {
            info,
            converse_url: url("converse")?,
            stream_url: url("converse-stream")?,
            invoke_url: url("invoke")?,
            embed_family,
            auth: Auth::new(&config.credentials, &config.region),
            secrets,
            config,
            upstream,
        })
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
        let wire = bedrock::from_canonical_request(request, &self.config.upstream_model, options)
            .map_err(encode_error)?;
        to_body(&wire)
    }

    /// Sends a signed `POST`; a non-success status is classified with its
    /// `x-amzn-ErrorType` header (see `error::from_response`).
    pub(super) async fn post(
        &self,
        url: &reqwest::Url,
        body: Vec<u8>,
        cx: &CallContext,
        deadline: Instant,
    ) -> Result<reqwest::Response, ProviderError> {
        let mut headers: HeaderMap = base_headers(&self.config.headers, cx);
        // Set again after the configured headers: the content type is signed.
        headers.insert(
            http::header::CONTENT_TYPE,
            http::HeaderValue::from_static(CONTENT_TYPE),
        );
        self.auth.authorize(url.as_str(), &body, &mut headers)?;
        self.upstream.post(url, headers, body, deadline).await
    }

    fn chat_only(&self) -> Result<(), ProviderError> {
        if self.config.embeddings {
            return Err(ProviderError::unsupported("chat"));
        }
        Ok(())
    }
}

/// Converse answers carry no id; the request id names the answer instead, or, when a
/// proxy dropped it, the time in nanoseconds.
fn answer_id(headers: &HeaderMap) -> String {
    match request_id(headers) {
        Some(id) => format!("bedrock-{id}"),
        None => format!(
            "bedrock-{}",
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |since| since.as_nanos())
        ),
    }
}

#[async_trait::async_trait]
impl Provider for BedrockProvider {
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
        let response = self.post(&self.converse_url, body, cx, deadline).await?;
        let id = answer_id(response.headers());
        let model = &self.config.upstream_model;
        self.upstream
            .read_body(response, deadline, |body| {
                bedrock::decode_response(body, model, &id)
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
        let decoder =
            EventDecoder::new(&answer_id(response.headers()), &self.config.upstream_model);
        let timeouts = self.upstream.timeouts;
        let provider = self.upstream.provider.clone();
        let reader = EventStreamReader::new(
            response,
            provider.clone(),
            timeouts.first_byte,
            deadline,
            timeouts.total,
        );
        open_event_stream(
            reader,
            decoder,
            provider,
            self.secrets.clone(),
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
        match self.embed_family.filter(|_| self.config.embeddings) {
            Some(family) => self.embed_with(family, request, cx).await,
            None => Err(ProviderError::unsupported("embeddings")),
        }
    }

    /// The configured model only. The runtime endpoint lists nothing; the model list is
    /// the control plane's (`ListFoundationModels`, another host and IAM action), and
    /// would not show inference profiles or whether this account may call them.
    async fn list_models(&self, _cx: &CallContext) -> Result<Vec<UpstreamModel>, ProviderError> {
        Ok(vec![UpstreamModel {
            id: self.config.upstream_model.clone(),
            owned_by: Some("bedrock".to_owned()),
            created: None,
        }])
    }
}
