//! The Gemini conversions on hand-built values; the fixture tests in
//! `tests/gemini_fixtures.rs` hold them to Google's published examples.

use pretty_assertions::assert_eq;
use serde_json::{Value, json};
use switchyard_types::{
    ChatRequest, ContentBlock, FinishReason, Message, ResponseFormat, Role, Sampling, StreamEvent,
    Tool, ToolChoice,
};

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

fn result(id: &str, text: &str) -> Message {
    message(
        Role::Tool,
        vec![ContentBlock::ToolResult {
            tool_call_id: id.into(),
            content: vec![ContentBlock::text(text)],
            is_error: false,
        }],
    )
}

fn encode(request: &ChatRequest, model: &str) -> Value {
    let wire = from_canonical_request(request, model, EncodeOptions::default()).expect("encodes");
    serde_json::to_value(wire).expect("serializes")
}

#[test]
fn parallel_tool_results_share_one_user_turn_and_name_their_functions() {
    let request = ChatRequest {
        messages: vec![
            Message::text(Role::System, "Be brief."),
            Message::text(Role::User, "Weather in Paris and Rome?"),
            message(
                Role::Assistant,
                vec![
                    ContentBlock::Reasoning {
                        text: String::new(),
                        signature: Some("sig-1".into()),
                    },
                    call("call_a", "Paris"),
                    call("call_b", "Rome"),
                ],
            ),
            result("call_a", "18°C"),
            result("call_b", r#"{"temperature": 21}"#),
        ],
        tools: vec![Tool {
            name: "get_weather".into(),
            description: Some("Weather".into()),
            parameters: Some(json!({"type": "object"})),
            strict: None,
            extra: Default::default(),
        }],
        ..ChatRequest::default()
    };
    let wire = encode(&request, "gemini-2.5-flash");
    assert_eq!(
        wire["systemInstruction"],
        json!({"parts": [{"text": "Be brief."}]})
    );
    assert_eq!(
        wire["contents"],
        json!([
            {"role": "user", "parts": [{"text": "Weather in Paris and Rome?"}]},
            {"role": "model", "parts": [
                {"functionCall": {"id": "call_a", "name": "get_weather", "args": {"city": "Paris"}},
                 "thoughtSignature": "sig-1"},
                {"functionCall": {"id": "call_b", "name": "get_weather", "args": {"city": "Rome"}}}
            ]},
            {"role": "user", "parts": [
                {"functionResponse": {"id": "call_a", "name": "get_weather", "response": {"result": "18°C"}}},
                {"functionResponse": {"id": "call_b", "name": "get_weather", "response": {"temperature": 21}}}
            ]}
        ])
    );
    assert_eq!(
        wire["tools"],
        json!([{"functionDeclarations": [{"name": "get_weather", "description": "Weather",
                                          "parametersJsonSchema": {"type": "object"}}]}])
    );
}

#[test]
fn a_result_for_an_unknown_call_is_named() {
    let request = ChatRequest {
        messages: vec![Message::text(Role::User, "hi"), result("call_x", "42")],
        ..ChatRequest::default()
    };
    let error = from_canonical_request(&request, "gemini-2.5-flash", EncodeOptions::default())
        .expect_err("no call to answer");
    assert_eq!(error.param.as_deref(), Some("messages[1].content[0]"));
    assert!(error.message.contains("call_x"), "{}", error.message);
}

#[test]
fn ids_minted_for_calls_without_one_stay_out_of_the_wire() {
    let response: GenerateContentResponse = serde_json::from_value(json!({
        "candidates": [{"content": {"role": "model", "parts": [
            {"functionCall": {"name": "get_weather", "args": {"city": "Oslo"}}}
        ]}, "finishReason": "STOP"}]
    }))
    .expect("parses");
    let answer = to_canonical_response(response, "gemini-2.5-flash");
    let ContentBlock::ToolCall { id, .. } = &answer.choices[0].message.content[0] else {
        panic!("a tool call: {answer:?}");
    };
    assert_eq!(
        answer.choices[0].finish_reason,
        Some(FinishReason::ToolCalls)
    );
    let request = ChatRequest {
        messages: vec![
            Message::text(Role::User, "Weather?"),
            answer.choices[0].message.clone(),
            result(id, "cold"),
        ],
        ..ChatRequest::default()
    };
    let wire = encode(&request, "gemini-2.5-flash");
    assert_eq!(
        wire["contents"][1]["parts"][0]["functionCall"],
        json!({"name": "get_weather", "args": {"city": "Oslo"}})
    );
    assert_eq!(
        wire["contents"][2]["parts"][0]["functionResponse"],
        json!({"name": "get_weather", "response": {"result": "cold"}})
    );
}

#[test]
fn tool_choices_map_to_function_calling_modes() {
    let cases = [
        (ToolChoice::Auto, json!({"mode": "AUTO"})),
        (ToolChoice::None, json!({"mode": "NONE"})),
        (ToolChoice::Required, json!({"mode": "ANY"})),
        (
            ToolChoice::Function { name: "f".into() },
            json!({"mode": "ANY", "allowedFunctionNames": ["f"]}),
        ),
        (
            ToolChoice::Allowed {
                names: vec!["f".into(), "g".into()],
                required: false,
            },
            json!({"mode": "VALIDATED", "allowedFunctionNames": ["f", "g"]}),
        ),
    ];
    for (choice, expected) in cases {
        let request = ChatRequest {
            messages: vec![Message::text(Role::User, "hi")],
            tool_choice: Some(choice),
            ..ChatRequest::default()
        };
        let wire = encode(&request, "gemini-2.5-flash");
        assert_eq!(wire["toolConfig"]["functionCallingConfig"], expected);
    }
}

#[test]
fn sampling_output_format_and_reasoning_effort_land_in_generation_config() {
    let mut request = ChatRequest {
        messages: vec![Message::text(Role::User, "hi")],
        sampling: Sampling {
            temperature: Some(0.5),
            max_tokens: Some(100),
            seed: Some(7),
            n: Some(2),
            ..Sampling::default()
        },
        response_format: Some(ResponseFormat::JsonObject),
        ..ChatRequest::default()
    };
    request.extra.insert("top_k".into(), json!(40));
    request.reasoning = Some(switchyard_types::Reasoning::effort("low"));
    let wire = encode(&request, "gemini-2.5-flash");
    assert_eq!(
        wire["generationConfig"],
        json!({"responseMimeType": "application/json", "candidateCount": 2,
               "maxOutputTokens": 100, "temperature": 0.5, "topK": 40, "seed": 7,
               "thinkingConfig": {"thinkingBudget": 1024, "includeThoughts": true}})
    );
    assert!(wire.get("reasoning_effort").is_none() && wire.get("top_k").is_none());
    let wire = encode(&request, "gemini-3-pro-preview");
    assert_eq!(
        wire["generationConfig"]["thinkingConfig"],
        json!({"thinkingLevel": "LOW", "includeThoughts": true})
    );
}

#[test]
fn parameters_without_an_equivalent_are_refused_by_name_unless_dropping_is_allowed() {
    let mut request = ChatRequest {
        messages: vec![Message::text(Role::User, "hi")],
        ..ChatRequest::default()
    };
    request
        .extra
        .insert("logit_bias".into(), json!({"50256": -100}));
    let error = from_canonical_request(&request, "gemini-2.5-flash", EncodeOptions::default())
        .expect_err("no logit bias on Gemini");
    assert_eq!(error.param.as_deref(), Some("logit_bias"));
    let dropped = from_canonical_request(
        &request,
        "gemini-2.5-flash",
        EncodeOptions {
            drop_unsupported: true,
        },
    )
    .expect("dropped");
    assert!(!dropped.extra.contains_key("logit_bias"));
    request.extra.clear();
    request.sampling.logprobs = Some(true);
    let error = from_canonical_request(&request, "gemini-2.5-flash", EncodeOptions::default())
        .expect_err("logprobs are refused");
    assert_eq!(error.param.as_deref(), Some("logprobs"));
}

#[test]
fn finish_reasons_map_to_canonical_ones() {
    for (reason, called, expected) in [
        ("STOP", false, FinishReason::Stop),
        ("STOP", true, FinishReason::ToolCalls),
        ("MAX_TOKENS", false, FinishReason::Length),
        ("SAFETY", false, FinishReason::ContentFilter),
        ("RECITATION", false, FinishReason::ContentFilter),
        ("PROHIBITED_CONTENT", false, FinishReason::ContentFilter),
        (
            "MALFORMED_FUNCTION_CALL",
            false,
            FinishReason::Other("malformed_function_call".into()),
        ),
    ] {
        assert_eq!(
            response::finish_reason(reason, called),
            expected,
            "{reason}"
        );
    }
}

#[test]
fn a_stream_reports_usage_once_at_the_end_and_refuses_a_truncated_one() {
    let mut decoder = EventDecoder::new("gemini-2.5-flash");
    let first = decoder
        .decode_data(br#"{"candidates":[{"content":{"parts":[{"text":"Hel"}],"role":"model"},"index":0}],"usageMetadata":{"promptTokenCount":4,"candidatesTokenCount":1}}"#)
        .expect("decodes");
    let Decoded::Frame(first) = first else {
        panic!("a frame")
    };
    assert!(matches!(first[0], StreamEvent::Start { .. }));
    assert_eq!(
        first[1],
        StreamEvent::TextDelta {
            choice: 0,
            text: "Hel".into()
        }
    );
    assert_eq!(decoder.end(), Err(Truncated), "no finish reason yet");
    let last = decoder
        .decode_data(br#"{"candidates":[{"content":{"parts":[{"text":"lo"}],"role":"model"},"finishReason":"STOP","index":0}],"usageMetadata":{"promptTokenCount":4,"candidatesTokenCount":2,"thoughtsTokenCount":3}}"#)
        .expect("decodes");
    assert_eq!(
        last,
        Decoded::Frame(vec![
            StreamEvent::TextDelta {
                choice: 0,
                text: "lo".into()
            },
            StreamEvent::Finish {
                choice: 0,
                reason: FinishReason::Stop
            },
        ])
    );
    let end = decoder.end().expect("complete");
    let [StreamEvent::Usage(usage)] = end.as_slice() else {
        panic!("usage at the end: {end:?}");
    };
    assert_eq!((usage.input_tokens, usage.output_tokens), (4, 5));
    assert_eq!(usage.reasoning_tokens, Some(3));
    let error = decoder
        .decode_data(br#"{"error":{"code":503,"message":"overloaded","status":"UNAVAILABLE"}}"#)
        .expect("decodes");
    assert!(matches!(error, Decoded::Error(status) if status.status == "UNAVAILABLE"));
}

#[test]
fn reads_bare_and_listed_error_bodies() {
    let bare = r#"{"error": {"code": 503, "message": "overloaded", "status": "UNAVAILABLE"}}"#;
    let listed = format!("[{bare}\n]");
    for text in [bare, listed.as_str()] {
        let body = wire::ErrorBody::parse(text).expect("an error body");
        assert_eq!(body.error.status, "UNAVAILABLE", "{text}");
        assert_eq!(body.error.message, "overloaded");
    }
    assert!(wire::ErrorBody::parse(r#"{"candidates": []}"#).is_none());
    assert!(wire::ErrorBody::parse("[]").is_none());
}
