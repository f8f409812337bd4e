//! Settings of one Bedrock deployment, as validated from `switchyard.toml`.

use http::{HeaderName, HeaderValue};
use secrecy::SecretString;

use crate::openai::Timeouts;

/// The environment variable AWS's SDKs read a Bedrock API key from (botocore builds it
/// from the signing name: `AWS_BEARER_TOKEN_` + `BEDROCK`).
pub const API_KEY_ENV: &str = "AWS_BEARER_TOKEN_BEDROCK";

/// The runtime endpoint of `region`; Converse is served only there.
pub fn default_base_url(region: &str) -> String {
    format!("https://bedrock-runtime.{region}.amazonaws.com")
}

#[derive(Debug, Clone)]
pub struct BedrockConfig {
    /// The provider's configured name, reported in headers and metrics.
    pub provider: String,
    /// The AWS region (`us-east-1`): the endpoint's and the SigV4 scope's.
    pub region: String,
    /// The endpoint, before `/model/…`, when not [`default_base_url`] (tests, VPC
    /// endpoints, FIPS or dual-stack hosts).
    pub base_url: Option<String>,
    pub credentials: BedrockCredentials,
    /// A model id (`amazon.nova-pro-v1:0`), an inference profile id
    /// (`eu.anthropic.claude-sonnet-4-20250514-v1:0`) or an ARN; sent percent-encoded
    /// in the path.
    pub upstream_model: String,
    /// Headers added to every request. They are not signed, so a proxy may change them.
    pub headers: Vec<(HeaderName, HeaderValue)>,
    pub timeouts: Timeouts,
    pub max_concurrency: Option<usize>,
    /// Whether this deployment serves embeddings through InvokeModel (Titan or Cohere,
    /// told by the model id) rather than chat through Converse.
    pub embeddings: bool,
    /// Leave out parameters Converse cannot honour instead of answering 400.
    pub drop_unsupported_params: bool,
}

/// How requests prove who sends them.
#[derive(Debug, Clone)]
pub enum BedrockCredentials {
    /// IAM access keys: every request is signed with SigV4 (signing name `bedrock`).
    AccessKey {
        access_key_id: String,
        secret_access_key: SecretString,
        /// For temporary credentials (STS); sent, and signed, as `x-amz-security-token`.
        session_token: Option<SecretString>,
    },
    /// A Bedrock API key ([`API_KEY_ENV`]), sent as `Authorization: Bearer`.
    ApiKey(SecretString),
}
