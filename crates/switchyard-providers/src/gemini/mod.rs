//! The Gemini adapter: one [`GeminiProvider`] per configured deployment on Google's
//! Gemini API (`models/{model}:generateContent`, `:streamGenerateContent?alt=sse`,
//! `:batchEmbedContents`).
//!
//! - [`config`]: [`GeminiConfig`], validated from the config file.
//! - [`provider`]: the `Provider` impl: the `x-goog-api-key` header, URLs per model,
//!   errors in Google's `google.rpc.Status` shape.
//! - [`stream`]: the SSE stream → canonical frames; complete when every candidate
//!   finished and the body ended.

mod config;
mod provider;
mod stream;

pub use config::{DEFAULT_BASE_URL, GeminiConfig};
pub use provider::GeminiProvider;
