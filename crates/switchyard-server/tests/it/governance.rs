//! Keys, limits, budgets, the ledger and the admin API, over HTTP against mock
//! upstreams: what a caller and an administrator see.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::StreamExt;
use serde_json::{Value, json};
use switchyard_testkit::MockOpenAi;
use switchyard_testkit::mock::{Route, Script, StreamEnd};

use crate::harness::{Running, header, serve_config, user};

pub(crate) const MASTER: &str = "gov-master-key";

/// `priced` costs $1,000 per million tokens each way (a tenth of a cent per token),
/// so small budgets run out in a few requests; `free` has no price.
const CONFIG: &str = r#"
[server]
master_keys = ["env:MASTER"]
{server_extra}

[providers.mock]
type = "openai"
base_url = "{primary}"

[providers.spare]
type = "openai"
base_url = "{backup}"

[deployments.priced]
provider = "mock"
model = "mock-gpt"
price = { input = 1000, output = 1000 }

[deployments.backup]
provider = "spare"
model = "backup-gpt"
price = { input = 1000, output = 1000 }

[models.gpt]
deployments = ["priced"]

[models.gpt-ha]
deployments = ["priced", "backup"]

{governance}
"#;

pub(crate) struct Gateway {
    pub(crate) served: Running,
    pub(crate) primary: MockOpenAi,
    _backup: MockOpenAi,
    pub(crate) client: reqwest::Client,
}

pub(crate) async fn gateway(governance: &str) -> Gateway {
    let primary = MockOpenAi::start().await;
    let backup = MockOpenAi::start().await;
    let text = CONFIG
        .replace("{server_extra}", "")
        .replace("{primary}", &primary.base_url())
        .replace("{backup}", &backup.base_url())
        .replace("{governance}", governance);
    let served = serve_config(&text, |name| (name == "MASTER").then(|| MASTER.to_owned())).await;
    Gateway {
        served,
        primary,
        _backup: backup,
        client: reqwest::Client::new(),
    }
}

impl Gateway {
    pub(crate) fn url(&self, path: &str) -> String {
        format!("{}{path}", self.served.url)
    }

    async fn admin(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        let mut request = self
            .client
            .request(method, self.url(path))
            .bearer_auth(MASTER);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.expect("answers");
        let status = response.status().as_u16();
        let text = response.text().await.expect("a body");
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    /// Creates a key; returns its id and secret.
    pub(crate) async fn key(&self, settings: Value) -> (String, String) {
        let (status, body) = self
            .admin(reqwest::Method::POST, "/admin/keys", Some(settings))
            .await;
        assert_eq!(status, 201, "{body}");
        (
            body["id"].as_str().expect("an id").to_owned(),
            body["secret"].as_str().expect("a secret").to_owned(),
        )
    }

    pub(crate) async fn chat(&self, secret: &str, body: Value) -> reqwest::Response {
        self.client
            .post(self.url("/v1/chat/completions"))
            .bearer_auth(secret)
            .json(&body)
            .send()
            .await
            .expect("answers")
    }

    /// The ledger summed for one key, once the writer has had time to write it.
    pub(crate) async fn usage_of(&self, key: &str, expected_requests: u64) -> Value {
        for _ in 0..50 {
            let (status, body) = self
                .admin(
                    reqwest::Method::GET,
                    &format!("/admin/usage?group_by=key&key={key}"),
                    None,
                )
                .await;
            assert_eq!(status, 200, "{body}");
            if body["data"][0]["requests"].as_u64() == Some(expected_requests) {
                return body["data"][0].clone();
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("the ledger never held {expected_requests} requests for {key}");
    }
}

pub(crate) fn hello() -> Value {
    json!({"model": "gpt", "messages": user("hello there"), "max_tokens": 10})
}

#[tokio::test]
async fn a_key_is_shown_once_authenticates_and_stops_when_revoked_or_rotated() {
    let gateway = gateway("").await;
    let (id, secret) = gateway
        .key(json!({"org": "acme", "team": "research", "name": "ci"}))
        .await;
    assert!(secret.starts_with("sy-") && id.starts_with("key_"));
    let served = gateway.chat(&secret, hello()).await;
    assert_eq!(served.status(), 200);

    let (_, listed) = gateway
        .admin(reqwest::Method::GET, "/admin/keys", None)
        .await;
    let listed = listed.to_string();
    assert!(
        listed.contains(&id) && !listed.contains(&secret),
        "{listed}"
    );
    assert!(!listed.contains("secret_hash"), "{listed}");
    let (_, shown) = gateway
        .admin(reqwest::Method::GET, &format!("/admin/keys/{id}"), None)
        .await;
    assert_eq!(shown["last4"], secret[secret.len() - 4..]);
    assert!(shown.get("secret").is_none());

    let (status, rotated) = gateway
        .admin(
            reqwest::Method::POST,
            &format!("/admin/keys/{id}/rotate"),
            None,
        )
        .await;
    assert_eq!(status, 201, "{rotated}");
    assert_eq!(rotated["rotated_from"], id.as_str());
    assert_eq!(rotated["team"], "research");
    let new_secret = rotated["secret"].as_str().expect("a new secret");
    let refused = gateway.chat(&secret, hello()).await;
    assert_eq!(refused.status(), 401);
    let error: Value = refused.json().await.expect("JSON");
    assert!(
        error["error"]["message"]
            .as_str()
            .is_some_and(|message| message.contains("revoked")),
        "{error}"
    );
    assert_eq!(gateway.chat(new_secret, hello()).await.status(), 200);

    let new_id = rotated["id"].as_str().expect("an id");
    let (status, _) = gateway
        .admin(
            reqwest::Method::POST,
            &format!("/admin/keys/{new_id}/revoke"),
            None,
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(gateway.chat(new_secret, hello()).await.status(), 401);
    let unknown = format!("sy-{}", "A".repeat(43));
    assert_eq!(gateway.chat(&unknown, hello()).await.status(), 401);

    // Every change is audited, by the master key's fingerprint, never with a secret.
    let (_, audit) = gateway
        .admin(reqwest::Method::GET, "/admin/audit", None)
        .await;
    let actions: Vec<&str> = audit["data"]
        .as_array()
        .expect("entries")
        .iter()
        .filter_map(|entry| entry["action"].as_str())
        .collect();
    assert_eq!(
        actions,
        [
            "group.create",
            "group.create",
            "key.create",
            "key.rotate",
            "key.revoke",
            "key.revoke"
        ]
    );
    let audit = audit.to_string();
    assert!(audit.contains("master:") && !audit.contains(MASTER));
    assert!(!audit.contains(&secret) && !audit.contains(new_secret));
}

#[tokio::test]
async fn the_admin_api_takes_master_keys_only() {
    let gateway = gateway("").await;
    let (_, secret) = gateway.key(json!({"org": "acme"})).await;
    let as_key = gateway
        .client
        .get(gateway.url("/admin/keys"))
        .bearer_auth(&secret)
        .send()
        .await
        .expect("answers");
    assert_eq!(as_key.status(), 403);
    let anonymous = gateway
        .client
        .get(gateway.url("/admin/keys"))
        .send()
        .await
        .expect("answers");
    assert_eq!(anonymous.status(), 401);
    let (status, body) = gateway
        .admin(
            reqwest::Method::POST,
            "/admin/keys",
            Some(json!({"org": "acme", "budgets": ["lots"]})),
        )
        .await;
    assert_eq!(status, 400, "{body}");
    assert!(
        body["error"]["message"]
            .as_str()
            .is_some_and(|message| message.contains("`lots` is not a budget")),
        "{body}"
    );
    let (status, body) = gateway
        .admin(
            reqwest::Method::POST,
            "/admin/keys",
            Some(json!({"org": "acme", "policy": {"jurisdiction": ["EU"]}})),
        )
        .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"]["param"], "policy");

    // A server without master keys has no admin API at all.
    let open = serve_config(
        &format!(
            "[providers.mock]\ntype = \"openai\"\nbase_url = \"{}\"\n\
             [deployments.d]\nprovider = \"mock\"\nmodel = \"m\"\n\
             [models.m]\ndeployments = [\"d\"]\n",
            gateway.primary.base_url()
        ),
        |_| None,
    )
    .await;
    let closed = reqwest::get(format!("{}/admin/keys", open.url))
        .await
        .expect("answers");
    assert_eq!(closed.status(), 403);
    let error: Value = closed.json().await.expect("JSON");
    assert!(
        error["error"]["message"]
            .as_str()
            .is_some_and(|message| message.contains("server.master_keys")),
        "{error}"
    );
}

#[tokio::test]
async fn requests_per_minute_are_refused_with_openai_headers() {
    let gateway = gateway("").await;
    let (_, secret) = gateway
        .key(json!({"org": "acme", "limits": {"rpm": 2, "tpm": 100000}}))
        .await;
    let first = gateway.chat(&secret, hello()).await;
    assert_eq!(first.status(), 200);
    assert_eq!(header(&first, "x-ratelimit-limit-requests"), Some("2"));
    assert_eq!(header(&first, "x-ratelimit-remaining-requests"), Some("1"));
    assert_eq!(header(&first, "x-ratelimit-limit-tokens"), Some("100000"));
    assert!(header(&first, "x-ratelimit-reset-requests").is_some_and(|reset| reset.ends_with('s')));
    assert_eq!(gateway.chat(&secret, hello()).await.status(), 200);
    let refused = gateway.chat(&secret, hello()).await;
    assert_eq!(refused.status(), 429);
    let retry_after: u64 = header(&refused, "retry-after")
        .and_then(|seconds| seconds.parse().ok())
        .expect("Retry-After");
    assert!((1..=30).contains(&retry_after), "{retry_after}");
    let error: Value = refused.json().await.expect("JSON");
    assert_eq!(error["error"]["code"], "rate_limit_exceeded");
    assert_eq!(error["error"]["type"], "rate_limit_error");
    // Refused before dispatch: the upstream saw two requests.
    assert_eq!(gateway.primary.requests_to(Route::ChatCompletions).len(), 2);

    // A team limit binds every key in it.
    let (status, _) = gateway
        .admin(reqwest::Method::PUT, "/admin/orgs/beta", Some(json!({})))
        .await;
    assert_eq!(status, 200);
    let (status, _) = gateway
        .admin(
            reqwest::Method::PUT,
            "/admin/orgs/beta/teams/web",
            Some(json!({"limits": {"rpm": 1}})),
        )
        .await;
    assert_eq!(status, 200);
    let (_, one) = gateway.key(json!({"org": "beta", "team": "web"})).await;
    let (_, other) = gateway.key(json!({"org": "beta", "team": "web"})).await;
    assert_eq!(gateway.chat(&one, hello()).await.status(), 200);
    let refused = gateway.chat(&other, hello()).await;
    assert_eq!(refused.status(), 429);
    let error: Value = refused.json().await.expect("JSON");
    assert!(
        error["error"]["message"]
            .as_str()
            .is_some_and(|message| message.contains("team `beta/web`")),
        "{error}"
    );
}

#[tokio::test]
async fn a_budget_is_reserved_before_dispatch_and_never_overspent() {
    let gateway = gateway("").await;
    // 5 cents; each request reserves (prompt + 10 output tokens) × $0.001.
    let (id, secret) = gateway
        .key(json!({"org": "acme", "budgets": ["0.05usd/month"]}))
        .await;
    let mut served = 0;
    let refusal = loop {
        let response = gateway.chat(&secret, hello()).await;
        if response.status() != 200 {
            break response;
        }
        served += 1;
        assert!(served < 50, "the budget never ran out");
    };
    assert_eq!(refusal.status(), 429);
    let error: Value = refusal.json().await.expect("JSON");
    assert_eq!(error["error"]["code"], "insufficient_quota");
    assert_eq!(error["error"]["type"], "insufficient_quota");
    assert!(served >= 2, "{served}");

    // The refusal is in the ledger too, as an error that cost nothing.
    let usage = gateway.usage_of(&id, served + 1).await;
    assert_eq!(usage["errors"], 1);
    let spent = usage["cost_usd"].as_f64().expect("a cost");
    assert!(spent > 0.0 && spent <= 0.05, "{spent}");
    let (_, key) = gateway
        .admin(reqwest::Method::GET, &format!("/admin/keys/{id}"), None)
        .await;
    assert_eq!(key["spend"][0]["budget"], "0.05usd/month");
    assert!((key["spend"][0]["spent_usd"].as_f64().expect("spent") - spent).abs() < 1e-9);
}

#[tokio::test]
async fn a_key_sees_only_its_models_and_routes_under_its_policy() {
    let gateway = gateway("").await;
    let (_, limited) = gateway
        .key(json!({"org": "acme", "models": ["gpt-ha"], "policy": {"deny_deployments": ["priced"]}}))
        .await;
    let listed: Value = gateway
        .client
        .get(gateway.url("/v1/models"))
        .bearer_auth(&limited)
        .send()
        .await
        .expect("answers")
        .json()
        .await
        .expect("JSON");
    let names: Vec<&str> = listed["data"]
        .as_array()
        .expect("models")
        .iter()
        .filter_map(|model| model["id"].as_str())
        .collect();
    assert_eq!(names, ["gpt-ha"]);
    let hidden = gateway.chat(&limited, hello()).await;
    assert_eq!(hidden.status(), 404);
    let error: Value = hidden.json().await.expect("JSON");
    assert_eq!(
        error["error"]["message"],
        "the model `gpt` does not exist or you do not have access to it"
    );
    let routed = gateway
        .chat(&limited, json!({"model": "gpt-ha", "messages": user("hi")}))
        .await;
    assert_eq!(header(&routed, "x-switchyard-deployment"), Some("backup"));
    assert_eq!(
        routed.status(),
        200,
        "{}",
        routed.text().await.unwrap_or_default()
    );
}

#[tokio::test]
async fn every_request_leaves_one_record_and_cut_streams_are_billed() {
    let gateway = gateway("").await;
    let (id, secret) = gateway.key(json!({"org": "acme"})).await;
    assert_eq!(gateway.chat(&secret, hello()).await.status(), 200);
    let streamed = gateway
        .chat(
            &secret,
            json!({"model": "gpt", "messages": user("stream me"), "stream": true,
                   "stream_options": {"include_usage": true}}),
        )
        .await;
    assert_eq!(streamed.status(), 200);
    let _ = streamed.text().await;

    // A stream the upstream stalls after two words, and the client abandons.
    let chunk = |content: &str| {
        json!({"id": "c1", "object": "chat.completion.chunk", "created": 1, "model": "mock-gpt",
               "choices": [{"index": 0, "delta": {"content": content}, "finish_reason": null}]})
    };
    gateway.primary.push(
        Route::ChatCompletions,
        Script::Stream {
            chunks: vec![chunk("partial "), chunk("answer words")],
            delay_ms: 0,
            end: StreamEnd::Stall,
        },
    );
    let cut = gateway
        .chat(
            &secret,
            json!({"model": "gpt", "messages": user("never finishes"), "stream": true}),
        )
        .await;
    let mut body = cut.bytes_stream();
    let mut seen = String::new();
    while !seen.contains("answer words") {
        let bytes = body.next().await.expect("more").expect("bytes");
        seen.push_str(&String::from_utf8_lossy(&bytes));
    }
    drop(body);

    let usage = gateway.usage_of(&id, 3).await;
    assert_eq!(usage["errors"], 1, "the cut stream is a 499: {usage}");
    let (_, report) = gateway
        .admin(
            reqwest::Method::GET,
            &format!("/admin/usage?key={id}&group_by=model&format=csv"),
            None,
        )
        .await;
    let csv = report.as_str().expect("CSV text");
    assert!(
        csv.starts_with("model,requests,errors,input_tokens"),
        "{csv}"
    );
    assert!(csv.contains("\r\ngpt,3,1,"), "{csv}");
    // The cut stream's output (3 tokens of text) was counted, beside the other two.
    let output = usage["output_tokens"].as_u64().expect("tokens");
    assert!(output >= 3 + 2, "{usage}");
}

/// Collects what a budget-alert webhook receives.
async fn webhook() -> (String, Arc<Mutex<Vec<Value>>>) {
    let received = Arc::new(Mutex::new(Vec::new()));
    let sink = received.clone();
    let app = axum::Router::new().route(
        "/alerts",
        axum::routing::post(move |axum::Json(event): axum::Json<Value>| {
            let sink = sink.clone();
            async move {
                sink.lock().expect("not poisoned").push(event);
                "ok"
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a port");
    let url = format!("http://{}/alerts", listener.local_addr().expect("address"));
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, received)
}

#[tokio::test]
async fn budget_alerts_go_out_once_per_threshold() {
    let (url, received) = webhook().await;
    let gateway = gateway(&format!(
        "[governance]\nalert_webhook = \"{url}\"\nalert_at = [10, 50]\n"
    ))
    .await;
    let (id, secret) = gateway
        .key(json!({"org": "acme", "budgets": ["1usd/day"]}))
        .await;
    // Each request costs a few tenths of a cent; 40 of them pass 10% but not 50%.
    for _ in 0..40 {
        assert_eq!(gateway.chat(&secret, hello()).await.status(), 200);
    }
    for _ in 0..50 {
        if !received.lock().expect("not poisoned").is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tokio::time::sleep(Duration::from_millis(300)).await;
    let events = received.lock().expect("not poisoned").clone();
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(events[0]["threshold_percent"], 10);
    assert_eq!(events[0]["scope"]["key"], id.as_str());
    assert_eq!(events[0]["budget"], "1usd/day");
}

#[tokio::test]
async fn a_stored_response_is_walled_off_from_other_tenants() {
    let gateway = gateway("").await;
    let (_, acme) = gateway.key(json!({"org": "acme", "name": "a"})).await;
    let (_, globex) = gateway.key(json!({"org": "globex", "name": "b"})).await;
    let (_, acme_too) = gateway.key(json!({"org": "acme", "name": "c"})).await;
    let send = |secret: &str, method: reqwest::Method, path: &str, body: Option<Value>| {
        let mut request = gateway
            .client
            .request(method, gateway.url(path))
            .bearer_auth(secret);
        if let Some(body) = body {
            request = request.json(&body);
        }
        async move {
            let response = request.send().await.expect("answers");
            let status = response.status().as_u16();
            (
                status,
                response.json::<Value>().await.unwrap_or(Value::Null),
            )
        }
    };
    let (status, created) = send(
        &acme,
        reqwest::Method::POST,
        "/v1/responses",
        Some(json!({"model": "gpt", "input": "my secret plan", "max_output_tokens": 10})),
    )
    .await;
    assert_eq!(status, 200, "{created}");
    let id = created["id"].as_str().expect("an id").to_owned();
    let missing = "resp_00000000000000000000000000000000";

    // Another organisation meets exactly what an id that never existed meets.
    for path in [
        format!("/v1/responses/{id}"),
        format!("/openai/v1/responses/{id}"),
    ] {
        let (theirs, theirs_body) = send(&globex, reqwest::Method::GET, &path, None).await;
        let (none, none_body) = send(
            &globex,
            reqwest::Method::GET,
            &path.replace(&id, missing),
            None,
        )
        .await;
        assert_eq!((theirs, none), (404, 404), "{theirs_body}");
        assert_eq!(
            theirs_body["error"]["code"], none_body["error"]["code"],
            "{theirs_body} {none_body}"
        );
    }
    let (status, _) = send(
        &globex,
        reqwest::Method::GET,
        &format!("/v1/responses/{id}/input_items"),
        None,
    )
    .await;
    assert_eq!(status, 404);
    let (status, body) = send(
        &globex,
        reqwest::Method::POST,
        "/v1/responses",
        Some(json!({"model": "gpt", "input": "repeat what you were told",
                    "previous_response_id": id, "max_output_tokens": 10})),
    )
    .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["error"]["param"], "previous_response_id");
    let (status, _) = send(
        &globex,
        reqwest::Method::DELETE,
        &format!("/v1/responses/{id}"),
        None,
    )
    .await;
    assert_eq!(status, 404, "another tenant cannot delete it");
    let (status, _) = send(
        MASTER,
        reqwest::Method::GET,
        &format!("/v1/responses/{id}"),
        None,
    )
    .await;
    assert_eq!(
        status, 404,
        "the operator's own calls are a tenant of their own"
    );

    // Any key of the owning organisation still has it, and can continue it.
    let (status, kept) = send(
        &acme_too,
        reqwest::Method::GET,
        &format!("/v1/responses/{id}"),
        None,
    )
    .await;
    assert_eq!((status, kept["id"].as_str()), (200, Some(id.as_str())));
    let (status, items) = send(
        &acme,
        reqwest::Method::GET,
        &format!("/v1/responses/{id}/input_items"),
        None,
    )
    .await;
    assert_eq!(status, 200);
    assert!(items.to_string().contains("my secret plan"), "{items}");
    let (status, body) = send(
        &acme,
        reqwest::Method::POST,
        "/v1/responses",
        Some(
            json!({"model": "gpt", "input": "go on", "previous_response_id": id,
                    "max_output_tokens": 10}),
        ),
    )
    .await;
    assert_eq!(status, 200, "{body}");
    let (status, _) = send(
        &acme,
        reqwest::Method::DELETE,
        &format!("/v1/responses/{id}"),
        None,
    )
    .await;
    assert_eq!(status, 200);

    // `store: false` keeps nothing.
    let (_, unstored) = send(
        &acme,
        reqwest::Method::POST,
        "/v1/responses",
        Some(
            json!({"model": "gpt", "input": "forget me", "store": false, "max_output_tokens": 10}),
        ),
    )
    .await;
    let unstored = unstored["id"].as_str().expect("an id").to_owned();
    let (status, _) = send(
        &acme,
        reqwest::Method::GET,
        &format!("/v1/responses/{unstored}"),
        None,
    )
    .await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn explain_and_route_health_show_a_limited_key_only_its_models() {
    let gateway = gateway("").await;
    let (_, limited) = gateway
        .key(json!({"org": "acme", "models": ["gpt-ha"], "policy": {"deny_deployments": ["priced"]}}))
        .await;
    let explain = |model: &str| {
        gateway
            .client
            .post(gateway.url("/v1/route/explain"))
            .bearer_auth(&limited)
            .json(&json!({"model": model, "messages": user("hi")}))
            .send()
    };
    let hidden = explain("gpt").await.expect("answers");
    assert_eq!(
        hidden.status(),
        404,
        "another model is not there for this key"
    );
    let shown: Value = explain("gpt-ha")
        .await
        .expect("answers")
        .json()
        .await
        .expect("JSON");
    assert_eq!(shown["candidates"][0]["deployment"], "backup", "{shown}");
    assert!(
        shown["excluded"].to_string().contains("key's policy"),
        "the key's policy is applied: {shown}"
    );
    let health: Value = gateway
        .client
        .get(gateway.url("/v1/route/health"))
        .bearer_auth(&limited)
        .send()
        .await
        .expect("answers")
        .json()
        .await
        .expect("JSON");
    for deployment in health["deployments"].as_array().expect("deployments") {
        assert_eq!(deployment["models"], json!(["gpt-ha"]), "{health}");
    }
}

#[tokio::test]
async fn a_tenant_sees_no_detail_of_the_operators_vendor_account() {
    let gateway = gateway("").await;
    let (_, secret) = gateway.key(json!({"org": "acme"})).await;
    let vendor_words =
        "Rate limit reached for gpt-4o in organization org-operator123 on tokens per min";
    gateway.primary.push(
        Route::ChatCompletions,
        Script::Error {
            status: 429,
            body: json!({"error": {"message": vendor_words, "type": "tokens", "code": "rate_limit_exceeded"}}),
            retry_after: Some("1".to_owned()),
        },
    );
    let tenant = gateway.chat(&secret, hello()).await;
    assert_eq!(tenant.status(), 429);
    let body = tenant.text().await.expect("a body");
    assert!(!body.contains("org-operator123"), "{body}");
    // The operator, with a master key, sees the vendor's words.
    gateway.primary.push(
        Route::ChatCompletions,
        Script::Error {
            status: 429,
            body: json!({"error": {"message": vendor_words, "type": "tokens", "code": "rate_limit_exceeded"}}),
            retry_after: Some("1".to_owned()),
        },
    );
    let operator = gateway.chat(MASTER, hello()).await;
    assert!(
        operator
            .text()
            .await
            .expect("a body")
            .contains("org-operator123")
    );
}
