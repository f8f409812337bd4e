//! Embedding requests and responses.

use serde::{Deserialize, Serialize};

use crate::{Extra, Usage};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EmbedRequest {
    pub model: String,
    pub input: EmbedInput,
    /// Truncate each vector to this many dimensions, where the model supports it.
    pub dimensions: Option<u32>,
    pub user: Option<String>,
    pub extra: Extra,
}

/// What to embed: texts, or texts already tokenized by the caller.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum EmbedInput {
    Texts(Vec<String>),
    Tokens(Vec<Vec<u32>>),
}

impl EmbedInput {
    pub fn len(&self) -> usize {
        match self {
            EmbedInput::Texts(texts) => texts.len(),
            EmbedInput::Tokens(tokens) => tokens.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EmbedResponse {
    pub model: String,
    /// One vector per input, in input order.
    pub embeddings: Vec<Vec<f32>>,
    pub usage: Usage,
}
