//! Routing through the server: policies checked against what the catalog and config
//! say of each deployment, strategies, retries that honour `Retry-After`, circuit
//! breakers that fail fast, and the health they leave in `/v1/route/health` and
//! `/metrics`.

use std::time::{Duration, Instant};

use serde_json::{Value, json};
use switchyard_server::AppState;
use switchyard_server::config::Config;
use switchyard_testkit::{MockOpenAi, Route, Script};

use crate::harness::{Running, TestServer, header, serve_config, user};

struct Served {
    url: String,
    client: reqwest::Client,
    /// Serves `gpt-us`: OpenAI's GPT-4o (US vendor), pinned to `eastus2`.
    us: MockOpenAi,
    /// Serves `mistral-eu`: Mistral Large (French vendor), hosted in Sweden.
    eu: MockOpenAi,
    _server: Running,
}

impl Served {
    async fn post(&self, path: &str, body: Value) -> reqwest::Response {
        self.client
            .post(format!("{}{path}", self.url))
            .json(&body)
            .send()
            .await
            .expect("answers")
    }

    async fn get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(format!("{}{path}", self.url))
            .send()
            .await
            .expect("answers")
    }
}

/// Models: `pair` (gpt-us, then mistral-eu, under `strategy`), `us` and `eu` alone.
async fn serve(strategy: &str, routing: &str) -> Served {
    let us = MockOpenAi::start().await;
    let eu = MockOpenAi::start().await;
    let text = format!(
        r#"
[providers.openai]
type = "openai"
base_url = "{us}"

[providers.mistral]
type = "mistral"
base_url = "{eu}"

[deployments.gpt-us]
provider = "openai"
model = "gpt-4o"
region = "eastus2"

[deployments.mistral-eu]
provider = "mistral"
model = "mistral-large-2512"
region = "swedencentral"
retention_days = 30

[models.pair]
deployments = ["gpt-us", "mistral-eu"]
strategy = "{strategy}"
languages = {{ French = "mistral-eu" }}

[models.us]
deployments = ["gpt-us"]

[models.eu]
deployments = ["mistral-eu"]

{routing}
"#,
        us = us.base_url(),
        eu = eu.base_url(),
    );
    let server = serve_config(&text, |_| None).await;
    Served {
        url: server.url.clone(),
        client: reqwest::Client::new(),
        us,
        eu,
        _server: server,
    }
}

fn upstream_error(status: u16, retry_after: Option<&str>) -> Script {
    Script::Error {
        status,
        body: json!({"error": {"message": "scripted", "type": "server_error", "code": null}}),
        retry_after: retry_after.map(str::to_owned),
    }
}

#[tokio::test]
async fn a_body_policy_on_the_vendors_home_routes_by_the_catalogs_jurisdictions() {
    let served = serve("priority", "").await;
    let body = json!({
        "model": "pair",
        "messages": user("bonjour"),
        "switchyard": {"policy": {"jurisdictions": ["EU"]}},
    });
    let response = served.post("/v1/chat/completions", body.clone()).await;
    assert_eq!(response.status(), 200);
    assert_eq!(
        header(&response, "x-switchyard-deployment"),
        Some("mistral-eu")
    );
    assert!(
        served.us.requests().is_empty(),
        "the US vendor is never called"
    );
    let sent = &served.eu.requests()[0].body;
    assert!(
        sent.get("switchyard").is_none(),
        "no upstream sees the field: {sent}"
    );

    let explained: Value = served
        .post("/v1/route/explain", body)
        .await
        .json()
        .await
        .expect("JSON");
    assert_eq!(
        explained["excluded"][0]["reason"],
        "is ruled out by the request's policy: its vendor is based in US, outside EU"
    );
    assert_eq!(explained["candidates"][0]["profile"]["jurisdiction"], "FR");
    assert_eq!(explained["candidates"][0]["profile"]["hosted_in"], "SE");
    assert_eq!(
        explained["candidates"][0]["profile"]["context_window"],
        262144
    );

    let malformed = served
        .post(
            "/v1/chat/completions",
            json!({"model": "pair", "messages": user("x"),
                   "switchyard": {"policy": {"jurisdictions": ["Europe"]}}}),
        )
        .await;
    assert_eq!(malformed.status(), 400);
    let error: Value = malformed.json().await.expect("JSON");
    assert_eq!(error["error"]["param"], "switchyard");

    // A rule that parses but cannot hold is refused in the header as in the body.
    let negative = served
        .client
        .post(format!("{}/v1/chat/completions", served.url))
        .header("x-switchyard-policy", r#"{"max_input_price": -1}"#)
        .json(&json!({"model": "pair", "messages": user("x")}))
        .send()
        .await
        .expect("answers");
    assert_eq!(negative.status(), 400);
    let error: Value = negative.json().await.expect("JSON");
    assert_eq!(error["error"]["param"], "x-switchyard-policy");
}

#[tokio::test]
async fn the_operators_policy_holds_under_every_request_and_is_named_when_it_refuses() {
    let served = serve(
        "priority",
        r#"
[routing.policy]
hosted_in = ["EU"]
"#,
    )
    .await;
    let response = served
        .post(
            "/v1/chat/completions",
            json!({"model": "pair", "messages": user("x")}),
        )
        .await;
    assert_eq!(
        header(&response, "x-switchyard-deployment"),
        Some("mistral-eu")
    );

    // A caller cannot loosen it: allowing only the US deployment leaves nothing.
    let refused = served
        .client
        .post(format!("{}/v1/chat/completions", served.url))
        .header(
            "x-switchyard-policy",
            r#"{"allow_deployments": ["gpt-us"]}"#,
        )
        .json(&json!({"model": "pair", "messages": user("x")}))
        .send()
        .await
        .expect("answers");
    assert_eq!(refused.status(), 400);
    let error: Value = refused.json().await.expect("JSON");
    assert_eq!(error["error"]["code"], "no_eligible_deployment");
    assert_eq!(
        error["error"]["message"],
        "no deployment of the model `pair` can serve this request: `gpt-us` (openai) is ruled \
         out by the operator's policy: it is hosted in US (eastus2), outside EU; `mistral-eu` \
         (mistral) is ruled out by the request's policy: deployment `mistral-eu` is not among \
         the allowed deployments"
    );
    assert!(served.us.requests().is_empty());
}

#[tokio::test]
async fn retention_and_price_rules_use_the_config_and_the_catalog() {
    let served = serve("priority", "").await;
    let under = |policy: Value| json!({"model": "pair", "messages": user("x"), "switchyard": {"policy": policy}});
    // GPT-4o's output costs $10/M in the catalog, Mistral Large's $1.50/M.
    let cheap = served
        .post(
            "/v1/chat/completions",
            under(json!({"max_output_price": 2})),
        )
        .await;
    assert_eq!(
        header(&cheap, "x-switchyard-deployment"),
        Some("mistral-eu")
    );
    // Mistral keeps data 30 days by its config; OpenAI's retention is unknown here.
    let refused = served
        .post(
            "/v1/chat/completions",
            under(json!({"max_retention_days": 7})),
        )
        .await;
    assert_eq!(refused.status(), 400);
    let error: Value = refused.json().await.expect("JSON");
    let message = error["error"]["message"].as_str().expect("a message");
    assert!(
        message.contains("its data retention is unknown"),
        "{message}"
    );
    assert!(
        message.contains("it keeps data 30 days, more than the 7 allowed"),
        "{message}"
    );
}

#[tokio::test]
async fn french_prompts_go_to_the_deployment_their_language_names() {
    let served = serve("priority", "").await;
    let french = served
        .post(
            "/v1/chat/completions",
            json!({"model": "pair", "messages": user(
                "Bonjour, pourriez-vous m'expliquer comment fonctionne la photosynthèse ?"
            )}),
        )
        .await;
    assert_eq!(
        header(&french, "x-switchyard-deployment"),
        Some("mistral-eu")
    );
    assert_eq!(
        header(&french, "x-switchyard-route-reason"),
        Some("language: a French prompt goes to `mistral-eu`")
    );
    let english = served
        .post(
            "/v1/chat/completions",
            json!({"model": "pair", "messages": user(
                "Hello, could you explain to me how photosynthesis works in plants?"
            )}),
        )
        .await;
    assert_eq!(header(&english, "x-switchyard-deployment"), Some("gpt-us"));
}

#[tokio::test]
async fn the_cheapest_strategy_picks_by_estimated_cost_and_says_why() {
    let served = serve("cheapest", "").await;
    let response = served
        .post(
            "/v1/chat/completions",
            json!({"model": "pair", "messages": user("x")}),
        )
        .await;
    assert_eq!(
        header(&response, "x-switchyard-deployment"),
        Some("mistral-eu")
    );
    let reason = header(&response, "x-switchyard-route-reason").expect("a reason");
    assert!(
        reason.starts_with("cheapest: `mistral-eu` at an estimated $"),
        "{reason}"
    );
}

#[tokio::test]
async fn a_configured_retry_honours_retry_after_then_succeeds() {
    let served = serve(
        "priority",
        r#"
[routing]
retries = 1
backoff = "10ms"
"#,
    )
    .await;
    served
        .us
        .push(Route::ChatCompletions, upstream_error(429, Some("1")));
    let started = Instant::now();
    let response = served
        .post(
            "/v1/chat/completions",
            json!({"model": "us", "messages": user("x")}),
        )
        .await;
    assert_eq!(response.status(), 200);
    assert_eq!(header(&response, "x-switchyard-attempts"), Some("2"));
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "waited for Retry-After"
    );
    assert_eq!(served.us.requests().len(), 2);
}

#[tokio::test]
async fn an_open_circuit_fails_fast_with_retry_after_and_shows_in_health_and_metrics() {
    let served = serve(
        "priority",
        r#"
[routing.breaker]
failures = 2
cooldown = "60s"
"#,
    )
    .await;
    for _ in 0..2 {
        served
            .us
            .push(Route::ChatCompletions, upstream_error(500, None));
        let failed = served
            .post(
                "/v1/chat/completions",
                json!({"model": "us", "messages": user("x")}),
            )
            .await;
        assert_eq!(failed.status(), 502);
    }
    let fast = served
        .post(
            "/v1/chat/completions",
            json!({"model": "us", "messages": user("x")}),
        )
        .await;
    assert_eq!(fast.status(), 503);
    let retry_after: u64 = header(&fast, "retry-after")
        .and_then(|value| value.parse().ok())
        .expect("a Retry-After");
    assert!((59..=60).contains(&retry_after), "{retry_after}");
    let error: Value = fast.json().await.expect("JSON");
    assert_eq!(error["error"]["code"], "overloaded");
    assert!(
        error["error"]["message"]
            .as_str()
            .is_some_and(|message| message.contains("circuit breaker is open")),
        "{error}"
    );
    assert_eq!(
        served.us.requests().len(),
        2,
        "the open circuit is not called"
    );

    // A route with another deployment passes the open one over.
    let pair = served
        .post(
            "/v1/chat/completions",
            json!({"model": "pair", "messages": user("x")}),
        )
        .await;
    assert_eq!(header(&pair, "x-switchyard-deployment"), Some("mistral-eu"));

    let health: Value = served
        .get("/v1/route/health")
        .await
        .json()
        .await
        .expect("JSON");
    let us = health["deployments"]
        .as_array()
        .expect("deployments")
        .iter()
        .find(|deployment| deployment["deployment"] == "gpt-us")
        .expect("gpt-us is listed");
    assert_eq!(us["circuit"]["state"], "open");
    assert_eq!(us["failures"], 2);
    assert_eq!(us["models"], json!(["pair", "us"]));
    let metrics = served.get("/metrics").await.text().await.expect("text");
    assert!(
        metrics.contains(
            r#"switchyard_deployment_circuit{deployment="gpt-us",provider="openai",state="open"} 1"#
        ),
        "{metrics}"
    );
}

#[tokio::test]
async fn a_request_too_long_for_a_configured_window_goes_to_a_larger_one() {
    let served = serve("priority", "").await;
    // The catalog gives GPT-4o 128k tokens; a tighter configured window wins.
    let text = format!(
        r#"
[providers.openai]
type = "openai"
base_url = "{}"

[providers.mistral]
type = "mistral"
base_url = "{}"

[deployments.small]
provider = "openai"
model = "gpt-4o"
context_window = 100

[deployments.large]
provider = "mistral"
model = "mistral-large-2512"

[models.m]
deployments = ["small", "large"]
"#,
        served.us.base_url(),
        served.eu.base_url()
    );
    let config =
        Config::from_toml_str_with(&text, "it.toml", |_| None).unwrap_or_else(|e| panic!("{e}"));
    let app = switchyard_server::app(AppState::from_config(&config).expect("builds"));
    let long = "word ".repeat(400);
    let response = tower::ServiceExt::oneshot(
        app,
        axum::http::Request::post("/v1/chat/completions")
            .header("content-type", "application/json")
            .body(axum::body::Body::from(
                json!({"model": "m", "messages": user(&long)}).to_string(),
            ))
            .expect("a request"),
    )
    .await
    .expect("answers");
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["x-switchyard-deployment"], "large");
    assert!(served.us.requests().is_empty());
}

#[tokio::test]
async fn embeddings_are_routed_under_the_callers_policy() {
    let server = TestServer::start().await;
    let embed = |policy: Option<&str>| {
        let mut request = server
            .post("/v1/embeddings")
            .json(&json!({"model": "org/embed", "input": "hello"}));
        if let Some(policy) = policy {
            request = request.header("x-switchyard-policy", policy);
        }
        request.send()
    };
    assert_eq!(embed(None).await.expect("answers").status(), 200);
    let refused = embed(Some(r#"{"deny_deployments": ["primary"]}"#))
        .await
        .expect("answers");
    assert_eq!(refused.status(), 400);
    let body: Value = refused.json().await.expect("JSON");
    assert!(
        body["error"]["message"]
            .as_str()
            .is_some_and(|m| m.contains("request's policy")),
        "{body}"
    );
    assert_eq!(
        server.primary.requests_to(Route::Embeddings).len(),
        1,
        "the refused request reached no upstream"
    );
}
