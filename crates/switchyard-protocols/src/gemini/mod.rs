//! Google's Gemini API, the egress side: canonical requests encoded as
//! `generateContent` requests, its answers, stream events and errors decoded back, and
//! embeddings.
//!
//! - [`wire`]: request, response, error and embedding types.
//! - [`request`]: canonical request → `generateContent`, refusing what has no equivalent.
//! - [`response`]: response → canonical; finish reasons, usage, parts.
//! - [`stream`]: `alt=sse` events → canonical frames, stateful.

pub mod request;
pub mod response;
pub mod stream;
pub mod wire;

pub use request::{EncodeOptions, PROTOCOL, from_canonical_embed_request, from_canonical_request};
pub use response::{decode_embed_response, decode_response, to_canonical_response};
pub use stream::{Decoded, EventDecoder, Truncated};
pub use wire::{ErrorBody, GenerateContentRequest, GenerateContentResponse};

#[cfg(test)]
mod tests;
