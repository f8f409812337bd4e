//! Billing as the vendor bills, over HTTP against mock upstreams: a client that leaves
//! before the answer, `n` in the reservation, the output cap a budget needs, usage the
//! upstream never sent, and deployments without a price.

use std::time::Duration;

use serde_json::{Value, json};
use switchyard_testkit::MockOpenAi;
use switchyard_testkit::mock::{Route, Script};

use crate::governance::{MASTER, gateway, hello};
use crate::harness::{header, serve_config, user};

#[tokio::test]
async fn a_client_that_leaves_before_the_answer_is_billed_the_prompt_it_sent() {
    let gateway = gateway("").await;
    let (id, secret) = gateway.key(json!({"org": "acme"})).await;
    gateway.primary.push(Route::ChatCompletions, Script::Stall);
    let prompt = "a prompt the vendor received and bills, ".repeat(10);
    let left = tokio::time::timeout(
        Duration::from_millis(300),
        gateway.chat(
            &secret,
            json!({"model": "gpt", "messages": user(&prompt), "max_tokens": 10}),
        ),
    )
    .await;
    assert!(left.is_err(), "the client gave up first");
    let usage = gateway.usage_of(&id, 1).await;
    assert_eq!(usage["errors"], 1, "a 499: {usage}");
    let input = usage["input_tokens"].as_u64().expect("tokens");
    assert!(input >= 60, "the prompt's estimate is billed: {usage}");
    assert!(usage["cost_usd"].as_f64().expect("a cost") > 0.0, "{usage}");

    // A stream whose first event never comes is billed the same way.
    gateway.primary.push(Route::ChatCompletions, Script::Stall);
    let left = tokio::time::timeout(
        Duration::from_millis(300),
        gateway.chat(
            &secret,
            json!({"model": "gpt", "messages": user(&prompt), "stream": true}),
        ),
    )
    .await;
    assert!(left.is_err());
    let usage = gateway.usage_of(&id, 2).await;
    assert!(
        usage["input_tokens"].as_u64().expect("tokens") >= 2 * input - 2,
        "{usage}"
    );

    // An upstream that refuses is not billed: the vendor charges nothing for it.
    gateway.primary.push(
        Route::ChatCompletions,
        Script::error(
            400,
            json!({"error": {"message": "bad", "type": "invalid_request_error"}}),
        ),
    );
    let refused = gateway.chat(&secret, hello()).await;
    assert_eq!(refused.status(), 400);
    let after = gateway.usage_of(&id, 3).await;
    assert_eq!(after["input_tokens"], usage["input_tokens"], "{after}");
}

#[tokio::test]
async fn a_reservation_counts_every_answer_n_asks_for() {
    let gateway = gateway("").await;
    // 10 cents. One answer of 10 tokens reserves about 1.5 cents; 16 of them, 16 ×
    // 10 output tokens at $0.001 each alone, 16 cents.
    let (_, secret) = gateway
        .key(json!({"org": "acme", "budgets": ["0.10usd/month"]}))
        .await;
    let one = gateway.chat(&secret, hello()).await;
    assert_eq!(one.status(), 200);
    let many = gateway
        .chat(
            &secret,
            json!({"model": "gpt", "messages": user("hello there"), "max_tokens": 10, "n": 16}),
        )
        .await;
    assert_eq!(many.status(), 429, "n = 16 reserves sixteen answers");
    let error: Value = many.json().await.expect("JSON");
    assert_eq!(error["error"]["code"], "insufficient_quota");
}

#[tokio::test]
async fn a_budgeted_key_without_max_tokens_is_sent_the_output_cap_it_reserved() {
    let gateway = gateway("[governance]\ndefault_output_tokens = 64").await;
    let (_, secret) = gateway
        .key(json!({"org": "acme", "budgets": ["5usd/month"]}))
        .await;
    let served = gateway
        .chat(
            &secret,
            json!({"model": "gpt", "messages": user("no limit given")}),
        )
        .await;
    assert_eq!(served.status(), 200);
    let sent = gateway.primary.requests_to(Route::ChatCompletions);
    let body = &sent.last().expect("a request").body;
    assert_eq!(body["max_tokens"], 64, "{body}");
    // A key that nothing holds by tokens or money is sent what its caller asked.
    let (_, free) = gateway
        .key(json!({"org": "acme", "limits": {"rpm": 100}}))
        .await;
    let _ = gateway
        .chat(
            &free,
            json!({"model": "gpt", "messages": user("no limit given")}),
        )
        .await;
    let sent = gateway.primary.requests_to(Route::ChatCompletions);
    let body = &sent.last().expect("a request").body;
    assert!(body.get("max_tokens").is_none(), "{body}");
}

#[tokio::test]
async fn a_stream_without_upstream_usage_still_ends_with_a_usage_chunk() {
    let gateway = gateway("").await;
    let (id, secret) = gateway.key(json!({"org": "acme"})).await;
    let chunk = |content: &str| {
        json!({"id": "c1", "object": "chat.completion.chunk", "created": 1, "model": "mock-gpt",
               "choices": [{"index": 0, "delta": {"content": content}, "finish_reason": null}]})
    };
    let finish = json!({"id": "c1", "object": "chat.completion.chunk", "created": 1, "model": "mock-gpt",
                        "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]});
    // llama-cpp-python's server: no usage chunk, whatever `stream_options` says.
    gateway.primary.push(
        Route::ChatCompletions,
        Script::stream(vec![chunk("three little words"), finish]),
    );
    let response = gateway
        .chat(
            &secret,
            json!({"model": "gpt", "messages": user("count me"), "stream": true,
                   "stream_options": {"include_usage": true}}),
        )
        .await;
    assert_eq!(response.status(), 200);
    let chunks = crate::harness::chunks(&crate::harness::sse_data(response).await);
    let last = chunks.last().expect("chunks");
    assert_eq!(last["choices"], json!([]), "{last}");
    assert!(
        last["usage"]["completion_tokens"]
            .as_u64()
            .expect("counted")
            >= 3,
        "{last}"
    );
    assert!(
        last["usage"]["prompt_tokens"].as_u64().expect("counted") > 0,
        "{last}"
    );
    assert_eq!(last["usage"]["switchyard_estimated"], true, "{last}");
    let usage = gateway.usage_of(&id, 1).await;
    assert_eq!(
        usage["output_tokens"], last["usage"]["completion_tokens"],
        "the ledger bills what the caller was told: {usage}"
    );
}

#[tokio::test]
async fn a_budgeted_key_is_kept_off_a_deployment_without_a_price() {
    let primary = MockOpenAi::start().await;
    let text = format!(
        r#"
[server]
master_keys = ["env:MASTER"]

[providers.mock]
type = "openai"
base_url = "{}"

[deployments.unpriced]
provider = "mock"
model = "no-such-catalog-model"

[deployments.free]
provider = "mock"
model = "no-such-catalog-model"
price = {{ input = 0, output = 0 }}

[models.mystery]
deployments = ["unpriced"]

[models.marked-free]
deployments = ["unpriced", "free"]
"#,
        primary.base_url()
    );
    let served = serve_config(&text, |name| (name == "MASTER").then(|| MASTER.to_owned())).await;
    let client = reqwest::Client::new();
    let created: Value = client
        .post(format!("{}/admin/keys", served.url))
        .bearer_auth(MASTER)
        .json(&json!({"org": "acme", "budgets": ["1usd/month"]}))
        .send()
        .await
        .expect("answers")
        .json()
        .await
        .expect("JSON");
    let secret = created["secret"].as_str().expect("a secret");
    let chat = |model: &str| {
        client
            .post(format!("{}/v1/chat/completions", served.url))
            .bearer_auth(secret)
            .json(&json!({"model": model, "messages": user("hi"), "max_tokens": 5}))
            .send()
    };
    let refused = chat("mystery").await.expect("answers");
    assert_eq!(refused.status(), 400);
    let body: Value = refused.json().await.expect("JSON");
    assert!(
        body["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("known price")),
        "{body}"
    );
    let served_free = chat("marked-free").await.expect("answers");
    assert_eq!(served_free.status(), 200);
    assert_eq!(
        header(&served_free, "x-switchyard-deployment"),
        Some("free")
    );
}
