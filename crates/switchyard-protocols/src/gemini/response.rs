//! `generateContent` response → canonical response, and the pieces the stream decoder
//! shares with it: finish reasons, usage, parts.

use switchyard_types::{
    ChatResponse, Choice, ContentBlock, Extra, FinishReason, Message, Role, Usage,
};

use super::request::MINTED_ID_PREFIX;
use super::wire::{Candidate, GenerateContentResponse, Part, UsageMetadata};
use crate::DecodeError;
use crate::decode::from_json;

/// Decodes a complete answer's body; `model` names the answer when Gemini does not.
pub fn decode_response(body: &[u8], model: &str) -> Result<ChatResponse, DecodeError> {
    Ok(to_canonical_response(
        from_json::<GenerateContentResponse>(body)?,
        model,
    ))
}

pub fn to_canonical_response(wire: GenerateContentResponse, model: &str) -> ChatResponse {
    let mut extra = wire.extra;
    let mut choices: Vec<Choice> = wire
        .candidates
        .into_iter()
        .enumerate()
        .map(|(position, candidate)| {
            choice(position as u32, candidate, &mut ToolCallIds::default())
        })
        .collect();
    if let Some(block_reason) = wire
        .prompt_feedback
        .as_ref()
        .and_then(|feedback| feedback.block_reason.clone())
    {
        // The prompt itself was blocked: no candidates, only the reason.
        extra.insert("block_reason".into(), block_reason.into());
        if choices.is_empty() {
            choices.push(Choice {
                index: 0,
                message: assistant(Vec::new()),
                finish_reason: Some(FinishReason::ContentFilter),
                logprobs: None,
                extra: Extra::new(),
            });
        }
    }
    ChatResponse {
        id: wire.response_id.unwrap_or_else(minted_response_id),
        model: wire.model_version.unwrap_or_else(|| model.to_owned()),
        created: unix_now(),
        choices,
        usage: wire.usage_metadata.as_ref().map(usage_to_canonical),
        extra,
    }
}

fn choice(position: u32, candidate: Candidate, ids: &mut ToolCallIds) -> Choice {
    let parts = candidate
        .content
        .map(|content| content.parts)
        .unwrap_or_default();
    let mut content = Vec::with_capacity(parts.len());
    for part in parts {
        part_to_canonical(part, ids, &mut content);
    }
    let called = content
        .iter()
        .any(|block| matches!(block, ContentBlock::ToolCall { .. }));
    Choice {
        index: candidate.index.unwrap_or(position),
        finish_reason: candidate
            .finish_reason
            .as_deref()
            .map(|reason| finish_reason(reason, called)),
        message: assistant(content),
        logprobs: None,
        extra: candidate.extra,
    }
}

fn assistant(content: Vec<ContentBlock>) -> Message {
    let content_is_text = content.len() == 1 && matches!(content[0], ContentBlock::Text { .. });
    Message {
        role: Role::Assistant,
        content,
        name: None,
        content_is_text,
        extra: Extra::new(),
    }
}

/// Ids for function calls that came without one (older models never send one).
#[derive(Debug, Default)]
pub(super) struct ToolCallIds {
    minted: u32,
}

impl ToolCallIds {
    pub(super) fn id_for(&mut self, id: Option<String>) -> String {
        id.filter(|id| !id.is_empty()).unwrap_or_else(|| {
            self.minted += 1;
            format!(
                "{MINTED_ID_PREFIX}_{}_{}",
                uuid::Uuid::new_v4().simple(),
                self.minted
            )
        })
    }
}

/// Appends one part's canonical blocks. A signature on a part that is not itself a
/// thought becomes a reasoning block with no text just before it, so it travels back
/// on the same part.
pub(super) fn part_to_canonical(part: Part, ids: &mut ToolCallIds, out: &mut Vec<ContentBlock>) {
    let thought = part.thought == Some(true);
    if let (false, Some(signature)) = (thought, &part.thought_signature) {
        out.push(ContentBlock::Reasoning {
            text: String::new(),
            signature: Some(signature.clone()),
        });
    }
    if let Some(text) = part.text {
        // An empty closing part (Gemini 3 ends streams with one) says nothing.
        if text.is_empty() && part.thought_signature.is_none() {
            return;
        }
        out.push(if thought {
            ContentBlock::Reasoning {
                text,
                signature: part.thought_signature,
            }
        } else {
            ContentBlock::Text {
                text,
                extra: Extra::new(),
            }
        });
    } else if let Some(call) = part.function_call {
        out.push(ContentBlock::ToolCall {
            id: ids.id_for(call.id),
            name: call.name,
            arguments: call
                .args
                .map_or_else(|| "{}".to_owned(), |args| args.to_string()),
        });
    } else if part.inline_data.is_some() || part.file_data.is_some() || !part.extra.is_empty() {
        // Generated images, executable code and the like: kept for a Gemini client.
        let mut part = part;
        part.thought_signature = None;
        if let Ok(value) = serde_json::to_value(part) {
            out.push(ContentBlock::Opaque {
                protocol: super::PROTOCOL.to_owned(),
                value,
            });
        }
    }
}

/// Gemini's `finishReason` as a canonical finish reason; `STOP` after function calls
/// is a tool-call finish, as OpenAI reports it.
pub fn finish_reason(reason: &str, called_tools: bool) -> FinishReason {
    match reason {
        "STOP" if called_tools => FinishReason::ToolCalls,
        "STOP" => FinishReason::Stop,
        "MAX_TOKENS" => FinishReason::Length,
        "SAFETY"
        | "RECITATION"
        | "BLOCKLIST"
        | "PROHIBITED_CONTENT"
        | "SPII"
        | "IMAGE_SAFETY"
        | "IMAGE_PROHIBITED_CONTENT"
        | "IMAGE_RECITATION" => FinishReason::ContentFilter,
        other => FinishReason::Other(other.to_ascii_lowercase()),
    }
}

/// Canonical usage counts thoughts as output (Gemini bills them so) and tool-use
/// prompt tokens as input.
pub fn usage_to_canonical(usage: &UsageMetadata) -> Usage {
    let thoughts = usage.thoughts_token_count.unwrap_or(0);
    Usage {
        input_tokens: usage.prompt_token_count + usage.tool_use_prompt_token_count.unwrap_or(0),
        output_tokens: usage.candidates_token_count + thoughts,
        cached_input_tokens: usage.cached_content_token_count,
        cache_creation_input_tokens: None,
        reasoning_tokens: usage.thoughts_token_count,
        extra: Extra::new(),
    }
}

/// An id for an answer Gemini sent without `responseId`.
pub(super) fn minted_response_id() -> String {
    format!("gemini-{}", uuid::Uuid::new_v4().simple())
}

pub(super) fn unix_now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |since| since.as_secs())
}

/// A `batchEmbedContents` answer. Gemini reports no token counts for embeddings, so
/// usage is left at zero for the caller's accounting to estimate.
pub fn decode_embed_response(
    body: &[u8],
    model: &str,
    inputs: usize,
) -> Result<switchyard_types::EmbedResponse, DecodeError> {
    let wire = from_json::<super::wire::BatchEmbedContentsResponse>(body)?;
    if wire.embeddings.len() != inputs {
        return Err(DecodeError::new(format!(
            "Gemini returned {} embeddings for {inputs} inputs",
            wire.embeddings.len()
        )));
    }
    Ok(switchyard_types::EmbedResponse {
        model: model.to_owned(),
        embeddings: wire.embeddings.into_iter().map(|e| e.values).collect(),
        usage: Usage::default(),
    })
}
