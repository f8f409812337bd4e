//! OpenAI clients on Anthropic: the whole path from an OpenAI request through the
//! Anthropic adapter to its mock and back, and a fallback from Anthropic to another
//! vendor when Anthropic is overloaded.

use serde_json::{Value, json};
use switchyard_testkit::{AnthropicScript, MockAnthropic, MockOpenAi};

use crate::harness::{Running, serve_config, sse_data, user};

pub struct Served {
    pub url: String,
    pub client: reqwest::Client,
    pub anthropic: MockAnthropic,
    pub openai: MockOpenAi,
    _server: Running,
}

pub async fn serve() -> Served {
    let anthropic = MockAnthropic::start().await;
    let openai = MockOpenAi::start().await;
    let text = format!(
        r#"
[providers.claude]
type = "anthropic"
base_url = "{}"
api_key = "env:IT_ANTHROPIC_KEY"

[providers.openai]
type = "openai"
base_url = "{}"

[deployments.sonnet]
provider = "claude"
model = "claude-sonnet-4-5"
default_max_tokens = 256

[deployments.gpt]
provider = "openai"
model = "mock-gpt"

[models.claude]
deployments = ["sonnet"]

[models.claude-ha]
deployments = ["sonnet", "gpt"]

[models.gpt]
deployments = ["gpt"]
"#,
        anthropic.base_url(),
        openai.base_url()
    );
    let server = serve_config(&text, |name| {
        (name == "IT_ANTHROPIC_KEY").then(|| "sk-ant-it-0123456789".to_owned())
    })
    .await;
    Served {
        url: server.url.clone(),
        client: reqwest::Client::new(),
        anthropic,
        openai,
        _server: server,
    }
}

impl Served {
    pub async fn messages(&self, body: Value) -> reqwest::Response {
        self.client
            .post(format!("{}/v1/messages", self.url))
            .json(&body)
            .send()
            .await
            .expect("a response")
    }

    async fn chat(&self, body: Value) -> reqwest::Response {
        self.client
            .post(format!("{}/v1/chat/completions", self.url))
            .json(&body)
            .send()
            .await
            .expect("a response")
    }
}

#[tokio::test]
async fn an_openai_request_is_answered_by_claude_in_openai_shape() {
    let served = serve().await;
    let response = served
        .chat(json!({"model": "claude", "messages": [
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": "hi"}
        ]}))
        .await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.expect("JSON");
    assert_eq!(body["object"], "chat.completion");
    assert_eq!(body["choices"][0]["message"]["content"], "echo: hi");
    assert_eq!(body["choices"][0]["finish_reason"], "stop");
    assert_eq!(body["usage"]["prompt_tokens"], 10);
    let sent = &served.anthropic.requests()[0];
    assert_eq!(sent.body["system"][0]["text"], "Be brief.");
    assert_eq!(sent.body["max_tokens"], 256);
}

#[tokio::test]
async fn a_streamed_openai_request_gets_openai_chunks_from_claude() {
    let served = serve().await;
    let response = served
        .chat(
            json!({"model": "claude", "messages": user("stream me"), "stream": true,
                     "stream_options": {"include_usage": true}}),
        )
        .await;
    assert_eq!(response.status(), 200);
    let data = sse_data(response).await;
    assert_eq!(data.last().map(String::as_str), Some("[DONE]"));
    let chunks: Vec<Value> = data[..data.len() - 1]
        .iter()
        .map(|chunk| serde_json::from_str(chunk).expect("chunk JSON"))
        .collect();
    let text: String = chunks
        .iter()
        .filter_map(|chunk| chunk["choices"][0]["delta"]["content"].as_str())
        .collect();
    assert_eq!(text, "echo: stream me");
    assert!(
        chunks
            .iter()
            .any(|chunk| chunk["choices"][0]["finish_reason"] == "stop")
    );
    assert!(
        chunks
            .iter()
            .any(|chunk| chunk["usage"]["completion_tokens"] == 5)
    );
}

#[tokio::test]
async fn an_unsupported_parameter_is_a_400_naming_it() {
    let served = serve().await;
    let response = served
        .chat(json!({"model": "claude", "messages": user("x"), "seed": 3}))
        .await;
    assert_eq!(response.status(), 400);
    let body: Value = response.json().await.expect("JSON");
    assert_eq!(body["error"]["param"], "seed", "{body}");
    assert!(served.anthropic.requests().is_empty());
}

#[tokio::test]
async fn an_overloaded_anthropic_falls_back_to_another_vendor() {
    let served = serve().await;
    served.anthropic.push(AnthropicScript::error(
        529,
        "overloaded_error",
        "Overloaded",
    ));
    let response = served
        .chat(json!({"model": "claude-ha", "messages": user("hello")}))
        .await;
    assert_eq!(response.status(), 200);
    let body: Value = response.json().await.expect("JSON");
    assert_eq!(body["choices"][0]["message"]["content"], "echo: hello");
    assert_eq!(served.anthropic.requests().len(), 1);
    assert_eq!(served.openai.requests().len(), 1);

    // Without a fallback, the caller sees the overload in OpenAI's shape.
    served.anthropic.push(AnthropicScript::error(
        529,
        "overloaded_error",
        "Overloaded",
    ));
    let response = served
        .chat(json!({"model": "claude", "messages": user("hello")}))
        .await;
    assert_eq!(response.status(), 503);
    let body: Value = response.json().await.expect("JSON");
    assert!(
        body["error"]["message"]
            .as_str()
            .is_some_and(|message| message.contains("Overloaded")),
        "{body}"
    );
}

/// One reasoning setting in each vendor's words: Anthropic's `thinking` budget reaches an
/// OpenAI upstream as `reasoning_effort`, and `reasoning_effort` reaches Anthropic as a
/// `thinking` budget.
#[tokio::test]
async fn thinking_and_reasoning_effort_cross_between_vendors() {
    let served = serve().await;
    let response = served
        .messages(
            json!({"model": "gpt", "max_tokens": 64, "messages": user("x"),
                         "thinking": {"type": "enabled", "budget_tokens": 8192}}),
        )
        .await;
    assert_eq!(response.status(), 200);
    let sent = &served.openai.requests()[0].body;
    assert_eq!(sent["reasoning_effort"], "medium");
    assert!(sent.get("thinking").is_none());

    let response = served
        .chat(json!({"model": "claude", "reasoning_effort": "low", "messages": user("x")}))
        .await;
    assert_eq!(response.status(), 200);
    let sent = &served.anthropic.requests()[0].body;
    assert_eq!(
        sent["thinking"],
        json!({"type": "enabled", "budget_tokens": 1024})
    );
    assert!(sent.get("reasoning_effort").is_none());
}

/// `POST /v1/route/explain` plans without dispatching: the candidates in order, and
/// every deployment left out with its reason; a request none may serve says why.
#[tokio::test]
async fn route_explain_shows_the_plan_without_dispatching() {
    let served = serve().await;
    let explain = |body: Value| {
        served
            .client
            .post(format!("{}/v1/route/explain", served.url))
            .json(&body)
            .send()
    };
    let plan: Value = explain(json!({"model": "claude-ha", "messages": user("x"), "stream": true}))
        .await
        .expect("answers")
        .json()
        .await
        .expect("JSON");
    assert_eq!(plan["model"], "claude-ha");
    assert_eq!(plan["needs"]["streaming"], true);
    let order: Vec<&str> = plan["candidates"]
        .as_array()
        .expect("candidates")
        .iter()
        .map(|candidate| candidate["deployment"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(order, ["sonnet", "gpt"]);
    assert_eq!(plan["candidates"][0]["provider"], "claude");
    assert_eq!(plan["candidates"][0]["upstream_model"], "claude-sonnet-4-5");
    assert_eq!(plan["excluded"], json!([]));
    assert_eq!(plan["refusal"], Value::Null);
    assert!(served.anthropic.requests().is_empty() && served.openai.requests().is_empty());

    let unknown = explain(json!({"model": "nope", "messages": user("x")}))
        .await
        .expect("answers");
    assert_eq!(unknown.status(), 404);
}

/// The caller's `x-switchyard-policy` decides where its request may go before anything
/// is sent: a denied provider is skipped, not tried and fallen back from; a policy that
/// leaves nothing is a 400 naming each deployment and the rule; a malformed policy is
/// refused, never ignored.
#[tokio::test]
async fn the_callers_policy_keeps_requests_off_what_it_forbids() {
    let served = serve().await;
    let post = |path: &str, policy: &str, body: Value| {
        served
            .client
            .post(format!("{}{path}", served.url))
            .header("x-switchyard-policy", policy)
            .json(&body)
            .send()
    };
    let response = post(
        "/v1/chat/completions",
        r#"{"deny_providers": ["claude"]}"#,
        json!({"model": "claude-ha", "messages": user("x")}),
    )
    .await
    .expect("answers");
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["x-switchyard-deployment"], "gpt");
    assert_eq!(response.headers()["x-switchyard-attempts"], "1");
    assert!(
        served.anthropic.requests().is_empty(),
        "never dispatched to a denied provider"
    );

    let refused = post(
        "/v1/chat/completions",
        r#"{"allow_providers": ["claude"]}"#,
        json!({"model": "gpt", "messages": user("x")}),
    )
    .await
    .expect("answers");
    assert_eq!(refused.status(), 400);
    let body: Value = refused.json().await.expect("JSON");
    assert_eq!(body["error"]["code"], "no_eligible_deployment");
    assert_eq!(
        body["error"]["message"],
        "no deployment of the model `gpt` can serve this request: `gpt` (openai) is ruled out by \
         the request's policy: provider `openai` is not among the allowed providers"
    );

    let explained: Value = post(
        "/v1/route/explain",
        r#"{"deny_deployments": ["sonnet"]}"#,
        json!({"model": "claude-ha", "messages": user("x")}),
    )
    .await
    .expect("answers")
    .json()
    .await
    .expect("JSON");
    assert_eq!(explained["candidates"][0]["deployment"], "gpt");
    assert_eq!(
        explained["excluded"][0]["reason"],
        "is ruled out by the request's policy: deployment `sonnet` is denied"
    );

    let malformed = post(
        "/v1/messages",
        r#"{"jurisdiction": "EU"}"#,
        json!({"model": "claude", "max_tokens": 8, "messages": user("x")}),
    )
    .await
    .expect("answers");
    assert_eq!(malformed.status(), 400);
    let body: Value = malformed.json().await.expect("JSON");
    assert_eq!(
        body["type"], "error",
        "in Anthropic's shape on its route: {body}"
    );
    assert!(
        body["error"]["message"]
            .as_str()
            .is_some_and(|message| message.contains("x-switchyard-policy")),
        "{body}"
    );
    assert_eq!(served.openai.requests().len(), 1);
}
