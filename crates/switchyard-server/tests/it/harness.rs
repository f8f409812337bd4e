//! [`TestServer`]: a Switchyard app on `127.0.0.1:0` in front of two mock upstreams.

use std::time::Duration;

use futures::StreamExt;
use switchyard_server::AppState;
use switchyard_server::config::Config;
use switchyard_testkit::MockOpenAi;
use tokio::sync::oneshot;

/// The upstream key the config references; tests assert it never leaks.
pub const UPSTREAM_KEY: &str = "sk-it-upstream-secret-0123456789";
pub const MASTER_KEY: &str = "it-master-key";

pub struct TestServer {
    pub url: String,
    /// Serves the `primary` deployment.
    pub primary: MockOpenAi,
    /// Serves the `backup` deployment.
    pub backup: MockOpenAi,
    pub client: reqwest::Client,
    shutdown: Option<oneshot::Sender<()>>,
    pub task: Option<tokio::task::JoinHandle<std::io::Result<()>>>,
}

/// Models: `gpt` (primary only), `gpt-ha` (primary, then backup), `org/embed` (primary,
/// embeddings). Short deadlines so stall tests finish quickly.
const CONFIG: &str = r#"
[server]
max_body_bytes = 65536
{server_extra}

[providers.mock]
type = "openai"
base_url = "{primary}"
api_key = "env:IT_UPSTREAM_KEY"

[providers.spare]
type = "openai"
base_url = "{backup}"

[deployments.primary]
provider = "mock"
model = "mock-gpt"
embeddings = true
timeouts = { first_byte = "700ms", idle = "400ms", total = "5s" }

[deployments.backup]
provider = "spare"
model = "backup-gpt"
timeouts = { first_byte = "700ms", idle = "400ms", total = "5s" }

[models.gpt]
deployments = ["primary"]

[models.gpt-ha]
deployments = ["primary", "backup"]

[models."org/embed"]
deployments = ["primary"]
"#;

impl TestServer {
    pub async fn start() -> TestServer {
        TestServer::start_with("").await
    }

    /// With master keys required.
    pub async fn start_with_auth() -> TestServer {
        TestServer::start_with(r#"master_keys = ["env:IT_MASTER_KEY"]"#).await
    }

    pub async fn start_with(server_extra: &str) -> TestServer {
        let primary = MockOpenAi::start().await;
        let backup = MockOpenAi::start().await;
        let text = CONFIG
            .replace("{server_extra}", server_extra)
            .replace("{primary}", &primary.base_url())
            .replace("{backup}", &backup.base_url());
        let config = Config::from_toml_str_with(&text, "it.toml", |name| match name {
            "IT_UPSTREAM_KEY" => Some(UPSTREAM_KEY.to_owned()),
            "IT_MASTER_KEY" => Some(MASTER_KEY.to_owned()),
            _ => None,
        })
        .unwrap_or_else(|errors| panic!("the test config is invalid:\n{errors}"));
        let state = AppState::from_config(&config).expect("deployments build");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a free loopback port");
        let url = format!("http://{}", listener.local_addr().expect("bound address"));
        let (shutdown, signal) = oneshot::channel::<()>();
        let task = tokio::spawn(switchyard_server::run(
            listener,
            state,
            async move {
                let _ = signal.await;
            },
            Duration::from_secs(5),
        ));
        TestServer {
            url,
            primary,
            backup,
            client: reqwest::Client::new(),
            shutdown: Some(shutdown),
            task: Some(task),
        }
    }

    pub fn post(&self, path: &str) -> reqwest::RequestBuilder {
        self.client.post(format!("{}{path}", self.url))
    }

    pub fn get(&self, path: &str) -> reqwest::RequestBuilder {
        self.client.get(format!("{}{path}", self.url))
    }

    /// GETs `path` and parses the JSON answer.
    pub async fn get_json(&self, path: &str) -> serde_json::Value {
        self.get(path)
            .send()
            .await
            .expect("the server answers")
            .json()
            .await
            .expect("a JSON body")
    }

    /// POSTs `body` to `path` and parses the JSON answer.
    pub async fn post_json(&self, path: &str, body: serde_json::Value) -> serde_json::Value {
        self.post(path)
            .json(&body)
            .send()
            .await
            .expect("the server answers")
            .json()
            .await
            .expect("a JSON body")
    }

    pub async fn chat(&self, body: serde_json::Value) -> reqwest::Response {
        self.post("/v1/chat/completions")
            .json(&body)
            .send()
            .await
            .expect("the server answers")
    }

    /// Starts graceful shutdown.
    pub fn shut_down(&mut self) {
        if let Some(shutdown) = self.shutdown.take() {
            let _ = shutdown.send(());
        }
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(task) = self.task.take() {
            task.abort();
        }
    }
}

/// An app on a free loopback port, served until this is dropped.
pub struct Running {
    pub url: String,
    _stop: oneshot::Sender<()>,
}

/// Validates the config `text` (secrets looked up by `lookup`) and serves its app.
pub async fn serve_config(text: &str, lookup: impl Fn(&str) -> Option<String>) -> Running {
    let config = Config::from_toml_str_with(text, "it.toml", lookup)
        .unwrap_or_else(|errors| panic!("{errors}"));
    let state = AppState::from_config(&config).expect("builds");
    state.spawn_health_checks();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("a port");
    let url = format!("http://{}", listener.local_addr().expect("address"));
    let (stop, stopped) = oneshot::channel::<()>();
    tokio::spawn(switchyard_server::run(
        listener,
        state,
        async move {
            let _ = stopped.await;
        },
        Duration::from_secs(1),
    ));
    Running { url, _stop: stop }
}

/// The `data:` payloads of an SSE response, in order, until the body ends.
pub async fn sse_data(response: reqwest::Response) -> Vec<String> {
    use eventsource_stream::Eventsource;
    let mut events = response.bytes_stream().eventsource();
    let mut data = Vec::new();
    while let Some(event) = events.next().await {
        data.push(event.expect("a well-formed SSE event").data);
    }
    data
}

/// The JSON chunks of an SSE response (everything but `[DONE]`).
pub fn chunks(data: &[String]) -> Vec<serde_json::Value> {
    data.iter()
        .filter(|data| *data != "[DONE]")
        .map(|data| serde_json::from_str(data).expect("each chunk is JSON"))
        .collect()
}

pub fn header<'a>(response: &'a reqwest::Response, name: &str) -> Option<&'a str> {
    response
        .headers()
        .get(name)
        .and_then(|value| value.to_str().ok())
}

/// The Prometheus text of the server at `url`.
pub async fn metrics_text(url: &str) -> String {
    reqwest::get(format!("{url}/metrics"))
        .await
        .expect("answers")
        .text()
        .await
        .expect("text")
}

pub fn user(text: &str) -> serde_json::Value {
    serde_json::json!([{"role": "user", "content": text}])
}
