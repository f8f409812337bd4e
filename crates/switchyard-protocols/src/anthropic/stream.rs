//! Messages API stream events → canonical stream frames.
//!
//! Anthropic streams content blocks by index: a block starts, receives deltas, stops.
//! Text and thinking map onto canonical deltas directly; a `tool_use` block becomes a
//! tool call numbered among the answer's tool calls (block 2 may be tool call 0), its
//! input arriving as `input_json_delta` fragments. Usage comes in two halves: the input
//! side in `message_start`, the output side (cumulative) in `message_delta`; the
//! decoder reports it once, complete, with the finish reason.

use std::collections::HashMap;

use switchyard_types::{StreamEvent, StreamFrame};

use super::response::{finish_reason, usage_to_canonical};
use super::wire::{self, Block, Delta, KnownBlock};
use crate::DecodeError;
use crate::decode::from_json;

/// What one `data:` payload meant.
#[derive(Debug, PartialEq)]
pub enum Decoded {
    /// Canonical events (possibly none: a `ping`, a block's end).
    Frame(StreamFrame),
    /// `message_stop`: the answer is complete.
    End,
    /// An `error` event: the upstream failed mid-stream.
    Error(wire::ErrorObject),
}

#[derive(Debug, Default)]
pub struct EventDecoder {
    /// The usage `message_start` reported, completed by `message_delta`.
    usage: wire::Usage,
    /// Block index → tool call index, for the answer's `tool_use` blocks.
    tool_calls: HashMap<u32, u32>,
}

impl EventDecoder {
    pub fn new() -> Self {
        EventDecoder::default()
    }

    pub fn decode_data(&mut self, data: &[u8]) -> Result<Decoded, DecodeError> {
        Ok(self.decode(from_json::<wire::StreamEvent>(data)?))
    }

    pub fn decode(&mut self, event: wire::StreamEvent) -> Decoded {
        let mut frame = Vec::new();
        match event {
            wire::StreamEvent::MessageStart { message } => {
                self.usage = message.usage;
                frame.push(StreamEvent::Start {
                    id: message.id,
                    model: message.model,
                    created: std::time::SystemTime::now()
                        .duration_since(std::time::UNIX_EPOCH)
                        .map_or(0, |since| since.as_secs()),
                    extra: Default::default(),
                });
                // Content already in the start (rare) is streamed like any other.
                for (index, block) in message.content.into_iter().enumerate() {
                    self.start_block(index as u32, block, &mut frame);
                }
            }
            wire::StreamEvent::ContentBlockStart {
                index,
                content_block,
            } => self.start_block(index, content_block, &mut frame),
            wire::StreamEvent::ContentBlockDelta { index, delta } => match delta {
                Delta::TextDelta { text } => frame.push(StreamEvent::TextDelta { choice: 0, text }),
                Delta::ThinkingDelta { thinking } => frame.push(StreamEvent::ReasoningDelta {
                    choice: 0,
                    text: thinking,
                }),
                Delta::SignatureDelta { signature } => {
                    frame.push(StreamEvent::ReasoningSignature {
                        choice: 0,
                        signature,
                    })
                }
                Delta::InputJsonDelta { partial_json } if !partial_json.is_empty() => {
                    if let Some(&call) = self.tool_calls.get(&index) {
                        frame.push(StreamEvent::ToolCallDelta {
                            choice: 0,
                            index: call,
                            id: None,
                            name: None,
                            arguments: partial_json,
                        });
                    }
                }
                // Citations have no canonical form yet; an empty JSON fragment says nothing.
                Delta::InputJsonDelta { .. } | Delta::CitationsDelta { .. } | Delta::Unknown => {}
            },
            wire::StreamEvent::MessageDelta { delta, usage } => {
                merge_usage(&mut self.usage, usage);
                if let Some(reason) = delta.stop_reason.as_deref() {
                    frame.push(StreamEvent::Finish {
                        choice: 0,
                        reason: finish_reason(reason),
                    });
                }
                frame.push(StreamEvent::Usage(usage_to_canonical(&self.usage)));
            }
            wire::StreamEvent::MessageStop => return Decoded::End,
            wire::StreamEvent::Error { error } => return Decoded::Error(error),
            wire::StreamEvent::ContentBlockStop { .. }
            | wire::StreamEvent::Ping
            | wire::StreamEvent::Unknown => {}
        }
        Decoded::Frame(frame)
    }

    fn start_block(&mut self, index: u32, block: Block, frame: &mut StreamFrame) {
        match block {
            Block::Known(KnownBlock::Text { text, .. }) if !text.is_empty() => {
                frame.push(StreamEvent::TextDelta { choice: 0, text });
            }
            Block::Known(KnownBlock::Thinking {
                thinking,
                signature,
            }) => {
                if !thinking.is_empty() {
                    frame.push(StreamEvent::ReasoningDelta {
                        choice: 0,
                        text: thinking,
                    });
                }
                if !signature.is_empty() {
                    frame.push(StreamEvent::ReasoningSignature {
                        choice: 0,
                        signature,
                    });
                }
            }
            Block::Known(KnownBlock::ToolUse {
                id, name, input, ..
            }) => {
                let call = self.tool_calls.len() as u32;
                self.tool_calls.insert(index, call);
                // The input is `{}` at the start, filled by the deltas; a non-empty one
                // (a server that sends it whole) is the complete arguments.
                let complete = input.as_object().is_some_and(|object| !object.is_empty());
                frame.push(StreamEvent::ToolCallDelta {
                    choice: 0,
                    index: call,
                    id: Some(id),
                    name: Some(name),
                    arguments: if complete {
                        input.to_string()
                    } else {
                        String::new()
                    },
                });
            }
            // Empty text, redacted thinking and block kinds without a canonical stream
            // form (server tool results) carry nothing a canonical client can show.
            _ => {}
        }
    }
}

/// `message_delta` usage is cumulative and may repeat or complete the input side.
fn merge_usage(total: &mut wire::Usage, update: wire::Usage) {
    let keep = |slot: &mut Option<u64>, new: Option<u64>| {
        if new.is_some() {
            *slot = new;
        }
    };
    keep(&mut total.input_tokens, update.input_tokens);
    keep(&mut total.output_tokens, update.output_tokens);
    keep(
        &mut total.cache_creation_input_tokens,
        update.cache_creation_input_tokens,
    );
    keep(
        &mut total.cache_read_input_tokens,
        update.cache_read_input_tokens,
    );
    total.extra.extend(update.extra);
}
