//! ConverseStream events → canonical stream frames.
//!
//! Converse streams content blocks by `contentBlockIndex`: a tool-use block opens with
//! `contentBlockStart` (text and reasoning blocks usually have none), receives
//! `contentBlockDelta`s, and closes with `contentBlockStop`. Text and reasoning map onto
//! canonical deltas directly; a tool-use block becomes a tool call numbered among the
//! answer's tool calls (block 2 may be tool call 0), its input arriving as JSON
//! fragments. `messageStop` carries the stop reason and comes *before* `metadata`, which
//! carries the usage and ends a complete stream. An exception frame ends the stream
//! with an error of the kind its type names.

use std::collections::HashMap;

use serde::de::DeserializeOwned;
use switchyard_types::{ErrorKind, StreamEvent, StreamFrame};

use super::error::exception_kind;
use super::frame::Frame;
use super::response::{finish_reason, unix_now, usage_to_canonical};
use super::wire::{
    ContentBlockDeltaEvent, ContentBlockStartEvent, ContentBlockStopEvent, ErrorBody,
    MessageStopEvent, MetadataEvent,
};
use crate::DecodeError;
use crate::decode::from_json;

/// What one frame meant.
#[derive(Debug, PartialEq)]
pub enum Decoded {
    /// Canonical events (possibly none: a block's end, an event without a canonical form).
    Frame(StreamFrame),
    /// `metadata`: the answer is complete; the frame carries its usage.
    End(StreamFrame),
    /// An exception frame, a generic event-stream error, or a stop reason that says the
    /// model's output was unusable: the stream failed.
    Error(StreamError),
}

/// A failure reported inside a stream whose HTTP status already said 200.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamError {
    pub kind: ErrorKind,
    /// The HTTP status the service model gives this exception.
    pub status: Option<u16>,
    /// The exception type (`throttlingException`) or stop reason.
    pub code: String,
    pub message: String,
}

#[derive(Debug, Default)]
pub struct EventDecoder {
    id: String,
    model: String,
    started: bool,
    /// Content block index → its tool call, for the answer's tool-use blocks.
    tool_blocks: HashMap<u32, ToolBlock>,
}

#[derive(Debug, Clone, Copy)]
struct ToolBlock {
    /// The call's number among the answer's tool calls.
    call: u32,
    /// Whether any input fragment was sent; a call with none gets `{}` at its end.
    has_input: bool,
}

impl EventDecoder {
    /// `id` (the `x-amzn-RequestId`) and `model` name the answer; Converse streams
    /// carry neither.
    pub fn new(id: &str, model: &str) -> Self {
        EventDecoder {
            id: id.to_owned(),
            model: model.to_owned(),
            ..EventDecoder::default()
        }
    }

    /// Decodes any frame of the stream.
    pub fn decode_frame(&mut self, frame: &Frame) -> Result<Decoded, DecodeError> {
        match frame {
            Frame::Event {
                event_type,
                payload,
            } => self.decode_event(event_type, payload),
            Frame::Exception {
                exception_type,
                payload,
            } => Ok(Decoded::Error(decode_exception(exception_type, payload))),
            Frame::Error { code, message } => Ok(Decoded::Error(StreamError {
                kind: ErrorKind::Upstream,
                status: None,
                code: code.clone(),
                message: message.clone(),
            })),
        }
    }

    /// Decodes one event: its `:event-type` and JSON payload. Unknown event types are
    /// ignored, as the service model asks of clients.
    pub fn decode_event(
        &mut self,
        event_type: &str,
        payload: &[u8],
    ) -> Result<Decoded, DecodeError> {
        let mut frame = Vec::new();
        match event_type {
            "messageStart" => self.start(&mut frame),
            "contentBlockStart" => {
                let event: ContentBlockStartEvent = parse(event_type, payload)?;
                self.start(&mut frame);
                if let Some(tool_use) = event.start.tool_use {
                    let call = self.tool_blocks.len() as u32;
                    self.tool_blocks.insert(
                        event.content_block_index,
                        ToolBlock {
                            call,
                            has_input: false,
                        },
                    );
                    frame.push(StreamEvent::ToolCallDelta {
                        choice: 0,
                        index: call,
                        id: Some(tool_use.tool_use_id),
                        name: Some(tool_use.name),
                        arguments: String::new(),
                    });
                }
            }
            "contentBlockDelta" => {
                let event: ContentBlockDeltaEvent = parse(event_type, payload)?;
                self.start(&mut frame);
                self.delta(event, &mut frame)?;
            }
            "contentBlockStop" => {
                let event: ContentBlockStopEvent = parse(event_type, payload)?;
                if let Some(block) = self.tool_blocks.get(&event.content_block_index)
                    && !block.has_input
                {
                    // A call without arguments may stream only an empty fragment.
                    frame.push(StreamEvent::ToolCallDelta {
                        choice: 0,
                        index: block.call,
                        id: None,
                        name: None,
                        arguments: "{}".to_owned(),
                    });
                }
            }
            "messageStop" => {
                let event: MessageStopEvent = parse(event_type, payload)?;
                self.start(&mut frame);
                match finish_reason(&event.stop_reason) {
                    Ok(reason) => frame.push(StreamEvent::Finish { choice: 0, reason }),
                    Err(error) => {
                        return Ok(Decoded::Error(StreamError {
                            kind: ErrorKind::Upstream,
                            status: None,
                            code: event.stop_reason,
                            message: error.message,
                        }));
                    }
                }
            }
            "metadata" => {
                let event: MetadataEvent = parse(event_type, payload)?;
                frame.push(StreamEvent::Usage(usage_to_canonical(&event.usage)));
                return Ok(Decoded::End(frame));
            }
            _ => {}
        }
        Ok(Decoded::Frame(frame))
    }

    /// The answer's `Start`, before its first content.
    fn start(&mut self, frame: &mut StreamFrame) {
        if !self.started {
            self.started = true;
            frame.push(StreamEvent::Start {
                id: self.id.clone(),
                model: self.model.clone(),
                created: unix_now(),
                extra: Default::default(),
            });
        }
    }

    fn delta(
        &mut self,
        event: ContentBlockDeltaEvent,
        frame: &mut StreamFrame,
    ) -> Result<(), DecodeError> {
        let delta = event.delta;
        if let Some(text) = delta.text.filter(|text| !text.is_empty()) {
            frame.push(StreamEvent::TextDelta { choice: 0, text });
        }
        if let Some(reasoning) = delta.reasoning_content {
            if let Some(text) = reasoning.text.filter(|text| !text.is_empty()) {
                frame.push(StreamEvent::ReasoningDelta { choice: 0, text });
            }
            if let Some(signature) = reasoning.signature {
                frame.push(StreamEvent::ReasoningSignature {
                    choice: 0,
                    signature,
                });
            }
            // Redacted reasoning has no canonical stream form; a complete answer keeps it.
        }
        if let Some(tool_use) = delta.tool_use {
            let index = event.content_block_index;
            let block = self.tool_blocks.get_mut(&index).ok_or_else(|| {
                DecodeError::new(format!(
                    "a `toolUse` delta for content block {index}, which no `contentBlockStart` \
                     opened as a tool call"
                ))
            })?;
            if !tool_use.input.is_empty() {
                block.has_input = true;
                frame.push(StreamEvent::ToolCallDelta {
                    choice: 0,
                    index: block.call,
                    id: None,
                    name: None,
                    arguments: tool_use.input,
                });
            }
        }
        Ok(())
    }
}

/// An exception frame's payload (`{"message": …}`) as a stream error.
pub fn decode_exception(exception_type: &str, payload: &[u8]) -> StreamError {
    let body = serde_json::from_slice::<ErrorBody>(payload).unwrap_or_default();
    let (kind, status) = exception_kind(exception_type);
    let mut message = body
        .text()
        .map(str::to_owned)
        .unwrap_or_else(|| String::from_utf8_lossy(payload).into_owned());
    if let Some(original) = body.original_status_code {
        message.push_str(&format!(" (the model answered {original})"));
    }
    StreamError {
        kind,
        status: Some(status),
        code: exception_type.to_owned(),
        message,
    }
}

fn parse<T: DeserializeOwned>(event_type: &str, payload: &[u8]) -> Result<T, DecodeError> {
    from_json(payload)
        .map_err(|error| DecodeError::new(format!("`{event_type}` event: {}", error.message)))
}
