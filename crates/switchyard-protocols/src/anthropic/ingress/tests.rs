//! The ingress conversions against bodies shaped as Anthropic's API reference and its
//! Python SDK send them.

use pretty_assertions::assert_eq;
use serde_json::{Value, json};
use switchyard_types::{
    ChatResponse, Choice, ContentBlock, FinishReason, Message, Reasoning, ResponseFormat, Role,
    StopSequences, StreamEvent, ToolChoice, Usage,
};

use super::*;
use crate::anthropic::{EncodeOptions, from_canonical_request};

fn decode(body: Value) -> switchyard_types::ChatRequest {
    decode_request(body.to_string().as_bytes()).expect("decodes")
}

fn decode_error(body: Value) -> crate::DecodeError {
    decode_request(body.to_string().as_bytes()).expect_err("refused")
}

/// A second turn of a tool conversation, as `anthropic.messages.create` sends it.
fn tool_conversation() -> Value {
    json!({
        "model": "claude-sonnet-4-5",
        "max_tokens": 1024,
        "system": [{"type": "text", "text": "You are terse.", "cache_control": {"type": "ephemeral"}}],
        "messages": [
            {"role": "user", "content": [
                {"type": "text", "text": "Weather in Paris and Rome?"},
                {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "iVBORw0KGgo="}}
            ]},
            {"role": "assistant", "content": [
                {"type": "thinking", "thinking": "Two cities.", "signature": "sig-1"},
                {"type": "text", "text": "Checking."},
                {"type": "tool_use", "id": "toolu_01", "name": "get_weather", "input": {"city": "Paris"}},
                {"type": "tool_use", "id": "toolu_02", "name": "get_weather", "input": {"city": "Rome"}}
            ]},
            {"role": "user", "content": [
                {"type": "tool_result", "tool_use_id": "toolu_01", "content": "18°C"},
                {"type": "tool_result", "tool_use_id": "toolu_02", "content": "24°C", "is_error": false},
                {"type": "text", "text": "Which is warmer?"}
            ]}
        ],
        "tools": [{
            "name": "get_weather", "description": "Weather in a city",
            "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
            "cache_control": {"type": "ephemeral"}
        }],
        "tool_choice": {"type": "auto", "disable_parallel_tool_use": true},
        "stop_sequences": ["\n\nHuman:"],
        "temperature": 0.2,
        "top_k": 40,
        "metadata": {"user_id": "user-7"},
        "thinking": {"type": "enabled", "budget_tokens": 2048},
        "stream": true
    })
}

#[test]
fn a_tool_conversation_becomes_openai_shaped_turns() {
    let request = decode(tool_conversation());
    assert_eq!(request.model, "claude-sonnet-4-5");
    let roles: Vec<Role> = request.messages.iter().map(|m| m.role).collect();
    assert_eq!(
        roles,
        [
            Role::System,
            Role::User,
            Role::Assistant,
            Role::Tool,
            Role::User
        ]
    );
    let ContentBlock::Text { extra, .. } = &request.messages[0].content[0] else {
        panic!("system text")
    };
    assert_eq!(extra["cache_control"], json!({"type": "ephemeral"}));
    assert!(matches!(
        request.messages[1].content[1],
        ContentBlock::Image { .. }
    ));
    assert_eq!(
        request.messages[2].content,
        [
            ContentBlock::Reasoning {
                text: "Two cities.".into(),
                signature: Some("sig-1".into())
            },
            ContentBlock::text("Checking."),
            ContentBlock::ToolCall {
                id: "toolu_01".into(),
                name: "get_weather".into(),
                arguments: r#"{"city":"Paris"}"#.into()
            },
            ContentBlock::ToolCall {
                id: "toolu_02".into(),
                name: "get_weather".into(),
                arguments: r#"{"city":"Rome"}"#.into()
            },
        ]
    );
    let results: Vec<(&str, String)> = request.messages[3]
        .content
        .iter()
        .map(|block| match block {
            ContentBlock::ToolResult {
                tool_call_id,
                content,
                ..
            } => (
                tool_call_id.as_str(),
                Message::text(Role::Tool, "")
                    .content
                    .iter()
                    .chain(content)
                    .filter_map(|b| match b {
                        ContentBlock::Text { text, .. } => Some(text.as_str()),
                        _ => None,
                    })
                    .collect(),
            ),
            other => panic!("a tool result, not {other:?}"),
        })
        .collect();
    assert_eq!(
        results,
        [
            ("toolu_01", "18°C".to_owned()),
            ("toolu_02", "24°C".to_owned())
        ]
    );
    assert!(request.messages[3].content_is_text);
    assert_eq!(request.messages[4].text_content(), "Which is warmer?");

    assert_eq!(request.tools[0].name, "get_weather");
    assert_eq!(
        request.tools[0].extra["cache_control"],
        json!({"type": "ephemeral"})
    );
    assert_eq!(request.tool_choice, Some(ToolChoice::Auto));
    assert_eq!(request.parallel_tool_calls, Some(false));
    assert_eq!(request.sampling.max_tokens, Some(1024));
    assert_eq!(request.sampling.temperature, Some(0.2));
    assert_eq!(
        request.sampling.stop,
        Some(StopSequences::Many(vec!["\n\nHuman:".into()]))
    );
    assert_eq!(request.user.as_deref(), Some("user-7"));
    assert_eq!(request.extra["top_k"], json!(40));
    assert_eq!(request.reasoning, Some(Reasoning::budget(2048)));
    assert!(request.stream && request.stream_include_usage);
}

/// Anthropic in, Anthropic out: what reaches the upstream says what the client said.
#[test]
fn an_anthropic_hop_sends_the_request_on_unchanged_in_meaning() {
    let original = tool_conversation();
    let request = decode(original.clone());
    let sent = serde_json::to_value(
        from_canonical_request(&request, "claude-sonnet-4-5", EncodeOptions::default())
            .expect("encodes"),
    )
    .expect("serializes");
    for field in [
        "max_tokens",
        "system",
        "tools",
        "tool_choice",
        "stop_sequences",
        "temperature",
        "top_k",
        "metadata",
        "thinking",
        "stream",
    ] {
        assert_eq!(sent[field], original[field], "{field}");
    }
    // Turns are the same; string content is sent as a text block.
    let messages = sent["messages"].as_array().expect("messages");
    assert_eq!(messages.len(), 3);
    assert_eq!(messages[0], original["messages"][0]);
    assert_eq!(messages[1], original["messages"][1]);
    let last = &messages[2]["content"];
    assert_eq!(last[0]["tool_use_id"], "toolu_01");
    assert_eq!(
        last[0]["content"],
        json!([{"type": "text", "text": "18°C"}])
    );
    assert_eq!(last[1]["tool_use_id"], "toolu_02");
    assert_eq!(last[2], json!({"type": "text", "text": "Which is warmer?"}));
}

#[test]
fn structured_output_and_forced_tools() {
    let request = decode(json!({
        "model": "m", "max_tokens": 64,
        "messages": [{"role": "user", "content": "A city, as JSON."}],
        "output_config": {"effort": "low", "format": {"type": "json_schema",
            "schema": {"type": "object", "properties": {"city": {"type": "string"}}}}},
        "tool_choice": {"type": "any"},
    }));
    assert!(matches!(
        request.response_format,
        Some(ResponseFormat::JsonSchema {
            strict: Some(true),
            ..
        })
    ));
    assert_eq!(request.extra["output_config"], json!({"effort": "low"}));
    assert_eq!(request.tool_choice, Some(ToolChoice::Required));
    assert_eq!(request.parallel_tool_calls, None);
    assert!(!request.stream);
    let forced = decode(json!({
        "model": "m", "max_tokens": 64, "messages": [{"role": "user", "content": "x"}],
        "tool_choice": {"type": "tool", "name": "get_weather"},
    }));
    assert_eq!(
        forced.tool_choice,
        Some(ToolChoice::Function {
            name: "get_weather".into()
        })
    );
}

#[test]
fn bad_requests_name_the_field() {
    let base =
        || json!({"model": "m", "max_tokens": 16, "messages": [{"role": "user", "content": "x"}]});
    let cases = [
        ("max_tokens", {
            let mut body = base();
            body.as_object_mut().expect("object").remove("max_tokens");
            body
        }),
        (
            "messages",
            json!({"model": "m", "max_tokens": 16, "messages": []}),
        ),
        (
            "messages[0].role",
            json!({"model": "m", "max_tokens": 16, "messages": [{"role": "system", "content": "x"}]}),
        ),
        ("tools[0].type", {
            let mut body = base();
            body["tools"] = json!([{"type": "web_search_20250305", "name": "web_search"}]);
            body
        }),
        ("tools[0].input_schema", {
            let mut body = base();
            body["tools"] = json!([{"name": "f"}]);
            body
        }),
        (
            "messages[1].content[0]",
            json!({"model": "m", "max_tokens": 16, "messages": [
                {"role": "user", "content": "x"},
                {"role": "assistant", "content": [{"type": "tool_result", "tool_use_id": "t", "content": "y"}]}
            ]}),
        ),
        ("output_config.format.type", {
            let mut body = base();
            body["output_config"] = json!({"format": {"type": "xml"}});
            body
        }),
    ];
    for (param, body) in cases {
        let error = decode_error(body);
        let named = error.param.as_deref().unwrap_or(&error.message);
        assert!(
            named.contains(param) || error.message.contains(param),
            "{param}: {error:?}"
        );
    }
}

fn answer(content: Vec<ContentBlock>, reason: FinishReason) -> ChatResponse {
    ChatResponse {
        id: "chatcmpl-9".into(),
        model: "gpt-4o-mini".into(),
        created: 0,
        choices: vec![Choice {
            index: 0,
            message: Message {
                role: Role::Assistant,
                content,
                name: None,
                content_is_text: false,
                extra: Default::default(),
            },
            finish_reason: Some(reason),
            logprobs: None,
            extra: Default::default(),
        }],
        usage: Some(Usage {
            input_tokens: 120,
            output_tokens: 30,
            cached_input_tokens: Some(100),
            cache_creation_input_tokens: None,
            reasoning_tokens: None,
            extra: Default::default(),
        }),
        extra: Default::default(),
    }
}

#[test]
fn an_answer_from_any_upstream_reads_as_an_anthropic_message() {
    let response = answer(
        vec![
            ContentBlock::Reasoning {
                text: "Hmm.".into(),
                signature: None,
            },
            ContentBlock::text("Rome."),
            ContentBlock::ToolCall {
                id: "call_1".into(),
                name: "get_weather".into(),
                arguments: r#"{"city":"Rome"}"#.into(),
            },
        ],
        FinishReason::ToolCalls,
    );
    let encoded = serde_json::to_value(encode_response(&response)).expect("serializes");
    assert_eq!(
        encoded,
        json!({
            "id": "msg_chatcmpl-9",
            "type": "message",
            "role": "assistant",
            "model": "gpt-4o-mini",
            "content": [
                {"type": "thinking", "thinking": "Hmm.", "signature": ""},
                {"type": "text", "text": "Rome."},
                {"type": "tool_use", "id": "call_1", "name": "get_weather", "input": {"city": "Rome"}}
            ],
            "stop_reason": "tool_use",
            "stop_sequence": null,
            "usage": {"input_tokens": 20, "output_tokens": 30,
                      "cache_creation_input_tokens": 0, "cache_read_input_tokens": 100}
        })
    );
    for (reason, expected) in [
        (FinishReason::Stop, "end_turn"),
        (FinishReason::Length, "max_tokens"),
        (FinishReason::ContentFilter, "refusal"),
        (FinishReason::Other("pause_turn".into()), "pause_turn"),
        (FinishReason::Other("eos_token".into()), "end_turn"),
    ] {
        let encoded = encode_response(&answer(vec![ContentBlock::text("x")], reason));
        assert_eq!(encoded.stop_reason.as_deref(), Some(expected));
    }
    let mut stopped = answer(vec![ContentBlock::text("x")], FinishReason::Stop);
    stopped.extra.insert("stop_sequence".into(), json!("END"));
    let encoded = encode_response(&stopped);
    assert_eq!(encoded.stop_reason.as_deref(), Some("stop_sequence"));
    assert_eq!(encoded.stop_sequence.as_deref(), Some("END"));
}

#[test]
fn arguments_that_are_not_an_object_are_kept_not_emptied() {
    assert_eq!(response::tool_input(""), json!({}));
    assert_eq!(response::tool_input("[1]"), json!({"arguments": "[1]"}));
    assert_eq!(
        response::tool_input("{\"a\":"),
        json!({"arguments": "{\"a\":"})
    );
}

fn sse(events: &[crate::anthropic::wire::StreamEvent]) -> Vec<(String, Value)> {
    events
        .iter()
        .map(|event| {
            (
                event_name(event).to_owned(),
                serde_json::to_value(event).expect("serializes"),
            )
        })
        .collect()
}

#[test]
fn a_stream_is_the_anthropic_event_sequence() {
    let mut encoder = StreamEncoder::new("public-model");
    let mut events = Vec::new();
    for frame in [
        vec![StreamEvent::Start {
            id: "chatcmpl-1".into(),
            model: "gpt-4o-mini".into(),
            created: 0,
            extra: Default::default(),
        }],
        vec![StreamEvent::ReasoningDelta {
            choice: 0,
            text: "Think".into(),
        }],
        vec![StreamEvent::ReasoningSignature {
            choice: 0,
            signature: "sig".into(),
        }],
        vec![StreamEvent::TextDelta {
            choice: 0,
            text: "Hel".into(),
        }],
        vec![StreamEvent::TextDelta {
            choice: 0,
            text: "lo".into(),
        }],
        vec![StreamEvent::ToolCallDelta {
            choice: 0,
            index: 0,
            id: Some("call_1".into()),
            name: Some("f".into()),
            arguments: String::new(),
        }],
        vec![StreamEvent::ToolCallDelta {
            choice: 0,
            index: 0,
            id: None,
            name: None,
            arguments: "{\"a\":".into(),
        }],
        vec![StreamEvent::ToolCallDelta {
            choice: 0,
            index: 0,
            id: None,
            name: None,
            arguments: "1}".into(),
        }],
        vec![StreamEvent::ToolCallDelta {
            choice: 0,
            index: 1,
            id: Some("call_2".into()),
            name: Some("g".into()),
            arguments: "{}".into(),
        }],
        vec![StreamEvent::Finish {
            choice: 0,
            reason: FinishReason::ToolCalls,
        }],
        vec![StreamEvent::Usage(Usage {
            input_tokens: 10,
            output_tokens: 5,
            ..Usage::default()
        })],
    ] {
        events.extend(encoder.encode(frame));
    }
    events.extend(encoder.finish());
    let names: Vec<String> = sse(&events).into_iter().map(|(name, _)| name).collect();
    assert_eq!(
        names,
        [
            "message_start",
            "content_block_start",
            "content_block_delta",
            "content_block_delta",
            "content_block_stop",
            "content_block_start",
            "content_block_delta",
            "content_block_delta",
            "content_block_stop",
            "content_block_start",
            "content_block_delta",
            "content_block_delta",
            "content_block_stop",
            "content_block_start",
            "content_block_delta",
            "content_block_stop",
            "message_delta",
            "message_stop",
        ]
    );
    let data: Vec<Value> = sse(&events).into_iter().map(|(_, data)| data).collect();
    assert_eq!(data[0]["message"]["id"], "msg_chatcmpl-1");
    assert_eq!(data[0]["message"]["content"], json!([]));
    assert_eq!(
        data[1]["content_block"],
        json!({"type": "thinking", "thinking": "", "signature": ""})
    );
    assert_eq!(
        data[3]["delta"],
        json!({"type": "signature_delta", "signature": "sig"})
    );
    assert_eq!(
        data[5],
        json!({"type": "content_block_start", "index": 1, "content_block": {"type": "text", "text": ""}})
    );
    assert_eq!(
        data[9]["content_block"],
        json!({"type": "tool_use", "id": "call_1", "name": "f", "input": {}})
    );
    assert_eq!(
        data[11]["delta"],
        json!({"type": "input_json_delta", "partial_json": "1}"})
    );
    assert_eq!(data[13]["index"], 3);
    assert_eq!(data[16]["delta"]["stop_reason"], "tool_use");
    assert_eq!(data[16]["usage"]["input_tokens"], 10);
    assert_eq!(data[16]["usage"]["output_tokens"], 5);
    assert_eq!(data[17], json!({"type": "message_stop"}));
}

#[test]
fn a_stream_with_no_start_or_content_is_still_well_formed() {
    let mut encoder = StreamEncoder::new("public-model");
    let names: Vec<String> = sse(&encoder.finish())
        .into_iter()
        .map(|(name, _)| name)
        .collect();
    assert_eq!(names, ["message_start", "message_delta", "message_stop"]);
    let error = serde_json::to_value(StreamEncoder::error("overloaded_error", "Overloaded"))
        .expect("serializes");
    assert_eq!(
        error,
        json!({"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}})
    );
    assert_eq!(error_type(529), "overloaded_error");
    assert_eq!(error_type(401), "authentication_error");
    assert_eq!(error_type(502), "api_error");
}

#[test]
fn thinking_becomes_the_canonical_reasoning_setting() {
    let decode = |thinking: serde_json::Value| {
        decode_request(
            json!({"model": "m", "max_tokens": 2048, "thinking": thinking,
                   "messages": [{"role": "user", "content": "x"}]})
            .to_string()
            .as_bytes(),
        )
    };
    let enabled = decode(json!({"type": "enabled", "budget_tokens": 4096})).expect("decodes");
    assert_eq!(enabled.reasoning, Some(Reasoning::budget(4096)));
    assert!(!enabled.extra.contains_key("thinking"));
    let disabled = decode(json!({"type": "disabled"})).expect("decodes");
    assert_eq!(disabled.reasoning, Some(Reasoning::effort("none")));
    // A kind the canonical model does not name stays for an Anthropic upstream.
    let adaptive = decode(json!({"type": "adaptive"})).expect("decodes");
    assert_eq!(adaptive.reasoning, None);
    assert_eq!(adaptive.extra["thinking"], json!({"type": "adaptive"}));
    let error = decode(json!({"type": "enabled"})).expect_err("no budget");
    assert_eq!(error.param.as_deref(), Some("thinking.budget_tokens"));
}
