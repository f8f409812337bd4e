//! The Converse conversions on hand-built values; the fixture tests in
//! `tests/bedrock_fixtures.rs` hold them to the service model and AWS's examples.

use pretty_assertions::assert_eq;
use serde_json::{Value, json};
use switchyard_types::{
    ChatRequest, ContentBlock, EmbedInput, EmbedRequest, ErrorKind, FinishReason, ImageSource,
    Message, ResponseFormat, Role, Sampling, StopSequences, StreamEvent, Tool, ToolChoice,
};

use super::embed::{self, EmbedFamily};
use super::*;

fn message(role: Role, content: Vec<ContentBlock>) -> Message {
    Message {
        role,
        content,
        name: None,
        content_is_text: false,
        extra: Default::default(),
    }
}

fn call(id: &str, city: &str) -> ContentBlock {
    ContentBlock::ToolCall {
        id: id.into(),
        name: "get_weather".into(),
        arguments: format!(r#"{{"city":"{city}"}}"#),
    }
}

fn result(id: &str, text: &str, is_error: bool) -> Message {
    message(
        Role::Tool,
        vec![ContentBlock::ToolResult {
            tool_call_id: id.into(),
            content: vec![ContentBlock::text(text)],
            is_error,
        }],
    )
}

fn weather_tool() -> Tool {
    Tool {
        name: "get_weather".into(),
        description: Some("Weather".into()),
        parameters: Some(json!({"type": "object"})),
        strict: None,
        extra: Default::default(),
    }
}

const CLAUDE: &str = "us.anthropic.claude-sonnet-4-20250514-v1:0";

fn encode(request: &ChatRequest, model: &str) -> Value {
    let wire = from_canonical_request(request, model, EncodeOptions::default()).expect("encodes");
    serde_json::to_value(wire).expect("serializes")
}

fn ask(text: &str) -> ChatRequest {
    ChatRequest {
        messages: vec![Message::text(Role::User, text)],
        ..ChatRequest::default()
    }
}

#[test]
fn a_tool_round_trip_alternates_turns_with_results_in_one_user_turn() {
    let request = ChatRequest {
        messages: vec![
            Message::text(Role::System, "Be brief."),
            Message::text(Role::User, "Weather in Paris and Rome?"),
            message(
                Role::Assistant,
                vec![
                    ContentBlock::Reasoning {
                        text: "Two calls.".into(),
                        signature: Some("sig-1".into()),
                    },
                    ContentBlock::Reasoning {
                        text: "Unsigned, from elsewhere.".into(),
                        signature: None,
                    },
                    call("call_a", "Paris"),
                    call("call_b", "Rome"),
                ],
            ),
            result("call_a", "18°C", false),
            result("call_b", "timed out", true),
            Message::text(Role::User, "And tomorrow?"),
        ],
        tools: vec![weather_tool()],
        ..ChatRequest::default()
    };
    let wire = encode(&request, CLAUDE);
    assert_eq!(wire["system"], json!([{"text": "Be brief."}]));
    assert_eq!(
        wire["messages"],
        json!([
            {"role": "user", "content": [{"text": "Weather in Paris and Rome?"}]},
            {"role": "assistant", "content": [
                {"reasoningContent": {"reasoningText": {"text": "Two calls.", "signature": "sig-1"}}},
                {"toolUse": {"toolUseId": "call_a", "name": "get_weather", "input": {"city": "Paris"}}},
                {"toolUse": {"toolUseId": "call_b", "name": "get_weather", "input": {"city": "Rome"}}}
            ]},
            {"role": "user", "content": [
                {"toolResult": {"toolUseId": "call_a", "content": [{"text": "18°C"}]}},
                {"toolResult": {"toolUseId": "call_b", "content": [{"text": "timed out"}], "status": "error"}},
                {"text": "And tomorrow?"}
            ]}
        ])
    );
    assert_eq!(
        wire["toolConfig"],
        json!({"tools": [{"toolSpec": {"name": "get_weather", "description": "Weather",
                                       "inputSchema": {"json": {"type": "object"}}}}]})
    );
    assert!(wire.get("inferenceConfig").is_none());
}

#[test]
fn images_go_as_base64_bytes_with_their_format_or_from_s3() {
    let image = |source| ContentBlock::Image {
        source,
        detail: None,
        extra: Default::default(),
    };
    let request = ChatRequest {
        messages: vec![message(
            Role::User,
            vec![
                image(ImageSource::Base64 {
                    media_type: "image/jpeg".into(),
                    data: "AAAA".into(),
                }),
                image(ImageSource::Url {
                    url: "s3://bucket/cat.PNG".into(),
                }),
            ],
        )],
        ..ChatRequest::default()
    };
    let wire = encode(&request, CLAUDE);
    assert_eq!(
        wire["messages"][0]["content"],
        json!([
            {"image": {"format": "jpeg", "source": {"bytes": "AAAA"}}},
            {"image": {"format": "png", "source": {"s3Location": {"uri": "s3://bucket/cat.PNG"}}}}
        ])
    );
    let web = ChatRequest {
        messages: vec![message(
            Role::User,
            vec![image(ImageSource::Url {
                url: "https://example.com/cat.png".into(),
            })],
        )],
        ..ChatRequest::default()
    };
    let error = from_canonical_request(&web, CLAUDE, EncodeOptions::default())
        .expect_err("Bedrock fetches no URLs");
    assert_eq!(error.param.as_deref(), Some("messages[0].content[0]"));
    let tiff = ChatRequest {
        messages: vec![message(
            Role::User,
            vec![image(ImageSource::Base64 {
                media_type: "image/tiff".into(),
                data: "AAAA".into(),
            })],
        )],
        ..ChatRequest::default()
    };
    assert!(from_canonical_request(&tiff, CLAUDE, EncodeOptions::default()).is_err());
}

#[test]
fn tool_choices_map_onto_auto_any_and_tool() {
    let cases = [
        (ToolChoice::Auto, Some(json!({"auto": {}}))),
        (ToolChoice::Required, Some(json!({"any": {}}))),
        (
            ToolChoice::Function {
                name: "get_weather".into(),
            },
            Some(json!({"tool": {"name": "get_weather"}})),
        ),
        (
            ToolChoice::Allowed {
                names: vec!["get_weather".into()],
                required: true,
            },
            Some(json!({"any": {}})),
        ),
    ];
    for (choice, expected) in cases {
        let request = ChatRequest {
            tools: vec![weather_tool()],
            tool_choice: Some(choice),
            ..ask("hi")
        };
        let wire = encode(&request, CLAUDE);
        assert_eq!(wire["toolConfig"].get("toolChoice").cloned(), expected);
    }
    // `none` leaves the tools out, unless the conversation holds tool blocks.
    let none = ChatRequest {
        tools: vec![weather_tool()],
        tool_choice: Some(ToolChoice::None),
        ..ask("hi")
    };
    assert!(encode(&none, CLAUDE).get("toolConfig").is_none());
    let mut with_history = none.clone();
    with_history
        .messages
        .push(message(Role::Assistant, vec![call("call_a", "Oslo")]));
    with_history.messages.push(result("call_a", "3°C", false));
    let error = from_canonical_request(&with_history, CLAUDE, EncodeOptions::default())
        .expect_err("cannot forbid calls here");
    assert_eq!(error.param.as_deref(), Some("tool_choice"));
}

#[test]
fn sampling_goes_to_inference_config_and_top_k_to_the_model_fields() {
    let mut request = ChatRequest {
        sampling: Sampling {
            temperature: Some(0.5),
            top_p: Some(0.9),
            max_tokens: Some(100),
            stop: Some(StopSequences::One("END".into())),
            ..Sampling::default()
        },
        ..ask("hi")
    };
    request.extra.insert("top_k".into(), json!(40));
    request.reasoning = Some(switchyard_types::Reasoning::effort("low"));
    request.extra.insert(
        "guardrailConfig".into(),
        json!({"guardrailIdentifier": "gr-1", "guardrailVersion": "1"}),
    );
    request.metadata = Some(
        json!({"tenant": "acme", "count": 3})
            .as_object()
            .cloned()
            .expect("an object"),
    );
    let wire = encode(&request, CLAUDE);
    assert_eq!(
        wire["inferenceConfig"],
        json!({"maxTokens": 100, "temperature": 0.5, "topP": 0.9, "stopSequences": ["END"]})
    );
    assert_eq!(
        wire["additionalModelRequestFields"],
        json!({"top_k": 40, "thinking": {"type": "enabled", "budget_tokens": 1024}})
    );
    assert_eq!(wire["guardrailConfig"]["guardrailIdentifier"], "gr-1");
    assert_eq!(wire["requestMetadata"], json!({"tenant": "acme"}));
    assert!(wire.get("top_k").is_none() && wire.get("reasoning_effort").is_none());
}

#[test]
fn a_json_schema_travels_as_a_string_in_output_config() {
    let schema = json!({"type": "object", "properties": {"city": {"type": "string"}}});
    let request = ChatRequest {
        response_format: Some(ResponseFormat::JsonSchema {
            name: "place".into(),
            description: Some("A place".into()),
            schema: Some(schema.clone()),
            strict: Some(true),
        }),
        ..ask("hi")
    };
    let wire = encode(&request, CLAUDE);
    let format = &wire["outputConfig"]["textFormat"];
    assert_eq!(format["type"], "json_schema");
    let definition = &format["structure"]["jsonSchema"];
    assert_eq!(
        (
            definition["name"].clone(),
            definition["description"].clone()
        ),
        (json!("place"), json!("A place"))
    );
    let text = definition["schema"].as_str().expect("a string");
    assert_eq!(serde_json::from_str::<Value>(text).expect("JSON"), schema);
}

#[test]
fn parameters_without_an_equivalent_are_refused_by_name_unless_dropping_is_allowed() {
    let refused = |request: &ChatRequest, model: &str| {
        from_canonical_request(request, model, EncodeOptions::default())
            .expect_err("refused")
            .param
    };
    let mut request = ask("hi");
    request.sampling.seed = Some(7);
    assert_eq!(refused(&request, CLAUDE).as_deref(), Some("seed"));
    request.sampling.seed = None;
    request.sampling.n = Some(2);
    assert_eq!(refused(&request, CLAUDE).as_deref(), Some("n"));
    request.sampling.n = None;
    request.sampling.presence_penalty = Some(0.5);
    assert_eq!(
        refused(&request, CLAUDE).as_deref(),
        Some("presence_penalty")
    );
    request.sampling.presence_penalty = None;
    request.extra.insert("logit_bias".into(), json!({"1": 2}));
    assert_eq!(refused(&request, CLAUDE).as_deref(), Some("logit_bias"));
    let dropped = from_canonical_request(
        &request,
        CLAUDE,
        EncodeOptions {
            drop_unsupported: true,
        },
    )
    .expect("dropped");
    assert!(!dropped.extra.contains_key("logit_bias"));
    request.extra.clear();
    request.reasoning = Some(switchyard_types::Reasoning::effort("high"));
    assert_eq!(
        refused(&request, "meta.llama3-1-70b-instruct-v1:0").as_deref(),
        Some("reasoning_effort")
    );
    request.reasoning = None;
    request.response_format = Some(ResponseFormat::JsonObject);
    assert_eq!(
        refused(&request, CLAUDE).as_deref(),
        Some("response_format")
    );
}

#[test]
fn cache_control_becomes_a_cache_point_after_its_block() {
    let mut system = Message::text(Role::System, "Long instructions.");
    if let ContentBlock::Text { extra, .. } = &mut system.content[0] {
        extra.insert(
            "cache_control".into(),
            json!({"type": "ephemeral", "ttl": "1h"}),
        );
    }
    let request = ChatRequest {
        messages: vec![system, Message::text(Role::User, "hi")],
        ..ChatRequest::default()
    };
    let wire = encode(&request, CLAUDE);
    assert_eq!(
        wire["system"],
        json!([{"text": "Long instructions."}, {"cachePoint": {"type": "default", "ttl": "1h"}}])
    );
}

#[test]
fn stop_reasons_map_to_canonical_ones() {
    for (reason, expected) in [
        ("end_turn", Some(FinishReason::Stop)),
        ("stop_sequence", Some(FinishReason::Stop)),
        ("max_tokens", Some(FinishReason::Length)),
        ("model_context_window_exceeded", Some(FinishReason::Length)),
        ("tool_use", Some(FinishReason::ToolCalls)),
        ("guardrail_intervened", Some(FinishReason::ContentFilter)),
        ("content_filtered", Some(FinishReason::ContentFilter)),
        ("malformed_model_output", None),
        ("malformed_tool_use", None),
        ("a_reason_from_next_year", Some(FinishReason::Stop)),
    ] {
        assert_eq!(response::finish_reason(reason).ok(), expected, "{reason}");
    }
}

#[test]
fn cache_reads_and_writes_count_as_input() {
    let usage = response::usage_to_canonical(&wire::TokenUsage {
        input_tokens: 10,
        output_tokens: 5,
        total_tokens: 115,
        cache_read_input_tokens: Some(80),
        cache_write_input_tokens: Some(20),
        extra: Default::default(),
    });
    assert_eq!(usage.input_tokens, 110);
    assert_eq!(usage.cached_input_tokens, Some(80));
    assert_eq!(usage.cache_creation_input_tokens, Some(20));
    assert_eq!(usage.total_tokens(), 115);
}

fn events(decoder: &mut EventDecoder, events: &[(&str, Value)]) -> Vec<Decoded> {
    events
        .iter()
        .map(|(kind, payload)| {
            decoder
                .decode_event(kind, payload.to_string().as_bytes())
                .expect("decodes")
        })
        .collect()
}

#[test]
fn tool_blocks_are_numbered_among_calls_and_an_empty_input_is_an_empty_object() {
    let mut decoder = EventDecoder::new("req-1", CLAUDE);
    let decoded = events(
        &mut decoder,
        &[
            ("messageStart", json!({"role": "assistant", "p": "abc"})),
            (
                "contentBlockDelta",
                json!({"contentBlockIndex": 0, "delta": {"text": "Let me check."}}),
            ),
            ("contentBlockStop", json!({"contentBlockIndex": 0})),
            (
                "contentBlockStart",
                json!({"contentBlockIndex": 1, "start": {"toolUse": {"toolUseId": "t1", "name": "now"}}}),
            ),
            (
                "contentBlockDelta",
                json!({"contentBlockIndex": 1, "delta": {"toolUse": {"input": ""}}}),
            ),
            ("contentBlockStop", json!({"contentBlockIndex": 1})),
            ("messageStop", json!({"stopReason": "tool_use"})),
            (
                "metadata",
                json!({"usage": {"inputTokens": 3, "outputTokens": 4, "totalTokens": 7}, "metrics": {"latencyMs": 100.0}}),
            ),
        ],
    );
    assert!(
        matches!(&decoded[0], Decoded::Frame(frame) if matches!(frame[0], StreamEvent::Start { ref id, .. } if id == "req-1"))
    );
    assert_eq!(
        decoded[3],
        Decoded::Frame(vec![StreamEvent::ToolCallDelta {
            choice: 0,
            index: 0,
            id: Some("t1".into()),
            name: Some("now".into()),
            arguments: String::new(),
        }])
    );
    assert_eq!(decoded[4], Decoded::Frame(Vec::new()));
    assert_eq!(
        decoded[5],
        Decoded::Frame(vec![StreamEvent::ToolCallDelta {
            choice: 0,
            index: 0,
            id: None,
            name: None,
            arguments: "{}".into(),
        }])
    );
    assert_eq!(
        decoded[6],
        Decoded::Frame(vec![StreamEvent::Finish {
            choice: 0,
            reason: FinishReason::ToolCalls
        }])
    );
    let Decoded::End(end) = &decoded[7] else {
        panic!("metadata ends the stream: {:?}", decoded[7]);
    };
    assert!(matches!(&end[..], [StreamEvent::Usage(usage)] if usage.input_tokens == 3));
}

#[test]
fn a_stream_without_message_start_still_starts_and_a_stray_tool_delta_is_refused() {
    let mut decoder = EventDecoder::new("req-2", CLAUDE);
    let decoded = events(
        &mut decoder,
        &[(
            "contentBlockDelta",
            json!({"contentBlockIndex": 0, "delta": {"reasoningContent": {"text": "Hmm"}}}),
        )],
    );
    let Decoded::Frame(frame) = &decoded[0] else {
        panic!("a frame");
    };
    assert!(matches!(frame[0], StreamEvent::Start { .. }));
    assert_eq!(
        frame[1],
        StreamEvent::ReasoningDelta {
            choice: 0,
            text: "Hmm".into()
        }
    );
    let error = decoder
        .decode_event(
            "contentBlockDelta",
            br#"{"contentBlockIndex":4,"delta":{"toolUse":{"input":"{}"}}}"#,
        )
        .expect_err("no such tool block");
    assert!(error.message.contains("block 4"), "{}", error.message);
    assert_eq!(
        decoder
            .decode_event("somethingNew", b"{}")
            .expect("ignored"),
        Decoded::Frame(Vec::new())
    );
}

#[test]
fn exceptions_and_malformed_output_end_the_stream_with_a_kind() {
    let mut decoder = EventDecoder::new("req-3", CLAUDE);
    let frame = Frame::Exception {
        exception_type: "throttlingException".into(),
        payload: bytes::Bytes::from_static(br#"{"message":"Too many tokens"}"#),
    };
    let Decoded::Error(error) = decoder.decode_frame(&frame).expect("decodes") else {
        panic!("an error");
    };
    assert_eq!(
        (error.kind, error.status, error.message.as_str()),
        (ErrorKind::RateLimited, Some(429), "Too many tokens")
    );
    let decoded = decoder
        .decode_event("messageStop", br#"{"stopReason":"malformed_tool_use"}"#)
        .expect("decodes");
    assert!(
        matches!(decoded, Decoded::Error(StreamError { kind: ErrorKind::Upstream, ref code, .. }) if code == "malformed_tool_use")
    );
}

fn embed_request(texts: &[&str], dimensions: Option<u32>) -> EmbedRequest {
    EmbedRequest {
        model: "embed".into(),
        input: EmbedInput::Texts(texts.iter().map(|text| text.to_string()).collect()),
        dimensions,
        user: None,
        extra: Default::default(),
    }
}

#[test]
fn embedding_families_are_told_by_the_model_prefix() {
    assert_eq!(
        EmbedFamily::of("amazon.titan-embed-text-v2:0"),
        Some(EmbedFamily::Titan)
    );
    assert_eq!(
        EmbedFamily::of("cohere.embed-english-v3"),
        Some(EmbedFamily::Cohere)
    );
    assert_eq!(
        EmbedFamily::of("us.cohere.embed-v4:0"),
        Some(EmbedFamily::Cohere)
    );
    assert_eq!(EmbedFamily::of(CLAUDE), None);
    assert_eq!(
        model_family("us-gov.anthropic.claude-x"),
        "anthropic.claude-x"
    );
}

#[test]
fn titan_takes_one_text_per_call_and_cohere_up_to_96() {
    let titan = embed::titan_requests(
        &embed_request(&["a", "b"], Some(256)),
        "amazon.titan-embed-text-v2:0",
    )
    .expect("encodes");
    assert_eq!(
        serde_json::to_value(&titan).expect("JSON"),
        json!([{"inputText": "a", "dimensions": 256}, {"inputText": "b", "dimensions": 256}])
    );
    assert!(
        embed::titan_requests(
            &embed_request(&["a"], Some(256)),
            "amazon.titan-embed-text-v1"
        )
        .is_err()
    );
    let many: Vec<String> = (0..100).map(|i| i.to_string()).collect();
    let many: Vec<&str> = many.iter().map(String::as_str).collect();
    let cohere = embed::cohere_requests(&embed_request(&many, None), "cohere.embed-english-v3")
        .expect("encodes");
    assert_eq!(
        cohere.iter().map(|r| r.texts.len()).collect::<Vec<_>>(),
        [96, 4]
    );
    assert_eq!(cohere[0].input_type, "search_document");
    let error =
        embed::cohere_requests(&embed_request(&["a"], Some(256)), "cohere.embed-english-v3")
            .expect_err("v3 has a fixed size");
    assert_eq!(error.param.as_deref(), Some("dimensions"));
    let v4 = embed::cohere_requests(&embed_request(&["a"], Some(256)), "cohere.embed-v4:0")
        .expect("v4 takes a size");
    assert_eq!(v4[0].output_dimension, Some(256));
}
