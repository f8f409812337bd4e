//! Legacy text completions: what reaches an OpenAI-compatible upstream's
//! `/v1/completions`, what comes back (JSON and streamed), fallback, and the refusal of
//! models that serve chat only.

use pretty_assertions::assert_eq;
use serde_json::{Value, json};
use switchyard_testkit::{Route, Script, fixtures};

use crate::harness::{MASTER_KEY, TestServer, chunks, header, sse_data};

async fn complete(server: &TestServer, body: Value) -> reqwest::Response {
    server
        .post("/v1/completions")
        .json(&body)
        .send()
        .await
        .expect("the server answers")
}

#[tokio::test]
async fn a_prompt_reaches_the_upstreams_completions_endpoint_and_its_answer_comes_back() {
    let server = TestServer::start().await;
    let response = complete(
        &server,
        json!({"model": "gpt", "prompt": "Once upon", "max_tokens": 5, "suffix": "end"}),
    )
    .await;
    assert_eq!(response.status(), 200);
    assert_eq!(
        header(&response, "x-switchyard-deployment"),
        Some("primary")
    );
    let body: Value = response.json().await.expect("JSON");
    assert_eq!(body["object"], "text_completion");
    assert_eq!(body["model"], "mock-gpt");
    assert_eq!(body["choices"][0]["text"], " echo: Once upon");
    assert_eq!(body["choices"][0]["index"], 0);
    assert_eq!(body["choices"][0]["logprobs"], Value::Null);
    assert_eq!(body["choices"][0]["finish_reason"], "stop");
    assert_eq!(body["usage"]["prompt_tokens"], 2);
    assert_eq!(body["usage"]["completion_tokens"], 3);

    let sent = &server.primary.requests_to(Route::Completions)[0];
    assert_eq!(sent.path, "/v1/completions");
    assert_eq!(
        sent.body,
        json!({"model": "mock-gpt", "prompt": "Once upon", "max_tokens": 5, "suffix": "end"})
    );
}

#[tokio::test]
async fn echo_and_logprobs_come_back_as_parallel_arrays() {
    let server = TestServer::start().await;
    let body = server
        .post_json(
            "/v1/completions",
            json!({"model": "gpt", "prompt": "Say hi", "echo": true, "logprobs": 1}),
        )
        .await;
    let choice = &body["choices"][0];
    assert_eq!(choice["text"], "Say hi echo: Say hi");
    assert_eq!(
        choice["logprobs"],
        json!({
            "tokens": ["Say", " hi", " echo:", " Say", " hi"],
            "token_logprobs": [null, -0.5, -0.5, -0.5, -0.5],
            "top_logprobs": [
                null,
                {" hi": -0.5, " else": -2.0},
                {" echo:": -0.5, " else": -2.0},
                {" Say": -0.5, " else": -2.0},
                {" hi": -0.5, " else": -2.0}
            ],
            "text_offset": [0, 3, 6, 12, 16]
        })
    );
}

#[tokio::test]
async fn each_prompt_gets_n_choices_numbered_prompt_by_prompt() {
    let server = TestServer::start().await;
    let body = server
        .post_json(
            "/v1/completions",
            json!({"model": "gpt", "prompt": ["a", "b"], "n": 2}),
        )
        .await;
    let texts: Vec<&str> = body["choices"]
        .as_array()
        .expect("choices")
        .iter()
        .map(|choice| choice["text"].as_str().expect("text"))
        .collect();
    assert_eq!(texts, [" echo: a", " echo: a", " echo: b", " echo: b"]);
}

#[tokio::test]
async fn a_streamed_completion_arrives_as_text_completion_chunks_then_done() {
    let server = TestServer::start().await;
    let response = complete(
        &server,
        json!({
            "model": "gpt",
            "prompt": "Once upon",
            "stream": true,
            "stream_options": {"include_usage": true},
            "logprobs": 0
        }),
    )
    .await;
    assert_eq!(response.status(), 200);
    let data = sse_data(response).await;
    assert_eq!(data.last().map(String::as_str), Some("[DONE]"));
    let chunks = chunks(&data);
    let mut text = String::new();
    let mut offsets = Vec::new();
    for chunk in &chunks {
        assert_eq!(chunk["object"], "text_completion");
        for choice in chunk["choices"].as_array().expect("choices") {
            text.push_str(choice["text"].as_str().expect("text"));
            if let Some(offset) = choice["logprobs"]["text_offset"].as_array() {
                offsets.extend(offset.iter().cloned());
            }
        }
    }
    assert_eq!(text, " echo: Once upon");
    // Offsets run on across chunks, into the whole text.
    assert_eq!(offsets, [json!(0), json!(6), json!(11)]);
    let finish = chunks
        .iter()
        .flat_map(|chunk| chunk["choices"].as_array().cloned().unwrap_or_default())
        .filter_map(|choice| choice["finish_reason"].as_str().map(str::to_owned))
        .collect::<Vec<_>>();
    assert_eq!(finish, ["stop"]);
    let usage = &chunks.last().expect("a usage chunk")["usage"];
    assert_eq!(usage["total_tokens"], 5);

    // Usage is always asked of the upstream: metering needs it.
    let sent = &server.primary.requests_to(Route::Completions)[0];
    assert_eq!(sent.body["stream_options"], json!({"include_usage": true}));
}

#[tokio::test]
async fn a_failing_deployment_falls_back_to_the_next() {
    let server = TestServer::start().await;
    server.primary.push(
        Route::Completions,
        Script::error(
            503,
            fixtures::error_body("busy", "server_error", None, None),
        ),
    );
    let response = complete(&server, json!({"model": "gpt-ha", "prompt": "x"})).await;
    assert_eq!(response.status(), 200);
    assert_eq!(header(&response, "x-switchyard-deployment"), Some("backup"));
    assert_eq!(header(&response, "x-switchyard-attempts"), Some("2"));
    let body: Value = response.json().await.expect("JSON");
    assert_eq!(body["model"], "backup-gpt");
}

#[tokio::test]
async fn bad_requests_get_openai_errors_naming_the_field() {
    let server = TestServer::start().await;
    for (body, param) in [
        (json!({"model": "gpt", "prompt": {"text": "x"}}), "prompt"),
        (json!({"model": "gpt", "prompt": []}), "prompt"),
        (
            json!({"model": "gpt", "prompt": "x", "logprobs": 50}),
            "logprobs",
        ),
        (json!({"model": "gpt", "prompt": "x", "echo": 1}), "echo"),
    ] {
        let response = complete(&server, body.clone()).await;
        assert_eq!(response.status(), 400, "{body}");
        let error: Value = response.json().await.expect("JSON");
        assert_eq!(error["error"]["type"], "invalid_request_error", "{body}");
        assert_eq!(error["error"]["param"], param, "{body}");
    }
    let response = complete(&server, json!({"model": "nope", "prompt": "x"})).await;
    assert_eq!(response.status(), 404);
    assert!(server.primary.requests().is_empty());
}

#[tokio::test]
async fn a_chat_only_model_refuses_text_completions_by_name() {
    let served = crate::anthropic::serve().await;
    let response = served
        .client
        .post(format!("{}/v1/completions", served.url))
        .json(&json!({"model": "claude", "prompt": "x"}))
        .send()
        .await
        .expect("a response");
    assert_eq!(response.status(), 400);
    let error: Value = response.json().await.expect("JSON");
    assert_eq!(
        error["error"]["message"],
        "no deployment of the model `claude` can serve this request: `sonnet` (claude) does not \
         support text completions"
    );
    assert_eq!(error["error"]["param"], "model");
    assert!(served.anthropic.requests().is_empty());
    // A model with an OpenAI-compatible deployment after Anthropic's is served by it.
    let response = served
        .client
        .post(format!("{}/v1/completions", served.url))
        .json(&json!({"model": "claude-ha", "prompt": "x"}))
        .send()
        .await
        .expect("a response");
    assert_eq!(response.status(), 200);
    assert_eq!(header(&response, "x-switchyard-deployment"), Some("gpt"));
}

#[tokio::test]
async fn azure_clients_reach_completions_on_both_route_families() {
    let server = TestServer::start_with_auth().await;
    for path in [
        "/openai/deployments/gpt/completions?api-version=2024-10-21",
        "/openai/v1/completions",
    ] {
        let response = server
            .post(path)
            .header("api-key", MASTER_KEY)
            .json(&json!({"model": "gpt", "prompt": "from azure"}))
            .send()
            .await
            .expect("answers");
        assert_eq!(response.status(), 200, "{path}");
        let body: Value = response.json().await.expect("JSON");
        assert_eq!(body["choices"][0]["text"], " echo: from azure", "{path}");
    }
}

#[tokio::test]
async fn an_absurd_n_is_a_400_naming_it_and_nothing_is_sent() {
    let server = TestServer::start().await;
    for body in [
        json!({"model": "gpt", "prompt": "hi", "n": 4294967295u32, "max_tokens": 1}),
        json!({"model": "gpt", "prompt": vec!["a"; 2048], "n": 2, "max_tokens": 1}),
    ] {
        let response = complete(&server, body).await;
        assert_eq!(response.status(), 400);
        let body: Value = response.json().await.expect("JSON");
        assert_eq!(body["error"]["param"], "n", "{body}");
    }
    let response = server
        .post("/v1/chat/completions")
        .json(
            &json!({"model": "gpt", "n": 129, "stop": ["a", "b", "c", "d", "e"],
                      "messages": [{"role": "user", "content": "hi"}]}),
        )
        .send()
        .await
        .expect("answers");
    assert_eq!(response.status(), 400);
    assert!(
        server.primary.requests().is_empty(),
        "nothing reached the upstream"
    );
}
