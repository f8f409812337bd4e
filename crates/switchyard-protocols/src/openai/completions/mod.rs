//! OpenAI's legacy Completions protocol (`/v1/completions`): a raw prompt continued
//! without a chat template.
//!
//! Canonically a text completion is a [`switchyard_types::ChatRequest`] whose
//! `completion` holds the prompts and whose `messages` is empty, so that routing,
//! fallback and metering treat it like any other call; the answer's text is each
//! choice's one text block. Logprobs travel as canonical tokens and become the
//! protocol's parallel arrays (`tokens`, `token_logprobs`, `top_logprobs`,
//! `text_offset`) at the edge.

pub mod request;
pub mod response;
pub mod stream;
pub mod wire;

pub use request::{
    decode_completion_request, from_canonical_completion_request, to_canonical_completion_request,
};
pub use response::{
    decode_completion_response, from_canonical_completion_response,
    to_canonical_completion_response,
};
pub use stream::{CompletionChunkDecoder, CompletionChunkEncoder};
pub use wire::{CompletionLogprobs, CompletionRequest, CompletionResponse};

#[cfg(test)]
mod tests;
