//! HTTP adapters that implement [`switchyard_types::Provider`] for upstream model APIs.
//!
//! One module per wire-protocol family; each adapter encodes canonical requests with the
//! matching `switchyard_protocols` module, sends them with a pooled `reqwest` client, and
//! classifies every failure into a [`switchyard_types::ProviderError`] that says who
//! caused it and whether a retry can help. Adapters know nothing of routing or tenants.
//!
//! - [`anthropic`]: Anthropic's Messages API.
//! - [`bedrock`]: AWS Bedrock's Converse and ConverseStream, SigV4-signed or with a
//!   Bedrock API key, and InvokeModel embeddings.
//! - [`eventstream`]: reads the binary `application/vnd.amazon.eventstream` body under
//!   the same idle and total deadlines as [`sse`].
//! - [`frames`]: what streams share whatever their framing: the next event's deadline,
//!   opening a stream eagerly.
//! - [`gemini`]: Google's Gemini API.
//! - [`openai`]: the OpenAI-compatible family (OpenAI, Azure OpenAI, Mistral, xAI,
//!   DeepSeek, Groq, Together, Fireworks, vLLM, llama.cpp's server, Ollama, ...).
//! - [`http_error`]: HTTP status and transport errors → `ProviderError`, shared by every
//!   adapter.
//! - [`scrub`]: removes secrets from text that came from an upstream.
//! - [`sse`]: server-sent events under idle and total deadlines.
//! - [`upstream`]: the HTTP side every adapter shares (client, deadlines, concurrency
//!   limit, error classification).

pub mod anthropic;
pub mod bedrock;
pub mod eventstream;
pub mod frames;
pub mod gemini;
pub mod http_error;
pub mod openai;
pub mod scrub;
pub mod sse;
pub mod upstream;
