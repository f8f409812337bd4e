//! [`OpenAiCompatProvider`]: the `Provider` impl for OpenAI-compatible upstreams.

use std::sync::Arc;

use futures::StreamExt;
use http::header::{AUTHORIZATION, CONTENT_TYPE, HeaderMap};
use secrecy::ExposeSecret;
use switchyard_protocols::decode::from_json;
use switchyard_protocols::openai::completions::{
    CompletionResponse, decode_completion_response, from_canonical_completion_request,
};
use switchyard_protocols::openai::{
    self, ErrorBody,
    embeddings::{decode_embedding_response, from_canonical_embed_request},
    response::decode_chat_response,
};
use switchyard_types::{
    CallContext, Capabilities, ChatRequest, ChatResponse, DeploymentId, DeploymentInfo,
    EmbedRequest, EmbedResponse, ErrorKind, EventStream, Provider, ProviderError, StreamEvent,
    UpstreamModel,
};
use tokio::time::Instant;

use super::config::{Dialect, OpenAiCompatConfig};
use super::stream::{Decoder, open_event_stream};
use crate::http_error::UpstreamErrorDetail;
use crate::sse::SseReader;
use crate::upstream::{
    DROP_UNSUPPORTED_PARAMS, Upstream, base_headers, drops_unsupported, encode_error,
    secret_header, to_body,
};

#[derive(Debug)]
struct Urls {
    chat: reqwest::Url,
    /// Legacy text completions, where the host serves them.
    completions: Option<reqwest::Url>,
    embeddings: reqwest::Url,
    models: reqwest::Url,
}

impl Urls {
    fn new(config: &OpenAiCompatConfig) -> Result<Self, ProviderError> {
        let base = config.base_url.trim_end_matches('/');
        let parse = |url: String| {
            reqwest::Url::parse(&url).map_err(|error| {
                ProviderError::new(ErrorKind::Internal, format!("invalid base URL: {error}"))
            })
        };
        match &config.dialect {
            Dialect::OpenAi | Dialect::Mistral | Dialect::Hosted(_) => Ok(Urls {
                chat: parse(format!("{base}/chat/completions"))?,
                completions: config
                    .dialect
                    .serves_completions()
                    .then(|| parse(format!("{base}/completions")))
                    .transpose()?,
                embeddings: parse(format!("{base}/embeddings"))?,
                models: parse(format!("{base}/models"))?,
            }),
            Dialect::AzureFoundry { api_version } => {
                let versioned = |path: &str| {
                    let mut url = parse(format!("{base}{path}"))?;
                    url.query_pairs_mut()
                        .append_pair("api-version", api_version);
                    Ok::<_, ProviderError>(url)
                };
                Ok(Urls {
                    chat: versioned("/models/chat/completions")?,
                    completions: None,
                    embeddings: versioned("/models/embeddings")?,
                    models: versioned("/models/info")?,
                })
            }
            Dialect::Azure { api_version } if api_version == "v1" => Ok(Urls {
                chat: parse(format!("{base}/openai/v1/chat/completions"))?,
                completions: Some(parse(format!("{base}/openai/v1/completions"))?),
                embeddings: parse(format!("{base}/openai/v1/embeddings"))?,
                models: parse(format!("{base}/openai/v1/models"))?,
            }),
            Dialect::Azure { api_version } => {
                // The deployment name is one path segment, escaped as such.
                let in_deployment = |operation: &[&str]| {
                    let mut url = parse(format!("{base}/openai/deployments"))?;
                    url.path_segments_mut()
                        .map_err(|()| ProviderError::new(ErrorKind::Internal, "invalid base URL"))?
                        .push(&config.upstream_model)
                        .extend(operation);
                    url.query_pairs_mut()
                        .append_pair("api-version", api_version);
                    Ok::<_, ProviderError>(url)
                };
                let mut models = parse(format!("{base}/openai/models"))?;
                models
                    .query_pairs_mut()
                    .append_pair("api-version", api_version);
                Ok(Urls {
                    chat: in_deployment(&["chat", "completions"])?,
                    completions: Some(in_deployment(&["completions"])?),
                    embeddings: in_deployment(&["embeddings"])?,
                    models,
                })
            }
        }
    }
}

#[derive(Debug)]
pub struct OpenAiCompatProvider {
    info: DeploymentInfo,
    config: OpenAiCompatConfig,
    upstream: Upstream,
    /// Endpoint URLs, parsed once rather than on every call.
    urls: Urls,
}

/// OpenAI's error body, or the looser shapes compatible servers send.
fn read_error(body: &[u8]) -> Option<UpstreamErrorDetail> {
    ErrorBody::parse_lenient(body).map(|error| UpstreamErrorDetail {
        code: error.code_str(),
        param: error.param.clone(),
        message: Some(error.message),
    })
}

impl OpenAiCompatProvider {
    pub fn new(id: DeploymentId, config: OpenAiCompatConfig) -> Result<Self, ProviderError> {
        let urls = Urls::new(&config)?;
        let capabilities = Capabilities {
            embeddings: config.embeddings,
            completions: urls.completions.is_some(),
            ..Capabilities::default()
        };
        let upstream = Upstream::new(
            &config.provider,
            id.clone(),
            config.timeouts,
            config.max_concurrency,
            config.api_key.iter().cloned().collect(),
            read_error,
        )?;
        let info = DeploymentInfo {
            id,
            provider: upstream.provider.clone(),
            upstream_model: Arc::from(config.upstream_model.as_str()),
            capabilities,
        };
        Ok(OpenAiCompatProvider {
            info,
            urls,
            config,
            upstream,
        })
    }

    fn headers(&self, cx: &CallContext) -> HeaderMap {
        let mut headers = base_headers(&self.config.headers, cx);
        if let Some(key) = &self.config.api_key {
            let credential = match self.config.dialect {
                Dialect::OpenAi | Dialect::Mistral | Dialect::Hosted(_) => {
                    secret_header(&format!("Bearer {}", key.expose_secret()))
                        .map(|value| (AUTHORIZATION, value))
                }
                Dialect::Azure { .. } | Dialect::AzureFoundry { .. } => {
                    secret_header(key.expose_secret())
                        .map(|value| (http::HeaderName::from_static("api-key"), value))
                }
            };
            if let Some((name, value)) = credential {
                headers.insert(name, value);
            }
        }
        if let Dialect::AzureFoundry { .. } = self.config.dialect {
            // Fields beyond the inference schema: refused by Azure unless this header
            // says otherwise. They go to the model, or are dropped where the deployment
            // allows dropping what the upstream cannot honour.
            let policy = if self.config.drop_unsupported_params {
                "drop"
            } else {
                "pass-through"
            };
            headers.insert(
                http::HeaderName::from_static("extra-parameters"),
                http::HeaderValue::from_static(policy),
            );
        }
        headers
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

    /// The endpoint and body for `request`: chat, or a text completion where the host
    /// serves them.
    fn encode(&self, request: &ChatRequest) -> Result<(&reqwest::Url, Vec<u8>), ProviderError> {
        if request.completion.is_none() {
            return Ok((&self.urls.chat, self.encode_chat(request)?));
        }
        let Some(url) = &self.urls.completions else {
            return Err(ProviderError::unsupported("text completions"));
        };
        let mut wire = from_canonical_completion_request(request, &self.config.upstream_model)
            .map_err(encode_error)?;
        wire.extra.remove(DROP_UNSUPPORTED_PARAMS);
        Ok((url, to_body(&wire)?))
    }

    fn encode_chat(&self, request: &ChatRequest) -> Result<Vec<u8>, ProviderError> {
        let mut wire = openai::from_canonical_request(request, &self.config.upstream_model)
            .map_err(encode_error)?;
        // A Switchyard control, not a field for the upstream.
        let drop_unsupported = drops_unsupported(&wire.extra, self.config.drop_unsupported_params);
        wire.extra.remove(DROP_UNSUPPORTED_PARAMS);
        match self.config.dialect {
            Dialect::Mistral => super::mistral::fit(&mut wire, drop_unsupported)?,
            Dialect::Hosted(host) => super::hosts::fit(host, &mut wire, drop_unsupported)?,
            Dialect::AzureFoundry { .. } => super::hosts::fit_azure_foundry(&mut wire),
            Dialect::OpenAi | Dialect::Azure { .. } => {}
        }
        to_body(&wire)
    }
}

impl OpenAiCompatProvider {
    /// A stream whose usage is counted as OpenAI counts it, for hosts that differ.
    fn fit_stream_usage(&self, stream: EventStream) -> EventStream {
        let Dialect::Hosted(host) = self.config.dialect else {
            return stream;
        };
        stream
            .map(move |frame| {
                frame.map(|mut frame| {
                    for event in &mut frame {
                        if let StreamEvent::Usage(usage) = event {
                            super::hosts::fit_usage(host, usage);
                        }
                    }
                    frame
                })
            })
            .boxed()
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
        let (url, body) = self.encode(&request)?;
        let _permit = self.upstream.permit().await?;
        let response = self.post(url, body, cx, deadline).await?;
        let decode = match request.completion {
            Some(_) => decode_completion_response,
            None => decode_chat_response,
        };
        let mut answer = self.upstream.read_body(response, deadline, decode).await?;
        if let (Dialect::Hosted(host), Some(usage)) = (&self.config.dialect, &mut answer.usage) {
            super::hosts::fit_usage(*host, usage);
        }
        Ok(answer)
    }

    async fn chat_stream(
        &self,
        mut request: ChatRequest,
        cx: &CallContext,
    ) -> Result<EventStream, ProviderError> {
        let deadline = self.upstream.deadline();
        request.stream = true;
        let (url, body) = self.encode(&request)?;
        let permit = self.upstream.permit().await?;
        let response = self.post(url, body, cx, deadline).await?;
        let decoder = Decoder::for_request(&request);
        if is_json(response.headers()) {
            // Some servers ignore `stream: true` and send the whole completion at once;
            // it is replayed as frames, so the caller still gets a stream.
            let frames = match decoder {
                Decoder::Chat(_) => {
                    let answer = self
                        .upstream
                        .read_body(response, deadline, |body| {
                            from_json::<openai::ChatCompletionResponse>(body)
                        })
                        .await?;
                    openai::frames_from_response(answer)
                }
                // An answer is shaped like one chunk.
                Decoder::Completion(mut decoder) => {
                    let answer = self
                        .upstream
                        .read_body(response, deadline, |body| {
                            from_json::<CompletionResponse>(body)
                        })
                        .await?;
                    vec![decoder.decode(answer)]
                }
            };
            drop(permit);
            return Ok(
                self.fit_stream_usage(futures::stream::iter(frames.into_iter().map(Ok)).boxed())
            );
        }
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
        let stream = open_event_stream(reader, decoder, provider, timeouts.idle, permit).await?;
        Ok(self.fit_stream_usage(stream))
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
        let mut wire = from_canonical_embed_request(&request, &self.config.upstream_model);
        if self.config.dialect == Dialect::Mistral {
            super::mistral::fit_embedding(&mut wire);
        }
        let body = to_body(&wire)?;
        let _permit = self.upstream.permit().await?;
        let response = self.post(&self.urls.embeddings, body, cx, deadline).await?;
        self.upstream
            .read_body(response, deadline, decode_embedding_response)
            .await
    }

    async fn list_models(&self, cx: &CallContext) -> Result<Vec<UpstreamModel>, ProviderError> {
        if let Dialect::AzureFoundry { .. } = self.config.dialect {
            // The model-inference endpoint describes one deployment (`/models/info`) but
            // lists none; the deployment is the one configured.
            return Ok(vec![UpstreamModel {
                id: self.config.upstream_model.clone(),
                owned_by: Some("azure".to_owned()),
                created: None,
            }]);
        }
        let list: openai::ModelList = self
            .upstream
            .get_json(&self.urls.models, self.headers(cx))
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
