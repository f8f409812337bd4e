//! The admin API of a running server, as `switchyard keys` and `switchyard usage` call it.

use anyhow::{Context as _, anyhow};
use reqwest::Method;
use serde_json::Value;

use crate::args::AdminArgs;

pub struct AdminClient {
    base: String,
    master_key: String,
    http: reqwest::Client,
}

impl AdminClient {
    pub fn new(args: &AdminArgs) -> anyhow::Result<AdminClient> {
        let master_key = args.master_key.clone().ok_or_else(|| {
            anyhow!(
                "the admin API needs a master key of the server: pass --master-key or set \
                 SWITCHYARD_MASTER_KEY"
            )
        })?;
        // Given on the command line, the key shows in `ps` and in shell history.
        if std::env::var("SWITCHYARD_MASTER_KEY").ok().as_deref() != Some(master_key.as_str()) {
            eprintln!(
                "warning: --master-key shows in the process list and your shell history; \
                 set SWITCHYARD_MASTER_KEY instead"
            );
        }
        Ok(AdminClient {
            base: args.url.trim_end_matches('/').to_owned(),
            master_key,
            http: reqwest::Client::new(),
        })
    }

    /// Calls `path`; the body of a success, or the server's own error message.
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> anyhow::Result<Value> {
        let text = self.call_text(method, path, body).await?;
        serde_json::from_str(&text).context("the server's answer is not JSON")
    }

    /// As [`AdminClient::call`], the body as text (a CSV report).
    pub async fn call_text(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> anyhow::Result<String> {
        let url = format!("{}{path}", self.base);
        let mut request = self
            .http
            .request(method, &url)
            .bearer_auth(&self.master_key);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request
            .send()
            .await
            .with_context(|| format!("cannot reach {}", self.base))?;
        let status = response.status();
        let text = response.text().await.context("the answer was cut off")?;
        if status.is_success() {
            return Ok(text);
        }
        let message = serde_json::from_str::<Value>(&text)
            .ok()
            .and_then(|error| error["error"]["message"].as_str().map(str::to_owned))
            .unwrap_or(text);
        Err(anyhow!("the server refused ({status}): {message}"))
    }
}

/// Escapes a value for a URL's path or query.
pub fn encode(value: &str) -> String {
    url::form_urlencoded::byte_serialize(value.as_bytes()).collect()
}
