//! `streamGenerateContent?alt=sse` events → canonical stream frames.
//!
//! Each event is a whole `GenerateContentResponse` holding the next parts of each
//! candidate. Text and thoughts map onto deltas; a function call arrives whole in one
//! part and becomes one tool-call delta, numbered among its candidate's calls. Usage
//! is cumulative and repeated, so the decoder keeps the latest and reports it once,
//! when the body ends ([`EventDecoder::end`]); Gemini sends no end-of-stream event, so
//! a stream is complete only if every candidate reported a finish reason.

use std::collections::HashMap;

use switchyard_types::{ContentBlock, StreamEvent, StreamFrame};

use super::response::{
    ToolCallIds, finish_reason, minted_response_id, part_to_canonical, unix_now, usage_to_canonical,
};
use super::wire::{GenerateContentResponse, Status, UsageMetadata};
use crate::DecodeError;

/// What one `data:` payload meant.
#[derive(Debug, PartialEq)]
pub enum Decoded {
    /// Canonical events (possibly none).
    Frame(StreamFrame),
    /// `{"error": …}`: the upstream failed mid-stream.
    Error(Status),
}

/// The stream ended before every candidate finished.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the stream ended before a finish reason")]
pub struct Truncated;

#[derive(Debug, Default)]
pub struct EventDecoder {
    model: String,
    started: bool,
    usage: Option<UsageMetadata>,
    ids: ToolCallIds,
    /// Per candidate: tool calls so far, and whether it finished.
    candidates: HashMap<u32, CandidateState>,
}

#[derive(Debug, Default)]
struct CandidateState {
    tool_calls: u32,
    finished: bool,
}

impl EventDecoder {
    /// `model` names the answer when Gemini does not.
    pub fn new(model: &str) -> Self {
        EventDecoder {
            model: model.to_owned(),
            ..EventDecoder::default()
        }
    }

    pub fn decode_data(&mut self, data: &[u8]) -> Result<Decoded, DecodeError> {
        #[derive(serde::Deserialize)]
        #[serde(untagged)]
        enum Payload {
            Error { error: Status },
            Response(Box<GenerateContentResponse>),
        }
        match crate::decode::from_json::<Payload>(data)? {
            Payload::Error { error } => Ok(Decoded::Error(error)),
            Payload::Response(response) => Ok(Decoded::Frame(self.decode(*response))),
        }
    }

    pub fn decode(&mut self, response: GenerateContentResponse) -> StreamFrame {
        let mut frame = Vec::new();
        if !self.started {
            self.started = true;
            frame.push(StreamEvent::Start {
                id: response
                    .response_id
                    .clone()
                    .unwrap_or_else(minted_response_id),
                model: response
                    .model_version
                    .clone()
                    .unwrap_or_else(|| self.model.clone()),
                created: unix_now(),
                extra: Default::default(),
            });
        }
        if response.usage_metadata.is_some() {
            self.usage = response.usage_metadata;
        }
        let blocked = response
            .prompt_feedback
            .is_some_and(|feedback| feedback.block_reason.is_some());
        if blocked && response.candidates.is_empty() {
            self.candidates.entry(0).or_default().finished = true;
            frame.push(StreamEvent::Finish {
                choice: 0,
                reason: switchyard_types::FinishReason::ContentFilter,
            });
        }
        for (position, candidate) in response.candidates.into_iter().enumerate() {
            let choice = candidate.index.unwrap_or(position as u32);
            let mut blocks = Vec::new();
            for part in candidate.content.map(|c| c.parts).unwrap_or_default() {
                part_to_canonical(part, &mut self.ids, &mut blocks);
            }
            let state = self.candidates.entry(choice).or_default();
            for block in blocks {
                match block {
                    ContentBlock::Text { text, .. } => {
                        frame.push(StreamEvent::TextDelta { choice, text })
                    }
                    ContentBlock::Reasoning { text, signature } => {
                        if !text.is_empty() {
                            frame.push(StreamEvent::ReasoningDelta { choice, text });
                        }
                        if let Some(signature) = signature {
                            frame.push(StreamEvent::ReasoningSignature { choice, signature });
                        }
                    }
                    ContentBlock::ToolCall {
                        id,
                        name,
                        arguments,
                    } => {
                        frame.push(StreamEvent::ToolCallDelta {
                            choice,
                            index: state.tool_calls,
                            id: Some(id),
                            name: Some(name),
                            arguments,
                        });
                        state.tool_calls += 1;
                    }
                    // Generated media and code parts have no canonical delta.
                    _ => {}
                }
            }
            if let Some(reason) = candidate.finish_reason {
                state.finished = true;
                frame.push(StreamEvent::Finish {
                    choice,
                    reason: finish_reason(&reason, state.tool_calls > 0),
                });
            }
        }
        frame
    }

    /// The body ended: the final usage, or [`Truncated`] if an answer was cut short.
    pub fn end(&mut self) -> Result<StreamFrame, Truncated> {
        let finished = !self.candidates.is_empty() && self.candidates.values().all(|c| c.finished);
        if !finished {
            return Err(Truncated);
        }
        Ok(self
            .usage
            .take()
            .map(|usage| vec![StreamEvent::Usage(usage_to_canonical(&usage))])
            .unwrap_or_default())
    }
}
