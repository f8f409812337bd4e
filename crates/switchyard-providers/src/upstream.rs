//! The HTTP side every adapter shares: a pooled client, the deadlines of a call, the
//! deployment's concurrency limit, and error classification. An adapter adds its
//! protocol: URLs, headers, bodies, and how its error bodies read.

use std::sync::Arc;
use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use switchyard_protocols::DecodeError;
use switchyard_types::{DeploymentId, ErrorKind, ProviderError};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::time::Instant;

use crate::http_error::{self, UpstreamErrorDetail};
use crate::openai::Timeouts;

/// Reads a protocol's error body; `None` when nothing readable is there.
pub type ErrorReader = fn(&[u8]) -> Option<UpstreamErrorDetail>;

/// Classifies a non-success response from its status, headers and body, for
/// protocols whose error code travels in a header (Bedrock's `x-amzn-ErrorType`).
pub type StatusClassifier = fn(
    provider: &str,
    status: u16,
    headers: &http::HeaderMap,
    body: &[u8],
    secrets: &[&str],
) -> ProviderError;

/// The request field (LiteLLM's spelling) by which a caller lets parameters the
/// upstream cannot honour be left out; a Switchyard control, never sent upstream.
pub const DROP_UNSUPPORTED_PARAMS: &str = "drop_unsupported_params";

/// Whether the request, or else the deployment, allows dropping unsupported
/// parameters.
pub fn drops_unsupported(extra: &switchyard_types::Extra, deployment_allows: bool) -> bool {
    deployment_allows
        || extra
            .get(DROP_UNSUPPORTED_PARAMS)
            .and_then(|value| value.as_bool())
            .unwrap_or(false)
}

#[derive(Debug)]
pub struct Upstream {
    /// The provider's configured name, as messages and metrics name it.
    pub provider: Arc<str>,
    deployment: DeploymentId,
    client: reqwest::Client,
    pub timeouts: Timeouts,
    max_concurrency: Option<usize>,
    /// Bounds calls in flight; a permit lives as long as its call or stream.
    permits: Option<Arc<Semaphore>>,
    /// Scrubbed from every message built from upstream text.
    secrets: Arc<[SecretString]>,
    read_error: ErrorReader,
    /// Replaces `read_error` + the status mapping for non-success responses.
    classify: Option<StatusClassifier>,
}

impl Upstream {
    /// Builds the connection pool (HTTP/1.1 keep-alive, and HTTP/2 where the server
    /// offers it through ALPN).
    pub fn new(
        provider: &str,
        deployment: DeploymentId,
        timeouts: Timeouts,
        max_concurrency: Option<usize>,
        secrets: Vec<SecretString>,
        read_error: ErrorReader,
    ) -> Result<Self, ProviderError> {
        let client = reqwest::Client::builder()
            .connect_timeout(timeouts.connect)
            .pool_idle_timeout(Duration::from_secs(90))
            .tcp_nodelay(true)
            .user_agent(concat!("switchyard/", env!("CARGO_PKG_VERSION")))
            // A redirect would carry the vendor key (`api-key`, `x-api-key` and
            // `x-goog-api-key` are not headers reqwest strips) and the prompt to
            // whatever host it names: a 3xx is an upstream error instead.
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|error| {
                ProviderError::new(ErrorKind::Internal, "cannot build the HTTP client")
                    .with_cause(error)
            })?;
        Ok(Upstream {
            provider: Arc::from(provider),
            deployment,
            client,
            timeouts,
            max_concurrency,
            permits: max_concurrency.map(|limit| Arc::new(Semaphore::new(limit))),
            secrets: secrets.into(),
            read_error,
            classify: None,
        })
    }

    /// Classifies non-success responses with `classify` instead of the error reader
    /// and the status alone.
    pub fn classify_statuses_with(mut self, classify: StatusClassifier) -> Self {
        self.classify = Some(classify);
        self
    }

    pub fn client(&self) -> &reqwest::Client {
        &self.client
    }

    /// `POST`s `body` with `headers`; see [`Upstream::send`].
    pub async fn post(
        &self,
        url: &reqwest::Url,
        headers: http::HeaderMap,
        body: Vec<u8>,
        deadline: Instant,
    ) -> Result<reqwest::Response, ProviderError> {
        let request = self.client.post(url.clone()).headers(headers).body(body);
        self.send(request, deadline).await
    }

    /// `GET`s `url` and decodes the JSON body as `T`.
    pub async fn get_json<T: serde::de::DeserializeOwned>(
        &self,
        url: &reqwest::Url,
        headers: http::HeaderMap,
    ) -> Result<T, ProviderError> {
        let deadline = self.deadline();
        let request = self.client.get(url.clone()).headers(headers);
        let response = self.send(request, deadline).await?;
        self.read_body(
            response,
            deadline,
            switchyard_protocols::decode::from_json::<T>,
        )
        .await
    }

    /// The secrets to scrub from an event stream's messages, shared with its reader.
    pub fn shared_secrets(&self) -> Arc<[SecretString]> {
        self.secrets.clone()
    }

    pub fn secrets(&self) -> Vec<&str> {
        self.secrets
            .iter()
            .map(|secret| secret.expose_secret())
            .collect()
    }

    /// The deadline of a call starting now.
    pub fn deadline(&self) -> Instant {
        Instant::now() + self.timeouts.total
    }

    /// Waits for a concurrency permit, no longer than the first-byte deadline.
    pub async fn permit(&self) -> Result<Option<OwnedSemaphorePermit>, ProviderError> {
        let Some(permits) = &self.permits else {
            return Ok(None);
        };
        let wait = self.timeouts.first_byte;
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
                    self.deployment,
                    self.max_concurrency.unwrap_or_default()
                ),
            )),
        }
    }

    /// Sends a request and waits for the response headers within the first-byte
    /// deadline; a non-success status becomes a classified error.
    pub async fn send(
        &self,
        request: reqwest::RequestBuilder,
        deadline: Instant,
    ) -> Result<reqwest::Response, ProviderError> {
        let first_byte = self.timeouts.first_byte;
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
    pub async fn within<T>(
        &self,
        until: Instant,
        what: &str,
        limit: Duration,
        step: impl std::future::Future<Output = reqwest::Result<T>>,
    ) -> Result<T, ProviderError> {
        match tokio::time::timeout_at(until, step).await {
            Ok(Ok(value)) => Ok(value),
            Ok(Err(error)) => Err(http_error::from_transport(
                &self.provider,
                error,
                &self.secrets(),
            )),
            Err(_) => Err(http_error::timeout(&self.provider, what, limit)),
        }
    }

    async fn error_from_response(
        &self,
        response: reqwest::Response,
        deadline: Instant,
    ) -> ProviderError {
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        // The body of an error is small: read at most its first bytes, and never wait
        // past the deadline for them.
        let body = tokio::time::timeout_at(deadline, read_at_most(response, MAX_ERROR_BODY_BYTES))
            .await
            .ok()
            .and_then(Result::ok)
            .map(|(body, _)| body)
            .unwrap_or_default();
        if let Some(classify) = self.classify {
            return classify(&self.provider, status, &headers, &body, &self.secrets());
        }
        let detail = (self.read_error)(&body).unwrap_or_default();
        http_error::from_status(&self.provider, status, &headers, detail, &self.secrets())
    }

    /// Reads a whole success body within the total deadline and decodes it.
    pub async fn read_body<T>(
        &self,
        response: reqwest::Response,
        deadline: Instant,
        decode: impl FnOnce(&[u8]) -> Result<T, DecodeError>,
    ) -> Result<T, ProviderError> {
        let total = self.timeouts.total;
        let (body, complete) = self
            .within(
                deadline,
                "complete response",
                total,
                read_at_most(response, MAX_BODY_BYTES),
            )
            .await?;
        if !complete {
            return Err(ProviderError::new(
                ErrorKind::Upstream,
                format!(
                    "upstream `{}` sent a response larger than {MAX_BODY_BYTES} bytes",
                    self.provider
                ),
            ));
        }
        decode(&body).map_err(|error| match (self.read_error)(&body) {
            // Some servers report a failure with status 200 and an error body.
            Some(UpstreamErrorDetail {
                message: Some(message),
                ..
            }) => ProviderError::new(
                ErrorKind::Upstream,
                crate::scrub::scrub(
                    &format!("upstream `{}` failed: {message}", self.provider),
                    &self.secrets(),
                ),
            ),
            _ => ProviderError::new(
                ErrorKind::Upstream,
                format!(
                    "upstream `{}` sent a response that is not valid for its protocol: {error}",
                    self.provider
                ),
            ),
        })
    }
}

/// The most bytes of an upstream's error body read; the rest is not needed to say what
/// went wrong.
const MAX_ERROR_BODY_BYTES: usize = 64 * 1024;

/// The largest complete (non-streamed) upstream answer accepted: far above any real
/// one (a 128k-token answer is under 1 MiB of JSON; embeddings of 2048 inputs ~50 MiB).
pub const MAX_BODY_BYTES: usize = 128 << 20;

/// Reads a body up to `limit` bytes; `false` when it had more (the rest is not read).
async fn read_at_most(
    mut response: reqwest::Response,
    limit: usize,
) -> reqwest::Result<(bytes::Bytes, bool)> {
    let mut body = bytes::BytesMut::new();
    while let Some(chunk) = response.chunk().await? {
        if body.len() + chunk.len() > limit {
            let room = limit - body.len();
            body.extend_from_slice(&chunk[..room]);
            return Ok((body.freeze(), false));
        }
        body.extend_from_slice(&chunk);
    }
    Ok((body.freeze(), true))
}

/// The headers every request carries: JSON content, the configured headers, and the
/// caller's request id for correlation. The adapter adds its credentials.
pub fn base_headers(
    configured: &[(http::HeaderName, http::HeaderValue)],
    cx: &switchyard_types::CallContext,
) -> http::HeaderMap {
    let mut headers = http::HeaderMap::new();
    headers.insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("application/json"),
    );
    for (name, value) in configured {
        headers.insert(name.clone(), value.clone());
    }
    if let Some(request_id) = &cx.request_id
        && let Ok(value) = http::HeaderValue::from_str(request_id)
    {
        headers.insert("x-request-id", value);
    }
    headers
}

/// A credential as a header value that logs and debug output never show.
pub fn secret_header(value: &str) -> Option<http::HeaderValue> {
    let mut value = http::HeaderValue::from_str(value).ok()?;
    value.set_sensitive(true);
    Some(value)
}

/// A canonical request that cannot be expressed in the upstream's protocol: the
/// caller's mistake (400), naming the parameter.
pub fn encode_error(error: DecodeError) -> ProviderError {
    ProviderError::new(ErrorKind::InvalidRequest, error.message).with_param(error.param)
}

/// Serializes a wire request.
pub fn to_body(wire: &impl serde::Serialize) -> Result<Vec<u8>, ProviderError> {
    serde_json::to_vec(wire).map_err(|error| {
        ProviderError::new(ErrorKind::Internal, "cannot serialize the request").with_cause(error)
    })
}
