use pretty_assertions::assert_eq;
use serde_json::{Value, json};
use switchyard_types::{
    ChatResponse, Choice, ContentBlock, FinishReason, Message, ResponseFormat, Role, StreamEvent,
    ToolChoice, Usage,
};

use super::*;

fn decode(body: Value) -> Result<ResponseRequest, crate::DecodeError> {
    decode_response_request(body.to_string().as_bytes())
}

#[test]
fn a_string_input_is_one_user_turn_after_the_instructions() {
    let request = decode(json!({
        "model": "m", "input": "hi", "instructions": "Be brief.", "max_output_tokens": 50,
        "temperature": 0.2, "service_tier": "flex"
    }))
    .expect("a valid request");
    let chat = &request.chat;
    assert_eq!(chat.messages[0], Message::text(Role::System, "Be brief."));
    assert_eq!(chat.messages[1], Message::text(Role::User, "hi"));
    assert_eq!(chat.sampling.max_tokens, Some(50));
    assert_eq!(chat.extra["service_tier"], "flex");
    assert!(request.store, "responses are stored unless asked not to be");
    assert_eq!(request.items.len(), 1);
    let item = &request.items[0];
    assert_eq!(item["type"], "message");
    assert!(item["id"].as_str().is_some_and(|id| id.starts_with("msg_")));
    assert_eq!(
        item["content"],
        json!([{"type": "input_text", "text": "hi"}])
    );
    let settings = &request.settings;
    assert_eq!(settings["instructions"], "Be brief.");
    assert_eq!(settings["temperature"], 0.2);
    assert_eq!(settings["top_p"], 1.0);
    assert_eq!(settings["tool_choice"], "auto");
    assert_eq!(settings["text"], json!({"format": {"type": "text"}}));
}

#[test]
fn items_become_turns_with_tool_calls_joined_to_their_assistant_turn() {
    let request = decode(json!({
        "model": "m",
        "input": [
            {"role": "user", "content": [{"type": "input_text", "text": "Weather in Paris?"},
                                         {"type": "input_image", "image_url": "https://example.com/p.png", "detail": "low"}]},
            {"type": "reasoning", "id": "rs_1", "summary": [{"type": "summary_text", "text": "Need a tool."}]},
            {"type": "function_call", "call_id": "call_1", "name": "weather", "arguments": "{\"city\":\"Paris\"}"},
            {"type": "function_call_output", "call_id": "call_1", "output": "18C"},
            {"role": "assistant", "content": "It is 18C."},
            {"type": "message", "role": "user", "content": "Thanks"}
        ]
    }))
    .expect("a valid request");
    let messages = &request.chat.messages;
    assert_eq!(messages.len(), 5);
    assert_eq!(messages[0].role, Role::User);
    assert!(matches!(messages[0].content[1], ContentBlock::Image { .. }));
    assert_eq!(messages[1].role, Role::Assistant);
    assert_eq!(
        messages[1].content,
        vec![
            ContentBlock::Reasoning {
                text: "Need a tool.".into(),
                signature: None
            },
            ContentBlock::ToolCall {
                id: "call_1".into(),
                name: "weather".into(),
                arguments: "{\"city\":\"Paris\"}".into()
            },
        ]
    );
    assert_eq!(
        messages[2].content,
        vec![ContentBlock::ToolResult {
            tool_call_id: "call_1".into(),
            content: vec![ContentBlock::text("18C")],
            is_error: false
        }]
    );
    assert_eq!(messages[3], Message::text(Role::Assistant, "It is 18C."));
    assert_eq!(messages[4], Message::text(Role::User, "Thanks"));
    // Every item is kept in full, with an id.
    assert_eq!(request.items[1]["id"], "rs_1");
    assert!(
        request.items[2]["id"]
            .as_str()
            .is_some_and(|id| id.starts_with("fc_"))
    );
    assert_eq!(
        request.items[4]["content"],
        json!([{"type": "output_text", "text": "It is 18C.", "annotations": []}])
    );
}

#[test]
fn tools_choice_and_format_map_to_canonical() {
    let request = decode(json!({
        "model": "m", "input": "x",
        "tools": [{"type": "function", "name": "weather", "parameters": {"type": "object"}, "strict": true}],
        "tool_choice": {"type": "function", "name": "weather"},
        "text": {"format": {"type": "json_schema", "name": "out", "schema": {"type": "object"}, "strict": true}},
        "reasoning": {"effort": "low"},
        "include": ["message.output_text.logprobs"], "top_logprobs": 2
    }))
    .expect("a valid request");
    let chat = &request.chat;
    assert_eq!(chat.tools[0].name, "weather");
    assert_eq!(chat.tools[0].strict, Some(true));
    assert_eq!(
        chat.tool_choice,
        Some(ToolChoice::Function {
            name: "weather".into()
        })
    );
    assert!(matches!(
        chat.response_format,
        Some(ResponseFormat::JsonSchema { ref name, .. }) if name == "out"
    ));
    assert_eq!(
        chat.reasoning,
        Some(switchyard_types::Reasoning::effort("low"))
    );
    assert_eq!(chat.sampling.logprobs, Some(true));
    assert_eq!(chat.sampling.top_logprobs, Some(2));
}

#[test]
fn what_cannot_be_served_is_refused_by_name() {
    let cases = [
        (json!({"model": "m", "input": 5}), "input"),
        (
            json!({"model": "m", "input": [{"role": "robot", "content": "x"}]}),
            "input[0].role",
        ),
        (
            json!({"model": "m", "input": [{"type": "item_reference", "id": "msg_1"}]}),
            "input[0].type",
        ),
        (
            json!({"model": "m", "input": [{"role": "user", "content": [{"type": "input_file", "file_id": "f"}]}]}),
            "input[0].content[0].type",
        ),
        (
            json!({"model": "m", "input": [{"type": "function_call", "name": "f", "arguments": "{}"}]}),
            "input[0].call_id",
        ),
        (
            json!({"model": "m", "input": "x", "tools": [{"type": "web_search"}]}),
            "tools[0].type",
        ),
        (
            json!({"model": "m", "input": "x", "background": true}),
            "background",
        ),
        (
            json!({"model": "m", "input": "x", "truncation": "auto"}),
            "truncation",
        ),
        (
            json!({"model": "m", "input": "x", "tool_choice": "sometimes"}),
            "tool_choice",
        ),
    ];
    for (body, param) in cases {
        let error = decode(body.clone()).expect_err(&body.to_string());
        assert_eq!(error.param.as_deref(), Some(param), "{body}: {error}");
    }
}

#[test]
fn a_continued_conversation_puts_the_stored_items_first_and_instructions_before_all() {
    let mut request =
        decode(json!({"model": "m", "input": "And Spain?", "instructions": "Short."}))
            .expect("a valid request");
    let earlier = vec![
        json!({"type": "message", "id": "msg_a", "role": "user", "content": [{"type": "input_text", "text": "Capital of France?"}]}),
        json!({"type": "message", "id": "msg_b", "role": "assistant", "status": "completed",
               "content": [{"type": "output_text", "text": "Paris.", "annotations": [], "logprobs": []}]}),
    ];
    request.continue_from(earlier).expect("continues");
    let texts: Vec<(Role, String)> = request
        .chat
        .messages
        .iter()
        .map(|message| (message.role, message.text_content()))
        .collect();
    assert_eq!(
        texts,
        [
            (Role::System, "Short.".into()),
            (Role::User, "Capital of France?".into()),
            (Role::Assistant, "Paris.".into()),
            (Role::User, "And Spain?".into()),
        ]
    );
    assert_eq!(request.items.len(), 3);
}

fn answer(content: Vec<ContentBlock>, finish: FinishReason) -> ChatResponse {
    ChatResponse {
        id: "chatcmpl-1".into(),
        model: "gpt-x".into(),
        created: 1,
        choices: vec![Choice {
            index: 0,
            message: Message {
                role: Role::Assistant,
                content,
                name: None,
                content_is_text: false,
                extra: Default::default(),
            },
            finish_reason: Some(finish),
            logprobs: None,
            extra: Default::default(),
        }],
        usage: Some(Usage {
            input_tokens: 10,
            output_tokens: 5,
            cached_input_tokens: Some(2),
            ..Usage::default()
        }),
        extra: Default::default(),
    }
}

#[test]
fn an_answer_becomes_output_items_in_order() {
    let request = decode(json!({"model": "m", "input": "x"})).expect("a valid request");
    let answer = answer(
        vec![
            ContentBlock::Reasoning {
                text: "hmm".into(),
                signature: None,
            },
            ContentBlock::text("Let me look."),
            ContentBlock::ToolCall {
                id: "call_9".into(),
                name: "weather".into(),
                arguments: "{}".into(),
            },
        ],
        FinishReason::ToolCalls,
    );
    let object = response_object("resp_1", 7, &request.settings, &answer);
    let value = serde_json::to_value(&object).expect("serializes");
    assert_eq!(value["object"], "response");
    assert_eq!(value["status"], "completed");
    assert_eq!(value["model"], "gpt-x");
    let kinds: Vec<&str> = object
        .output
        .iter()
        .map(|item| item["type"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(kinds, ["reasoning", "message", "function_call"]);
    assert_eq!(object.output[1]["content"][0]["text"], "Let me look.");
    assert_eq!(object.output[2]["call_id"], "call_9");
    assert_eq!(
        value["usage"],
        json!({"input_tokens": 10, "input_tokens_details": {"cached_tokens": 2},
               "output_tokens": 5, "output_tokens_details": {"reasoning_tokens": 0}, "total_tokens": 15})
    );
    assert_eq!(value["tool_choice"], "auto");

    let cut = response_object(
        "resp_2",
        7,
        &request.settings,
        &self::answer(vec![ContentBlock::text("Par")], FinishReason::Length),
    );
    assert_eq!(cut.status, "incomplete");
    assert_eq!(
        cut.incomplete_details,
        Some(json!({"reason": "max_output_tokens"}))
    );
}

fn start() -> StreamEvent {
    StreamEvent::Start {
        id: "chatcmpl-1".into(),
        model: "gpt-x".into(),
        created: 1,
        extra: Default::default(),
    }
}

#[test]
fn a_stream_opens_grows_and_closes_each_item_then_completes() {
    let request = decode(json!({"model": "m", "input": "x"})).expect("a valid request");
    let mut encoder = ResponseEventEncoder::new("resp_s".into(), 9, request.settings.clone(), "m");
    let mut events = encoder.encode(vec![start()]);
    events.extend(encoder.encode(vec![StreamEvent::TextDelta {
        choice: 0,
        text: "Hel".into(),
    }]));
    events.extend(encoder.encode(vec![StreamEvent::TextDelta {
        choice: 0,
        text: "lo".into(),
    }]));
    events.extend(encoder.encode(vec![StreamEvent::ToolCallDelta {
        choice: 0,
        index: 0,
        id: Some("call_1".into()),
        name: Some("weather".into()),
        arguments: "{\"ci".into(),
    }]));
    events.extend(encoder.encode(vec![StreamEvent::ToolCallDelta {
        choice: 0,
        index: 0,
        id: None,
        name: None,
        arguments: "ty\":1}".into(),
    }]));
    events.extend(encoder.encode(vec![
        StreamEvent::Finish {
            choice: 0,
            reason: FinishReason::ToolCalls,
        },
        StreamEvent::Usage(Usage {
            input_tokens: 3,
            output_tokens: 4,
            ..Usage::default()
        }),
    ]));
    let (last, response) = encoder.finish();
    events.extend(last);
    let names: Vec<&str> = events.iter().map(|event| event.name).collect();
    assert_eq!(
        names,
        [
            "response.created",
            "response.in_progress",
            "response.output_item.added",
            "response.content_part.added",
            "response.output_text.delta",
            "response.output_text.delta",
            "response.output_text.done",
            "response.content_part.done",
            "response.output_item.done",
            "response.output_item.added",
            "response.function_call_arguments.delta",
            "response.function_call_arguments.delta",
            "response.function_call_arguments.done",
            "response.output_item.done",
            "response.completed",
        ]
    );
    for (number, event) in events.iter().enumerate() {
        assert_eq!(event.data["sequence_number"], number as u64);
        assert_eq!(event.data["type"], event.name);
    }
    assert_eq!(events[0].data["response"]["status"], "in_progress");
    assert_eq!(events[0].data["response"]["model"], "gpt-x");
    assert_eq!(events[6].data["text"], "Hello");
    assert_eq!(events[12].data["arguments"], "{\"city\":1}");
    // An item keeps its id from added to done, and the final response lists the items.
    assert_eq!(events[2].data["item"]["id"], events[8].data["item"]["id"]);
    assert_eq!(response.output.len(), 2);
    assert_eq!(response.output[1]["call_id"], "call_1");
    assert_eq!(events[14].data["response"]["usage"]["total_tokens"], 7);
    assert_eq!(response.status, "completed");
}

#[test]
fn a_failed_stream_ends_with_error_then_response_failed() {
    let mut encoder = ResponseEventEncoder::new("resp_f".into(), 9, Default::default(), "m");
    let mut events = encoder.encode(vec![start()]);
    events.extend(encoder.encode(vec![StreamEvent::TextDelta {
        choice: 0,
        text: "Hi".into(),
    }]));
    events.extend(encoder.fail("server_error", "the upstream hung up", None));
    let names: Vec<&str> = events.iter().map(|event| event.name).collect();
    assert_eq!(
        &names[names.len() - 5..],
        [
            "response.output_text.done",
            "response.content_part.done",
            "response.output_item.done",
            "error",
            "response.failed"
        ]
    );
    let failed = &events.last().expect("an event").data["response"];
    assert_eq!(failed["status"], "failed");
    assert_eq!(failed["error"]["message"], "the upstream hung up");
}

#[test]
fn the_answers_logprobs_are_carried_once() {
    let request = decode(json!({"model": "m", "input": "x"})).expect("a valid request");
    let mut answer = answer(
        vec![
            ContentBlock::text("Before."),
            ContentBlock::ToolCall {
                id: "call_1".into(),
                name: "f".into(),
                arguments: "{}".into(),
            },
            ContentBlock::text("After."),
        ],
        FinishReason::Stop,
    );
    answer.choices[0].logprobs = Some(vec![switchyard_types::TokenLogprob {
        token: "Before.".into(),
        logprob: Some(-0.1),
        bytes: None,
        top_logprobs: Vec::new(),
    }]);
    let object = response_object("resp_l", 1, &request.settings, &answer);
    let logprobs: Vec<usize> = object
        .output
        .iter()
        .filter(|item| item["type"] == "message")
        .map(|item| {
            item["content"][0]["logprobs"]
                .as_array()
                .map_or(0, Vec::len)
        })
        .collect();
    assert_eq!(logprobs, [1, 0]);
}
