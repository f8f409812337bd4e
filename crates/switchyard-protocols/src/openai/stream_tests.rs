use pretty_assertions::assert_eq;
use serde_json::Value;
use switchyard_types::{FinishReason, StreamEvent};

use super::*;

const TOOL_STREAM: &str = include_str!("../../tests/fixtures/openai/stream_tool_calls.sse");

fn data_lines(transcript: &str) -> Vec<&str> {
    transcript
        .lines()
        .filter_map(|line| line.strip_prefix("data: "))
        .filter(|data| *data != "[DONE]")
        .collect()
}

fn decode_all(transcript: &str) -> Vec<StreamEvent> {
    let mut decoder = ChunkDecoder::new();
    data_lines(transcript)
        .into_iter()
        .flat_map(|data| decoder.decode_data(data.as_bytes()).expect("valid chunk"))
        .collect()
}

#[test]
fn decodes_streamed_tool_calls_into_exact_arguments() {
    let events = decode_all(TOOL_STREAM);
    assert!(matches!(&events[0], StreamEvent::Start { id, extra, .. }
        if id == "chatcmpl-123" && extra.contains_key("system_fingerprint")));

    let mut arguments = vec![String::new(), String::new()];
    let mut names = [None, None];
    for event in &events {
        if let StreamEvent::ToolCallDelta {
            index,
            name,
            arguments: piece,
            ..
        } = event
        {
            arguments[*index as usize].push_str(piece);
            if name.is_some() {
                names[*index as usize] = name.clone();
            }
        }
    }
    assert_eq!(
        arguments,
        vec![r#"{"location":"Paris"}"#, r#"{"location":"Rome"}"#]
    );
    assert_eq!(names[0].as_deref(), Some("get_current_weather"));

    let finish = events
        .iter()
        .find_map(|event| match event {
            StreamEvent::Finish { reason, .. } => Some(reason.clone()),
            _ => None,
        })
        .expect("a finish event");
    assert_eq!(finish, FinishReason::ToolCalls);
    let usage = events
        .iter()
        .find_map(|event| match event {
            StreamEvent::Usage(usage) => Some(usage.clone()),
            _ => None,
        })
        .expect("a usage event");
    assert_eq!((usage.input_tokens, usage.output_tokens), (82, 30));
    assert_eq!(usage.cached_input_tokens, Some(64));
}

#[test]
fn re_encoding_a_transcript_reproduces_it() {
    let events = decode_all(TOOL_STREAM);
    let mut encoder = ChunkEncoder::new(true);
    let encoded: Vec<Value> = events
        .into_iter()
        .filter_map(|event| encoder.encode(event))
        .map(|chunk| serde_json::to_value(chunk).expect("serializable"))
        .collect();
    // Our first chunk is the role announcement; the fixture folds it into the first
    // tool-call delta. Everything after it must match the upstream chunk for chunk.
    assert_eq!(encoded[0]["choices"][0]["delta"]["role"], "assistant");
    let original: Vec<Value> = data_lines(TOOL_STREAM)
        .into_iter()
        .map(|data| serde_json::from_str(data).expect("JSON"))
        .collect();
    let strip = |mut chunk: Value| {
        for choice in chunk["choices"].as_array_mut().into_iter().flatten() {
            let delta = choice["delta"].as_object_mut().expect("delta object");
            delta.retain(|key, value| key != "role" && !value.is_null());
            choice
                .as_object_mut()
                .expect("choice object")
                .retain(|_, value| !value.is_null());
        }
        chunk
    };
    let encoded: Vec<Value> = encoded.into_iter().skip(1).map(strip).collect();
    let original: Vec<Value> = original.into_iter().map(strip).collect();
    assert_eq!(encoded, original);
}

#[test]
fn usage_reaches_the_caller_only_when_asked_for() {
    let events = decode_all(TOOL_STREAM);
    let mut encoder = ChunkEncoder::new(false);
    let chunks: Vec<_> = events
        .into_iter()
        .filter_map(|event| encoder.encode(event))
        .collect();
    assert!(chunks.iter().all(|chunk| chunk.usage.is_none()));
}

#[test]
fn a_chunk_that_does_not_parse_is_an_error() {
    let mut decoder = ChunkDecoder::new();
    assert!(decoder.decode_data(b"{not json").is_err());
}
