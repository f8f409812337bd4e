//! Amazon Bedrock's Converse API, the egress side: canonical requests encoded as
//! Converse requests, its answers, ConverseStream events and errors decoded back, and
//! embeddings through InvokeModel (Titan, Cohere).
//!
//! - [`wire`]: Converse request, response, stream-event and error types.
//! - [`request`]: canonical request → Converse, refusing what has no equivalent.
//! - [`response`]: Converse response → canonical; stop reasons, usage, blocks.
//! - [`frame`]: the binary `application/vnd.amazon.eventstream` framing of a stream.
//! - [`stream`]: ConverseStream events → canonical frames, stateful.
//! - [`error`]: error codes from `x-amzn-ErrorType`, messages, stream exceptions.
//! - [`embed`]: InvokeModel bodies of the embedding families.
//!
//! Paths, model-id encoding and SigV4 are the provider's business; nothing here does I/O.

pub mod embed;
pub mod error;
pub mod frame;
pub mod request;
pub mod response;
pub mod stream;
pub mod wire;

pub use embed::EmbedFamily;
pub use error::{ErrorDetail, exception_kind, read_error};
pub use frame::{Frame, FrameDecoder, FrameError};
pub use request::{EncodeOptions, PROTOCOL, from_canonical_request, model_family};
pub use response::{decode_response, to_canonical_response};
pub use stream::{Decoded, EventDecoder, StreamError};
pub use wire::{ConverseRequest, ConverseResponse, ErrorBody};

#[cfg(test)]
mod tests;
