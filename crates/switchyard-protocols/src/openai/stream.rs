//! Streamed chunks ⇄ canonical [`StreamFrame`]s, one chunk per frame each way.
//!
//! Both directions keep a little state. The decoder emits `Start` from the first chunk
//! and `Restamp` whenever a later chunk's header (id, model, created time, unnamed
//! top-level fields) differs from the one before. The encoder stamps every chunk with
//! the current header and sends each choice's `role` on its first delta, as OpenAI does.
//! Together they make a same-protocol hop reproduce the upstream's chunks: a token's
//! text and its logprobs stay in one chunk, Azure's filter results stay where they were.

use switchyard_types::{Extra, FinishReason, StreamEvent, StreamFrame, TokenLogprob};

use super::response::{logprob_from_canonical, logprob_to_canonical, usage_from_canonical};
use super::wire::{
    ChatCompletionChunk, ChoiceLogprobs, ChunkChoice, Delta, FunctionCallDelta, ToolCallDelta,
    stash_object, unstash_object,
};
use crate::DecodeError;
use crate::decode::from_json;

const CHUNK_OBJECT: &str = "chat.completion.chunk";

/// The fields every chunk of a stream repeats.
#[derive(Debug, Clone, Default, PartialEq)]
struct Header {
    id: String,
    model: String,
    created: u64,
    /// Unnamed top-level fields; an `object` other than `chat.completion.chunk` is kept
    /// here too, so that it survives the hop.
    extra: Extra,
}

impl Header {
    fn of(chunk: &mut ChatCompletionChunk) -> Header {
        let mut extra = std::mem::take(&mut chunk.extra);
        stash_object(&mut extra, std::mem::take(&mut chunk.object), CHUNK_OBJECT);
        Header {
            id: std::mem::take(&mut chunk.id),
            model: std::mem::take(&mut chunk.model),
            created: chunk.created,
            extra,
        }
    }
}

/// Turns upstream chunks into canonical frames.
#[derive(Debug, Default)]
pub struct ChunkDecoder {
    /// The header of the last chunk; `None` before the first.
    header: Option<Header>,
}

impl ChunkDecoder {
    pub fn new() -> Self {
        ChunkDecoder::default()
    }

    /// Decodes the JSON payload of one `data:` line (not `[DONE]`). The frame is empty
    /// when the chunk says nothing new (a bare role announcement after the first chunk).
    pub fn decode_data(&mut self, data: &[u8]) -> Result<StreamFrame, DecodeError> {
        Ok(self.decode(from_json::<ChatCompletionChunk>(data)?))
    }

    pub fn decode(&mut self, mut chunk: ChatCompletionChunk) -> StreamFrame {
        let mut frame = Vec::with_capacity(2);
        let header = Header::of(&mut chunk);
        match &self.header {
            None => {
                self.header = Some(header.clone());
                frame.push(StreamEvent::Start {
                    id: header.id,
                    model: header.model,
                    created: header.created,
                    extra: header.extra,
                });
            }
            Some(last) if *last != header => {
                self.header = Some(header.clone());
                frame.push(StreamEvent::Restamp {
                    id: header.id,
                    model: header.model,
                    created: header.created,
                    extra: header.extra,
                });
            }
            Some(_) => {}
        }
        for choice in chunk.choices {
            decode_choice(choice, &mut frame);
        }
        if let Some(usage) = chunk.usage {
            frame.push(StreamEvent::Usage(super::response::usage_to_canonical(
                usage,
            )));
        }
        frame
    }
}

/// The events of one choice of a chunk, in the order the encoder writes them back.
fn decode_choice(choice: ChunkChoice, frame: &mut StreamFrame) {
    let index = choice.index;
    let mut delta = choice.delta;
    if let Some(text) =
        super::response::take_reasoning(delta.reasoning_content.take(), &mut delta.extra)
    {
        frame.push(StreamEvent::ReasoningDelta {
            choice: index,
            text,
        });
    }
    // Empty text is kept: OpenAI opens a stream with `"content": ""`.
    if let Some(text) = delta.content {
        frame.push(StreamEvent::TextDelta {
            choice: index,
            text,
        });
    }
    if let Some(text) = delta.refusal {
        frame.push(StreamEvent::RefusalDelta {
            choice: index,
            text,
        });
    }
    for call in delta.tool_calls.unwrap_or_default() {
        let (name, arguments) = match call.function {
            Some(function) => (function.name, function.arguments.unwrap_or_default()),
            None => (None, String::new()),
        };
        frame.push(StreamEvent::ToolCallDelta {
            choice: index,
            index: call.index,
            id: call.id,
            name,
            arguments,
        });
    }
    if let Some(logprobs) = choice.logprobs {
        if let Some(tokens) = logprobs.content {
            frame.push(StreamEvent::Logprobs {
                choice: index,
                tokens: tokens.into_iter().map(logprob_to_canonical).collect(),
            });
        }
        if let Some(tokens) = logprobs.refusal {
            frame.push(StreamEvent::RefusalLogprobs {
                choice: index,
                tokens: tokens.into_iter().map(logprob_to_canonical).collect(),
            });
        }
    }
    if !choice.extra.is_empty() || !delta.extra.is_empty() {
        frame.push(StreamEvent::ChoiceExtra {
            choice: index,
            choice_fields: choice.extra,
            delta_fields: delta.extra,
        });
    }
    if let Some(reason) = choice.finish_reason {
        frame.push(StreamEvent::Finish {
            choice: index,
            reason: FinishReason::from_openai_str(&reason),
        });
    }
}

/// Turns canonical frames into chunks for a caller speaking this protocol.
#[derive(Debug)]
pub struct ChunkEncoder {
    header: Header,
    include_usage: bool,
    /// Choices whose role has been announced; OpenAI sends it on a choice's first delta.
    choices_with_role: Vec<u32>,
}

impl ChunkEncoder {
    /// `include_usage` mirrors the caller's `stream_options.include_usage`: usage is sent
    /// to the caller only if asked for.
    pub fn new(include_usage: bool) -> Self {
        ChunkEncoder {
            header: Header::default(),
            include_usage,
            choices_with_role: Vec::new(),
        }
    }

    /// The chunk for one frame, or `None` when the frame has nothing to say to this
    /// caller (usage it did not ask for).
    pub fn encode(&mut self, frame: StreamFrame) -> Option<ChatCompletionChunk> {
        let mut choices: Vec<ChunkChoice> = Vec::new();
        let mut usage = None;
        let (mut started, mut restamped) = (false, false);
        for event in frame {
            let opening = matches!(event, StreamEvent::Start { .. });
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
                } => {
                    if opening {
                        started = true;
                    } else {
                        restamped = true;
                    }
                    self.header = Header {
                        id,
                        model,
                        created,
                        extra,
                    };
                }
                StreamEvent::TextDelta { choice, text } => {
                    append(&mut self.choice(&mut choices, choice).delta.content, text);
                }
                StreamEvent::ReasoningDelta { choice, text } => {
                    let delta = &mut self.choice(&mut choices, choice).delta;
                    append(&mut delta.reasoning_content, text);
                }
                StreamEvent::RefusalDelta { choice, text } => {
                    append(&mut self.choice(&mut choices, choice).delta.refusal, text);
                }
                StreamEvent::ToolCallDelta {
                    choice,
                    index,
                    id,
                    name,
                    arguments,
                } => {
                    let kind = id.as_ref().map(|_| "function".to_owned());
                    let call = ToolCallDelta {
                        index,
                        id,
                        kind,
                        function: Some(FunctionCallDelta {
                            name,
                            arguments: Some(arguments),
                        }),
                    };
                    let delta = &mut self.choice(&mut choices, choice).delta;
                    delta.tool_calls.get_or_insert_with(Vec::new).push(call);
                }
                StreamEvent::Logprobs { choice, tokens } => {
                    let logprobs = self.logprobs(&mut choices, choice);
                    extend_logprobs(&mut logprobs.content, &tokens);
                }
                StreamEvent::RefusalLogprobs { choice, tokens } => {
                    let logprobs = self.logprobs(&mut choices, choice);
                    extend_logprobs(&mut logprobs.refusal, &tokens);
                }
                StreamEvent::ChoiceExtra {
                    choice,
                    choice_fields,
                    delta_fields,
                } => {
                    let entry = self.choice(&mut choices, choice);
                    entry.extra.extend(choice_fields);
                    entry.delta.extra.extend(delta_fields);
                }
                StreamEvent::Finish { choice, reason } => {
                    self.choice(&mut choices, choice).finish_reason =
                        Some(reason.as_openai_str().to_owned());
                }
                // OpenAI's chunks have no place for a reasoning signature.
                StreamEvent::ReasoningSignature { .. } => {}
                StreamEvent::Usage(reported) => {
                    if self.include_usage {
                        usage = Some(usage_from_canonical(&reported));
                    }
                }
            }
        }
        if choices.is_empty() && usage.is_none() {
            if started {
                // A stream that opens without a delta (Anthropic's `message_start`, the
                // engine) still announces the role first, as OpenAI does: callers that
                // read `choices[0]` of every chunk expect it.
                self.choice(&mut choices, 0).delta.content = Some(String::new());
            } else if !restamped {
                return None;
            }
        }
        Some(self.chunk(choices, usage))
    }

    /// The entry for `index` in this chunk's choices, created (with the role, if not
    /// yet announced) on first use.
    fn choice<'a>(&mut self, choices: &'a mut Vec<ChunkChoice>, index: u32) -> &'a mut ChunkChoice {
        let position = match choices.iter().position(|choice| choice.index == index) {
            Some(position) => position,
            None => {
                let mut delta = Delta::default();
                if !self.choices_with_role.contains(&index) {
                    self.choices_with_role.push(index);
                    delta.role = Some("assistant".to_owned());
                }
                choices.push(ChunkChoice {
                    index,
                    delta,
                    ..ChunkChoice::default()
                });
                choices.len() - 1
            }
        };
        &mut choices[position]
    }

    fn logprobs<'a>(
        &mut self,
        choices: &'a mut Vec<ChunkChoice>,
        index: u32,
    ) -> &'a mut ChoiceLogprobs {
        self.choice(choices, index)
            .logprobs
            .get_or_insert_with(ChoiceLogprobs::default)
    }

    fn chunk(
        &self,
        choices: Vec<ChunkChoice>,
        usage: Option<super::wire::WireUsage>,
    ) -> ChatCompletionChunk {
        let mut extra = self.header.extra.clone();
        let object = unstash_object(&mut extra, CHUNK_OBJECT);
        ChatCompletionChunk {
            id: self.header.id.clone(),
            object,
            created: self.header.created,
            model: self.header.model.clone(),
            choices,
            usage,
            extra,
        }
    }
}

fn append(slot: &mut Option<String>, text: String) {
    match slot {
        Some(existing) => existing.push_str(&text),
        None => *slot = Some(text),
    }
}

fn extend_logprobs(slot: &mut Option<Vec<super::wire::WireTokenLogprob>>, tokens: &[TokenLogprob]) {
    slot.get_or_insert_with(Vec::new)
        .extend(tokens.iter().map(logprob_from_canonical));
}

/// The frames of a complete answer, for an upstream that was asked to stream but sent
/// the whole `chat.completion` at once (some servers ignore `stream: true`).
pub fn frames_from_response(response: super::wire::ChatCompletionResponse) -> Vec<StreamFrame> {
    let mut extra = response.extra;
    stash_object(
        &mut extra,
        response.object,
        super::response::COMPLETION_OBJECT,
    );
    let mut frames = vec![vec![StreamEvent::Start {
        id: response.id,
        model: response.model,
        created: response.created,
        extra,
    }]];
    for choice in response.choices {
        let index = choice.index;
        let message = choice.message;
        let content = match message.content {
            Some(super::wire::MessageContent::Text(text)) => Some(text),
            Some(super::wire::MessageContent::Parts(parts)) => {
                Some(parts.into_iter().filter_map(|part| part.text).collect())
            }
            None => None,
        };
        let tool_calls = message.tool_calls.map(|calls| {
            calls
                .into_iter()
                .enumerate()
                .map(|(position, call)| ToolCallDelta {
                    index: position as u32,
                    id: Some(call.id),
                    kind: Some(call.kind),
                    function: Some(FunctionCallDelta {
                        name: Some(call.function.name),
                        arguments: Some(call.function.arguments),
                    }),
                })
                .collect()
        });
        let chunk_choice = ChunkChoice {
            index,
            delta: Delta {
                role: None,
                content,
                reasoning_content: message.reasoning_content,
                tool_calls,
                refusal: message.refusal,
                extra: message.extra,
            },
            logprobs: choice.logprobs,
            finish_reason: choice.finish_reason,
            extra: choice.extra,
        };
        let mut frame = Vec::new();
        decode_choice(chunk_choice, &mut frame);
        if !frame.is_empty() {
            frames.push(frame);
        }
    }
    if let Some(usage) = response.usage {
        frames.push(vec![StreamEvent::Usage(
            super::response::usage_to_canonical(usage),
        )]);
    }
    frames
}

#[cfg(test)]
#[path = "stream_tests.rs"]
mod tests;
