//! Anthropic's Messages API, the ingress side: what an Anthropic SDK sends, decoded
//! into the canonical model, and canonical answers, streams and errors encoded the way
//! the SDK reads them. It shares [`super::wire`] with the egress side.
//!
//! - [`request`]: Messages request → canonical request.
//! - [`response`]: canonical response → Messages response; stop reasons, usage.
//! - [`stream`]: canonical frames → the `message_start` … `message_stop` event sequence.
//! - [`error_type`]: an HTTP status as Anthropic's error `type`.

pub mod request;
pub mod response;
pub mod stream;

pub use request::{decode_count_request, decode_request};
pub use response::encode_response;
pub use stream::{StreamEncoder, event_name};

/// Anthropic's error `type` for an HTTP status, as its API reference lists them.
pub fn error_type(status: u16) -> &'static str {
    match status {
        400 | 405 | 415 | 422 => "invalid_request_error",
        401 => "authentication_error",
        402 => "billing_error",
        403 => "permission_error",
        404 => "not_found_error",
        413 => "request_too_large",
        429 => "rate_limit_error",
        503 | 529 => "overloaded_error",
        504 => "timeout_error",
        _ => "api_error",
    }
}

#[cfg(test)]
mod tests;
