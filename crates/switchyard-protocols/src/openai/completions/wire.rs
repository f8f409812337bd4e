//! Serde types of the legacy Completions wire format (`/v1/completions`).
//!
//! A streamed chunk has the same shape as a complete answer (`object:
//! "text_completion"`), with each choice's `text` a piece of the answer.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use switchyard_types::StopSequences;
use utoipa::ToSchema;

use super::super::wire::{StreamOptions, WireUsage};

/// The prompt in any of its four shapes.
//
// The documented shape of `prompt`; the field itself is read as JSON and checked by hand,
// so that a wrong element is reported by its index.
#[derive(Serialize, ToSchema)]
#[allow(dead_code)]
#[serde(untagged)]
enum PromptSchema {
    Text(String),
    Texts(Vec<String>),
    Tokens(Vec<u32>),
    TokenLists(Vec<Vec<u32>>),
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct CompletionRequest {
    pub model: String,
    #[schema(value_type = PromptSchema)]
    pub prompt: Value,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_tokens: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub temperature: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub top_p: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub n: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stream: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stream_options: Option<StreamOptions>,
    /// Report each token's logprob and this many most likely alternatives.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logprobs: Option<u32>,
    /// Start each answer with its prompt.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub echo: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Vec<String>>)]
    pub stop: Option<StopSequences>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub presence_penalty: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub frequency_penalty: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// `best_of`, `suffix`, `logit_bias` and vendor fields, kept for the upstream.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// A complete answer, or one chunk of a streamed one.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct CompletionResponse {
    pub id: String,
    pub object: String,
    pub created: u64,
    pub model: String,
    pub choices: Vec<CompletionChoice>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub usage: Option<WireUsage>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct CompletionChoice {
    pub index: u32,
    #[serde(default)]
    pub text: String,
    /// Always present on the wire, `null` when not asked for.
    #[serde(default)]
    pub logprobs: Option<CompletionLogprobs>,
    /// Always present on the wire, `null` until the choice ends.
    #[serde(default)]
    pub finish_reason: Option<String>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// Logprobs as parallel arrays, one entry per token.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct CompletionLogprobs {
    #[serde(default)]
    pub tokens: Vec<String>,
    /// `null` for an echoed prompt's first token.
    #[serde(default)]
    pub token_logprobs: Vec<Option<f64>>,
    /// The most likely alternatives at each position, token → logprob.
    #[serde(default)]
    pub top_logprobs: Vec<Option<Map<String, Value>>>,
    /// Where each token starts in the choice's text, in characters.
    #[serde(default)]
    pub text_offset: Vec<u32>,
}
