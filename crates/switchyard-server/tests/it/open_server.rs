//! A server without master keys answers this machine's programs, never web pages:
//! a cross-site `text/plain` POST, a foreign `Origin` and a rebound `Host` are refused
//! in the caller's protocol; a server with master keys needs none of it.

use serde_json::{Value, json};

use crate::harness::{TestServer, user};

fn hello() -> Value {
    json!({"model": "gpt", "messages": user("hi"), "max_tokens": 5})
}

#[tokio::test]
async fn an_open_server_refuses_what_only_a_web_page_sends() {
    let server = TestServer::start().await;
    let served = server.chat(hello()).await;
    assert_eq!(served.status(), 200, "a local program with JSON is served");

    let plain = server
        .post("/v1/chat/completions")
        .header("content-type", "text/plain")
        .body(hello().to_string())
        .send()
        .await
        .expect("answers");
    assert_eq!(plain.status(), 415);
    let body: Value = plain.json().await.expect("JSON");
    assert_eq!(body["error"]["code"], "unsupported_media_type", "{body}");

    let foreign = server
        .post("/v1/chat/completions")
        .header("origin", "https://evil.example")
        .json(&hello())
        .send()
        .await
        .expect("answers");
    assert_eq!(foreign.status(), 403);

    let rebound = server
        .post("/v1/chat/completions")
        .header("host", "attacker.example:8080")
        .json(&hello())
        .send()
        .await
        .expect("answers");
    assert_eq!(rebound.status(), 403);
    let body: Value = rebound.json().await.expect("JSON");
    assert!(
        body["error"]["message"]
            .as_str()
            .is_some_and(|message| message.contains("allowed_hosts")),
        "{body}"
    );

    // Anthropic's routes refuse in Anthropic's shape.
    let messages = server
        .post("/v1/messages")
        .header("content-type", "text/plain")
        .body(json!({"model": "gpt", "max_tokens": 5, "messages": user("hi")}).to_string())
        .send()
        .await
        .expect("answers");
    assert_eq!(messages.status(), 415);
    let body: Value = messages.json().await.expect("JSON");
    assert_eq!(body["type"], "error", "{body}");

    assert_eq!(
        server
            .primary
            .requests_to(switchyard_testkit::Route::ChatCompletions)
            .len(),
        1,
        "nothing refused reached the upstream"
    );
}

#[tokio::test]
async fn allowed_hosts_lets_a_named_host_through() {
    let server = TestServer::start_with(r#"allowed_hosts = ["gateway.internal"]"#).await;
    let named = server
        .post("/v1/chat/completions")
        .header("host", "gateway.internal:8080")
        .json(&hello())
        .send()
        .await
        .expect("answers");
    assert_eq!(named.status(), 200);
}

#[tokio::test]
async fn a_server_with_master_keys_takes_any_origin_and_body_type_with_its_key() {
    let server = TestServer::start_with_auth().await;
    let response = server
        .post("/v1/chat/completions")
        .bearer_auth(crate::harness::MASTER_KEY)
        .header("origin", "https://app.example")
        .header("content-type", "text/plain")
        .body(hello().to_string())
        .send()
        .await
        .expect("answers");
    assert_eq!(response.status(), 200);
}

#[tokio::test]
async fn past_its_bound_the_server_sheds_load_and_a_stream_holds_its_place() {
    let server = TestServer::start_with("max_concurrent_requests = 1").await;
    let chunk = json!({"id": "c1", "object": "chat.completion.chunk", "created": 1, "model": "mock-gpt",
                       "choices": [{"index": 0, "delta": {"content": "slow"}, "finish_reason": null}]});
    server.primary.push(
        switchyard_testkit::Route::ChatCompletions,
        switchyard_testkit::Script::Stream {
            chunks: vec![chunk],
            delay_ms: 0,
            end: switchyard_testkit::mock::StreamEnd::Stall,
        },
    );
    let stream = server
        .chat(json!({"model": "gpt", "messages": user("hi"), "stream": true}))
        .await;
    assert_eq!(stream.status(), 200);
    let refused = server.chat(hello()).await;
    assert_eq!(
        refused.status(),
        503,
        "the open stream holds the only place"
    );
    assert!(refused.headers().contains_key("retry-after"));
    let health = server.get("/healthz").send().await.expect("answers");
    assert_eq!(health.status(), 200, "health is always answered");
    drop(stream);
    let mut served = None;
    for _ in 0..50 {
        let response = server.chat(hello()).await;
        if response.status() == 200 {
            served = Some(response);
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert!(
        served.is_some(),
        "the place is free once the stream is gone"
    );
}
