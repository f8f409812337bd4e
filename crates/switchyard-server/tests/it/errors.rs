//! Every error class, in OpenAI's shape, with the right status.

use pretty_assertions::assert_eq;
use serde_json::{Value, json};
use switchyard_testkit::{Route, Script, fixtures};

use crate::harness::{MASTER_KEY, TestServer, UPSTREAM_KEY, header, user};

async fn error_of(response: reqwest::Response) -> (u16, Value) {
    let status = response.status().as_u16();
    let body: Value = response.json().await.expect("an error body in JSON");
    for field in ["message", "type", "param", "code"] {
        assert!(
            body["error"].get(field).is_some(),
            "OpenAI error bodies always carry `{field}`: {body}"
        );
    }
    (status, body["error"].clone())
}

#[tokio::test]
async fn malformed_json_is_a_400() {
    let server = TestServer::start().await;
    let response = server
        .post("/v1/chat/completions")
        .header("content-type", "application/json")
        .body(r#"{"model": "gpt", "messages": [}"#)
        .send()
        .await
        .expect("answer");
    let (status, error) = error_of(response).await;
    assert_eq!(status, 400);
    assert_eq!(error["code"], "invalid_json");
    assert_eq!(error["type"], "invalid_request_error");
}

#[tokio::test]
async fn a_wrong_field_is_a_400_that_names_it() {
    let server = TestServer::start().await;
    let (status, error) = error_of(
        server
            .chat(json!({"model": "gpt", "messages": user("hi"), "max_tokens": "many"}))
            .await,
    )
    .await;
    assert_eq!(status, 400);
    assert_eq!(error["param"], "max_tokens");
    assert_eq!(
        error["message"],
        "`max_tokens`: invalid type: string \"many\", expected u32"
    );
    assert!(
        server.primary.requests().is_empty(),
        "nothing was sent upstream"
    );
}

#[tokio::test]
async fn an_unknown_model_is_a_404_with_suggestions() {
    let server = TestServer::start().await;
    let (status, error) = error_of(
        server
            .chat(json!({"model": "gpt-h", "messages": user("hi")}))
            .await,
    )
    .await;
    assert_eq!(status, 404);
    assert_eq!(error["code"], "model_not_found");
    assert_eq!(error["param"], "model");
    assert_eq!(
        error["message"],
        "the model `gpt-h` does not exist; did you mean one of `gpt-ha`, `gpt`?"
    );
}

#[tokio::test]
async fn an_oversize_body_is_a_413() {
    let server = TestServer::start().await;
    let huge = "x".repeat(70_000);
    let (status, error) = error_of(
        server
            .chat(json!({"model": "gpt", "messages": user(&huge)}))
            .await,
    )
    .await;
    assert_eq!(status, 413);
    assert_eq!(error["code"], "request_too_large");
}

#[tokio::test]
async fn an_upstream_rate_limit_is_a_429_with_retry_after() {
    let server = TestServer::start().await;
    server.primary.push(
        Route::ChatCompletions,
        Script::Error {
            status: 429,
            body: fixtures::error_body(
                "Rate limit reached",
                "requests",
                None,
                Some("rate_limit_exceeded"),
            ),
            retry_after: Some("7".to_owned()),
        },
    );
    let response = server
        .chat(json!({"model": "gpt", "messages": user("hi")}))
        .await;
    assert_eq!(header(&response, "retry-after"), Some("7"));
    // A failure still names the deployment that produced it.
    assert_eq!(
        header(&response, "x-switchyard-deployment"),
        Some("primary")
    );
    assert_eq!(header(&response, "x-switchyard-attempts"), Some("1"));
    let (status, error) = error_of(response).await;
    assert_eq!(status, 429);
    assert_eq!(error["code"], "rate_limit_exceeded");
}

#[tokio::test]
async fn upstream_failures_are_502s_with_the_key_scrubbed() {
    let server = TestServer::start().await;
    server.primary.push(
        Route::ChatCompletions,
        Script::error(
            401,
            fixtures::error_body(
                &format!("Incorrect API key provided: {UPSTREAM_KEY}."),
                "invalid_request_error",
                None,
                Some("invalid_api_key"),
            ),
        ),
    );
    let (status, error) = error_of(
        server
            .chat(json!({"model": "gpt", "messages": user("hi")}))
            .await,
    )
    .await;
    assert_eq!(status, 502);
    assert_eq!(error["code"], "upstream_error");
    let message = error["message"].as_str().expect("message");
    assert!(message.contains("Incorrect API key provided"), "{message}");
    assert!(!message.contains(UPSTREAM_KEY), "the key leaked: {message}");
}

#[tokio::test]
async fn a_body_that_is_not_the_protocol_is_a_502() {
    let server = TestServer::start().await;
    server.primary.push(
        Route::ChatCompletions,
        Script::RawBody {
            status: 200,
            content_type: "text/html".to_owned(),
            body: "<html>captive portal</html>".to_owned(),
        },
    );
    let (status, error) = error_of(
        server
            .chat(json!({"model": "gpt", "messages": user("hi")}))
            .await,
    )
    .await;
    assert_eq!(status, 502);
    assert!(
        error["message"]
            .as_str()
            .expect("message")
            .contains("not valid for its protocol")
    );
}

#[tokio::test]
async fn a_stalled_upstream_is_a_504() {
    let server = TestServer::start().await;
    server.primary.push(Route::ChatCompletions, Script::Stall);
    let (status, error) = error_of(
        server
            .chat(json!({"model": "gpt", "messages": user("hi")}))
            .await,
    )
    .await;
    assert_eq!(status, 504);
    assert_eq!(error["code"], "upstream_timeout");
}

#[tokio::test]
async fn an_unreachable_upstream_is_a_502() {
    let server = TestServer::start().await;
    let dead = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("port");
    let dead_url = format!("http://{}/v1", dead.local_addr().expect("addr"));
    drop(dead);
    let config = switchyard_server::config::Config::from_toml_str(
        &format!(
            "[providers.gone]\ntype = \"openai\"\nbase_url = \"{dead_url}\"\n\
             [deployments.gone]\nprovider = \"gone\"\nmodel = \"m\"\n\
             [models.gone]\ndeployments = [\"gone\"]\n"
        ),
        "gone.toml",
    )
    .expect("valid");
    let app =
        switchyard_server::app(switchyard_server::AppState::from_config(&config).expect("builds"));
    let response = tower::ServiceExt::oneshot(
        app,
        axum::http::Request::post("/v1/chat/completions")
            .header("content-type", "application/json")
            .body(axum::body::Body::from(
                json!({"model": "gone", "messages": user("hi")}).to_string(),
            ))
            .expect("request"),
    )
    .await
    .expect("infallible");
    assert_eq!(response.status(), 502);
    drop(server);
}

#[tokio::test]
async fn unknown_routes_and_methods_answer_in_protocol_shape() {
    let server = TestServer::start().await;
    let (status, error) = error_of(server.get("/v1/nothing").send().await.expect("answer")).await;
    assert_eq!((status, error["code"].as_str()), (404, Some("unknown_url")));
    let (status, error) = error_of(
        server
            .get("/v1/chat/completions")
            .send()
            .await
            .expect("answer"),
    )
    .await;
    assert_eq!(
        (status, error["code"].as_str()),
        (405, Some("method_not_allowed"))
    );
}

#[tokio::test]
async fn master_keys_guard_the_model_api_in_every_header_sdks_use() {
    let server = TestServer::start_with_auth().await;
    let body = json!({"model": "gpt", "messages": user("hi")});
    let (status, error) = error_of(
        server
            .post("/v1/chat/completions")
            .json(&body)
            .send()
            .await
            .expect("answer"),
    )
    .await;
    assert_eq!(
        (status, error["code"].as_str()),
        (401, Some("invalid_api_key"))
    );
    let (status, _) = error_of(
        server
            .post("/v1/chat/completions")
            .bearer_auth("wrong")
            .json(&body)
            .send()
            .await
            .expect("answer"),
    )
    .await;
    assert_eq!(status, 401);
    for (name, value) in [
        ("authorization", format!("Bearer {MASTER_KEY}")),
        ("api-key", MASTER_KEY.to_owned()),
        ("x-api-key", MASTER_KEY.to_owned()),
    ] {
        let response = server
            .post("/v1/chat/completions")
            .header(name, value)
            .json(&body)
            .send()
            .await
            .expect("answer");
        assert_eq!(response.status(), 200, "with `{name}`");
    }
    // Health and metrics stay open for probes and scrapers.
    let health = server.get("/healthz").send().await.expect("answer");
    assert_eq!(health.status(), 200);
}
