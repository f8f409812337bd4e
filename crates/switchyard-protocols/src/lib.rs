//! Wire protocols and their conversion to and from the canonical model.
//!
//! One module per protocol family. Each holds the serde types of its wire format
//! (qualified, not prefixed: `openai::ChatCompletionRequest`), and functions that
//! convert both ways for requests, responses, stream events and errors. Nothing here
//! does I/O, so every conversion is tested with plain fixtures.
//!
//! - [`openai`]: Chat Completions, Embeddings, Models and the error body, the protocol
//!   of OpenAI and of the many servers that copy it.
//! - [`anthropic`]: the Messages API (egress: requests out, answers and streams back).
//! - [`bedrock`]: AWS Bedrock's Converse API (egress: requests, answers, the binary
//!   event stream with its CRCs checked, errors) and InvokeModel embeddings (Titan,
//!   Cohere).
//! - [`gemini`]: Google's Gemini API (egress: `generateContent`, its SSE stream,
//!   `batchEmbedContents`).
//! - [`bounds`]: the bounds on every size a caller controls, checked right after a
//!   request is decoded, in every dialect.
//! - [`decode`]: the [`DecodeError`] every decoder returns, which names the offending
//!   field so the caller's 400 can say what to fix.

pub mod anthropic;
pub mod bedrock;
pub mod bounds;
pub mod decode;
pub mod gemini;
pub mod openai;

pub use decode::DecodeError;
