//! The `semantic` strategy through the server, with a mock embedder: a prompt like a
//! task's example goes to the task's deployment and says so, others go by priority,
//! and an embedder that fails never fails the request.
//!
//! The mock's vectors hash each text, so only identical texts are similar; the real
//! MiniLM's judgement is tested end to end (`tests/e2e/test_task_routing.py`).

use serde_json::{Value, json};
use switchyard_testkit::{MockOpenAi, Route, Script};

use crate::harness::{Running, header, metrics_text, serve_config, user};

const CODE_EXAMPLE: &str = "Write a Python function that sorts a list.";

struct Served {
    url: String,
    client: reqwest::Client,
    /// Serves the `general` and `coder` deployments.
    upstream: MockOpenAi,
    /// Serves the `embedder` deployment.
    embedder: MockOpenAi,
    _server: Running,
}

impl Served {
    async fn ask(&self, prompt: &str) -> reqwest::Response {
        self.client
            .post(format!("{}/v1/chat/completions", self.url))
            .json(&json!({"model": "assistant", "messages": user(prompt)}))
            .send()
            .await
            .expect("answers")
    }
}

async fn serve() -> Served {
    let upstream = MockOpenAi::start().await;
    let embedder = MockOpenAi::start().await;
    let text = format!(
        r#"
[providers.upstream]
type = "openai"
base_url = "{upstream}"

[providers.vectors]
type = "openai"
base_url = "{vectors}"

[deployments.general]
provider = "upstream"
model = "general-model"

[deployments.coder]
provider = "upstream"
model = "coder-model"

[deployments.embedder]
provider = "vectors"
model = "text-embedding-3-small"
embeddings = true

[models.assistant]
deployments = ["general", "coder"]
strategy = "semantic"
embedder = "embedder"
min_similarity = 0.9

[models.assistant.tasks.code]
deployment = "coder"
examples = ["{CODE_EXAMPLE}", "Fix this Rust compile error."]
"#,
        upstream = upstream.base_url(),
        vectors = embedder.base_url(),
    );
    let server = serve_config(&text, |_| None).await;
    Served {
        url: server.url.clone(),
        client: reqwest::Client::new(),
        upstream,
        embedder,
        _server: server,
    }
}

#[tokio::test]
async fn a_prompt_like_a_tasks_example_goes_to_the_tasks_deployment() {
    let served = serve().await;
    let response = served.ask(CODE_EXAMPLE).await;
    assert_eq!(response.status(), 200);
    assert_eq!(header(&response, "x-switchyard-deployment"), Some("coder"));
    assert_eq!(
        header(&response, "x-switchyard-route-reason"),
        Some(
            "semantic: the prompt is nearest to the `code` task (similarity 1.00), served by \
             `coder`"
        )
    );
    let upstream_models: Vec<Value> = served
        .upstream
        .requests_to(Route::ChatCompletions)
        .iter()
        .map(|request| request.body["model"].clone())
        .collect();
    assert_eq!(upstream_models, [json!("coder-model")]);

    let response = served.ask("Tell me about the weather.").await;
    assert_eq!(
        header(&response, "x-switchyard-deployment"),
        Some("general")
    );
    assert_eq!(
        header(&response, "x-switchyard-route-reason"),
        Some("semantic: no task recognised; `general` is first in order")
    );

    // The examples were embedded once, in one batch; each prompt took one more call.
    let embedded: Vec<Value> = served
        .embedder
        .requests_to(Route::Embeddings)
        .iter()
        .map(|request| request.body["input"].clone())
        .collect();
    assert_eq!(
        embedded,
        [
            json!([CODE_EXAMPLE, "Fix this Rust compile error."]),
            json!([CODE_EXAMPLE]),
            json!(["Tell me about the weather."]),
        ]
    );
    let metrics = metrics_text(&served.url).await;
    for line in [
        r#"switchyard_route_tasks_total{model="assistant",task="code"} 1"#,
        r#"switchyard_route_tasks_total{model="assistant",task="none"} 1"#,
        r#"switchyard_route_task_duration_seconds_count{model="assistant"} 2"#,
    ] {
        assert!(metrics.contains(line), "no {line:?} in\n{metrics}");
    }
}

#[tokio::test]
async fn a_failing_embedder_leaves_the_request_to_priority() {
    let served = serve().await;
    served.embedder.push(
        Route::Embeddings,
        Script::Error {
            status: 500,
            body: json!({"error": {"message": "down", "type": "server_error", "code": null}}),
            retry_after: None,
        },
    );
    let response = served.ask(CODE_EXAMPLE).await;
    assert_eq!(response.status(), 200);
    assert_eq!(
        header(&response, "x-switchyard-deployment"),
        Some("general")
    );
    let metrics = metrics_text(&served.url).await;
    let line = r#"switchyard_route_tasks_total{model="assistant",task="error"} 1"#;
    assert!(metrics.contains(line), "no {line:?} in\n{metrics}");

    // The embedder is back: the examples are embedded now, and the task is found.
    let response = served.ask(CODE_EXAMPLE).await;
    assert_eq!(header(&response, "x-switchyard-deployment"), Some("coder"));
}

#[tokio::test]
async fn explain_shows_the_prompts_task() {
    let served = serve().await;
    let explained: Value = served
        .client
        .post(format!("{}/v1/route/explain", served.url))
        .json(&json!({"model": "assistant", "messages": user(CODE_EXAMPLE)}))
        .send()
        .await
        .expect("answers")
        .json()
        .await
        .expect("json");
    assert_eq!(explained["strategy"], "semantic");
    assert_eq!(
        explained["needs"]["task"],
        json!({"task": "code", "deployment": "coder", "similarity": 1.0})
    );
    assert_eq!(explained["candidates"][0]["deployment"], "coder");
    assert!(
        served.upstream.requests().is_empty(),
        "explain dispatches nothing"
    );
}
