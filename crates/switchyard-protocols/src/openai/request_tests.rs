use pretty_assertions::assert_eq;
use serde_json::{Value, json};
use switchyard_types::{ContentBlock, ImageSource, MaxTokensField, Role, ToolChoice};

use super::*;

const FULL: &str = include_str!("../../tests/fixtures/openai/request_full.json");

/// OpenAI treats an absent field and an explicit `null` alike; compare without nulls.
fn without_nulls(value: Value) -> Value {
    match value {
        Value::Object(map) => Value::Object(
            map.into_iter()
                .filter(|(_, value)| !value.is_null())
                .map(|(key, value)| (key, without_nulls(value)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.into_iter().map(without_nulls).collect()),
        other => other,
    }
}

#[test]
fn a_same_protocol_hop_loses_nothing() {
    let canonical = decode_chat_request(FULL.as_bytes()).expect("the fixture is valid");
    let wire = from_canonical_request(&canonical, "gpt-4o").expect("encodable");
    let sent = serde_json::to_value(&wire).expect("serializable");
    let original: Value = serde_json::from_str(FULL).expect("fixture is JSON");
    assert_eq!(without_nulls(sent), without_nulls(original));
}

#[test]
fn decodes_every_typed_field() {
    let request = decode_chat_request(FULL.as_bytes()).expect("the fixture is valid");
    assert_eq!(request.model, "gpt-4o");
    assert_eq!(request.messages.len(), 5);
    assert_eq!(request.messages[0].role, Role::Developer);

    let user = &request.messages[1];
    assert_eq!(user.name.as_deref(), Some("alice"));
    assert!(
        matches!(&user.content[0], ContentBlock::Text { extra, .. } if extra.contains_key("cache_control"))
    );
    assert!(matches!(
        &user.content[1],
        ContentBlock::Image {
            source: ImageSource::Url { .. },
            ..
        }
    ));
    assert_eq!(
        user.content[2],
        ContentBlock::Image {
            source: ImageSource::Base64 {
                media_type: "image/png".into(),
                data: "iVBORw0KGgo=".into()
            },
            detail: None,
            extra: Default::default(),
        }
    );
    assert!(
        matches!(&user.content[3], ContentBlock::Opaque { protocol, .. } if protocol == "openai")
    );

    assert_eq!(
        request.messages[2].content,
        vec![ContentBlock::ToolCall {
            id: "call_abc123".into(),
            name: "get_current_weather".into(),
            arguments: r#"{"location": "Paris, France"}"#.into(),
        }]
    );
    assert!(matches!(
        &request.messages[3].content[0],
        ContentBlock::ToolResult { tool_call_id, .. } if tool_call_id == "call_abc123"
    ));
    assert_eq!(request.tools[0].name, "get_current_weather");
    assert_eq!(
        request.tool_choice,
        Some(ToolChoice::Function {
            name: "get_current_weather".into()
        })
    );
    assert_eq!(request.sampling.max_tokens, Some(256));
    assert_eq!(
        request.sampling.max_tokens_field,
        MaxTokensField::MaxCompletionTokens
    );
    assert_eq!(request.sampling.n, Some(2));
    assert_eq!(request.sampling.top_logprobs, Some(3));
    assert!(request.stream && request.stream_include_usage);
    assert_eq!(request.extra.get("top_k"), Some(&json!(40)));
}

fn decode_error(body: Value) -> DecodeError {
    decode_chat_request(body.to_string().as_bytes()).expect_err("the request is invalid")
}

#[test]
fn errors_name_the_offending_field() {
    let cases = [
        (
            json!({"model": "m", "messages": [{"role": "user", "content": 5}]}),
            "messages[0].content",
            "`messages[0].content`: invalid type: integer `5`, expected a string, an array of content parts, or null",
        ),
        (
            json!({"model": "m", "messages": [{"role": "robot", "content": "hi"}]}),
            "messages[0].role",
            "`messages[0].role`: unknown role `robot`; expected one of `system`, `developer`, `user`, `assistant`, `tool`",
        ),
        (
            json!({"model": "m", "messages": [{"role": "tool", "content": "42"}]}),
            "messages[0].tool_call_id",
            "`messages[0].tool_call_id`: is required for `tool` messages",
        ),
        (
            json!({"model": "m", "messages": [{"role": "user", "content": "hi"}], "temperature": 3}),
            "temperature",
            "`temperature`: must be between 0 and 2, got 3",
        ),
        (
            json!({"model": "m", "messages": [{"role": "user", "content": "hi"}], "max_tokens": "ten"}),
            "max_tokens",
            "`max_tokens`: invalid type: string \"ten\", expected u32",
        ),
        (
            json!({"model": "m", "messages": []}),
            "messages",
            "`messages`: must contain at least one message",
        ),
        (
            json!({"model": "m", "messages": [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "data:image/png;base64,%%%"}}]}]}),
            "messages[0].content[0].image_url.url",
            "`messages[0].content[0].image_url.url`: the `data:` URL payload is not valid base64",
        ),
        (
            json!({"model": "m", "messages": [{"role": "user", "content": "hi"}], "tools": [{"type": "web_search"}]}),
            "tools[0].type",
            "`tools[0].type`: unsupported tool type `web_search`; expected `function`",
        ),
        (
            json!({"model": "m", "messages": [{"role": "user", "content": "hi"}], "tool_choice": "sometimes"}),
            "tool_choice",
            "`tool_choice`: unknown mode `sometimes`; expected `auto`, `none` or `required`",
        ),
        (
            json!({"model": "m", "messages": [{"role": "user", "content": "hi"}], "tool_choice": 1}),
            "tool_choice",
            "`tool_choice`: invalid type: integer `1`, expected `auto`, `none`, `required` or a tool choice object",
        ),
        (
            json!({"model": "m", "messages": [{"role": "user", "content": "hi"}], "tool_choice": {"type": "function", "function": {}}}),
            "tool_choice.function",
            "`tool_choice.function`: missing field `name`",
        ),
        (
            json!({"model": "m", "messages": [{"role": "user", "content": "hi"}], "tool_choice": {"type": "allowed_tools", "allowed_tools": {"mode": "maybe", "tools": []}}}),
            "tool_choice.allowed_tools.mode",
            "`tool_choice.allowed_tools.mode`: unknown mode `maybe`; expected `auto` or `required`",
        ),
        (
            json!({"model": "m", "messages": [{"role": "user", "content": "hi"}], "tool_choice": {"type": "custom", "custom": {"name": "x"}}}),
            "tool_choice.type",
            "`tool_choice.type`: unsupported tool choice type `custom`; expected `function` or `allowed_tools`",
        ),
    ];
    for (body, param, message) in cases {
        let error = decode_error(body.clone());
        assert_eq!(error.param.as_deref(), Some(param), "for {body}");
        assert_eq!(error.message, message, "for {body}");
    }
}

#[test]
fn a_missing_model_is_named() {
    let error = decode_error(json!({"messages": [{"role": "user", "content": "hi"}]}));
    assert_eq!(error.message, "invalid request body: missing field `model`");
}

#[test]
fn opaque_parts_from_another_protocol_are_refused_by_name() {
    let mut request = decode_chat_request(
        json!({"model": "m", "messages": [{"role": "user", "content": "hi"}]})
            .to_string()
            .as_bytes(),
    )
    .expect("valid");
    request.messages[0].content = vec![ContentBlock::Opaque {
        protocol: "anthropic".into(),
        value: json!({"type": "document"}),
    }];
    let error = from_canonical_request(&request, "m").expect_err("cannot express it");
    assert_eq!(error.param.as_deref(), Some("messages[0].content[0]"));
    assert!(
        error
            .message
            .contains("`document` part from the anthropic protocol")
    );
}

#[test]
fn streaming_requests_always_ask_the_upstream_for_usage() {
    let request = decode_chat_request(
        json!({"model": "m", "messages": [{"role": "user", "content": "hi"}], "stream": true})
            .to_string()
            .as_bytes(),
    )
    .expect("valid");
    assert!(!request.stream_include_usage);
    let wire = from_canonical_request(&request, "upstream-m").expect("encodable");
    assert_eq!(wire.model, "upstream-m");
    assert_eq!(
        serde_json::to_value(wire.stream_options).expect("serializable"),
        json!({"include_usage": true})
    );
}

#[test]
fn allowed_tools_survive_a_same_protocol_hop() {
    let body = json!({
        "model": "m",
        "messages": [{"role": "user", "content": "weather?"}],
        "tools": [
            {"type": "function", "function": {"name": "get_weather"}},
            {"type": "function", "function": {"name": "get_time"}}
        ],
        "tool_choice": {"type": "allowed_tools", "allowed_tools": {
            "mode": "required",
            "tools": [{"type": "function", "function": {"name": "get_weather"}}]
        }}
    });
    let request = decode_chat_request(body.to_string().as_bytes()).expect("valid");
    assert_eq!(
        request.tool_choice,
        Some(ToolChoice::Allowed {
            names: vec!["get_weather".into()],
            required: true
        })
    );
    let wire = from_canonical_request(&request, "m").expect("encodable");
    assert_eq!(
        serde_json::to_value(&wire).expect("serializable")["tool_choice"],
        body["tool_choice"]
    );
}

/// One reasoning setting, each vendor's words: an effort level becomes a thinking
/// budget and back through one table.
#[test]
fn reasoning_translates_between_effort_levels_and_thinking_budgets() {
    use switchyard_types::Reasoning;

    let request = decode_chat_request(
        json!({"model": "m", "reasoning_effort": "high", "messages": [{"role": "user", "content": "x"}]})
            .to_string()
            .as_bytes(),
    )
    .expect("decodes");
    assert_eq!(request.reasoning, Some(Reasoning::effort("high")));
    assert!(!request.extra.contains_key("reasoning_effort"));
    let sent = from_canonical_request(&request, "o4").expect("encodes");
    assert_eq!(sent.extra["reasoning_effort"], "high");

    // A budget (from Anthropic's `thinking`) reaches OpenAI as the nearest level.
    for (budget, level) in [
        (0, "none"),
        (1024, "low"),
        (4096, "medium"),
        (32000, "high"),
    ] {
        let request = ChatRequest {
            reasoning: Some(Reasoning::budget(budget)),
            ..ChatRequest::default()
        };
        let sent = from_canonical_request(&request, "o4").expect("encodes");
        assert_eq!(sent.extra["reasoning_effort"], level, "{budget}");
    }
    // And a level reaches Anthropic as a budget, `none` as thinking off.
    for (level, thinking) in [
        ("low", json!({"type": "enabled", "budget_tokens": 1024})),
        ("xhigh", json!({"type": "enabled", "budget_tokens": 24576})),
        ("none", json!({"type": "disabled"})),
    ] {
        let request = ChatRequest {
            reasoning: Some(Reasoning::effort(level)),
            messages: vec![switchyard_types::Message::text(
                switchyard_types::Role::User,
                "x",
            )],
            ..ChatRequest::default()
        };
        let sent = crate::anthropic::from_canonical_request(
            &request,
            "claude",
            crate::anthropic::EncodeOptions::default(),
        )
        .expect("encodes");
        assert_eq!(sent.extra["thinking"], thinking, "{level}");
    }
    let unknown = ChatRequest {
        reasoning: Some(Reasoning::effort("ultra")),
        messages: vec![switchyard_types::Message::text(
            switchyard_types::Role::User,
            "x",
        )],
        ..ChatRequest::default()
    };
    let error = crate::anthropic::from_canonical_request(
        &unknown,
        "claude",
        crate::anthropic::EncodeOptions::default(),
    )
    .expect_err("no budget for this level");
    assert_eq!(error.param.as_deref(), Some("reasoning_effort"));
}
