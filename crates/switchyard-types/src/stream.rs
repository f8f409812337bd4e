//! The typed events of a streamed answer.
//!
//! A well-formed stream is `Start`, then any number of deltas for any choice, one
//! `Finish` per choice, and at most one `Usage`, which may come before or after the
//! finishes (OpenAI sends it last, Anthropic first and last).

use serde::{Deserialize, Serialize};

use crate::{Extra, FinishReason, TokenLogprob, Usage};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum StreamEvent {
    /// The upstream accepted the request and named the answer.
    Start {
        id: String,
        model: String,
        created: u64,
        /// Chunk-level fields the canonical model does not name (e.g.
        /// `system_fingerprint`), kept for a same-protocol hop.
        extra: Extra,
    },
    TextDelta {
        choice: u32,
        text: String,
    },
    ReasoningDelta {
        choice: u32,
        text: String,
    },
    /// A piece of a tool call. The first delta of a call carries its `id` and `name`;
    /// later ones append to `arguments`. `index` orders calls within one choice.
    ToolCallDelta {
        choice: u32,
        index: u32,
        id: Option<String>,
        name: Option<String>,
        arguments: String,
    },
    Logprobs {
        choice: u32,
        tokens: Vec<TokenLogprob>,
    },
    Finish {
        choice: u32,
        reason: FinishReason,
    },
    Usage(Usage),
}
