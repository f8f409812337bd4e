//! The sentence encoder as a [`Provider`]: embeddings only.

use std::sync::Arc;

use switchyard_types::{
    CallContext, Capabilities, ChatRequest, ChatResponse, DeploymentId, DeploymentInfo, ErrorKind,
    EventStream, Provider, ProviderError, UpstreamModel, Usage,
};

use crate::provider::PROVIDER_NAME;

/// A loaded sentence encoder, served as an embeddings deployment.
pub struct LocalEmbedProvider {
    info: DeploymentInfo,
    encoder: crate::embed::TextEncoder,
    /// One batch at a time: the encoder already uses every core.
    running: Arc<tokio::sync::Semaphore>,
}

impl std::fmt::Debug for LocalEmbedProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalEmbedProvider")
            .field("info", &self.info)
            .finish_non_exhaustive()
    }
}

impl LocalEmbedProvider {
    pub fn new(deployment: &str, model: &str, encoder: Arc<crate::embed::SentenceEncoder>) -> Self {
        Self::with_encoder(deployment, model, crate::embed::TextEncoder::Full(encoder))
    }

    pub fn with_encoder(deployment: &str, model: &str, encoder: crate::embed::TextEncoder) -> Self {
        let info = DeploymentInfo {
            id: DeploymentId::new(deployment),
            provider: Arc::from(PROVIDER_NAME),
            upstream_model: Arc::from(model),
            capabilities: Capabilities {
                chat: false,
                streaming: false,
                tools: false,
                vision: false,
                json_schema: false,
                embeddings: true,
                completions: false,
            },
        };
        LocalEmbedProvider {
            info,
            encoder,
            running: Arc::new(tokio::sync::Semaphore::new(1)),
        }
    }
}

#[async_trait::async_trait]
impl Provider for LocalEmbedProvider {
    fn info(&self) -> &DeploymentInfo {
        &self.info
    }

    async fn chat(&self, _: ChatRequest, _: &CallContext) -> Result<ChatResponse, ProviderError> {
        Err(ProviderError::unsupported(
            "chat completions (this is an embedding model)",
        ))
    }

    async fn chat_stream(
        &self,
        _: ChatRequest,
        _: &CallContext,
    ) -> Result<EventStream, ProviderError> {
        Err(ProviderError::unsupported(
            "chat completions (this is an embedding model)",
        ))
    }

    async fn embed(
        &self,
        request: switchyard_types::EmbedRequest,
        _: &CallContext,
    ) -> Result<switchyard_types::EmbedResponse, ProviderError> {
        let dimensions = self.encoder.dimensions();
        if let Some(asked) = request.dimensions
            && asked as usize != dimensions
        {
            return Err(ProviderError::new(
                ErrorKind::InvalidRequest,
                format!("this model's embeddings have {dimensions} dimensions and cannot be shortened; got {asked}"),
            )
            .with_param(Some("dimensions".to_owned())));
        }
        let texts = match request.input {
            switchyard_types::EmbedInput::Texts(texts) => texts,
            switchyard_types::EmbedInput::Tokens(_) => {
                return Err(ProviderError::new(
                    ErrorKind::InvalidRequest,
                    "this model takes text input: token ids from another tokenizer mean nothing to it",
                )
                .with_param(Some("input".to_owned())));
            }
        };
        let _turn = self.running.clone().acquire_owned().await.map_err(|_| {
            ProviderError::new(ErrorKind::Internal, "the embedding engine has stopped")
        })?;
        let encoder = self.encoder.clone();
        let (embeddings, tokens) = tokio::task::spawn_blocking(move || encoder.encode(&texts))
            .await
            .map_err(|error| {
                ProviderError::new(
                    ErrorKind::Internal,
                    format!("the encoder panicked: {error}"),
                )
            })??;
        Ok(switchyard_types::EmbedResponse {
            model: self.info.upstream_model.to_string(),
            embeddings,
            usage: Usage {
                input_tokens: tokens,
                ..Usage::default()
            },
        })
    }

    async fn list_models(&self, _: &CallContext) -> Result<Vec<UpstreamModel>, ProviderError> {
        Ok(vec![UpstreamModel {
            id: self.info.upstream_model.to_string(),
            owned_by: Some(PROVIDER_NAME.to_owned()),
            created: None,
        }])
    }
}
