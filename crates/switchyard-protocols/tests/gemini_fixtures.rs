//! The Gemini conversions against the fixtures in `fixtures/gemini/`: recorded
//! exchanges with the Gemini API from Google's JS SDK, and bodies built from the API's
//! protos (sources in `fixtures/gemini/SOURCES.md`).

use std::path::PathBuf;

use serde_json::Value;
use switchyard_protocols::gemini::{
    Decoded, ErrorBody, EventDecoder, GenerateContentRequest, decode_response,
};
use switchyard_types::{ChatResponse, ContentBlock, FinishReason, StreamEvent};

fn fixture(name: &str) -> Vec<u8> {
    let path: PathBuf = [env!("CARGO_MANIFEST_DIR"), "tests/fixtures/gemini", name]
        .iter()
        .collect();
    std::fs::read(&path).unwrap_or_else(|error| panic!("{}: {error}", path.display()))
}

/// The `data:` payloads of an SSE transcript (Google frames events with CRLF).
fn sse_data(name: &str) -> Vec<String> {
    String::from_utf8(fixture(name))
        .expect("UTF-8")
        .replace("\r\n", "\n")
        .split("\n\n")
        .filter_map(|event| {
            event
                .lines()
                .find_map(|line| line.strip_prefix("data: "))
                .map(str::to_owned)
        })
        .collect()
}

fn decode(name: &str) -> ChatResponse {
    decode_response(&fixture(name), "gemini-fallback").unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn text_of(response: &ChatResponse) -> String {
    response.choices[0]
        .message
        .content
        .iter()
        .filter_map(|block| match block {
            ContentBlock::Text { text, .. } => Some(text.as_str()),
            _ => None,
        })
        .collect()
}

#[test]
fn full_requests_round_trip_through_the_wire_types() {
    for name in ["request_full.json", "request_response_schema.json"] {
        let body = fixture(name);
        let request: GenerateContentRequest = serde_json::from_slice(&body).expect("parses");
        let original: Value = serde_json::from_slice(&body).expect("JSON");
        assert_eq!(
            serde_json::to_value(&request).expect("serializes"),
            original,
            "{name}"
        );
    }
}

#[test]
fn every_documented_answer_decodes_with_its_finish_reason() {
    for (name, finish) in [
        ("response_text.json", FinishReason::Stop),
        ("response_json.json", FinishReason::Stop),
        ("response_thinking.json", FinishReason::Stop),
        ("response_function_call.json", FinishReason::ToolCalls),
        ("response_max_tokens.json", FinishReason::Length),
        ("response_max_tokens_no_parts.json", FinishReason::Length),
        ("response_safety.json", FinishReason::ContentFilter),
        ("response_prompt_blocked.json", FinishReason::ContentFilter),
    ] {
        let response = decode(name);
        assert_eq!(response.choices.len(), 1, "{name}");
        assert_eq!(response.choices[0].finish_reason, Some(finish), "{name}");
        assert!(response.usage.is_some(), "{name} reports usage");
    }
    let blocked = decode("response_prompt_blocked.json");
    assert_eq!(blocked.extra["block_reason"], "SAFETY");
    assert!(blocked.choices[0].message.content.is_empty());
}

#[test]
fn thoughts_count_as_output_and_cached_tokens_as_input() {
    let usage = decode("response_thinking.json").usage.expect("usage");
    // 1046 prompt tokens (1024 of them cached), 27 answer + 148 thought tokens.
    assert_eq!(usage.input_tokens, 1046);
    assert_eq!(usage.cached_input_tokens, Some(1024));
    assert_eq!(Some(usage.output_tokens - 27), usage.reasoning_tokens);
}

#[test]
fn parallel_calls_decode_with_minted_ids_and_the_signature_before_the_first() {
    let response = decode("response_function_call.json");
    let content = &response.choices[0].message.content;
    let ContentBlock::Reasoning {
        text,
        signature: Some(signature),
    } = &content[0]
    else {
        panic!("the signature comes first: {content:?}");
    };
    assert!(text.is_empty() && signature.starts_with("CtQEAdHtim"));
    let calls: Vec<(&str, &str, Value)> = content
        .iter()
        .filter_map(|block| match block {
            ContentBlock::ToolCall {
                id,
                name,
                arguments,
            } => Some((
                id.as_str(),
                name.as_str(),
                serde_json::from_str(arguments).expect("JSON arguments"),
            )),
            _ => None,
        })
        .collect();
    assert_eq!(calls.len(), 2);
    assert_eq!(
        (calls[0].1, &calls[0].2),
        (
            "print",
            &serde_json::json!({"color": "blue", "text": "hello"})
        )
    );
    assert_eq!((calls[1].1, &calls[1].2), ("beep", &serde_json::json!({})));
    assert_ne!(calls[0].0, calls[1].0, "each call gets its own id");
}

#[test]
fn every_documented_error_body_reads() {
    for (name, status) in [
        ("error_400.json", "INVALID_ARGUMENT"),
        ("error_400_api_key_invalid.json", "INVALID_ARGUMENT"),
        ("error_401.json", "UNAUTHENTICATED"),
        ("error_403.json", "PERMISSION_DENIED"),
        ("error_404.json", "NOT_FOUND"),
        ("error_429.json", "RESOURCE_EXHAUSTED"),
        ("error_500.json", "INTERNAL"),
        ("error_503.json", "UNAVAILABLE"),
    ] {
        let body: ErrorBody = serde_json::from_slice(&fixture(name)).expect(name);
        assert_eq!(body.error.status, status, "{name}");
        assert!(!body.error.message.is_empty(), "{name}");
    }
}

/// What a transcript adds up to.
#[derive(Default)]
struct Folded {
    text: String,
    reasoning: String,
    /// (name, arguments)
    calls: Vec<(String, String)>,
    finishes: Vec<FinishReason>,
    usage: Vec<StreamEvent>,
}

/// Decodes a transcript and folds its events.
fn fold(name: &str) -> Folded {
    let mut decoder = EventDecoder::new("gemini-fallback");
    let mut folded = Folded::default();
    let mut events: Vec<StreamEvent> = Vec::new();
    for data in sse_data(name) {
        match decoder.decode_data(data.as_bytes()).expect("decodes") {
            Decoded::Frame(frame) => events.extend(frame),
            Decoded::Error(status) => panic!("{name}: {status:?}"),
        }
    }
    events.extend(
        decoder
            .end()
            .unwrap_or_else(|_| panic!("{name} is complete")),
    );
    for event in events {
        match event {
            StreamEvent::TextDelta { text, .. } => folded.text.push_str(&text),
            StreamEvent::ReasoningDelta { text, .. } => folded.reasoning.push_str(&text),
            StreamEvent::ToolCallDelta {
                name, arguments, ..
            } => folded.calls.push((name.unwrap_or_default(), arguments)),
            StreamEvent::Finish { reason, .. } => folded.finishes.push(reason),
            event @ StreamEvent::Usage(_) => folded.usage.push(event),
            _ => {}
        }
    }
    folded
}

#[test]
fn the_recorded_text_stream_adds_up_to_the_complete_answer() {
    let folded = fold("stream_text.sse");
    let complete = decode("response_text.json");
    assert_eq!(folded.text, text_of(&complete));
    assert!(folded.calls.is_empty());
    assert_eq!(folded.finishes, [FinishReason::Stop]);
    assert_eq!(
        folded.usage,
        [StreamEvent::Usage(complete.usage.expect("usage"))]
    );
}

#[test]
fn streamed_thoughts_and_calls_decode() {
    let thinking = fold("stream_thinking.sse");
    assert!(!thinking.reasoning.is_empty() && !thinking.text.is_empty());
    assert_eq!(thinking.finishes, [FinishReason::Stop]);
    assert!(thinking.calls.is_empty());

    let one = fold("stream_function_call.sse");
    assert_eq!(one.calls.len(), 1);
    assert_eq!(one.calls[0].0, "customDivide");
    assert_eq!(one.finishes, [FinishReason::ToolCalls]);

    let parallel = fold("stream_function_call_parallel.sse");
    assert_eq!(
        parallel.text, "",
        "the closing empty text part adds nothing"
    );
    let names: Vec<&str> = parallel
        .calls
        .iter()
        .map(|(name, _)| name.as_str())
        .collect();
    assert_eq!(names, ["get_weather", "get_weather"]);
    assert_eq!(parallel.finishes, [FinishReason::ToolCalls]);
}

#[test]
fn a_stream_cut_short_is_not_complete() {
    let mut decoder = EventDecoder::new("gemini-fallback");
    for data in sse_data("stream_error.sse") {
        decoder.decode_data(data.as_bytes()).expect("decodes");
    }
    assert!(decoder.end().is_err(), "no finish reason arrived");
}
