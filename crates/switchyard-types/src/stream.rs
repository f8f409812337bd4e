//! The typed events of a streamed answer.
//!
//! A well-formed stream is `Start`, then any number of deltas for any choice, one
//! `Finish` per choice, and at most one `Usage`, which may come before or after the
//! finishes (OpenAI sends it last, Anthropic first and last).
//!
//! Events travel in [`StreamFrame`]s: the events decoded from one upstream frame (an
//! OpenAI chunk, an Anthropic SSE event, one engine step). An encoder for the same
//! protocol turns one frame back into one frame, so a same-protocol hop keeps the
//! upstream's chunking (a token's text and its logprobs stay in one chunk).

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
    /// The stream's header changed after `Start`; later frames carry these values.
    /// (Azure opens with an anonymous chunk holding only prompt filter results; some
    /// servers put a per-chunk field such as `obfuscation` next to the id.)
    Restamp {
        id: String,
        model: String,
        created: u64,
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
    /// The vendor's signature over the reasoning just streamed (Anthropic's
    /// `signature_delta`), which must accompany that reasoning when it is sent back.
    ReasoningSignature {
        choice: u32,
        signature: String,
    },
    /// Text in which the model declines to answer (OpenAI `refusal`), kept apart from
    /// the answer's content.
    RefusalDelta {
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
    /// Log-probabilities of the content tokens just sent.
    Logprobs {
        choice: u32,
        tokens: Vec<TokenLogprob>,
    },
    /// Log-probabilities of the refusal tokens just sent.
    RefusalLogprobs {
        choice: u32,
        tokens: Vec<TokenLogprob>,
    },
    /// Fields of one choice in this frame that the canonical model does not name
    /// (Azure's `content_filter_results` beside the delta, a vendor's field inside
    /// it). Only an encoder for the protocol they came from puts them back.
    ChoiceExtra {
        choice: u32,
        /// Beside the delta.
        choice_fields: Extra,
        /// Inside the delta.
        delta_fields: Extra,
    },
    Finish {
        choice: u32,
        reason: FinishReason,
    },
    Usage(Usage),
}

/// The events decoded from one upstream frame, in order. Never empty.
pub type StreamFrame = Vec<StreamEvent>;

/// The usage a frame reports, if it carries any.
pub fn usage_in(frame: &[StreamEvent]) -> Option<&Usage> {
    frame.iter().find_map(|event| match event {
        StreamEvent::Usage(usage) => Some(usage),
        _ => None,
    })
}
