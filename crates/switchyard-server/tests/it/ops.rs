//! Models, embeddings, health, metrics and graceful shutdown.

use std::time::Duration;

use pretty_assertions::assert_eq;
use serde_json::{Value, json};
use switchyard_testkit::{Route, Script, StreamEnd, fixtures};

use crate::harness::{TestServer, sse_data, user};

#[tokio::test]
async fn lists_and_retrieves_models_even_with_slashes_in_their_names() {
    let server = TestServer::start().await;
    let list: Value = server.get_json("/v1/models").await;
    assert_eq!(list["object"], "list");
    let ids: Vec<&str> = list["data"]
        .as_array()
        .expect("data")
        .iter()
        .map(|model| model["id"].as_str().expect("id"))
        .collect();
    assert_eq!(ids, ["gpt", "gpt-ha", "org/embed"]);
    let model: Value = server.get_json("/v1/models/org/embed").await;
    assert_eq!(model["id"], "org/embed");
    assert_eq!(model["object"], "model");
    assert_eq!(model["owned_by"], "mock");
    let missing = server.get("/v1/models/gtp").send().await.expect("answer");
    assert_eq!(missing.status(), 404);
}

#[tokio::test]
async fn embeds_as_floats_or_base64() {
    let server = TestServer::start().await;
    let floats: Value = server
        .post_json(
            "/v1/embeddings",
            json!({"model": "org/embed", "input": ["alpha", "beta"], "dimensions": 4}),
        )
        .await;
    assert_eq!(floats["object"], "list");
    let data = floats["data"].as_array().expect("data");
    assert_eq!(data.len(), 2);
    assert_eq!(data[1]["index"], 1);
    let first: Vec<f32> = serde_json::from_value(data[0]["embedding"].clone()).expect("floats");
    assert_eq!(first, fixtures::embedding_for("alpha", 4));
    // The upstream is always asked for floats and gets the caller's dimensions.
    let received = &server.primary.requests()[0].body;
    assert_eq!(received["encoding_format"], "float");
    assert_eq!(received["dimensions"], 4);
    assert_eq!(received["model"], "mock-gpt");

    let encoded: Value = server.post_json("/v1/embeddings", json!({"model": "org/embed", "input": "alpha", "dimensions": 4, "encoding_format": "base64"})).await;
    assert_eq!(
        encoded["data"][0]["embedding"],
        fixtures::encode_base64_f32(&first)
    );
}

#[tokio::test]
async fn refuses_embeddings_from_a_chat_only_model() {
    let server = TestServer::start().await;
    let response = server
        .post("/v1/embeddings")
        .json(&json!({"model": "gpt-ha", "input": "x"}))
        .send()
        .await
        .expect("answer");
    // `gpt-ha` lists `primary`, which serves embeddings; `backup` alone does not.
    assert_eq!(response.status(), 200);
    let response = server
        .post("/v1/embeddings")
        .json(&json!({"model": "gpt", "input": 5}))
        .send()
        .await
        .expect("answer");
    assert_eq!(response.status(), 400);
    let body: Value = response.json().await.expect("JSON");
    assert_eq!(body["error"]["param"], "input");
}

#[tokio::test]
async fn reports_health_and_readiness() {
    let server = TestServer::start().await;
    let health: Value = server.get_json("/healthz").await;
    assert_eq!(health["status"], "ok");
    let ready: Value = server.get_json("/readyz").await;
    assert_eq!(ready, json!({"status": "ready", "models": 3}));
}

#[tokio::test]
async fn meters_requests_tokens_latency_and_upstream_errors() {
    let server = TestServer::start().await;
    server
        .chat(json!({"model": "gpt", "messages": user("a b c")}))
        .await;
    let stream = server
        .chat(json!({"model": "gpt", "messages": user("a b"), "stream": true}))
        .await;
    sse_data(stream).await;
    server.primary.push(
        Route::ChatCompletions,
        Script::error(
            503,
            fixtures::error_body("busy", "server_error", None, None),
        ),
    );
    server
        .chat(json!({"model": "gpt-ha", "messages": user("x")}))
        .await;
    server
        .chat(json!({"model": "nope", "messages": user("x")}))
        .await;

    let metrics = server
        .get("/metrics")
        .send()
        .await
        .expect("answer")
        .text()
        .await
        .expect("text");
    let expected = [
        r#"switchyard_requests_total{route="chat_completions",model="gpt",deployment="primary",provider="mock",status="200"} 2"#,
        r#"switchyard_requests_total{route="chat_completions",model="gpt-ha",deployment="backup",provider="spare",status="200"} 1"#,
        r#"switchyard_requests_total{route="chat_completions",model="unknown",deployment="none",provider="none",status="404"} 1"#,
        r#"switchyard_tokens_total{model="gpt",deployment="primary",provider="mock",direction="input"} 5"#,
        r#"switchyard_upstream_errors_total{deployment="primary",provider="mock",kind="overloaded"} 1"#,
        r#"switchyard_time_to_first_token_seconds_count{route="chat_completions",model="gpt",deployment="primary",provider="mock"} 1"#,
        r#"switchyard_request_duration_seconds_count{route="chat_completions",model="gpt",deployment="primary",provider="mock"} 2"#,
        r#"switchyard_requests_in_flight{route="chat_completions"} 0"#,
    ];
    for line in expected {
        assert!(metrics.contains(line), "missing `{line}` in:\n{metrics}");
    }
    assert!(
        !metrics.contains("nope"),
        "caller input must not become a label"
    );
}

/// While local models load the server already listens: alive, not ready, and a 503
/// with `Retry-After` for API calls; then the full app takes over on the same socket.
#[tokio::test]
async fn listens_while_starting_and_switches_to_the_full_app() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a free port");
    let url = format!("http://{}", listener.local_addr().expect("address"));
    let (publish, routers) = tokio::sync::watch::channel(switchyard_server::starting_app());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(switchyard_server::run_changing(
        listener,
        routers,
        async move {
            let _ = stopped.await;
        },
        Duration::from_secs(1),
    ));
    let client = reqwest::Client::new();
    let get = |path: &str| client.get(format!("{url}{path}")).send();
    assert_eq!(get("/healthz").await.expect("health").status(), 200);
    let readiness = get("/readyz").await.expect("readiness");
    assert_eq!(readiness.status(), 503);
    let call = client
        .post(format!("{url}/v1/chat/completions"))
        .json(&json!({"model": "gpt", "messages": user("x")}))
        .send()
        .await
        .expect("a call");
    assert_eq!(call.status(), 503);
    assert_eq!(call.headers()["retry-after"], "1");
    let body: Value = call.json().await.expect("an error body");
    assert_eq!(body["error"]["code"], "not_ready", "{body}");

    let config = switchyard_server::config::Config::default();
    let state = switchyard_server::AppState::from_config(&config).expect("state");
    publish.send_modify(|current| *current = switchyard_server::app(state));
    let ready: Value = get("/readyz")
        .await
        .expect("readiness")
        .json()
        .await
        .expect("json");
    assert_eq!(ready["status"], "ready");
    let _ = stop.send(());
    assert!(matches!(task.await, Ok(Ok(()))));
}

#[tokio::test]
async fn shutdown_lets_a_stream_in_flight_finish() {
    let mut server = TestServer::start().await;
    server.primary.push(
        Route::ChatCompletions,
        Script::Stream {
            chunks: fixtures::text_chunks("mock-gpt", &["slow ", "but ", "complete"], None),
            delay_ms: 150,
            end: StreamEnd::Done,
        },
    );
    let response = server
        .chat(json!({"model": "gpt", "messages": user("x"), "stream": true}))
        .await;
    server.shut_down();
    let data = sse_data(response).await;
    assert_eq!(data.last().map(String::as_str), Some("[DONE]"));
    // The server stops once the stream is done, well within the grace period.
    let task = server.task.take().expect("running");
    let stopped = tokio::time::timeout(Duration::from_secs(3), task)
        .await
        .expect("the server stops after its last stream");
    assert!(matches!(stopped, Ok(Ok(()))));
    assert!(
        server
            .client
            .get(format!("{}/healthz", server.url))
            .send()
            .await
            .is_err(),
        "no new connections after shutdown"
    );
}

#[tokio::test]
async fn serves_http2_clients_as_well_as_http1() {
    let server = TestServer::start().await;
    let client = reqwest::Client::builder()
        .http2_prior_knowledge()
        .build()
        .expect("client");
    let response = client
        .post(format!("{}/v1/chat/completions", server.url))
        .json(&json!({"model": "gpt", "messages": user("over h2")}))
        .send()
        .await
        .expect("answer");
    assert_eq!(response.version(), reqwest::Version::HTTP_2);
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.expect("JSON");
    assert_eq!(body["choices"][0]["message"]["content"], "echo: over h2");
}

#[tokio::test]
async fn the_metrics_of_a_keyed_server_take_a_master_key() {
    let server = crate::harness::TestServer::start_with_auth().await;
    let anonymous = server.get("/metrics").send().await.expect("answers");
    assert_eq!(anonymous.status(), 401);
    let operator = server
        .get("/metrics")
        .bearer_auth(crate::harness::MASTER_KEY)
        .send()
        .await
        .expect("answers");
    assert_eq!(operator.status(), 200);
    let public = crate::harness::TestServer::start_with(
        r#"master_keys = ["env:IT_MASTER_KEY"]
public_metrics = true"#,
    )
    .await;
    assert_eq!(
        public
            .get("/metrics")
            .send()
            .await
            .expect("answers")
            .status(),
        200
    );
}
