//! OpenAI's Responses API (`/v1/responses`): items in, items out, and a stream of
//! semantic events.
//!
//! A request becomes a canonical [`switchyard_types::ChatRequest`] like any other, so
//! any deployment can answer it; what the Responses API adds, conversation state kept
//! on the server, is carried beside it ([`ResponseRequest`]) for the server's store.
//!
//! - [`wire`]: the request, the response object and the lists around it.
//! - [`items`]: input items ⇄ canonical messages.
//! - [`request`]: the request → canonical, and the settings the response repeats.
//! - [`response`]: a canonical answer → a response object.
//! - [`stream`]: canonical frames → `response.*` events.

pub mod items;
pub mod request;
pub mod response;
pub mod stream;
pub mod wire;

pub use request::{ResponseRequest, decode_response_request};
pub use response::{new_response_id, response_object};
pub use stream::{ResponseEvent, ResponseEventEncoder};
pub use wire::{CreateResponse, DeletedResponse, InputItemList, ResponseObject};

#[cfg(test)]
mod tests;
