//! The Amazon Bedrock adapter: one [`BedrockProvider`] per configured deployment on the
//! Bedrock Runtime (`/model/{modelId}/converse`, `/converse-stream`, and `/invoke` for
//! embeddings).
//!
//! - [`config`]: [`BedrockConfig`], validated from the config file.
//! - [`auth`]: SigV4 (signing name `bedrock`) or a Bedrock API key; URL labels.
//! - [`provider`]: the `Provider` impl: URLs per model, signed requests, errors read
//!   with their `x-amzn-ErrorType`.
//! - [`stream`]: the binary event stream → canonical frames; complete at `metadata`.
//! - `embed`: InvokeModel embeddings (Titan, Cohere).
//! - `error`: HTTP errors and stream exceptions → `ProviderError`.

pub mod auth;
mod config;
mod embed;
mod error;
mod provider;
mod stream;

pub use config::{API_KEY_ENV, BedrockConfig, BedrockCredentials, default_base_url};
pub use provider::BedrockProvider;
