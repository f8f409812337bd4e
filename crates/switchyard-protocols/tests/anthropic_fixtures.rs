//! The Anthropic conversions against the fixtures in `fixtures/anthropic/`, transcribed
//! from Anthropic's API reference and its Python SDK's recorded streams (sources in
//! `fixtures/anthropic/SOURCES.md`).

use std::path::PathBuf;

use serde_json::Value;
use switchyard_protocols::anthropic::{
    Decoded, ErrorBody, EventDecoder, MessagesRequest, decode_response,
};
use switchyard_types::{ContentBlock, FinishReason, StreamEvent};

fn fixture(name: &str) -> Vec<u8> {
    let path: PathBuf = [env!("CARGO_MANIFEST_DIR"), "tests/fixtures/anthropic", name]
        .iter()
        .collect();
    std::fs::read(&path).unwrap_or_else(|error| panic!("{}: {error}", path.display()))
}

/// The `data:` payloads of an SSE transcript.
fn sse_data(name: &str) -> Vec<String> {
    String::from_utf8(fixture(name))
        .expect("UTF-8")
        .split("\n\n")
        .filter_map(|event| {
            event
                .lines()
                .find_map(|line| line.strip_prefix("data: "))
                .map(str::to_owned)
        })
        .collect()
}

#[test]
fn a_full_request_round_trips_through_the_wire_types() {
    let body = fixture("request_full.json");
    let request: MessagesRequest = serde_json::from_slice(&body).expect("parses");
    let original: Value = serde_json::from_slice(&body).expect("JSON");
    let again = serde_json::to_value(&request).expect("serializes");
    assert_eq!(numbers_as_floats(again), numbers_as_floats(original));
}

/// `1` and `1.0` are the same number on the wire.
fn numbers_as_floats(value: Value) -> Value {
    match value {
        Value::Number(number) => number.as_f64().map_or(Value::Null, Value::from),
        Value::Array(items) => items.into_iter().map(numbers_as_floats).collect(),
        Value::Object(fields) => fields
            .into_iter()
            .map(|(key, value)| (key, numbers_as_floats(value)))
            .collect(),
        other => other,
    }
}

#[test]
fn every_documented_answer_decodes_with_its_finish_reason() {
    for (name, finish) in [
        ("response_text.json", FinishReason::Stop),
        ("response_stop_sequence.json", FinishReason::Stop),
        ("response_max_tokens.json", FinishReason::Length),
        ("response_tool_use.json", FinishReason::ToolCalls),
    ] {
        let response =
            decode_response(&fixture(name)).unwrap_or_else(|error| panic!("{name}: {error}"));
        assert_eq!(response.choices[0].finish_reason, Some(finish), "{name}");
        assert!(response.usage.is_some(), "{name}");
    }
}

#[test]
fn every_documented_error_body_reads() {
    for (status, kind) in [
        (400, "invalid_request_error"),
        (401, "authentication_error"),
        (403, "permission_error"),
        (404, "not_found_error"),
        (413, "request_too_large"),
        (429, "rate_limit_error"),
        (500, "api_error"),
        (529, "overloaded_error"),
    ] {
        let body: ErrorBody = serde_json::from_slice(&fixture(&format!("error_{status}.json")))
            .unwrap_or_else(|error| panic!("{status}: {error}"));
        assert_eq!(body.error.kind, kind, "{status}");
        assert!(!body.error.message.is_empty());
    }
}

/// Replaying the recorded stream gives the same answer as the complete response.
#[test]
fn the_streamed_tool_use_answer_adds_up_to_the_complete_one() {
    let mut decoder = EventDecoder::new();
    let (mut reasoning, mut signature, mut text) = (String::new(), String::new(), String::new());
    let mut calls: Vec<(String, String, String)> = Vec::new();
    let (mut finish, mut usage, mut ended) = (None, None, false);
    for data in sse_data("stream_tool_use.sse") {
        match decoder.decode_data(data.as_bytes()).expect("decodes") {
            Decoded::Frame(frame) => {
                for event in frame {
                    match event {
                        StreamEvent::ReasoningDelta { text: piece, .. } => {
                            reasoning.push_str(&piece)
                        }
                        StreamEvent::ReasoningSignature {
                            signature: piece, ..
                        } => signature.push_str(&piece),
                        StreamEvent::TextDelta { text: piece, .. } => text.push_str(&piece),
                        StreamEvent::ToolCallDelta {
                            index,
                            id,
                            name,
                            arguments,
                            ..
                        } => {
                            if index as usize == calls.len() {
                                calls.push((
                                    id.unwrap_or_default(),
                                    name.unwrap_or_default(),
                                    String::new(),
                                ));
                            }
                            calls[index as usize].2.push_str(&arguments);
                        }
                        StreamEvent::Finish { reason, .. } => finish = Some(reason),
                        StreamEvent::Usage(reported) => usage = Some(reported),
                        _ => {}
                    }
                }
            }
            Decoded::End => ended = true,
            Decoded::Error(error) => panic!("{error:?}"),
        }
    }
    assert!(ended);
    let complete = decode_response(&fixture("response_tool_use.json")).expect("decodes");
    let choice = &complete.choices[0];
    assert_eq!(finish, choice.finish_reason);
    assert_eq!(usage, complete.usage);
    let mut want_calls = Vec::new();
    for block in &choice.message.content {
        match block {
            ContentBlock::Reasoning {
                text: want,
                signature: want_signature,
            } => {
                assert_eq!(&reasoning, want);
                assert_eq!(Some(&signature), want_signature.as_ref());
            }
            ContentBlock::Text { text: want, .. } => assert_eq!(&text, want),
            ContentBlock::ToolCall {
                id,
                name,
                arguments,
            } => want_calls.push((id, name, arguments)),
            other => panic!("unexpected block {other:?}"),
        }
    }
    assert_eq!(calls.len(), want_calls.len());
    for ((id, name, arguments), (want_id, want_name, want_arguments)) in
        calls.iter().zip(want_calls)
    {
        assert_eq!((id, name), (want_id, want_name));
        let got: Value = serde_json::from_str(arguments).expect("streamed arguments parse");
        let want: Value = serde_json::from_str(want_arguments).expect("JSON");
        assert_eq!(got, want);
    }
}

#[test]
fn a_stream_that_fails_midway_reports_the_error() {
    let mut decoder = EventDecoder::new();
    let outcomes: Vec<Decoded> = sse_data("stream_error.sse")
        .iter()
        .map(|data| decoder.decode_data(data.as_bytes()).expect("decodes"))
        .collect();
    assert!(matches!(
        outcomes.last(),
        Some(Decoded::Error(error)) if error.kind == "overloaded_error"
    ));
    assert!(
        !outcomes
            .iter()
            .any(|outcome| matches!(outcome, Decoded::End))
    );
}
