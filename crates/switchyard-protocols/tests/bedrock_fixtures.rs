//! The Converse conversions against the fixtures in `fixtures/bedrock/`: bodies built
//! from the Bedrock Runtime service model and AWS's examples, stream transcripts as JSON
//! and as binary event streams, and error bodies from field reports (sources in
//! `fixtures/bedrock/SOURCES.md`).

use std::path::PathBuf;

use serde_json::Value;
use switchyard_protocols::bedrock::embed::{
    CohereEmbedRequest, TitanEmbedRequest, decode_cohere_response, decode_titan_response,
};
use switchyard_protocols::bedrock::{
    ConverseRequest, Decoded, EventDecoder, Frame, FrameDecoder, StreamError, decode_response,
    exception_kind, read_error,
};
use switchyard_types::{ChatResponse, ContentBlock, ErrorKind, FinishReason, StreamEvent};

const MODEL: &str = "us.anthropic.claude-sonnet-4-20250514-v1:0";

fn fixture(name: &str) -> Vec<u8> {
    let path: PathBuf = [env!("CARGO_MANIFEST_DIR"), "tests/fixtures/bedrock", name]
        .iter()
        .collect();
    std::fs::read(&path).unwrap_or_else(|error| panic!("{}: {error}", path.display()))
}

fn json(name: &str) -> Value {
    serde_json::from_slice(&fixture(name)).unwrap_or_else(|error| panic!("{name}: {error}"))
}

fn decode(name: &str) -> ChatResponse {
    decode_response(&fixture(name), MODEL, "req-fixture").unwrap_or_else(|e| panic!("{name}: {e}"))
}

/// Numbers as `f64`, so `1` and `1.0` compare equal: the wire types hold sampling
/// values as floats.
fn normalized(value: Value) -> Value {
    match value {
        Value::Number(number) => number
            .as_f64()
            .and_then(serde_json::Number::from_f64)
            .map_or(Value::Number(number), Value::Number),
        Value::Array(items) => Value::Array(items.into_iter().map(normalized).collect()),
        Value::Object(map) => {
            Value::Object(map.into_iter().map(|(k, v)| (k, normalized(v))).collect())
        }
        other => other,
    }
}

#[test]
fn request_fixtures_round_trip_through_the_wire_types() {
    for name in [
        "converse_request.json",
        "converse_request_structured.json",
        "converse_request_tool_choice.json",
    ] {
        let original = json(name);
        let request: ConverseRequest =
            serde_json::from_value(original.clone()).unwrap_or_else(|e| panic!("{name}: {e}"));
        let again = serde_json::to_value(&request).expect("serializes");
        assert_eq!(normalized(again), normalized(original), "{name}");
    }
    // The structured request's schema is a string holding JSON.
    let structured: ConverseRequest =
        serde_json::from_value(json("converse_request_structured.json")).expect("parses");
    let format = structured
        .output_config
        .and_then(|config| config.text_format)
        .expect("a text format");
    let schema: Value = serde_json::from_str(&format.structure.json_schema.schema).expect("JSON");
    assert_eq!(schema["required"][0], "title");
}

#[test]
fn every_response_decodes_with_its_finish_reason_and_usage() {
    for (name, finish, input, output) in [
        ("converse_response.json", FinishReason::Stop, 125, 60),
        (
            "converse_response_tool_use.json",
            FinishReason::ToolCalls,
            412 + 1536,
            187,
        ),
        (
            "converse_response_reasoning.json",
            FinishReason::Stop,
            96 + 1536 + 310,
            142,
        ),
        (
            "converse_response_max_tokens.json",
            FinishReason::Length,
            47,
            20,
        ),
        (
            "converse_response_stop_sequence.json",
            FinishReason::Stop,
            58,
            14,
        ),
        (
            "converse_response_guardrail.json",
            FinishReason::ContentFilter,
            27,
            0,
        ),
        (
            "converse_response_content_filtered.json",
            FinishReason::ContentFilter,
            31,
            0,
        ),
    ] {
        let response = decode(name);
        assert_eq!(response.id, "req-fixture", "{name}");
        assert_eq!(response.choices.len(), 1, "{name}");
        assert_eq!(response.choices[0].finish_reason, Some(finish), "{name}");
        let usage = response.usage.expect("usage");
        assert_eq!(
            (usage.input_tokens, usage.output_tokens),
            (input, output),
            "{name}"
        );
    }
}

#[test]
fn cache_counts_and_model_fields_survive() {
    let tool_use = decode("converse_response_tool_use.json")
        .usage
        .expect("usage");
    assert_eq!(tool_use.cached_input_tokens, Some(1536));
    assert_eq!(tool_use.cache_creation_input_tokens, Some(0));
    // `totalTokens` counts cache reads and writes too.
    assert_eq!(tool_use.total_tokens(), 2135);
    let reasoning = decode("converse_response_reasoning.json");
    assert_eq!(
        reasoning.usage.as_ref().map(|u| u.total_tokens()),
        Some(2084)
    );
    assert_eq!(
        reasoning.usage.expect("usage").extra["cacheDetails"][0]["ttl"],
        "5m"
    );
    let stop = decode("converse_response_stop_sequence.json");
    assert_eq!(
        stop.extra["additionalModelResponseFields"]["stop_sequence"],
        "</answer>"
    );
    assert!(
        decode("converse_response_content_filtered.json").choices[0]
            .message
            .content
            .is_empty()
    );
    assert!(
        decode("converse_response_guardrail.json")
            .extra
            .contains_key("trace")
    );
}

#[test]
fn reasoning_keeps_its_signature_and_redacted_reasoning_stays_opaque() {
    let response = decode("converse_response_reasoning.json");
    let content = &response.choices[0].message.content;
    assert!(matches!(
        &content[0],
        ContentBlock::Reasoning { signature: Some(signature), .. } if signature.starts_with("EqQB")
    ));
    assert!(matches!(
        &content[1],
        ContentBlock::Opaque { protocol, value } if protocol == "bedrock" && value["reasoningContent"]["redactedContent"].is_string()
    ));
    assert!(matches!(&content[2], ContentBlock::Text { .. }));
}

#[test]
fn tool_calls_decode_with_their_ids_and_object_arguments() {
    let response = decode("converse_response_tool_use.json");
    let calls: Vec<(&str, &str, Value)> = response.choices[0]
        .message
        .content
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
    assert_eq!(
        calls,
        [
            (
                "tooluse_Wq3kTz9BRfy1mXcLp0aN2g",
                "get_weather",
                serde_json::json!({"location": "Paris, France", "unit": "celsius"})
            ),
            (
                "tooluse_H7dPq2LsQeK4vB9yZc1XoA",
                "get_time",
                serde_json::json!({"timezone": "Europe/Paris"})
            ),
        ]
    );
}

/// What a transcript adds up to.
#[derive(Debug, Default, PartialEq)]
struct Folded {
    text: String,
    reasoning: String,
    signatures: Vec<String>,
    /// (id, name, arguments)
    calls: Vec<(String, String, String)>,
    finishes: Vec<FinishReason>,
    usage: Vec<StreamEvent>,
    error: Option<StreamError>,
    complete: bool,
}

fn fold(frames: impl IntoIterator<Item = Frame>) -> Folded {
    let mut decoder = EventDecoder::new("req-fixture", MODEL);
    let mut folded = Folded::default();
    for frame in frames {
        assert!(
            !folded.complete && folded.error.is_none(),
            "frames after the end"
        );
        let events = match decoder.decode_frame(&frame).expect("decodes") {
            Decoded::Frame(events) => events,
            Decoded::End(events) => {
                folded.complete = true;
                events
            }
            Decoded::Error(error) => {
                folded.error = Some(error);
                Vec::new()
            }
        };
        for event in events {
            match event {
                StreamEvent::TextDelta { text, .. } => folded.text.push_str(&text),
                StreamEvent::ReasoningDelta { text, .. } => folded.reasoning.push_str(&text),
                StreamEvent::ReasoningSignature { signature, .. } => {
                    folded.signatures.push(signature)
                }
                StreamEvent::ToolCallDelta {
                    index,
                    id,
                    name,
                    arguments,
                    ..
                } => {
                    let index = index as usize;
                    if index == folded.calls.len() {
                        folded.calls.push((
                            id.unwrap_or_default(),
                            name.unwrap_or_default(),
                            String::new(),
                        ));
                    }
                    folded.calls[index].2.push_str(&arguments);
                }
                StreamEvent::Finish { reason, .. } => folded.finishes.push(reason),
                event @ StreamEvent::Usage(_) => folded.usage.push(event),
                _ => {}
            }
        }
    }
    folded
}

/// The frames of a `.json` transcript.
fn json_frames(name: &str) -> Vec<Frame> {
    let frames: Vec<Value> = serde_json::from_value(json(name)).expect("a list");
    frames
        .into_iter()
        .map(|frame| {
            let headers = &frame["headers"];
            let payload = bytes::Bytes::from(frame["payload"].to_string());
            match headers[":message-type"].as_str() {
                Some("event") => Frame::Event {
                    event_type: headers[":event-type"].as_str().expect("type").to_owned(),
                    payload,
                },
                _ => Frame::Exception {
                    exception_type: headers[":exception-type"]
                        .as_str()
                        .expect("type")
                        .to_owned(),
                    payload,
                },
            }
        })
        .collect()
}

/// The frames of a `.bin` transcript, through the real decoder, fed in uneven chunks.
fn binary_frames(name: &str) -> Vec<Frame> {
    let bytes = fixture(name);
    let mut decoder = FrameDecoder::new();
    let mut frames = Vec::new();
    for chunk in bytes.chunks(37) {
        decoder.push(chunk);
        while let Some(frame) = decoder.next_frame().expect("valid frames") {
            frames.push(frame);
        }
    }
    decoder.finish().expect("no bytes left over");
    frames
}

fn text_of(response: &ChatResponse) -> String {
    response.choices[0].message.text_content()
}

#[test]
fn the_binary_transcripts_hold_exactly_their_json_twins() {
    for name in [
        "converse_stream_text",
        "converse_stream_tool_use",
        "converse_stream_error",
    ] {
        let binary = binary_frames(&format!("{name}.bin"));
        let json = json_frames(&format!("{name}.json"));
        assert_eq!(binary.len(), json.len(), "{name}");
        for (from_binary, from_json) in binary.iter().zip(&json) {
            let parts = |frame: &Frame| match frame {
                Frame::Event {
                    event_type,
                    payload,
                } => (
                    event_type.clone(),
                    serde_json::from_slice::<Value>(payload).expect("JSON"),
                ),
                Frame::Exception {
                    exception_type,
                    payload,
                } => (
                    exception_type.clone(),
                    serde_json::from_slice::<Value>(payload).expect("JSON"),
                ),
                Frame::Error { .. } => panic!("no generic errors here"),
            };
            assert_eq!(parts(from_binary), parts(from_json), "{name}");
        }
    }
}

#[test]
fn the_text_stream_adds_up_to_the_complete_answer() {
    let folded = fold(binary_frames("converse_stream_text.bin"));
    let complete = decode("converse_response.json");
    assert!(folded.complete && folded.error.is_none());
    assert_eq!(folded.text, text_of(&complete));
    assert_eq!(folded.finishes, [FinishReason::Stop]);
    assert_eq!(
        folded.usage,
        [StreamEvent::Usage(complete.usage.expect("usage"))]
    );
}

#[test]
fn the_tool_use_stream_adds_up_to_the_complete_answer() {
    let folded = fold(binary_frames("converse_stream_tool_use.bin"));
    let complete = decode("converse_response_tool_use.json");
    assert!(folded.complete);
    assert_eq!(folded.text, text_of(&complete));
    let content = &complete.choices[0].message.content;
    let ContentBlock::Reasoning {
        text,
        signature: Some(signature),
    } = &content[0]
    else {
        panic!("reasoning first: {content:?}");
    };
    assert_eq!(&folded.reasoning, text);
    assert_eq!(folded.signatures, std::slice::from_ref(signature));
    let calls: Vec<(String, String, Value)> = content
        .iter()
        .filter_map(|block| match block {
            ContentBlock::ToolCall {
                id,
                name,
                arguments,
            } => Some((
                id.clone(),
                name.clone(),
                serde_json::from_str(arguments).expect("JSON"),
            )),
            _ => None,
        })
        .collect();
    let streamed: Vec<(String, String, Value)> = folded
        .calls
        .iter()
        .map(|(id, name, arguments)| {
            (
                id.clone(),
                name.clone(),
                serde_json::from_str(arguments).expect("joined JSON"),
            )
        })
        .collect();
    assert_eq!(streamed, calls);
    assert_eq!(folded.finishes, [FinishReason::ToolCalls]);
    assert_eq!(
        folded.usage,
        [StreamEvent::Usage(complete.usage.expect("usage"))]
    );
}

#[test]
fn the_error_stream_ends_in_a_classified_exception() {
    let folded = fold(binary_frames("converse_stream_error.bin"));
    assert_eq!(folded.text, "Sure. Paris is currently");
    assert!(!folded.complete && folded.finishes.is_empty());
    let error = folded.error.expect("an exception");
    assert_eq!(error.kind, ErrorKind::Overloaded);
    assert_eq!(error.status, Some(503));
    assert_eq!(error.message, "Bedrock is unable to process your request.");
}

#[test]
fn every_stream_exception_reads_with_a_kind() {
    let frames = json_frames("stream_exception_frames.json");
    let kinds: Vec<(ErrorKind, Option<u16>)> = frames
        .iter()
        .map(|frame| {
            let mut decoder = EventDecoder::new("req", MODEL);
            match decoder.decode_frame(frame).expect("decodes") {
                Decoded::Error(error) => {
                    assert!(!error.message.is_empty());
                    (error.kind, error.status)
                }
                other => panic!("an error: {other:?}"),
            }
        })
        .collect();
    assert_eq!(
        kinds,
        [
            (ErrorKind::RateLimited, Some(429)),
            (ErrorKind::Upstream, Some(424)),
            (ErrorKind::Upstream, Some(500)),
            (ErrorKind::Overloaded, Some(503)),
            (ErrorKind::InvalidRequest, Some(400)),
        ]
    );
    assert_eq!(
        exception_kind("somethingNewException").0,
        ErrorKind::Upstream
    );
}

#[test]
fn every_error_body_reads() {
    for (name, code) in [
        ("error_400_validation.json", "ValidationException"),
        ("error_403_access_denied.json", "AccessDeniedException"),
        ("error_403_access_denied_iam.json", "AccessDeniedException"),
        (
            "error_403_invalid_signature.json",
            "InvalidSignatureException",
        ),
        (
            "error_403_unrecognized_client.json",
            "UnrecognizedClientException",
        ),
        (
            "error_404_resource_not_found.json",
            "ResourceNotFoundException",
        ),
        ("error_408_model_timeout.json", "ModelTimeoutException"),
        ("error_424_model_error.json", "ModelErrorException"),
        ("error_429_model_not_ready.json", "ModelNotReadyException"),
        ("error_429_throttling.json", "ThrottlingException"),
        ("error_500_internal.json", "InternalServerException"),
        (
            "error_503_service_unavailable.json",
            "ServiceUnavailableException",
        ),
    ] {
        let error = json(name);
        let body = error["body"].to_string();
        let detail = read_error(
            error["headers"]["x-amzn-ErrorType"].as_str(),
            body.as_bytes(),
        );
        assert_eq!(detail.code.as_deref(), Some(code), "{name}");
        assert!(detail.message.is_some_and(|m| !m.is_empty()), "{name}");
    }
}

#[test]
fn embeddings_fixtures_round_trip_and_decode() {
    let titan: TitanEmbedRequest =
        serde_json::from_value(json("titan_embed_request.json")).expect("parses");
    assert_eq!(
        serde_json::to_value(&titan).expect("JSON"),
        json("titan_embed_request.json")
    );
    for name in [
        "cohere_embed_request.json",
        "cohere_embed_request_floats.json",
        "cohere_embed_v4_request.json",
    ] {
        let request: CohereEmbedRequest = serde_json::from_value(json(name)).expect(name);
        assert_eq!(
            serde_json::to_value(&request).expect("JSON"),
            json(name),
            "{name}"
        );
    }
    let (vector, tokens) =
        decode_titan_response(&fixture("titan_embed_response.json")).expect("decodes");
    assert_eq!((vector.len(), tokens), (256, 10));
    let norm: f32 = vector.iter().map(|x| x * x).sum::<f32>().sqrt();
    assert!((norm - 1.0).abs() < 1e-3, "normalised: {norm}");
    for (name, inputs, dimensions) in [
        ("cohere_embed_response.json", 2, 1024),
        ("cohere_embed_response_floats.json", 2, 1024),
        ("cohere_embed_v4_response.json", 1, 256),
    ] {
        let vectors = decode_cohere_response(&fixture(name), inputs).expect(name);
        assert_eq!(vectors.len(), inputs, "{name}");
        assert!(vectors.iter().all(|v| v.len() == dimensions), "{name}");
    }
    assert!(decode_cohere_response(&fixture("cohere_embed_response.json"), 3).is_err());
}
