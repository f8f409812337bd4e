//! The Messages API conversions against bodies shaped as Anthropic's API reference
//! documents them (docs.anthropic.com, "Messages" and "Streaming Messages").

use pretty_assertions::assert_eq;
use serde_json::{Value, json};
use switchyard_types::{
    ChatRequest, ContentBlock, FinishReason, ImageSource, Message, ResponseFormat, Role, Sampling,
    StopSequences, StreamEvent, Tool, ToolChoice,
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

fn weather() -> Tool {
    Tool {
        name: "get_weather".into(),
        description: Some("Weather in a city".into()),
        parameters: Some(json!({"type": "object", "properties": {"city": {"type": "string"}}})),
        strict: None,
        extra: Default::default(),
    }
}

fn encode(request: &ChatRequest) -> Value {
    let wire = from_canonical_request(request, "claude-sonnet-4-5", EncodeOptions::default())
        .expect("encodes");
    serde_json::to_value(wire).expect("serializes")
}

#[test]
fn a_conversation_with_tools_becomes_alternating_turns() {
    let mut cached = ContentBlock::text("You are terse.");
    if let ContentBlock::Text { extra, .. } = &mut cached {
        extra.insert("cache_control".into(), json!({"type": "ephemeral"}));
    }
    let request = ChatRequest {
        messages: vec![
            message(Role::System, vec![cached]),
            message(
                Role::User,
                vec![
                    ContentBlock::text("Weather in Paris and Rome?"),
                    ContentBlock::Image {
                        source: ImageSource::Base64 {
                            media_type: "image/png".into(),
                            data: "iVBORw0KGgo=".into(),
                        },
                        detail: None,
                        extra: Default::default(),
                    },
                ],
            ),
            message(
                Role::Assistant,
                vec![
                    ContentBlock::Reasoning {
                        text: "Two cities.".into(),
                        signature: Some("EqQBCgIYAhIM".into()),
                    },
                    // Reasoning from another vendor has no signature: not replayable.
                    ContentBlock::Reasoning {
                        text: "foreign".into(),
                        signature: None,
                    },
                    ContentBlock::ToolCall {
                        id: "toolu_1".into(),
                        name: "get_weather".into(),
                        arguments: r#"{"city":"Paris"}"#.into(),
                    },
                    ContentBlock::ToolCall {
                        id: "toolu_2".into(),
                        name: "get_weather".into(),
                        arguments: String::new(),
                    },
                ],
            ),
            // Two OpenAI-style tool messages: one user turn for Anthropic.
            message(
                Role::Tool,
                vec![ContentBlock::ToolResult {
                    tool_call_id: "toolu_1".into(),
                    content: vec![ContentBlock::text("18°C")],
                    is_error: false,
                }],
            ),
            message(
                Role::Tool,
                vec![ContentBlock::ToolResult {
                    tool_call_id: "toolu_2".into(),
                    content: vec![ContentBlock::text("no such city")],
                    is_error: true,
                }],
            ),
        ],
        tools: vec![weather()],
        tool_choice: Some(ToolChoice::Auto),
        parallel_tool_calls: Some(false),
        sampling: Sampling {
            temperature: Some(0.2),
            stop: Some(StopSequences::One("END".into())),
            ..Sampling::default()
        },
        user: Some("user-42".into()),
        stream: true,
        ..ChatRequest::default()
    };
    assert_eq!(
        encode(&request),
        json!({
            "model": "claude-sonnet-4-5",
            "max_tokens": 4096,
            "system": [{"type": "text", "text": "You are terse.", "cache_control": {"type": "ephemeral"}}],
            "messages": [
                {"role": "user", "content": [
                    {"type": "text", "text": "Weather in Paris and Rome?"},
                    {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "iVBORw0KGgo="}}
                ]},
                {"role": "assistant", "content": [
                    {"type": "thinking", "thinking": "Two cities.", "signature": "EqQBCgIYAhIM"},
                    {"type": "tool_use", "id": "toolu_1", "name": "get_weather", "input": {"city": "Paris"}},
                    {"type": "tool_use", "id": "toolu_2", "name": "get_weather", "input": {}}
                ]},
                {"role": "user", "content": [
                    {"type": "tool_result", "tool_use_id": "toolu_1", "content": [{"type": "text", "text": "18°C"}]},
                    {"type": "tool_result", "tool_use_id": "toolu_2", "content": [{"type": "text", "text": "no such city"}], "is_error": true}
                ]}
            ],
            "stop_sequences": ["END"],
            "temperature": 0.2,
            "tools": [{"name": "get_weather", "description": "Weather in a city",
                       "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}}}],
            "tool_choice": {"type": "auto", "disable_parallel_tool_use": true},
            "metadata": {"user_id": "user-42"},
            "stream": true
        })
    );
}

#[test]
fn tool_choices_map_to_anthropics_names() {
    let with = |choice| {
        let request = ChatRequest {
            messages: vec![Message::text(Role::User, "hi")],
            tools: vec![
                weather(),
                Tool {
                    name: "other".into(),
                    ..weather()
                },
            ],
            tool_choice: Some(choice),
            ..ChatRequest::default()
        };
        encode(&request)
    };
    assert_eq!(
        with(ToolChoice::Required)["tool_choice"],
        json!({"type": "any"})
    );
    assert_eq!(
        with(ToolChoice::None)["tool_choice"],
        json!({"type": "none"})
    );
    assert_eq!(
        with(ToolChoice::Function {
            name: "other".into()
        })["tool_choice"],
        json!({"type": "tool", "name": "other"})
    );
    let allowed = with(ToolChoice::Allowed {
        names: vec!["other".into()],
        required: true,
    });
    assert_eq!(allowed["tool_choice"], json!({"type": "any"}));
    assert_eq!(allowed["tools"].as_array().map(Vec::len), Some(1));
    assert_eq!(allowed["tools"][0]["name"], "other");
}

#[test]
fn parameters_without_an_equivalent_are_refused_by_name_unless_dropping_is_allowed() {
    let request = ChatRequest {
        messages: vec![Message::text(Role::User, "hi")],
        sampling: Sampling {
            seed: Some(7),
            max_tokens: Some(10),
            ..Sampling::default()
        },
        ..ChatRequest::default()
    };
    let error = from_canonical_request(&request, "claude", EncodeOptions::default())
        .expect_err("seed has no equivalent");
    assert_eq!(error.param.as_deref(), Some("seed"));
    let dropped = from_canonical_request(
        &request,
        "claude",
        EncodeOptions {
            drop_unsupported: true,
            ..EncodeOptions::default()
        },
    )
    .expect("dropped");
    assert_eq!(dropped.max_tokens, 10);
    let json = serde_json::to_value(dropped).expect("json");
    assert!(json.get("seed").is_none(), "{json}");
}

#[test]
fn a_json_schema_becomes_structured_output_and_bare_json_mode_is_refused() {
    let schema = json!({"type": "object", "properties": {"a": {"type": "integer"}}});
    let mut request = ChatRequest {
        messages: vec![Message::text(Role::User, "hi")],
        response_format: Some(ResponseFormat::JsonSchema {
            name: "answer".into(),
            description: None,
            schema: Some(schema.clone()),
            strict: None,
        }),
        ..ChatRequest::default()
    };
    request
        .extra
        .insert("output_config".into(), json!({"effort": "low"}));
    let json = encode(&request);
    assert_eq!(
        json["output_config"],
        json!({"effort": "low", "format": {"type": "json_schema", "schema": schema}})
    );
    request.response_format = Some(ResponseFormat::JsonObject);
    let error = from_canonical_request(&request, "claude", EncodeOptions::default())
        .expect_err("JSON mode without a schema has no equivalent");
    assert_eq!(error.param.as_deref(), Some("response_format"));
}

#[test]
fn bad_tool_arguments_and_foreign_parts_are_named() {
    let call = |arguments: &str| ChatRequest {
        messages: vec![message(
            Role::Assistant,
            vec![ContentBlock::ToolCall {
                id: "t".into(),
                name: "f".into(),
                arguments: arguments.into(),
            }],
        )],
        ..ChatRequest::default()
    };
    let error = from_canonical_request(&call("{oops"), "c", EncodeOptions::default())
        .expect_err("not JSON");
    assert_eq!(error.param.as_deref(), Some("messages[0].content[0]"));
    let error = from_canonical_request(&call("[1]"), "c", EncodeOptions::default())
        .expect_err("not an object");
    assert!(error.message.contains("JSON object"), "{}", error.message);
    let foreign = ChatRequest {
        messages: vec![message(
            Role::User,
            vec![ContentBlock::Opaque {
                protocol: "openai".into(),
                value: json!({"type": "input_audio"}),
            }],
        )],
        ..ChatRequest::default()
    };
    let error = from_canonical_request(&foreign, "c", EncodeOptions::default()).expect_err("audio");
    assert!(error.message.contains("input_audio"), "{}", error.message);
}

#[test]
fn an_answer_with_thinking_and_a_tool_call_decodes_with_full_usage() {
    let body = json!({
        "id": "msg_01Aq9w938a90dw8q",
        "type": "message",
        "role": "assistant",
        "model": "claude-sonnet-4-5-20250929",
        "content": [
            {"type": "thinking", "thinking": "I should look it up.", "signature": "WaUjzkypQ2mUEVM36O2TxuC06KN8xyfbJwyem2dw3URve/op91XWHOEBLLqIOMfFG/UvLEczmEsUjavL"},
            {"type": "text", "text": "Let me check."},
            {"type": "tool_use", "id": "toolu_01A09q90qw90lq917835lq9", "name": "get_weather", "input": {"city": "Paris"}},
            {"type": "redacted_thinking", "data": "EmwKAhgBEgy3va3pzix/LafPsn4a"}
        ],
        "stop_reason": "tool_use",
        "stop_sequence": null,
        "usage": {"input_tokens": 12, "output_tokens": 30, "cache_creation_input_tokens": 100, "cache_read_input_tokens": 2000}
    });
    let response = decode_response(body.to_string().as_bytes()).expect("decodes");
    let choice = &response.choices[0];
    assert_eq!(choice.finish_reason, Some(FinishReason::ToolCalls));
    assert!(matches!(
        &choice.message.content[0],
        ContentBlock::Reasoning { signature: Some(signature), .. } if signature.starts_with("WaUj")
    ));
    assert_eq!(
        choice.message.content[2],
        ContentBlock::ToolCall {
            id: "toolu_01A09q90qw90lq917835lq9".into(),
            name: "get_weather".into(),
            arguments: r#"{"city":"Paris"}"#.into(),
        }
    );
    assert!(matches!(
        &choice.message.content[3],
        ContentBlock::Opaque { protocol, value } if protocol == "anthropic" && value["type"] == "redacted_thinking"
    ));
    let usage = response.usage.expect("usage");
    assert_eq!(usage.input_tokens, 12 + 100 + 2000);
    assert_eq!(usage.cached_input_tokens, Some(2000));
    assert_eq!(usage.cache_creation_input_tokens, Some(100));
    assert_eq!(usage.output_tokens, 30);
}

#[test]
fn stop_reasons_map_to_finish_reasons() {
    for (stop, finish) in [
        ("end_turn", FinishReason::Stop),
        ("stop_sequence", FinishReason::Stop),
        ("max_tokens", FinishReason::Length),
        ("tool_use", FinishReason::ToolCalls),
        ("refusal", FinishReason::ContentFilter),
        ("pause_turn", FinishReason::Other("pause_turn".into())),
    ] {
        assert_eq!(response::finish_reason(stop), finish, "{stop}");
    }
}

/// The event sequence of Anthropic's streaming documentation: thinking, text and a tool
/// call whose input arrives in fragments, with a ping among them.
const TOOL_STREAM: &[&str] = &[
    r#"{"type":"message_start","message":{"id":"msg_014p7gG3wDgGV9EUtLvnow3U","type":"message","role":"assistant","model":"claude-sonnet-4-5","stop_sequence":null,"usage":{"input_tokens":472,"output_tokens":2,"cache_read_input_tokens":0},"content":[],"stop_reason":null}}"#,
    r#"{"type":"content_block_start","index":0,"content_block":{"type":"thinking","thinking":"","signature":""}}"#,
    r#"{"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":"Need the weather."}}"#,
    r#"{"type":"content_block_delta","index":0,"delta":{"type":"signature_delta","signature":"EqQBCgIYAhIM1gbcDa9GJwZA2b3hGgxBdjrkzLoky3dl1pkiMOYds"}}"#,
    r#"{"type":"content_block_stop","index":0}"#,
    r#"{"type":"content_block_start","index":1,"content_block":{"type":"text","text":""}}"#,
    r#"{"type":"ping"}"#,
    r#"{"type":"content_block_delta","index":1,"delta":{"type":"text_delta","text":"Okay, let me check."}}"#,
    r#"{"type":"content_block_stop","index":1}"#,
    r#"{"type":"content_block_start","index":2,"content_block":{"type":"tool_use","id":"toolu_01T1x1fJ34qAmk2tNTrN7Up6","name":"get_weather","input":{}}}"#,
    r#"{"type":"content_block_delta","index":2,"delta":{"type":"input_json_delta","partial_json":""}}"#,
    r#"{"type":"content_block_delta","index":2,"delta":{"type":"input_json_delta","partial_json":"{\"city\": \"San"}}"#,
    r#"{"type":"content_block_delta","index":2,"delta":{"type":"input_json_delta","partial_json":" Francisco\"}"}}"#,
    r#"{"type":"content_block_stop","index":2}"#,
    r#"{"type":"message_delta","delta":{"stop_reason":"tool_use","stop_sequence":null},"usage":{"output_tokens":89}}"#,
    r#"{"type":"message_stop"}"#,
];

#[test]
fn a_streamed_tool_call_decodes_into_canonical_events() {
    let mut decoder = EventDecoder::new();
    let mut events = Vec::new();
    let mut ended = false;
    for data in TOOL_STREAM {
        match decoder.decode_data(data.as_bytes()).expect("decodes") {
            Decoded::Frame(frame) => events.extend(frame),
            Decoded::End => ended = true,
            Decoded::Error(error) => panic!("{error:?}"),
        }
    }
    assert!(ended);
    assert!(
        matches!(&events[0], StreamEvent::Start { id, .. } if id == "msg_014p7gG3wDgGV9EUtLvnow3U")
    );
    let rest: Vec<StreamEvent> = events[1..].to_vec();
    let usage = switchyard_types::Usage {
        input_tokens: 472,
        output_tokens: 89,
        cached_input_tokens: Some(0),
        ..Default::default()
    };
    assert_eq!(
        rest,
        vec![
            StreamEvent::ReasoningDelta {
                choice: 0,
                text: "Need the weather.".into()
            },
            StreamEvent::ReasoningSignature {
                choice: 0,
                signature: "EqQBCgIYAhIM1gbcDa9GJwZA2b3hGgxBdjrkzLoky3dl1pkiMOYds".into()
            },
            StreamEvent::TextDelta {
                choice: 0,
                text: "Okay, let me check.".into()
            },
            StreamEvent::ToolCallDelta {
                choice: 0,
                index: 0,
                id: Some("toolu_01T1x1fJ34qAmk2tNTrN7Up6".into()),
                name: Some("get_weather".into()),
                arguments: String::new(),
            },
            StreamEvent::ToolCallDelta {
                choice: 0,
                index: 0,
                id: None,
                name: None,
                arguments: "{\"city\": \"San".into()
            },
            StreamEvent::ToolCallDelta {
                choice: 0,
                index: 0,
                id: None,
                name: None,
                arguments: " Francisco\"}".into()
            },
            StreamEvent::Finish {
                choice: 0,
                reason: FinishReason::ToolCalls
            },
            StreamEvent::Usage(usage),
        ]
    );
}

#[test]
fn a_mid_stream_error_and_unknown_events_are_told_apart() {
    let mut decoder = EventDecoder::new();
    let error = decoder
        .decode_data(
            br#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#,
        )
        .expect("decodes");
    assert_eq!(
        error,
        Decoded::Error(wire::ErrorObject {
            kind: "overloaded_error".into(),
            message: "Overloaded".into()
        })
    );
    let unknown = decoder
        .decode_data(br#"{"type":"brand_new_event","payload":1}"#)
        .expect("ignored");
    assert_eq!(unknown, Decoded::Frame(Vec::new()));
    assert!(decoder.decode_data(b"{not json").is_err());
}
