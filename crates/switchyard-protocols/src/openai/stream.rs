//! Streamed chunks ⇄ canonical [`StreamEvent`]s.
//!
//! Both directions keep a little state: the decoder emits `Start` once, from the first
//! chunk; the encoder stamps every chunk with the answer's id, model and creation time,
//! and sends each choice's `role` on its first delta, as OpenAI does.

use std::collections::HashSet;

use switchyard_types::{Extra, FinishReason, StreamEvent, Usage};

use super::response::{logprob_from_canonical, logprob_to_canonical, usage_from_canonical};
use super::wire::{
    ChatCompletionChunk, ChoiceLogprobs, ChunkChoice, Delta, FunctionCallDelta, ToolCallDelta,
};
use crate::DecodeError;
use crate::decode::from_json;

/// Turns upstream chunks into canonical events.
#[derive(Debug, Default)]
pub struct ChunkDecoder {
    started: bool,
}

impl ChunkDecoder {
    pub fn new() -> Self {
        ChunkDecoder::default()
    }

    /// Decodes the JSON payload of one `data:` line (not `[DONE]`).
    pub fn decode_data(&mut self, data: &[u8]) -> Result<Vec<StreamEvent>, DecodeError> {
        Ok(self.decode(from_json::<ChatCompletionChunk>(data)?))
    }

    pub fn decode(&mut self, chunk: ChatCompletionChunk) -> Vec<StreamEvent> {
        let mut events = Vec::with_capacity(2);
        if !self.started {
            self.started = true;
            let mut extra = chunk.extra;
            if chunk.object != "chat.completion.chunk" {
                extra.insert("object".to_owned(), serde_json::Value::String(chunk.object));
            }
            events.push(StreamEvent::Start {
                id: chunk.id,
                model: chunk.model,
                created: chunk.created,
                extra,
            });
        }
        for choice in chunk.choices {
            let index = choice.index;
            let delta = choice.delta;
            if let Some(text) = delta.reasoning_content.filter(|text| !text.is_empty()) {
                events.push(StreamEvent::ReasoningDelta {
                    choice: index,
                    text,
                });
            }
            if let Some(text) = delta.content.filter(|text| !text.is_empty()) {
                events.push(StreamEvent::TextDelta {
                    choice: index,
                    text,
                });
            }
            for call in delta.tool_calls.unwrap_or_default() {
                let (name, arguments) = match call.function {
                    Some(function) => (function.name, function.arguments.unwrap_or_default()),
                    None => (None, String::new()),
                };
                events.push(StreamEvent::ToolCallDelta {
                    choice: index,
                    index: call.index,
                    id: call.id,
                    name,
                    arguments,
                });
            }
            if let Some(tokens) = choice.logprobs.and_then(|logprobs| logprobs.content)
                && !tokens.is_empty()
            {
                events.push(StreamEvent::Logprobs {
                    choice: index,
                    tokens: tokens.into_iter().map(logprob_to_canonical).collect(),
                });
            }
            if let Some(reason) = choice.finish_reason {
                events.push(StreamEvent::Finish {
                    choice: index,
                    reason: FinishReason::from_openai_str(&reason),
                });
            }
        }
        if let Some(usage) = chunk.usage {
            events.push(StreamEvent::Usage(super::response::usage_to_canonical(
                usage,
            )));
        }
        events
    }
}

/// Turns canonical events into chunks for a caller speaking this protocol.
#[derive(Debug)]
pub struct ChunkEncoder {
    id: String,
    model: String,
    created: u64,
    extra: Extra,
    include_usage: bool,
    choices_with_role: HashSet<u32>,
}

impl ChunkEncoder {
    /// `include_usage` mirrors the caller's `stream_options.include_usage`: usage is sent
    /// to the caller only if asked for.
    pub fn new(include_usage: bool) -> Self {
        ChunkEncoder {
            id: String::new(),
            model: String::new(),
            created: 0,
            extra: Extra::new(),
            include_usage,
            choices_with_role: HashSet::new(),
        }
    }

    /// The chunk for one event, or `None` when the event has nothing to say to this
    /// caller (usage it did not ask for).
    pub fn encode(&mut self, event: StreamEvent) -> Option<ChatCompletionChunk> {
        match event {
            StreamEvent::Start {
                id,
                model,
                created,
                extra,
            } => {
                self.id = id;
                self.model = model;
                self.created = created;
                self.extra = extra;
                self.choices_with_role.insert(0);
                Some(self.chunk(vec![ChunkChoice {
                    index: 0,
                    delta: Delta {
                        role: Some("assistant".to_owned()),
                        content: Some(String::new()),
                        ..Delta::default()
                    },
                    logprobs: None,
                    finish_reason: None,
                }]))
            }
            StreamEvent::TextDelta { choice, text } => Some(self.delta(
                choice,
                Delta {
                    content: Some(text),
                    ..Delta::default()
                },
            )),
            StreamEvent::ReasoningDelta { choice, text } => Some(self.delta(
                choice,
                Delta {
                    reasoning_content: Some(text),
                    ..Delta::default()
                },
            )),
            StreamEvent::ToolCallDelta {
                choice,
                index,
                id,
                name,
                arguments,
            } => {
                let kind = id.as_ref().map(|_| "function".to_owned());
                Some(self.delta(
                    choice,
                    Delta {
                        tool_calls: Some(vec![ToolCallDelta {
                            index,
                            id,
                            kind,
                            function: Some(FunctionCallDelta {
                                name,
                                arguments: Some(arguments),
                            }),
                        }]),
                        ..Delta::default()
                    },
                ))
            }
            StreamEvent::Logprobs { choice, tokens } => {
                let mut chunk = self.delta(choice, Delta::default());
                chunk.choices[0].logprobs = Some(ChoiceLogprobs {
                    content: Some(tokens.iter().map(logprob_from_canonical).collect()),
                    refusal: None,
                });
                Some(chunk)
            }
            StreamEvent::Finish { choice, reason } => {
                let mut chunk = self.delta(choice, Delta::default());
                chunk.choices[0].finish_reason = Some(reason.as_openai_str().to_owned());
                Some(chunk)
            }
            StreamEvent::Usage(usage) => self.include_usage.then(|| self.usage_chunk(&usage)),
        }
    }

    fn delta(&mut self, choice: u32, mut delta: Delta) -> ChatCompletionChunk {
        if self.choices_with_role.insert(choice) {
            delta.role = Some("assistant".to_owned());
        }
        self.chunk(vec![ChunkChoice {
            index: choice,
            delta,
            logprobs: None,
            finish_reason: None,
        }])
    }

    fn usage_chunk(&self, usage: &Usage) -> ChatCompletionChunk {
        let mut chunk = self.chunk(Vec::new());
        chunk.usage = Some(usage_from_canonical(usage));
        chunk
    }

    fn chunk(&self, choices: Vec<ChunkChoice>) -> ChatCompletionChunk {
        let mut extra = self.extra.clone();
        let object = match extra.remove("object") {
            Some(serde_json::Value::String(object)) => object,
            _ => "chat.completion.chunk".to_owned(),
        };
        ChatCompletionChunk {
            id: self.id.clone(),
            object,
            created: self.created,
            model: self.model.clone(),
            choices,
            usage: None,
            extra,
        }
    }
}

#[cfg(test)]
#[path = "stream_tests.rs"]
mod tests;
