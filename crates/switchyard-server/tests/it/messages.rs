//! Anthropic SDK clients on any model: `POST /v1/messages` in front of an OpenAI
//! upstream and of Anthropic itself, complete and streamed, tools across turns, and
//! every error in Anthropic's shape.

use serde_json::{Value, json};
use switchyard_testkit::{AnthropicScript, Route, Script, StreamEnd};

use crate::anthropic::serve;
use crate::harness::{MASTER_KEY, TestServer};

fn ask(model: &str, text: &str) -> Value {
    json!({"model": model, "max_tokens": 64, "messages": [{"role": "user", "content": text}]})
}

/// The `(event, data)` pairs of an SSE response.
async fn events(response: reqwest::Response) -> Vec<(String, Value)> {
    use eventsource_stream::Eventsource;
    use futures::StreamExt;
    let mut stream = response.bytes_stream().eventsource();
    let mut events = Vec::new();
    while let Some(event) = stream.next().await {
        let event = event.expect("a well-formed SSE event");
        let data = serde_json::from_str(&event.data).expect("JSON data");
        events.push((event.event, data));
    }
    events
}

fn streamed_text(events: &[(String, Value)]) -> String {
    events
        .iter()
        .filter_map(|(_, data)| data["delta"]["text"].as_str())
        .collect()
}

#[tokio::test]
async fn an_openai_model_answers_in_anthropic_shape() {
    let served = serve().await;
    let response = served.messages(ask("gpt", "hi")).await;
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["x-switchyard-provider"],
        "openai",
        "served by the OpenAI deployment"
    );
    let body: Value = response.json().await.expect("JSON");
    assert_eq!(body["type"], "message");
    assert_eq!(body["role"], "assistant");
    assert!(body["id"].as_str().is_some_and(|id| id.starts_with("msg_")));
    assert_eq!(
        body["content"],
        json!([{"type": "text", "text": "echo: hi"}])
    );
    assert_eq!(body["stop_reason"], "end_turn");
    assert!(
        body["usage"]["input_tokens"]
            .as_u64()
            .is_some_and(|n| n > 0),
        "{body}"
    );
    let sent = &served.openai.requests()[0].body;
    assert_eq!(sent["max_tokens"], 64);
    assert_eq!(sent["messages"], json!([{"role": "user", "content": "hi"}]));
}

#[tokio::test]
async fn claude_behind_the_anthropic_route_gets_the_request_as_sent() {
    let served = serve().await;
    let request = json!({
        "model": "claude", "max_tokens": 100,
        "system": [{"type": "text", "text": "Be brief.", "cache_control": {"type": "ephemeral"}}],
        "messages": [{"role": "user", "content": "hi"}],
        "thinking": {"type": "enabled", "budget_tokens": 1024},
        "metadata": {"user_id": "u-1"},
    });
    let response = served.messages(request.clone()).await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.expect("JSON");
    assert_eq!(body["content"][0]["text"], "echo: hi");
    let sent = &served.anthropic.requests()[0].body;
    for field in ["max_tokens", "system", "thinking", "metadata"] {
        assert_eq!(sent[field], request[field], "{field}");
    }
}

#[tokio::test]
async fn a_stream_from_an_openai_model_is_the_anthropic_event_sequence() {
    let served = serve().await;
    let mut request = ask("gpt", "stream me");
    request["stream"] = json!(true);
    let response = served.messages(request).await;
    assert_eq!(response.status(), 200);
    let events = events(response).await;
    let names: Vec<&str> = events.iter().map(|(name, _)| name.as_str()).collect();
    assert_eq!(names.first(), Some(&"message_start"));
    assert_eq!(names[1], "content_block_start");
    assert_eq!(
        &names[names.len() - 3..],
        ["content_block_stop", "message_delta", "message_stop"]
    );
    for (name, data) in &events {
        assert_eq!(
            data["type"],
            name.as_str(),
            "the event name is the data's type"
        );
    }
    assert_eq!(streamed_text(&events), "echo: stream me");
    let (_, delta) = &events[events.len() - 2];
    assert_eq!(delta["delta"]["stop_reason"], "end_turn");
    assert!(
        delta["usage"]["output_tokens"]
            .as_u64()
            .is_some_and(|n| n > 0),
        "{delta}"
    );
}

#[tokio::test]
async fn tool_use_across_turns_reaches_an_openai_model_as_tool_messages() {
    let served = serve().await;
    served.openai.push(
        Route::ChatCompletions,
        Script::Reply {
            status: 200,
            headers: Vec::new(),
            body: json!({
                "id": "chatcmpl-t", "object": "chat.completion", "created": 1, "model": "mock-gpt",
                "choices": [{"index": 0, "finish_reason": "tool_calls", "message": {
                    "role": "assistant", "content": null,
                    "tool_calls": [{"id": "call_1", "type": "function",
                        "function": {"name": "get_weather", "arguments": "{\"city\":\"Paris\"}"}}]}}],
                "usage": {"prompt_tokens": 20, "completion_tokens": 8, "total_tokens": 28}
            }),
        },
    );
    let tools = json!([{"name": "get_weather", "description": "Weather in a city",
        "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}}}]);
    let first = served
        .messages(json!({"model": "gpt", "max_tokens": 64, "tools": tools,
            "messages": [{"role": "user", "content": "Weather in Paris?"}]}))
        .await;
    assert_eq!(first.status(), 200);
    let first: Value = first.json().await.expect("JSON");
    assert_eq!(first["stop_reason"], "tool_use");
    assert_eq!(
        first["content"],
        json!([{"type": "tool_use", "id": "call_1", "name": "get_weather", "input": {"city": "Paris"}}])
    );
    let second = served
        .messages(
            json!({"model": "gpt", "max_tokens": 64, "tools": tools, "messages": [
                {"role": "user", "content": "Weather in Paris?"},
                {"role": "assistant", "content": first["content"]},
                {"role": "user", "content": [
                    {"type": "tool_result", "tool_use_id": "call_1", "content": "18°C"},
                    {"type": "text", "text": "Warm?"}
                ]}
            ]}),
        )
        .await;
    assert_eq!(second.status(), 200);
    let sent = &served.openai.requests()[1].body;
    assert_eq!(sent["tools"][0]["function"]["name"], "get_weather");
    assert_eq!(
        sent["messages"][1]["tool_calls"][0]["function"],
        json!({"name": "get_weather", "arguments": "{\"city\":\"Paris\"}"})
    );
    assert_eq!(
        sent["messages"][2],
        json!({"role": "tool", "tool_call_id": "call_1", "content": "18°C"})
    );
    assert_eq!(
        sent["messages"][3],
        json!({"role": "user", "content": "Warm?"})
    );
}

async fn anthropic_error(response: reqwest::Response, status: u16, kind: &str) -> Value {
    assert_eq!(response.status(), status);
    let body: Value = response.json().await.expect("JSON");
    assert_eq!(body["type"], "error", "{body}");
    assert_eq!(body["error"]["type"], kind, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .is_some_and(|m| !m.is_empty())
    );
    body
}

#[tokio::test]
async fn errors_are_written_the_anthropic_way() {
    let served = serve().await;
    let body = anthropic_error(
        served.messages(ask("nope", "x")).await,
        404,
        "not_found_error",
    )
    .await;
    assert!(
        body["error"]["message"]
            .as_str()
            .expect("text")
            .contains("nope")
    );
    let mut no_limit = ask("gpt", "x");
    no_limit
        .as_object_mut()
        .expect("object")
        .remove("max_tokens");
    let body = anthropic_error(
        served.messages(no_limit).await,
        400,
        "invalid_request_error",
    )
    .await;
    assert!(
        body["error"]["message"]
            .as_str()
            .expect("text")
            .contains("max_tokens")
    );
    let broken = served
        .client
        .post(format!("{}/v1/messages", served.url))
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .expect("a response");
    anthropic_error(broken, 400, "invalid_request_error").await;

    served.anthropic.push(AnthropicScript::error(
        529,
        "overloaded_error",
        "Overloaded",
    ));
    anthropic_error(
        served.messages(ask("claude", "x")).await,
        503,
        "overloaded_error",
    )
    .await;
}

#[tokio::test]
async fn a_missing_key_is_an_anthropic_authentication_error() {
    let server = TestServer::start_with_auth().await;
    let response = server
        .post("/v1/messages")
        .json(&ask("gpt", "x"))
        .send()
        .await
        .expect("answers");
    anthropic_error(response, 401, "authentication_error").await;
    let response = server
        .post("/v1/messages")
        .header("x-api-key", MASTER_KEY)
        .header("anthropic-version", "2023-06-01")
        .json(&ask("gpt", "x"))
        .send()
        .await
        .expect("answers");
    assert_eq!(response.status(), 200);
}

#[tokio::test]
async fn an_upstream_failing_mid_stream_ends_in_an_error_event() {
    let served = serve().await;
    served.openai.push(
        Route::ChatCompletions,
        Script::Stream {
            chunks: vec![json!({"id": "c", "object": "chat.completion.chunk", "created": 1, "model": "m",
                "choices": [{"index": 0, "delta": {"role": "assistant", "content": "Hel"}, "finish_reason": null}]})],
            delay_ms: 0,
            end: StreamEnd::ErrorEvent {
                body: json!({"error": {"message": "The server had an error", "type": "server_error"}}),
            },
        },
    );
    let mut request = ask("gpt", "x");
    request["stream"] = json!(true);
    let events = events(served.messages(request).await).await;
    assert_eq!(streamed_text(&events), "Hel");
    let (name, data) = events.last().expect("events");
    assert_eq!(name, "error");
    assert_eq!(data["error"]["type"], "api_error");
    assert!(!events.iter().any(|(name, _)| name == "message_stop"));
}

#[tokio::test]
async fn count_tokens_estimates_for_an_upstream_that_cannot_count() {
    let served = serve().await;
    let count = |text: &str| {
        let body = json!({"model": "gpt", "messages": [{"role": "user", "content": text}]});
        served
            .client
            .post(format!("{}/v1/messages/count_tokens", served.url))
            .json(&body)
            .send()
    };
    let short = count("Hello, world!").await.expect("answers");
    assert_eq!(short.status(), 200);
    assert_eq!(short.headers()["x-switchyard-token-count"], "estimate");
    let short: Value = short.json().await.expect("JSON");
    // o200k: 4 tokens of text, 1 of role, 3 per message, 3 priming.
    assert_eq!(short, json!({"input_tokens": 11}));
    let long: Value = count("Hello, world! ".repeat(20).as_str())
        .await
        .expect("answers")
        .json()
        .await
        .expect("JSON");
    assert!(long["input_tokens"].as_u64() > short["input_tokens"].as_u64());
    assert!(
        served.openai.requests().is_empty(),
        "counting sends nothing upstream"
    );

    let unknown = served
        .client
        .post(format!("{}/v1/messages/count_tokens", served.url))
        .json(&json!({"model": "nope", "messages": [{"role": "user", "content": "x"}]}))
        .send()
        .await
        .expect("answers");
    anthropic_error(unknown, 404, "not_found_error").await;
}

/// Claude counts its own tokens: the count comes from Anthropic's counting endpoint,
/// sent only what that endpoint takes; a model with Claude after another deployment
/// still gets Claude's count where the first cannot count.
#[tokio::test]
async fn count_tokens_asks_anthropic_for_a_claude_model() {
    let served = serve().await;
    let response = served
        .client
        .post(format!("{}/v1/messages/count_tokens", served.url))
        .json(&json!({"model": "claude", "system": "Be brief.",
                      "messages": [{"role": "user", "content": "How many tokens are these?"}],
                      "tools": [{"name": "get_weather", "input_schema": {"type": "object"}}]}))
        .send()
        .await
        .expect("answers");
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["x-switchyard-token-count"], "exact");
    assert_eq!(response.headers()["x-switchyard-deployment"], "sonnet");
    let count: Value = response.json().await.expect("JSON");
    // The mock counts words: two in `system`, five in the message.
    assert_eq!(count, json!({"input_tokens": 7}));
    let requests = served.anthropic.requests();
    let sent = requests.last().expect("a count request");
    assert_eq!(sent.path, "/v1/messages/count_tokens");
    assert_eq!(sent.body["model"], "claude-sonnet-4-5");
    assert!(sent.body.get("max_tokens").is_none(), "{}", sent.body);
    assert_eq!(sent.body["tools"][0]["name"], "get_weather");

    // When Anthropic cannot count, the count is the estimate, and says so.
    served
        .anthropic
        .push(switchyard_testkit::AnthropicScript::error(
            529,
            "overloaded_error",
            "Overloaded",
        ));
    let estimated = served
        .client
        .post(format!("{}/v1/messages/count_tokens", served.url))
        .json(&json!({"model": "claude", "messages": [{"role": "user", "content": "x"}]}))
        .send()
        .await
        .expect("answers");
    assert_eq!(estimated.status(), 200);
    assert_eq!(estimated.headers()["x-switchyard-token-count"], "estimate");
}
