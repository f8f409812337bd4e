use std::sync::atomic::{AtomicU32, Ordering};

use switchyard_types::{
    CallContext, Capabilities, ChatRequest, ChatResponse, DeploymentId, EventStream, UpstreamModel,
};

use super::*;
use crate::{Catalog, Route};

/// A provider whose every call fails with `error` (or succeeds if `None`).
#[derive(Debug)]
struct Scripted {
    info: DeploymentInfo,
    error: Option<ErrorKind>,
    calls: AtomicU32,
}

fn scripted(id: &str, error: Option<ErrorKind>) -> Arc<Scripted> {
    Arc::new(Scripted {
        info: DeploymentInfo {
            id: DeploymentId::new(id),
            provider: Arc::from("test"),
            upstream_model: Arc::from(id),
            capabilities: Capabilities::default(),
        },
        error,
        calls: AtomicU32::new(0),
    })
}

#[async_trait::async_trait]
impl Provider for Scripted {
    fn info(&self) -> &DeploymentInfo {
        &self.info
    }

    async fn chat(&self, _: ChatRequest, _: &CallContext) -> Result<ChatResponse, ProviderError> {
        self.calls.fetch_add(1, Ordering::SeqCst);
        match self.error {
            Some(kind) => Err(ProviderError::new(kind, format!("{} failed", self.info.id))),
            None => Ok(ChatResponse {
                id: self.info.id.to_string(),
                model: String::new(),
                created: 0,
                choices: Vec::new(),
                usage: None,
                extra: Default::default(),
            }),
        }
    }

    async fn chat_stream(
        &self,
        _: ChatRequest,
        _: &CallContext,
    ) -> Result<EventStream, ProviderError> {
        Err(ProviderError::unsupported("streaming"))
    }

    async fn list_models(&self, _: &CallContext) -> Result<Vec<UpstreamModel>, ProviderError> {
        Ok(Vec::new())
    }
}

async fn run(deployments: &[Arc<Scripted>]) -> Result<Outcome<ChatResponse>, RouteError> {
    let candidates: Vec<Arc<dyn Provider>> = deployments
        .iter()
        .map(|deployment| deployment.clone() as Arc<dyn Provider>)
        .collect();
    execute(&candidates, |provider| async move {
        provider
            .chat(ChatRequest::default(), &CallContext::default())
            .await
    })
    .await
}

#[tokio::test]
async fn falls_back_past_upstream_failures() {
    for kind in [
        ErrorKind::Upstream,
        ErrorKind::RateLimited,
        ErrorKind::Overloaded,
        ErrorKind::Timeout,
        ErrorKind::Connection,
        ErrorKind::Authentication,
        ErrorKind::NotFound,
    ] {
        let first = scripted("first", Some(kind));
        let second = scripted("second", None);
        let outcome = run(&[first.clone(), second.clone()])
            .await
            .expect("the second deployment answers");
        assert_eq!(outcome.value.id, "second", "after {kind:?}");
        assert_eq!(outcome.attempts, 2);
        assert_eq!(outcome.earlier.len(), 1);
        assert_eq!(outcome.earlier[0].kind, kind);
        assert_eq!(second.calls.load(Ordering::SeqCst), 1);
    }
}

#[tokio::test]
async fn stops_at_errors_the_request_caused() {
    for kind in [
        ErrorKind::InvalidRequest,
        ErrorKind::ContextLengthExceeded,
        ErrorKind::ContentFilter,
    ] {
        let first = scripted("first", Some(kind));
        let second = scripted("second", None);
        let error = run(&[first, second.clone()])
            .await
            .expect_err("no fallback");
        assert_eq!(error.error.kind, kind);
        assert_eq!(error.attempts, 1);
        assert_eq!(second.calls.load(Ordering::SeqCst), 0);
    }
}

#[tokio::test]
async fn reports_the_last_failure_and_the_earlier_ones() {
    let error = run(&[
        scripted("a", Some(ErrorKind::Overloaded)),
        scripted("b", Some(ErrorKind::Timeout)),
    ])
    .await
    .expect_err("both fail");
    assert_eq!(error.error.kind, ErrorKind::Timeout);
    assert_eq!(error.attempts, 2);
    assert_eq!(error.earlier.len(), 1);
    assert_eq!(error.earlier[0].deployment.id.as_str(), "a");
    assert_eq!(
        error.deployment.map(|info| info.id.to_string()).as_deref(),
        Some("b")
    );
}

#[test]
fn suggests_close_model_names() {
    let route = |name: &str| Route {
        name: name.to_owned(),
        description: None,
        deployments: Vec::new(),
    };
    let catalog = Catalog::new(["gpt-4o", "gpt-4o-mini", "claude-sonnet", "llama"].map(route));
    let unknown = catalog.get("gpt4o").expect_err("not configured");
    assert_eq!(unknown.suggestions, vec!["gpt-4o", "gpt-4o-mini"]);
    assert_eq!(
        unknown.to_string(),
        "the model `gpt4o` does not exist; did you mean one of `gpt-4o`, `gpt-4o-mini`?"
    );
    let unknown = catalog.get("gpt-4").expect_err("a prefix of two names");
    assert_eq!(unknown.suggestions, vec!["gpt-4o", "gpt-4o-mini"]);
    let unknown = catalog.get("CLAUDE-SONNET").expect_err("case differs");
    assert_eq!(unknown.suggestions[0], "claude-sonnet");
    let unknown = catalog.get("lalma").expect_err("a transposition");
    assert_eq!(unknown.suggestions, vec!["llama"]);
    let unknown = catalog.get("zzz").expect_err("nothing close");
    assert!(unknown.suggestions.is_empty());
    assert_eq!(unknown.to_string(), "the model `zzz` does not exist");
}
