//! Hedging through the server: a first deployment that has not answered after the
//! model's `hedge` delay is raced by the next one, the first answer reaches the
//! caller, and both calls are counted.

use std::time::{Duration, Instant};

use serde_json::json;
use switchyard_testkit::{MockOpenAi, Route, Script};

use crate::harness::{Running, header, serve_config, user};

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

    let metrics = served
        .client
        .get(format!("{}/metrics", served.url))
        .send()
        .await
        .expect("answers")
        .text()
        .await
        .expect("text");
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
