//! The OpenAI-compatible adapter: one [`OpenAiCompatProvider`] per configured
//! deployment on any server that speaks OpenAI's Chat Completions protocol.
//!
//! - [`config`]: [`OpenAiCompatConfig`] and [`Timeouts`], validated from the config file.
//! - [`provider`]: the `Provider` impl: request building, deadlines, concurrency limit.
//! - [`stream`]: SSE chunks → canonical events, ending on `[DONE]`.
//! - [`mistral`]: Mistral's rules, applied to requests encoded for OpenAI.
//! - [`hosts`]: the rules of xAI, DeepSeek, Groq, Together and Fireworks, as data.

mod config;
pub mod hosts;
pub mod mistral;
mod provider;
mod stream;

pub use config::{Dialect, OpenAiCompatConfig, Timeouts};
pub use hosts::Host;
pub use provider::OpenAiCompatProvider;
