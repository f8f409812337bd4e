//! The [`Provider`] trait: one configured deployment of one wire-protocol family.

use std::fmt;
use std::sync::Arc;

use futures::stream::BoxStream;
use serde::{Deserialize, Serialize};

use crate::{ChatRequest, ChatResponse, EmbedRequest, EmbedResponse, ProviderError, StreamFrame};

/// A stream of canonical events from one upstream call, a frame at a time. Dropping it
/// cancels the call.
pub type EventStream = BoxStream<'static, Result<StreamFrame, ProviderError>>;

/// The configured name of one deployment (e.g. `gpt4o-eu`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct DeploymentId(pub Arc<str>);

impl DeploymentId {
    pub fn new(id: impl Into<Arc<str>>) -> Self {
        DeploymentId(id.into())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for DeploymentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// What a deployment can do. Used to reject requests early and, later, to filter
/// routing candidates.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Capabilities {
    pub chat: bool,
    pub streaming: bool,
    pub tools: bool,
    pub vision: bool,
    pub json_schema: bool,
    pub embeddings: bool,
    /// Text completions: a raw prompt continued without a chat template.
    pub completions: bool,
}

impl Default for Capabilities {
    fn default() -> Self {
        Capabilities {
            chat: true,
            streaming: true,
            tools: true,
            vision: true,
            json_schema: true,
            embeddings: false,
            completions: false,
        }
    }
}

/// Who serves a deployment and what it is called there; the server reports these in
/// response headers and metrics.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeploymentInfo {
    pub id: DeploymentId,
    /// The provider's configured name (e.g. `openai`, `local-vllm`).
    pub provider: Arc<str>,
    /// The model id sent upstream.
    pub upstream_model: Arc<str>,
    pub capabilities: Capabilities,
}

/// Per-call facts a provider may need: for tracing and upstream correlation.
#[derive(Debug, Clone, Default)]
pub struct CallContext {
    /// The request id the caller sees in `x-request-id`.
    pub request_id: Option<Arc<str>>,
}

/// A model an upstream says it serves.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UpstreamModel {
    pub id: String,
    pub owned_by: Option<String>,
    pub created: Option<u64>,
}

/// One configured deployment of one wire-protocol family. Object-safe on purpose: the
/// router holds `Arc<dyn Provider>` built from config and never names an adapter.
#[async_trait::async_trait]
pub trait Provider: Send + Sync + fmt::Debug {
    fn info(&self) -> &DeploymentInfo;

    async fn chat(&self, req: ChatRequest, cx: &CallContext)
    -> Result<ChatResponse, ProviderError>;

    /// Resolves once the upstream accepted the request and yielded its first event, so
    /// that a caller can still fall back to another deployment before anything has
    /// reached its client.
    async fn chat_stream(
        &self,
        req: ChatRequest,
        cx: &CallContext,
    ) -> Result<EventStream, ProviderError>;

    async fn embed(
        &self,
        _req: EmbedRequest,
        _cx: &CallContext,
    ) -> Result<EmbedResponse, ProviderError> {
        Err(ProviderError::unsupported("embeddings"))
    }

    /// How many input tokens `req` takes on this deployment, counted the way its model
    /// counts them (its tokenizer and chat template, or the vendor's counting endpoint).
    async fn count_tokens(
        &self,
        _req: ChatRequest,
        _cx: &CallContext,
    ) -> Result<u64, ProviderError> {
        Err(ProviderError::unsupported("token counting"))
    }

    async fn list_models(&self, cx: &CallContext) -> Result<Vec<UpstreamModel>, ProviderError>;

    /// The most tokens one request may hold (input and output together), where the
    /// deployment itself knows it: a local model's loaded context. Hosted models' windows
    /// come from the catalog instead.
    fn context_window(&self) -> Option<u64> {
        None
    }

    /// The longest one call may run, its stream included (an HTTP deployment's total
    /// deadline); `None` where nothing bounds it but the answer's length. What holds a
    /// request's limits and budget must outlive it.
    fn longest_call(&self) -> Option<std::time::Duration> {
        None
    }
}
