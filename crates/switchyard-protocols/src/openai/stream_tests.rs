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

const LOGPROBS_STREAM: &str = include_str!("../../tests/fixtures/openai/stream_logprobs.sse");
const REFUSAL_STREAM: &str = include_str!("../../tests/fixtures/openai/stream_refusal.sse");
const AZURE_STREAM: &str = include_str!("../../tests/fixtures/openai/stream_azure.sse");

/// Decodes a transcript and encodes it again, a frame per chunk.
fn round_trip(transcript: &str) -> Vec<Value> {
    let mut decoder = ChunkDecoder::new();
    let mut encoder = ChunkEncoder::new(true);
    data_lines(transcript)
        .into_iter()
        .map(|data| decoder.decode_data(data.as_bytes()).expect("valid chunk"))
        .filter_map(|frame| encoder.encode(frame))
        .map(|chunk| serde_json::to_value(chunk).expect("serializable"))
        .collect()
}

/// The transcript's chunks as JSON, without the `null`s that stand for "absent" (in a
/// delta, and `usage` before the last chunk): we write absent fields by leaving them out.
fn original_chunks(transcript: &str) -> Vec<Value> {
    data_lines(transcript)
        .into_iter()
        .map(|data| {
            let mut chunk: Value = serde_json::from_str(data).expect("JSON");
            let object = chunk.as_object_mut().expect("chunk object");
            object.retain(|key, value| key != "usage" || !value.is_null());
            for choice in object["choices"].as_array_mut().into_iter().flatten() {
                let delta = choice["delta"].as_object_mut().expect("delta object");
                delta.retain(|_, value| !value.is_null());
            }
            chunk
        })
        .collect()
}

#[test]
fn re_encoding_a_tool_call_transcript_reproduces_it() {
    assert_eq!(round_trip(TOOL_STREAM), original_chunks(TOOL_STREAM));
}

#[test]
fn a_token_and_its_logprobs_stay_in_one_chunk() {
    let encoded = round_trip(LOGPROBS_STREAM);
    assert_eq!(encoded, original_chunks(LOGPROBS_STREAM));
    // The per-chunk padding differs from chunk to chunk and is passed on as it came.
    let padding: Vec<&Value> = encoded.iter().map(|chunk| &chunk["obfuscation"]).collect();
    assert_eq!(padding[..2], [&Value::from("Q3mK"), &Value::from("zL1")]);
}

#[test]
fn a_refusal_and_its_logprobs_survive_a_stream() {
    assert_eq!(round_trip(REFUSAL_STREAM), original_chunks(REFUSAL_STREAM));
    let mut decoder = ChunkDecoder::new();
    let refusal: String = data_lines(REFUSAL_STREAM)
        .into_iter()
        .flat_map(|data| decoder.decode_data(data.as_bytes()).expect("valid chunk"))
        .filter_map(|event| match event {
            StreamEvent::RefusalDelta { text, .. } => Some(text),
            _ => None,
        })
        .collect();
    assert_eq!(refusal, "I'm sorry, I can't help with that.");
}

#[test]
fn azure_filter_results_stay_on_their_chunks() {
    let encoded = round_trip(AZURE_STREAM);
    let mut original = original_chunks(AZURE_STREAM);
    // Azure's anonymous first chunk has no choices; ours announces the role there, as
    // a stream from any other source does (callers index `choices[0]`).
    assert_eq!(
        encoded[0]["choices"],
        serde_json::json!([{"index": 0, "delta": {"role": "assistant", "content": ""},
            "logprobs": null, "finish_reason": null}])
    );
    original[0]["choices"] = encoded[0]["choices"].clone();
    // Then the role comes again with the first real chunk's empty content.
    original[1]["choices"][0]["delta"]
        .as_object_mut()
        .expect("delta")
        .remove("role");
    assert_eq!(encoded, original);
    assert_eq!(encoded[0]["id"], "");
    assert_eq!(encoded[1]["id"], "chatcmpl-AbCdEf123");
    assert!(encoded[1].get("prompt_filter_results").is_none());
}

#[test]
fn a_chunk_without_a_delta_is_accepted() {
    let mut decoder = ChunkDecoder::new();
    let frame = decoder
        .decode_data(
            br#"{"id":"x","object":"chat.completion.chunk","created":1,"model":"m",
                "choices":[{"index":0,"finish_reason":null,
                "content_filter_offsets":{"start_offset":0,"end_offset":5}}]}"#,
        )
        .expect("valid chunk");
    assert!(frame.iter().any(|event| matches!(event,
        StreamEvent::ChoiceExtra { choice_fields, .. } if choice_fields.contains_key("content_filter_offsets"))));
}

#[test]
fn a_stream_from_another_protocol_opens_with_the_role() {
    let mut encoder = ChunkEncoder::new(false);
    let start = StreamEvent::Start {
        id: "msg_1".into(),
        model: "claude".into(),
        created: 7,
        extra: Default::default(),
    };
    let first = encoder.encode(vec![start]).expect("a chunk");
    assert_eq!(first.choices[0].delta.role.as_deref(), Some("assistant"));
    let text = StreamEvent::TextDelta {
        choice: 0,
        text: "Hi".into(),
    };
    let second = encoder.encode(vec![text]).expect("a chunk");
    assert_eq!(second.choices[0].delta.role, None);
    assert_eq!(second.id, "msg_1");
    let usage = StreamEvent::Usage(Default::default());
    assert!(
        encoder.encode(vec![usage]).is_none(),
        "usage was not asked for"
    );
}

#[test]
fn a_complete_answer_replays_as_frames() {
    let body = include_str!("../../tests/fixtures/openai/response_tool_calls.json");
    let answer: super::super::wire::ChatCompletionResponse =
        serde_json::from_str(body).expect("response fixture");
    let mut encoder = ChunkEncoder::new(true);
    let chunks: Vec<_> = frames_from_response(answer.clone())
        .into_iter()
        .filter_map(|frame| encoder.encode(frame))
        .collect();
    let calls = chunks
        .iter()
        .flat_map(|chunk| &chunk.choices)
        .flat_map(|choice| choice.delta.tool_calls.iter().flatten())
        .filter_map(|call| call.function.as_ref()?.arguments.clone())
        .collect::<Vec<_>>();
    let expected = answer.choices[0]
        .message
        .tool_calls
        .iter()
        .flatten()
        .map(|call| call.function.arguments.clone())
        .collect::<Vec<_>>();
    assert_eq!(calls, expected);
    assert!(chunks.last().expect("chunks").usage.is_some());
    assert!(chunks.iter().all(|chunk| chunk.id == answer.id));
}

#[test]
fn usage_reaches_the_caller_only_when_asked_for() {
    let mut decoder = ChunkDecoder::new();
    let mut encoder = ChunkEncoder::new(false);
    let chunks: Vec<_> = data_lines(TOOL_STREAM)
        .into_iter()
        .map(|data| decoder.decode_data(data.as_bytes()).expect("valid chunk"))
        .filter_map(|frame| encoder.encode(frame))
        .collect();
    assert!(chunks.iter().all(|chunk| chunk.usage.is_none()));
    assert_eq!(chunks.len(), data_lines(TOOL_STREAM).len() - 1);
}

#[test]
fn a_chunk_that_does_not_parse_is_an_error() {
    let mut decoder = ChunkDecoder::new();
    assert!(decoder.decode_data(b"{not json").is_err());
}
