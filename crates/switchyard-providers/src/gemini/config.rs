//! Settings of one Gemini deployment, as validated from `switchyard.toml`.

use http::{HeaderName, HeaderValue};
use secrecy::SecretString;

use crate::openai::Timeouts;

/// The Gemini API's root.
pub const DEFAULT_BASE_URL: &str = "https://generativelanguage.googleapis.com";

#[derive(Debug, Clone)]
pub struct GeminiConfig {
    /// The provider's configured name, reported in headers and metrics.
    pub provider: String,
    /// The API root, before `/v1beta/models/…`.
    pub base_url: String,
    /// Sent as `x-goog-api-key`.
    pub api_key: Option<SecretString>,
    /// The model id Gemini knows (`gemini-2.5-flash`).
    pub upstream_model: String,
    pub headers: Vec<(HeaderName, HeaderValue)>,
    pub timeouts: Timeouts,
    pub max_concurrency: Option<usize>,
    /// Whether this deployment serves embeddings (`gemini-embedding-001`) rather than chat.
    pub embeddings: bool,
    /// Leave out parameters Gemini cannot honour instead of answering 400.
    pub drop_unsupported_params: bool,
}
