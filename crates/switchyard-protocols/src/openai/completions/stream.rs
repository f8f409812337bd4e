//! Streamed `text_completion` chunks ⇄ canonical [`StreamFrame`]s.
//!
//! A chunk is shaped like a complete answer, so a server that ignores `stream: true`
//! and answers at once is decoded as a stream of one chunk.

use switchyard_types::{FinishReason, StreamEvent, StreamFrame, Usage};

use super::super::response::{usage_from_canonical, usage_to_canonical};
use super::super::wire::{stash_object, unstash_object};
use super::response::{TEXT_COMPLETION_OBJECT, logprobs_from_canonical, logprobs_to_canonical};
use super::wire::{CompletionChoice, CompletionResponse};
use crate::DecodeError;
use crate::decode::from_json;

/// Turns upstream chunks into canonical frames.
#[derive(Debug, Default)]
pub struct CompletionChunkDecoder {
    started: bool,
}

impl CompletionChunkDecoder {
    pub fn new() -> Self {
        CompletionChunkDecoder::default()
    }

    /// Decodes the JSON payload of one `data:` line (not `[DONE]`).
    pub fn decode_data(&mut self, data: &[u8]) -> Result<StreamFrame, DecodeError> {
        Ok(self.decode(from_json::<CompletionResponse>(data)?))
    }

    pub fn decode(&mut self, chunk: CompletionResponse) -> StreamFrame {
        let mut frame = Vec::with_capacity(2);
        if !self.started {
            self.started = true;
            let mut extra = chunk.extra;
            stash_object(&mut extra, chunk.object, TEXT_COMPLETION_OBJECT);
            frame.push(StreamEvent::Start {
                id: chunk.id,
                model: chunk.model,
                created: chunk.created,
                extra,
            });
        }
        for choice in chunk.choices {
            let index = choice.index;
            if !choice.text.is_empty() {
                frame.push(StreamEvent::TextDelta {
                    choice: index,
                    text: choice.text,
                });
            }
            if let Some(logprobs) = choice.logprobs {
                frame.push(StreamEvent::Logprobs {
                    choice: index,
                    tokens: logprobs_to_canonical(logprobs),
                });
            }
            if let Some(reason) = choice.finish_reason {
                frame.push(StreamEvent::Finish {
                    choice: index,
                    reason: FinishReason::from_openai_str(&reason),
                });
            }
        }
        if let Some(usage) = chunk.usage {
            frame.push(StreamEvent::Usage(usage_to_canonical(usage)));
        }
        frame
    }
}

/// Turns canonical frames into chunks for a caller speaking this protocol.
#[derive(Debug)]
pub struct CompletionChunkEncoder {
    id: String,
    model: String,
    created: u64,
    extra: serde_json::Map<String, serde_json::Value>,
    include_usage: bool,
    /// Per choice, the character offset in its text where the next logprob token starts.
    offsets: Vec<u32>,
}

impl CompletionChunkEncoder {
    /// `include_usage` mirrors the caller's `stream_options.include_usage`.
    pub fn new(include_usage: bool) -> Self {
        CompletionChunkEncoder {
            id: String::new(),
            model: String::new(),
            created: 0,
            extra: Default::default(),
            include_usage,
            offsets: Vec::new(),
        }
    }

    /// The chunk for one frame, or `None` when it has nothing to say to this caller.
    pub fn encode(&mut self, frame: StreamFrame) -> Option<CompletionResponse> {
        let mut choices: Vec<CompletionChoice> = Vec::new();
        let mut usage: Option<Usage> = None;
        for event in frame {
            match event {
                StreamEvent::Start {
                    id,
                    model,
                    created,
                    extra,
                }
                | StreamEvent::Restamp {
                    id,
                    model,
                    created,
                    extra,
                } => (self.id, self.model, self.created, self.extra) = (id, model, created, extra),
                StreamEvent::TextDelta { choice, text } => {
                    entry(&mut choices, choice).text.push_str(&text)
                }
                StreamEvent::Logprobs { choice, tokens } => {
                    let encoded = logprobs_from_canonical(&tokens, self.offset(choice));
                    let logprobs = entry(&mut choices, choice)
                        .logprobs
                        .get_or_insert_with(Default::default);
                    logprobs.tokens.extend(encoded.tokens);
                    logprobs.token_logprobs.extend(encoded.token_logprobs);
                    logprobs.top_logprobs.extend(encoded.top_logprobs);
                    logprobs.text_offset.extend(encoded.text_offset);
                }
                StreamEvent::Finish { choice, reason } => {
                    entry(&mut choices, choice).finish_reason =
                        Some(reason.as_openai_str().to_owned());
                }
                StreamEvent::Usage(reported) if self.include_usage => usage = Some(reported),
                // Reasoning, refusals and tool calls have no place in a text completion;
                // a text completion never produces them.
                _ => {}
            }
        }
        if choices.is_empty() && usage.is_none() {
            return None;
        }
        let mut extra = self.extra.clone();
        Some(CompletionResponse {
            id: self.id.clone(),
            object: unstash_object(&mut extra, TEXT_COMPLETION_OBJECT),
            created: self.created,
            model: self.model.clone(),
            choices,
            usage: usage.as_ref().map(usage_from_canonical),
            extra,
        })
    }

    fn offset(&mut self, choice: u32) -> &mut u32 {
        let index = choice as usize;
        if self.offsets.len() <= index {
            self.offsets.resize(index + 1, 0);
        }
        &mut self.offsets[index]
    }
}

/// The entry for `index` in this chunk's choices, created on first use.
fn entry(choices: &mut Vec<CompletionChoice>, index: u32) -> &mut CompletionChoice {
    let position = match choices.iter().position(|choice| choice.index == index) {
        Some(position) => position,
        None => {
            choices.push(CompletionChoice {
                index,
                ..CompletionChoice::default()
            });
            choices.len() - 1
        }
    };
    &mut choices[position]
}
