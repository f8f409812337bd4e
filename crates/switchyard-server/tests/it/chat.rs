//! Non-streaming chat completions: what reaches the upstream, what comes back, fallback.

use pretty_assertions::assert_eq;
use serde_json::{Value, json};
use switchyard_testkit::{Route, Script, fixtures};

use crate::harness::{TestServer, UPSTREAM_KEY, header, user};

#[tokio::test]
async fn answers_and_names_what_served_it() {
    let server = TestServer::start().await;
    let response = server
        .post("/v1/chat/completions")
        .header("x-request-id", "req-42")
        .json(&json!({"model": "gpt", "messages": user("hi there")}))
        .send()
        .await
        .expect("answer");
    assert_eq!(response.status(), 200);
    assert_eq!(header(&response, "x-request-id"), Some("req-42"));
    assert_eq!(header(&response, "x-switchyard-model"), Some("gpt"));
    assert_eq!(
        header(&response, "x-switchyard-deployment"),
        Some("primary")
    );
    assert_eq!(header(&response, "x-switchyard-provider"), Some("mock"));
    assert_eq!(header(&response, "x-switchyard-attempts"), Some("1"));
    let body: Value = response.json().await.expect("JSON");
    assert_eq!(body["object"], "chat.completion");
    assert_eq!(body["choices"][0]["message"]["content"], "echo: hi there");
    assert_eq!(body["choices"][0]["finish_reason"], "stop");
    assert_eq!(body["usage"]["prompt_tokens"], 2);
    assert_eq!(body["usage"]["completion_tokens"], 3);
}

#[tokio::test]
async fn generates_a_request_id_when_the_caller_sends_none() {
    let server = TestServer::start().await;
    let response = server
        .chat(json!({"model": "gpt", "messages": user("x")}))
        .await;
    let id = header(&response, "x-request-id").expect("an id").to_owned();
    assert_eq!(id.len(), 32, "32 hex digits: {id}");
    assert!(id.bytes().all(|byte| byte.is_ascii_hexdigit()), "{id}");
    // The same id travels upstream for correlation.
    let upstream = &server.primary.requests()[0];
    assert_eq!(upstream.header("x-request-id"), Some(id.as_str()));

    let next = server
        .chat(json!({"model": "gpt", "messages": user("x")}))
        .await;
    assert_ne!(header(&next, "x-request-id"), Some(id.as_str()));
}

#[tokio::test]
async fn replaces_a_request_id_too_long_to_log() {
    let server = TestServer::start().await;
    let long = "r".repeat(129);
    let response = server
        .post("/v1/chat/completions")
        .header("x-request-id", &long)
        .json(&json!({"model": "gpt", "messages": user("x")}))
        .send()
        .await
        .expect("answer");
    assert_eq!(response.status(), 200);
    let id = header(&response, "x-request-id").expect("an id");
    assert_eq!(id.len(), 32, "a generated id: {id}");
    let longest = "r".repeat(128);
    let response = server
        .post("/v1/chat/completions")
        .header("x-request-id", &longest)
        .json(&json!({"model": "gpt", "messages": user("x")}))
        .send()
        .await
        .expect("answer");
    assert_eq!(header(&response, "x-request-id"), Some(longest.as_str()));
}

#[tokio::test]
async fn sends_the_request_upstream_unchanged_but_for_the_model_id() {
    let server = TestServer::start().await;
    let request = json!({
        "model": "gpt",
        "messages": [
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": [
                {"type": "text", "text": "What is this?"},
                {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo=", "detail": "high"}}
            ]},
            {"role": "assistant", "content": null, "tool_calls": [
                {"id": "call_1", "type": "function", "function": {"name": "lookup", "arguments": "{\"q\":\"x\"}"}}
            ]},
            {"role": "tool", "tool_call_id": "call_1", "content": "found"}
        ],
        "tools": [{"type": "function", "function": {"name": "lookup", "parameters": {"type": "object"}}}],
        "tool_choice": "auto",
        "parallel_tool_calls": false,
        "response_format": {"type": "json_schema", "json_schema": {"name": "answer", "schema": {"type": "object"}, "strict": true}},
        "temperature": 0.2,
        "top_p": 0.5,
        "max_completion_tokens": 64,
        "stop": ["END"],
        "seed": 7,
        "presence_penalty": 0.1,
        "frequency_penalty": 0.2,
        "logprobs": true,
        "top_logprobs": 2,
        "user": "u-1",
        "metadata": {"team": "search"},
        "top_k": 40,
        "chat_template_kwargs": {"enable_thinking": false}
    });
    let response = server.chat(request.clone()).await;
    assert_eq!(response.status(), 200);

    let received = &server.primary.requests()[0];
    assert_eq!(received.path, "/v1/chat/completions");
    assert_eq!(
        received.header("authorization"),
        Some(format!("Bearer {UPSTREAM_KEY}").as_str())
    );
    let mut expected = request;
    expected["model"] = json!("mock-gpt");
    // `content: null` and an absent `content` mean the same in this protocol.
    expected["messages"][2]
        .as_object_mut()
        .expect("message")
        .remove("content");
    assert_eq!(received.body, expected);
}

#[tokio::test]
async fn keeps_tool_calls_logprobs_and_usage_details_from_the_upstream() {
    let server = TestServer::start().await;
    server.primary.push(
        Route::ChatCompletions,
        Script::reply(fixtures::chat_completion_with_tool_calls(
            "mock-gpt",
            &[
                ("call_a", "get_weather", r#"{"city":"Paris"}"#),
                ("call_b", "get_time", r#"{"tz":"CET"}"#),
            ],
        )),
    );
    let response = server
        .chat(json!({"model": "gpt", "messages": user("weather?")}))
        .await;
    let body: Value = response.json().await.expect("JSON");
    let choice = &body["choices"][0];
    assert_eq!(choice["finish_reason"], "tool_calls");
    assert_eq!(choice["message"]["content"], Value::Null);
    let calls = choice["message"]["tool_calls"].as_array().expect("calls");
    assert_eq!(calls.len(), 2);
    assert_eq!(calls[0]["id"], "call_a");
    assert_eq!(calls[0]["function"]["arguments"], r#"{"city":"Paris"}"#);
    assert_eq!(calls[1]["function"]["name"], "get_time");
    assert!(body["usage"]["completion_tokens_details"].is_object());
}

#[tokio::test]
async fn falls_back_to_the_next_deployment_when_the_first_fails() {
    let server = TestServer::start().await;
    server.primary.push(
        Route::ChatCompletions,
        Script::error(
            500,
            fixtures::error_body("boom", "server_error", None, None),
        ),
    );
    let response = server
        .chat(json!({"model": "gpt-ha", "messages": user("hi")}))
        .await;
    assert_eq!(response.status(), 200);
    assert_eq!(header(&response, "x-switchyard-deployment"), Some("backup"));
    assert_eq!(header(&response, "x-switchyard-attempts"), Some("2"));
    let body: Value = response.json().await.expect("JSON");
    assert_eq!(body["model"], "backup-gpt");
    assert_eq!(server.primary.requests().len(), 1);
    assert_eq!(server.backup.requests().len(), 1);
}

#[tokio::test]
async fn does_not_fall_back_when_the_request_itself_is_wrong() {
    let server = TestServer::start().await;
    server.primary.push(
        Route::ChatCompletions,
        Script::error(
            400,
            fixtures::error_body(
                "Invalid value for 'temperature'",
                "invalid_request_error",
                Some("temperature"),
                Some("invalid_value"),
            ),
        ),
    );
    let response = server
        .chat(json!({"model": "gpt-ha", "messages": user("hi")}))
        .await;
    assert_eq!(response.status(), 400);
    let body: Value = response.json().await.expect("JSON");
    assert_eq!(body["error"]["param"], "temperature");
    assert_eq!(body["error"]["code"], "invalid_value");
    assert!(
        body["error"]["message"]
            .as_str()
            .expect("message")
            .contains("Invalid value for 'temperature'")
    );
    assert!(server.backup.requests().is_empty());
}

/// Azure OpenAI's routes: the deployment in the path is the public model; the body's
/// `model`, if any, does not matter; the `api-key` header carries the master key.
#[tokio::test]
async fn azure_deployment_routes_take_the_model_from_the_path() {
    let server = TestServer::start_with_auth().await;
    let response = server
        .post("/openai/deployments/gpt/chat/completions?api-version=2024-10-21")
        .header("api-key", crate::harness::MASTER_KEY)
        .json(&serde_json::json!({"messages": user("from azure")}))
        .send()
        .await
        .expect("answers");
    assert_eq!(response.status(), 200);
    assert_eq!(header(&response, "x-switchyard-model"), Some("gpt"));
    let body: serde_json::Value = response.json().await.expect("JSON");
    assert_eq!(body["choices"][0]["message"]["content"], "echo: from azure");

    let response = server
        .post("/openai/deployments/org%2Fembed/embeddings?api-version=2024-10-21")
        .header("api-key", crate::harness::MASTER_KEY)
        .json(&serde_json::json!({"input": "x", "model": "ignored"}))
        .send()
        .await
        .expect("answers");
    assert_eq!(response.status(), 200, "{:?}", response.text().await);

    let response = server
        .post("/openai/deployments/gpt/chat/completions?api-version=2024-10-21")
        .json(&serde_json::json!({"messages": user("no key")}))
        .send()
        .await
        .expect("answers");
    assert_eq!(response.status(), 401);

    let response = server
        .post("/openai/deployments/gpt/chat/completions")
        .header("api-key", crate::harness::MASTER_KEY)
        .body("[not an object]")
        .header("content-type", "application/json")
        .send()
        .await
        .expect("answers");
    assert_eq!(response.status(), 400);
}

#[tokio::test]
async fn fields_that_buy_a_dearer_service_are_refused_unless_the_operator_allows_them() {
    let server = TestServer::start().await;
    for (field, value) in [
        ("service_tier", json!("priority")),
        ("modalities", json!(["text", "audio"])),
        ("web_search_options", json!({})),
        ("store", json!(true)),
    ] {
        let mut body = json!({"model": "gpt", "messages": [{"role": "user", "content": "hi"}]});
        body[field] = value;
        let response = server.chat(body).await;
        assert_eq!(response.status(), 400, "{field}");
        let error: Value = response.json().await.expect("JSON");
        assert_eq!(error["error"]["param"], field, "{error}");
    }
    let plain = server
        .chat(
            json!({"model": "gpt", "service_tier": "auto", "store": false,
                     "messages": [{"role": "user", "content": "hi"}]}),
        )
        .await;
    assert_eq!(
        plain.status(),
        200,
        "the default tier asks for nothing more"
    );
    assert_eq!(server.primary.requests_to(Route::ChatCompletions).len(), 1);

    let allowing = TestServer::start_with(r#"passthrough_fields = ["service_tier"]"#).await;
    let allowed = allowing
        .chat(json!({"model": "gpt", "service_tier": "priority",
                     "messages": [{"role": "user", "content": "hi"}]}))
        .await;
    assert_eq!(allowed.status(), 200);
    let sent = allowing.primary.requests_to(Route::ChatCompletions);
    assert_eq!(sent[0].body["service_tier"], "priority");
}
