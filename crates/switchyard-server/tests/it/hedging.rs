//! Hedging through the server: a first deployment that has not answered after the
//! model's `hedge` delay is raced by the next one, the first answer reaches the
//! caller, and both calls are counted. And active health checks, the other way a
//! slow or dead deployment is found before callers wait on it.

use std::time::{Duration, Instant};

use serde_json::json;
use switchyard_testkit::{MockOpenAi, Route, Script};

use crate::harness::{Running, header, metrics_text, serve_config, user};

struct Served {
    url: String,
    client: reqwest::Client,
    slow: MockOpenAi,
    spare: MockOpenAi,
    _server: Running,
}

async fn serve() -> Served {
    let slow = MockOpenAi::start().await;
    let spare = MockOpenAi::start().await;
    let text = format!(
        r#"
[providers.slow]
type = "openai"
base_url = "{slow}"

[providers.spare]
type = "openai"
base_url = "{spare}"

[deployments.first]
provider = "slow"
model = "gpt-4o"

[deployments.second]
provider = "spare"
model = "gpt-4o"

[models.hedged]
deployments = ["first", "second"]
hedge = "300ms"
"#,
        slow = slow.base_url(),
        spare = spare.base_url(),
    );
    let server = serve_config(&text, |_| None).await;
    Served {
        url: server.url.clone(),
        client: reqwest::Client::new(),
        slow,
        spare,
        _server: server,
    }
}

#[tokio::test]
async fn a_stalled_first_deployment_is_hedged_and_the_spare_answers() {
    let served = serve().await;
    served.slow.push(Route::ChatCompletions, Script::Stall);
    let started = Instant::now();
    let response = served
        .client
        .post(format!("{}/v1/chat/completions", served.url))
        .json(&json!({"model": "hedged", "messages": user("hello")}))
        .send()
        .await
        .expect("answers");
    assert_eq!(response.status(), 200);
    assert_eq!(header(&response, "x-switchyard-deployment"), Some("second"));
    assert_eq!(
        header(&response, "x-switchyard-attempts"),
        Some("2"),
        "both calls count"
    );
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "the stalled call was not waited for"
    );
    assert_eq!(served.slow.requests_to(Route::ChatCompletions).len(), 1);
    assert_eq!(served.spare.requests_to(Route::ChatCompletions).len(), 1);

    let metrics = metrics_text(&served.url).await;
    for line in [
        r#"switchyard_hedges_total{model="hedged"} 1"#,
        r#"switchyard_upstream_calls_cancelled_total{deployment="first",provider="slow"} 1"#,
    ] {
        assert!(metrics.contains(line), "no {line:?} in\n{metrics}");
    }
}

#[tokio::test]
async fn a_stream_is_hedged_until_its_first_event() {
    let served = serve().await;
    served.slow.push(Route::ChatCompletions, Script::Stall);
    let response = served
        .client
        .post(format!("{}/v1/chat/completions", served.url))
        .json(&json!({"model": "hedged", "messages": user("hello"), "stream": true}))
        .send()
        .await
        .expect("answers");
    assert_eq!(response.status(), 200);
    assert_eq!(header(&response, "x-switchyard-deployment"), Some("second"));
    let body = response.text().await.expect("the stream");
    assert!(body.trim_end().ends_with("data: [DONE]"), "{body}");
}

#[tokio::test]
async fn explain_says_when_a_request_would_be_hedged() {
    let served = serve().await;
    let explained: serde_json::Value = served
        .client
        .post(format!("{}/v1/route/explain", served.url))
        .json(&json!({"model": "hedged", "messages": user("hello")}))
        .send()
        .await
        .expect("answers")
        .json()
        .await
        .expect("JSON");
    assert_eq!(explained["hedge_after_ms"], 300.0);
}

#[tokio::test]
async fn a_quick_answer_is_not_hedged() {
    let served = serve().await;
    let response = served
        .client
        .post(format!("{}/v1/chat/completions", served.url))
        .json(&json!({"model": "hedged", "messages": user("hello")}))
        .send()
        .await
        .expect("answers");
    assert_eq!(header(&response, "x-switchyard-deployment"), Some("first"));
    assert!(served.spare.requests().is_empty());
}

// === active health checks ===

/// The circuit state `/v1/route/health` shows for `deployment`.
async fn circuit(client: &reqwest::Client, url: &str, deployment: &str) -> String {
    let health: serde_json::Value = client
        .get(format!("{url}/v1/route/health"))
        .send()
        .await
        .expect("answers")
        .json()
        .await
        .expect("JSON");
    health["deployments"]
        .as_array()
        .expect("deployments")
        .iter()
        .find(|entry| entry["deployment"] == deployment)
        .map(|entry| entry["circuit"]["state"].as_str().unwrap_or("").to_owned())
        .expect("listed")
}

/// Polls until `deployment`'s circuit is `state`, for at most 10 s.
async fn wait_for_circuit(client: &reqwest::Client, url: &str, deployment: &str, state: &str) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let now = circuit(client, url, deployment).await;
        if now == state {
            return;
        }
        if Instant::now() >= deadline {
            let metrics = metrics_text(url).await;
            panic!("the circuit stayed {now}, not {state}; metrics:\n{metrics}");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn health_checks_open_a_breaker_without_traffic_and_close_it_on_recovery() {
    let upstream = MockOpenAi::start().await;
    for _ in 0..2 {
        upstream.push(
            Route::Models,
            Script::Error {
                status: 503,
                body: json!({"error": {"message": "down", "type": "server_error", "code": null}}),
                retry_after: None,
            },
        );
    }
    let text = format!(
        r#"
[providers.upstream]
type = "openai"
base_url = "{url}"

[deployments.checked]
provider = "upstream"
model = "gpt-4o"
health_check = "100ms"

[models.m]
deployments = ["checked"]

[routing.breaker]
failures = 2
cooldown = "1s"
"#,
        url = upstream.base_url(),
    );
    let server = serve_config(&text, |_| None).await;
    let client = reqwest::Client::new();
    // Two failed checks open it, before any caller sent anything...
    wait_for_circuit(&client, &server.url, "checked", "open").await;
    assert!(upstream.requests_to(Route::ChatCompletions).is_empty());
    // ...and after the cooldown a passing check is the probe that closes it.
    wait_for_circuit(&client, &server.url, "checked", "closed").await;
    assert!(upstream.requests_to(Route::ChatCompletions).is_empty());
    let metrics = metrics_text(&server.url).await;
    let line = r#"switchyard_health_checks_total{deployment="checked",provider="upstream",result="failed"} 2"#;
    assert!(metrics.contains(line), "no {line:?} in\n{metrics}");
}
