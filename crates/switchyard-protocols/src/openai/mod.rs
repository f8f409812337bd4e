//! OpenAI's Chat Completions, Embeddings and Models protocol.
//!
//! The wire types follow OpenAI's API reference field for field. Every object keeps the
//! fields it does not name in a flattened `extra` map, so a request that enters here
//! and leaves through an OpenAI-compatible adapter loses nothing (vLLM's `top_k`,
//! OpenRouter's `cache_control`, a new field OpenAI adds tomorrow).
//!
//! - [`wire`]: request, response and chunk types.
//! - [`request`]: request ⇄ canonical [`switchyard_types::ChatRequest`].
//! - [`response`]: response ⇄ canonical [`switchyard_types::ChatResponse`].
//! - [`stream`]: chunks ⇄ canonical [`switchyard_types::StreamEvent`]s, both stateful.
//! - [`completions`]: the legacy text completions protocol.
//! - [`responses`]: the Responses API.
//! - [`embeddings`], [`models`], [`error`]: the smaller objects.

pub mod completions;
pub mod embeddings;
pub mod error;
pub mod models;
pub mod request;
pub mod response;
pub mod responses;
pub mod stream;
mod texts;
pub mod wire;

pub use embeddings::{EmbeddingRequest, EmbeddingResponse};
pub use error::{ErrorBody, ErrorObject};
pub use models::{Model, ModelList};
pub use request::{decode_chat_request, from_canonical_request, to_canonical_request};
pub use response::{from_canonical_response, to_canonical_response};
pub use stream::{ChunkDecoder, ChunkEncoder, frames_from_response};
pub use wire::{ChatCompletionChunk, ChatCompletionRequest, ChatCompletionResponse};
