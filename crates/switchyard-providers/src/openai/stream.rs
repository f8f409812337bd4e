//! OpenAI's SSE chunks → canonical frames.
//!
//! The stream is complete at `[DONE]`, or when the body ends after a finish reason
//! (some servers leave `[DONE]` out). OpenAI reports a failure after the stream began
//! as an event holding an error body instead of a chunk.

use std::sync::Arc;
use std::time::Duration;

use switchyard_protocols::DecodeError;
use switchyard_protocols::openai::completions::CompletionChunkDecoder;
use switchyard_protocols::openai::{ChunkDecoder, ErrorBody};
use switchyard_types::{ErrorKind, EventStream, ProviderError, StreamEvent, StreamFrame};
use tokio::sync::OwnedSemaphorePermit;

use crate::sse::{EventProtocol, SseReader, Step, open_sse};

struct Chunks {
    decoder: Decoder,
    saw_finish: bool,
}

/// What the chunks are: chat deltas or pieces of a text completion.
pub(super) enum Decoder {
    Chat(ChunkDecoder),
    Completion(CompletionChunkDecoder),
}

impl Decoder {
    pub(super) fn for_request(request: &switchyard_types::ChatRequest) -> Self {
        match request.completion {
            Some(_) => Decoder::Completion(CompletionChunkDecoder::new()),
            None => Decoder::Chat(ChunkDecoder::new()),
        }
    }

    fn decode_data(&mut self, data: &[u8]) -> Result<StreamFrame, DecodeError> {
        match self {
            Decoder::Chat(decoder) => decoder.decode_data(data),
            Decoder::Completion(decoder) => decoder.decode_data(data),
        }
    }
}

impl EventProtocol for Chunks {
    fn step(&mut self, data: &str) -> Result<Step, String> {
        if data == "[DONE]" {
            return Ok(Step::Done);
        }
        match self.decoder.decode_data(data.as_bytes()) {
            Ok(frame) => {
                self.saw_finish |= frame
                    .iter()
                    .any(|event| matches!(event, StreamEvent::Finish { .. }));
                Ok(Step::Frame(frame))
            }
            Err(_) if let Some(error) = ErrorBody::parse_lenient(data.as_bytes()) => {
                Ok(Step::Failed(ErrorKind::Upstream, error.message))
            }
            Err(error) => Err(error.to_string()),
        }
    }

    fn at_end(&mut self) -> Result<StreamFrame, String> {
        if self.saw_finish {
            Ok(Vec::new())
        } else {
            Err("ended the stream before it was complete".to_owned())
        }
    }
}

/// Waits for the first frame, then hands back the whole stream.
pub(super) async fn open_event_stream(
    reader: SseReader,
    decoder: Decoder,
    provider: Arc<str>,
    idle: Duration,
    permit: Option<OwnedSemaphorePermit>,
) -> Result<EventStream, ProviderError> {
    let chunks = Chunks {
        decoder,
        saw_finish: false,
    };
    open_sse(reader, chunks, provider, idle, permit).await
}
