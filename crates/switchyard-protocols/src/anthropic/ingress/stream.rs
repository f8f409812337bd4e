//! Canonical stream frames → Messages API stream events (ingress).
//!
//! Anthropic streams an answer as numbered content blocks, one open at a time: a block
//! starts, takes deltas, stops. Canonical frames are flat deltas, so the encoder opens
//! a block when the kind of content changes (text, thinking, a new tool call) and
//! closes the previous one. The finish reason and usage are held back until the end,
//! where Anthropic puts them: one `message_delta`, then `message_stop`.

use std::collections::HashMap;

use serde_json::Value;
use switchyard_types::{FinishReason, StreamEvent, StreamFrame, Usage};

use super::response::{message_id, stop_reason, usage};
use crate::anthropic::wire::{
    self, Block, Delta, ErrorObject, KnownBlock, MessageDelta, MessagesResponse,
};

/// The block being streamed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum BlockKind {
    Text,
    Thinking,
    /// A tool call, by its canonical index.
    ToolCall(u32),
}

#[derive(Debug)]
pub struct StreamEncoder {
    /// The model named in `message_start` when the upstream's start names none.
    model: String,
    started: bool,
    open: Option<(u32, BlockKind)>,
    next_block: u32,
    /// Canonical tool-call index → block index, for deltas that follow a call's start.
    tool_blocks: HashMap<u32, u32>,
    finish: Option<FinishReason>,
    usage: Option<Usage>,
}

impl StreamEncoder {
    pub fn new(model: impl Into<String>) -> Self {
        StreamEncoder {
            model: model.into(),
            started: false,
            open: None,
            next_block: 0,
            tool_blocks: HashMap::new(),
            finish: None,
            usage: None,
        }
    }

    /// The events for one canonical frame (often none: usage and finish wait for the end).
    pub fn encode(&mut self, frame: StreamFrame) -> Vec<wire::StreamEvent> {
        let mut events = Vec::new();
        for event in frame {
            self.encode_event(event, &mut events);
        }
        events
    }

    /// The events that end a complete answer: the last block's stop, the stop reason
    /// and usage, `message_stop`.
    pub fn finish(&mut self) -> Vec<wire::StreamEvent> {
        let mut events = Vec::new();
        self.ensure_started(None, &mut events);
        self.close_block(&mut events);
        let stop_reason = self
            .finish
            .as_ref()
            .map(|reason| stop_reason(reason, false).to_owned())
            .or_else(|| Some("end_turn".to_owned()));
        events.push(wire::StreamEvent::MessageDelta {
            delta: MessageDelta {
                stop_reason,
                stop_sequence: None,
            },
            usage: self.usage.as_ref().map(usage).unwrap_or_default(),
        });
        events.push(wire::StreamEvent::MessageStop);
        events
    }

    /// The `error` event for a failure after the stream began.
    pub fn error(kind: &str, message: &str) -> wire::StreamEvent {
        wire::StreamEvent::Error {
            error: ErrorObject {
                kind: kind.to_owned(),
                message: message.to_owned(),
            },
        }
    }

    fn encode_event(&mut self, event: StreamEvent, events: &mut Vec<wire::StreamEvent>) {
        match event {
            StreamEvent::Start { id, model, .. } => {
                self.ensure_started(Some((id, model)), events);
            }
            StreamEvent::TextDelta { choice: 0, text }
            | StreamEvent::RefusalDelta { choice: 0, text } => {
                if text.is_empty() {
                    return;
                }
                let index = self.block(BlockKind::Text, empty_text(), events);
                events.push(delta(index, Delta::TextDelta { text }));
            }
            StreamEvent::ReasoningDelta { choice: 0, text } => {
                if text.is_empty() {
                    return;
                }
                let index = self.block(BlockKind::Thinking, empty_thinking(), events);
                events.push(delta(index, Delta::ThinkingDelta { thinking: text }));
            }
            StreamEvent::ReasoningSignature {
                choice: 0,
                signature,
            } => {
                let index = self.block(BlockKind::Thinking, empty_thinking(), events);
                events.push(delta(index, Delta::SignatureDelta { signature }));
            }
            StreamEvent::ToolCallDelta {
                choice: 0,
                index: call,
                id,
                name,
                arguments,
            } => {
                let block = match self.tool_blocks.get(&call) {
                    Some(&block) if id.is_none() => block,
                    _ => self.start_tool_call(call, id, name, events),
                };
                if !arguments.is_empty() {
                    events.push(delta(
                        block,
                        Delta::InputJsonDelta {
                            partial_json: arguments,
                        },
                    ));
                }
            }
            StreamEvent::Finish { choice: 0, reason } => self.finish = Some(reason),
            StreamEvent::Usage(usage) => self.usage = Some(usage),
            // Other choices (Anthropic has one), logprobs and protocol-specific fields
            // have no place in Anthropic's stream.
            _ => {}
        }
    }

    fn ensure_started(
        &mut self,
        named: Option<(String, String)>,
        events: &mut Vec<wire::StreamEvent>,
    ) {
        if self.started {
            return;
        }
        self.started = true;
        let (id, model) = named.unwrap_or_else(|| (String::new(), self.model.clone()));
        let id = if id.is_empty() {
            "msg_switchyard".to_owned()
        } else {
            message_id(&id)
        };
        events.push(wire::StreamEvent::MessageStart {
            message: MessagesResponse {
                id,
                kind: "message".into(),
                role: "assistant".into(),
                content: Vec::new(),
                model: if model.is_empty() {
                    self.model.clone()
                } else {
                    model
                },
                stop_reason: None,
                stop_sequence: None,
                // Known only at the end for most upstreams; `message_delta` completes it.
                usage: wire::Usage {
                    input_tokens: Some(0),
                    output_tokens: Some(0),
                    ..wire::Usage::default()
                },
                extra: Default::default(),
            },
        });
    }

    /// The index of an open block of `kind`, opening one that starts as `empty` (and
    /// closing the previous) when the content changes kind.
    fn block(
        &mut self,
        kind: BlockKind,
        empty: KnownBlock,
        events: &mut Vec<wire::StreamEvent>,
    ) -> u32 {
        self.ensure_started(None, events);
        match self.open {
            Some((index, open)) if open == kind => index,
            _ => self.open_block(kind, Block::Known(empty), events),
        }
    }

    fn start_tool_call(
        &mut self,
        call: u32,
        id: Option<String>,
        name: Option<String>,
        events: &mut Vec<wire::StreamEvent>,
    ) -> u32 {
        self.ensure_started(None, events);
        let content_block = Block::Known(KnownBlock::ToolUse {
            id: id.unwrap_or_else(|| format!("toolu_switchyard_{call}")),
            name: name.unwrap_or_default(),
            input: Value::Object(Default::default()),
            extra: Default::default(),
        });
        let block = self.open_block(BlockKind::ToolCall(call), content_block, events);
        self.tool_blocks.insert(call, block);
        block
    }

    fn open_block(
        &mut self,
        kind: BlockKind,
        content_block: Block,
        events: &mut Vec<wire::StreamEvent>,
    ) -> u32 {
        self.close_block(events);
        let index = self.next_block;
        self.next_block += 1;
        self.open = Some((index, kind));
        events.push(wire::StreamEvent::ContentBlockStart {
            index,
            content_block,
        });
        index
    }

    fn close_block(&mut self, events: &mut Vec<wire::StreamEvent>) {
        if let Some((index, _)) = self.open.take() {
            events.push(wire::StreamEvent::ContentBlockStop { index });
        }
    }
}

fn empty_text() -> KnownBlock {
    KnownBlock::Text {
        text: String::new(),
        extra: Default::default(),
    }
}

fn empty_thinking() -> KnownBlock {
    KnownBlock::Thinking {
        thinking: String::new(),
        signature: String::new(),
    }
}

fn delta(index: u32, delta: Delta) -> wire::StreamEvent {
    wire::StreamEvent::ContentBlockDelta { index, delta }
}

/// The SSE `event:` name of a stream event: its `type`.
pub fn event_name(event: &wire::StreamEvent) -> &'static str {
    match event {
        wire::StreamEvent::MessageStart { .. } => "message_start",
        wire::StreamEvent::ContentBlockStart { .. } => "content_block_start",
        wire::StreamEvent::ContentBlockDelta { .. } => "content_block_delta",
        wire::StreamEvent::ContentBlockStop { .. } => "content_block_stop",
        wire::StreamEvent::MessageDelta { .. } => "message_delta",
        wire::StreamEvent::MessageStop => "message_stop",
        wire::StreamEvent::Ping => "ping",
        wire::StreamEvent::Error { .. } => "error",
        wire::StreamEvent::Unknown => "unknown",
    }
}
