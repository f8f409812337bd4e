//! The canonical model every hop of Switchyard speaks.
//!
//! A request enters in some wire protocol (OpenAI, Anthropic, ...), is decoded into the
//! types here, routed, and encoded again into the upstream's protocol; responses and
//! stream events travel back the same way. This crate owns only data and signatures:
//! no I/O, no HTTP, no knowledge of any wire format.
//!
//! Where to start reading:
//! - [`chat`]: [`ChatRequest`], messages of typed [`ContentBlock`]s, tools, sampling.
//! - [`response`]: [`ChatResponse`], [`Usage`], [`FinishReason`].
//! - [`stream`]: [`StreamEvent`], the typed events of a streamed answer, sent in
//!   [`StreamFrame`]s.
//! - [`provider`]: the [`Provider`] trait that every upstream adapter and the local
//!   engine implement, and the [`ProviderError`] that carries retry decisions.
//!
//! Fields that no protocol-neutral type models travel in `extra` maps
//! ([`Extra`]), so that a same-protocol hop (OpenAI in, OpenAI-compatible out) loses
//! nothing.

pub mod chat;
pub mod embed;
pub mod error;
pub mod provider;
pub mod response;
pub mod stream;

pub use chat::{
    ChatRequest, ContentBlock, ImageDetail, ImageSource, MaxTokensField, Message, Prompt,
    Reasoning, ResponseFormat, Role, Sampling, StopSequences, TextCompletion, Tool, ToolChoice,
};
pub use embed::{EmbedInput, EmbedRequest, EmbedResponse};
pub use error::{ErrorKind, ProviderError, RetryAdvice, SourceSide};
pub use provider::{
    CallContext, Capabilities, DeploymentId, DeploymentInfo, EventStream, Provider, UpstreamModel,
};
pub use response::{ChatResponse, Choice, FinishReason, TokenLogprob, TopLogprob, Usage};
pub use stream::{StreamEvent, StreamFrame, usage_in};

/// Fields a protocol carries that the canonical model does not name. Kept verbatim so
/// a same-protocol hop can put them back on the wire.
pub type Extra = serde_json::Map<String, serde_json::Value>;
