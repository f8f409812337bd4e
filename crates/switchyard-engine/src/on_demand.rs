//! A local model loaded on its first request instead of at start-up: for variants that
//! are offered but seldom used, so they cost neither start-up time nor memory until then.

use std::sync::Arc;

use switchyard_types::{
    CallContext, ChatRequest, ChatResponse, DeploymentInfo, EmbedRequest, EmbedResponse,
    EventStream, Provider, ProviderError, UpstreamModel,
};
use tokio::sync::OnceCell;

/// Loads the real provider; runs on a blocking thread, once it succeeds.
pub type Loader = dyn Fn() -> Result<Arc<dyn Provider>, ProviderError> + Send + Sync;

pub struct OnDemandProvider {
    info: DeploymentInfo,
    loader: Arc<Loader>,
    loaded: OnceCell<Arc<dyn Provider>>,
}

impl std::fmt::Debug for OnDemandProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OnDemandProvider")
            .field("info", &self.info)
            .field("loaded", &self.loaded.initialized())
            .finish_non_exhaustive()
    }
}

impl OnDemandProvider {
    /// `info` describes the deployment before it is loaded (what `/v1/models` and the
    /// router see); `loader` makes the provider that then answers.
    pub fn new(info: DeploymentInfo, loader: Arc<Loader>) -> Self {
        OnDemandProvider {
            info,
            loader,
            loaded: OnceCell::new(),
        }
    }

    pub fn is_loaded(&self) -> bool {
        self.loaded.initialized()
    }

    /// The loaded provider. Requests that arrive during the load wait for it; a failed
    /// load is reported to them and tried again by the next request.
    async fn provider(&self) -> Result<&Arc<dyn Provider>, ProviderError> {
        self.loaded
            .get_or_try_init(|| async {
                let loader = self.loader.clone();
                tracing::info!(deployment = %self.info.id, "Loading a local model on first use.");
                tokio::task::spawn_blocking(move || loader())
                    .await
                    .map_err(|error| {
                        ProviderError::new(
                            switchyard_types::ErrorKind::Internal,
                            format!("loading the model failed: {error}"),
                        )
                    })?
            })
            .await
    }
}

#[async_trait::async_trait]
impl Provider for OnDemandProvider {
    fn info(&self) -> &DeploymentInfo {
        &self.info
    }

    async fn chat(
        &self,
        request: ChatRequest,
        cx: &CallContext,
    ) -> Result<ChatResponse, ProviderError> {
        self.provider().await?.chat(request, cx).await
    }

    async fn chat_stream(
        &self,
        request: ChatRequest,
        cx: &CallContext,
    ) -> Result<EventStream, ProviderError> {
        self.provider().await?.chat_stream(request, cx).await
    }

    async fn embed(
        &self,
        request: EmbedRequest,
        cx: &CallContext,
    ) -> Result<EmbedResponse, ProviderError> {
        self.provider().await?.embed(request, cx).await
    }

    async fn count_tokens(
        &self,
        request: ChatRequest,
        cx: &CallContext,
    ) -> Result<u64, ProviderError> {
        self.provider().await?.count_tokens(request, cx).await
    }

    async fn list_models(&self, _: &CallContext) -> Result<Vec<UpstreamModel>, ProviderError> {
        // Listing must not load the model.
        Ok(vec![UpstreamModel {
            id: self.info.upstream_model.to_string(),
            owned_by: Some(self.info.provider.to_string()),
            created: None,
        }])
    }
}
