//! HTTP adapters that implement [`switchyard_types::Provider`] for upstream model APIs.
//!
//! One module per wire-protocol family; each adapter encodes canonical requests with the
//! matching `switchyard_protocols` module, sends them with a pooled `reqwest` client, and
//! classifies every failure into a [`switchyard_types::ProviderError`] that says who
//! caused it and whether a retry can help. Adapters know nothing of routing or tenants.
//!
//! - [`anthropic`]: Anthropic's Messages API.
//! - [`gemini`]: Google's Gemini API.
//! - [`openai`]: the OpenAI-compatible family (OpenAI, xAI, DeepSeek, Groq, vLLM,
//!   llama.cpp's server, Ollama, ...).
//! - [`http_error`]: HTTP status and transport errors → `ProviderError`, shared by every
//!   adapter.
//! - [`scrub`]: removes secrets from text that came from an upstream.
//! - [`upstream`]: the HTTP side every adapter shares (client, deadlines, concurrency
//!   limit, error classification).

pub mod anthropic;
pub mod gemini;
pub mod http_error;
pub mod openai;
pub mod scrub;
pub mod sse;
pub mod upstream;
