//! Anthropic's Messages API: the egress side (canonical requests encoded for Anthropic,
//! its answers, stream events and errors decoded back) in the modules below, and the
//! ingress side, for Anthropic SDK clients, in [`ingress`], on the same wire types.
//!
//! - [`wire`]: request, response, stream event and error types.
//! - [`request`]: canonical request → Messages request, refusing what has no equivalent.
//! - [`response`]: Messages response → canonical response; stop reasons and usage.
//! - [`stream`]: stream events → canonical frames, stateful.
//! - [`ingress`]: the reverse directions, for clients that speak Anthropic.

pub mod ingress;
pub mod request;
pub mod response;
pub mod stream;
pub mod wire;

pub use request::{EncodeOptions, PROTOCOL, count_tokens_body, from_canonical_request};
pub use response::{decode_response, to_canonical_response};
pub use stream::{Decoded, EventDecoder};
pub use wire::{ErrorBody, MessagesRequest, MessagesResponse};

#[cfg(test)]
mod tests;
