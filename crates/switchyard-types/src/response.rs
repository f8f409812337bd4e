//! A complete (non-streamed) answer, its token usage and why generation stopped.

use serde::{Deserialize, Serialize};

use crate::{Extra, Message};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChatResponse {
    /// The upstream's id for this completion.
    pub id: String,
    /// The model that actually answered, as the upstream names it.
    pub model: String,
    /// Unix seconds.
    pub created: u64,
    pub choices: Vec<Choice>,
    pub usage: Option<Usage>,
    pub extra: Extra,
}

/// One of the `n` alternative answers.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Choice {
    pub index: u32,
    /// Always an assistant message: text, reasoning and tool-call blocks.
    pub message: Message,
    pub finish_reason: Option<FinishReason>,
    pub logprobs: Option<Vec<TokenLogprob>>,
    pub extra: Extra,
}

/// Why the model stopped generating.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FinishReason {
    /// A natural end or a stop sequence.
    Stop,
    /// The output-length limit or the context window was reached.
    Length,
    /// The model asked for one or more tool calls.
    ToolCalls,
    /// Output was withheld by a safety filter.
    ContentFilter,
    /// A vendor-specific reason, kept verbatim.
    Other(String),
}

impl FinishReason {
    /// The reason as OpenAI spells it.
    pub fn as_openai_str(&self) -> &str {
        match self {
            FinishReason::Stop => "stop",
            FinishReason::Length => "length",
            FinishReason::ToolCalls => "tool_calls",
            FinishReason::ContentFilter => "content_filter",
            FinishReason::Other(other) => other,
        }
    }

    pub fn from_openai_str(reason: &str) -> Self {
        match reason {
            // Together's open-weight hosts say `eos` for a natural end.
            "stop" | "eos" => FinishReason::Stop,
            "length" => FinishReason::Length,
            "tool_calls" => FinishReason::ToolCalls,
            "content_filter" => FinishReason::ContentFilter,
            other => FinishReason::Other(other.to_owned()),
        }
    }
}

/// The log-probability of one generated token and its most likely alternatives.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TokenLogprob {
    pub token: String,
    /// `None` only for the first token of an echoed prompt, which nothing before it
    /// predicts.
    pub logprob: Option<f64>,
    pub bytes: Option<Vec<u8>>,
    pub top_logprobs: Vec<TopLogprob>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TopLogprob {
    pub token: String,
    pub logprob: f64,
    pub bytes: Option<Vec<u8>>,
}

/// Token counts for one request. Counts that a protocol splits out (cached prompt
/// tokens, reasoning tokens) are subsets of the totals, as in OpenAI's accounting:
/// `cached_input_tokens <= input_tokens`, `reasoning_tokens <= output_tokens`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Usage {
    pub input_tokens: u64,
    pub output_tokens: u64,
    /// Prompt tokens served from the upstream's prompt cache.
    pub cached_input_tokens: Option<u64>,
    /// Prompt tokens written to the upstream's prompt cache (Anthropic).
    pub cache_creation_input_tokens: Option<u64>,
    /// Output tokens spent on hidden reasoning.
    pub reasoning_tokens: Option<u64>,
    pub extra: Extra,
}

impl Usage {
    pub fn total_tokens(&self) -> u64 {
        self.input_tokens + self.output_tokens
    }
}
