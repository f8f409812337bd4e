//! Settings of one Anthropic deployment, as validated from `switchyard.toml`.

use http::{HeaderName, HeaderValue};
use secrecy::SecretString;

use crate::openai::Timeouts;

/// Anthropic's API root.
pub const DEFAULT_BASE_URL: &str = "https://api.anthropic.com";
/// The `anthropic-version` this adapter speaks.
pub const API_VERSION: &str = "2023-06-01";

#[derive(Debug, Clone)]
pub struct AnthropicConfig {
    /// The provider's configured name, reported in headers and metrics.
    pub provider: String,
    /// The API root, before `/v1/messages`.
    pub base_url: String,
    /// Sent as `x-api-key`.
    pub api_key: Option<SecretString>,
    /// The model id Anthropic knows (`claude-sonnet-4-5`).
    pub upstream_model: String,
    /// Headers added to every request (`anthropic-beta`, …).
    pub headers: Vec<(HeaderName, HeaderValue)>,
    pub timeouts: Timeouts,
    pub max_concurrency: Option<usize>,
    /// `max_tokens` when a request sets none: Anthropic requires one.
    pub default_max_tokens: u32,
    /// Leave out parameters Anthropic cannot honour instead of answering 400.
    pub drop_unsupported_params: bool,
}
