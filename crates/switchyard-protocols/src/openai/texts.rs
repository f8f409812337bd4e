//! Inputs given as text or as token ids, in any of OpenAI's four shapes.

use serde_json::Value;

use crate::DecodeError;

/// Texts, or texts already tokenized by the caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum TextsOrTokens {
    Texts(Vec<String>),
    Tokens(Vec<Vec<u32>>),
}

/// Reads a field that is a string, an array of strings, an array of token ids, or an
/// array of arrays of token ids (embeddings' `input`, completions' `prompt`).
pub(crate) fn texts_or_tokens(value: Value, field: &str) -> Result<TextsOrTokens, DecodeError> {
    const EXPECTED: &str = "must be a string, an array of strings, an array of token ids, or an array of token-id arrays";
    match value {
        Value::String(text) => Ok(TextsOrTokens::Texts(vec![text])),
        Value::Array(items) if items.is_empty() => Ok(TextsOrTokens::Texts(Vec::new())),
        Value::Array(items) => match &items[0] {
            Value::String(_) => items
                .into_iter()
                .enumerate()
                .map(|(index, item)| match item {
                    Value::String(text) => Ok(text),
                    _ => Err(DecodeError::at(
                        format!("{field}[{index}]"),
                        "must be a string",
                    )),
                })
                .collect::<Result<_, _>>()
                .map(TextsOrTokens::Texts),
            Value::Number(_) => {
                token_ids(&items, field).map(|ids| TextsOrTokens::Tokens(vec![ids]))
            }
            Value::Array(_) => items
                .iter()
                .enumerate()
                .map(|(index, item)| match item {
                    Value::Array(ids) => token_ids(ids, &format!("{field}[{index}]")),
                    _ => Err(DecodeError::at(
                        format!("{field}[{index}]"),
                        "must be an array of token ids",
                    )),
                })
                .collect::<Result<_, _>>()
                .map(TextsOrTokens::Tokens),
            _ => Err(DecodeError::at(field, EXPECTED)),
        },
        _ => Err(DecodeError::at(field, EXPECTED)),
    }
}

fn token_ids(items: &[Value], at: &str) -> Result<Vec<u32>, DecodeError> {
    items
        .iter()
        .enumerate()
        .map(|(index, item)| {
            item.as_u64()
                .and_then(|id| u32::try_from(id).ok())
                .ok_or_else(|| {
                    DecodeError::at(format!("{at}[{index}]"), "must be a non-negative token id")
                })
        })
        .collect()
}
