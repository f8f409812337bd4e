//! The Anthropic adapter: one [`AnthropicProvider`] per configured deployment on
//! Anthropic's Messages API (`POST /v1/messages`).
//!
//! - [`config`]: [`AnthropicConfig`], validated from the config file.
//! - [`provider`]: the `Provider` impl: headers (`x-api-key`, `anthropic-version`),
//!   request encoding options, errors in Anthropic's shape.
//! - [`stream`]: Anthropic's event stream → canonical frames, ending on `message_stop`.

mod config;
mod provider;
mod stream;

pub use config::{API_VERSION, AnthropicConfig, DEFAULT_BASE_URL};
pub use provider::AnthropicProvider;
