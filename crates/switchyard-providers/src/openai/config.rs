//! Settings of one OpenAI-compatible deployment, as validated from `switchyard.toml`.

use std::time::Duration;

use http::{HeaderName, HeaderValue};
use secrecy::SecretString;

/// One deployment on an OpenAI-compatible upstream: OpenAI itself, xAI, DeepSeek, Groq,
/// Together, Fireworks, OpenRouter, Perplexity, vLLM, SGLang, llama.cpp's server,
/// Ollama, LM Studio.
#[derive(Debug, Clone)]
pub struct OpenAiCompatConfig {
    /// The provider's configured name, reported in headers and metrics.
    pub provider: String,
    /// The API root, ending before `/chat/completions`, e.g. `https://api.openai.com/v1`.
    pub base_url: String,
    /// Sent as `Authorization: Bearer`; `None` for servers that need no key.
    pub api_key: Option<SecretString>,
    /// The model id the upstream knows.
    pub upstream_model: String,
    /// Headers added to every upstream request (e.g. `OpenAI-Organization`).
    pub headers: Vec<(HeaderName, HeaderValue)>,
    pub timeouts: Timeouts,
    /// The most calls in flight to this deployment at once; callers beyond it wait
    /// (within their deadline). `None` is unlimited.
    pub max_concurrency: Option<usize>,
    /// Whether the deployment serves `/embeddings`.
    pub embeddings: bool,
    /// Where requests go, how the key is sent, and the host's own rules.
    pub dialect: Dialect,
    /// Leave out parameters the host cannot honour instead of answering 400.
    pub drop_unsupported_params: bool,
}

/// The OpenAI protocol as one host family serves it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Dialect {
    /// `{base_url}/chat/completions`, the key as `Authorization: Bearer`.
    #[default]
    OpenAi,
    /// Azure OpenAI: the key in an `api-key` header; `base_url` is the resource endpoint
    /// and the deployment's model is the Azure deployment name, in
    /// `{endpoint}/openai/deployments/{name}/chat/completions?api-version=V`, or with
    /// `api_version = "v1"`, the version-less `{endpoint}/openai/v1/chat/completions`
    /// (the name then travels as `model`).
    Azure { api_version: String },
    /// Mistral La Plateforme: OpenAI's paths with Mistral's rules (see `mistral`).
    Mistral,
    /// Azure AI Foundry's model inference: every deployment of a resource at
    /// `{endpoint}/models/chat/completions?api-version=V`, chosen by `model`; the key
    /// in an `api-key` header; fields beyond the inference schema governed by the
    /// `extra-parameters` header (see `hosts::AZURE_FOUNDRY`).
    AzureFoundry { api_version: String },
    /// xAI, DeepSeek, Groq, Together, Fireworks: OpenAI's paths with the host's rules
    /// (see `hosts`).
    Hosted(super::hosts::Host),
}

impl Dialect {
    /// Whether the host serves legacy text completions (`/completions`) beside chat.
    /// OpenAI and Azure OpenAI do for their instruct models, and vLLM, llama.cpp,
    /// Ollama and the like for any model; Mistral and Azure AI Foundry's model
    /// inference do not.
    pub fn serves_completions(&self) -> bool {
        match self {
            Dialect::OpenAi | Dialect::Azure { .. } => true,
            Dialect::Mistral | Dialect::AzureFoundry { .. } => false,
            Dialect::Hosted(host) => host.serves_completions(),
        }
    }
}

/// Every network wait has a deadline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Timeouts {
    /// Establishing the TCP (and TLS) connection.
    pub connect: Duration,
    /// From sending the request to the response headers (and, streaming, the first event).
    pub first_byte: Duration,
    /// The whole call, body or stream included.
    pub total: Duration,
    /// The longest silence between two stream chunks.
    pub idle: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts {
            connect: Duration::from_secs(10),
            first_byte: Duration::from_secs(120),
            total: Duration::from_secs(600),
            idle: Duration::from_secs(60),
        }
    }
}
