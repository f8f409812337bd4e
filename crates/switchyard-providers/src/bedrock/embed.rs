//! Embeddings through InvokeModel: one call per text for Titan, one per 96 texts for
//! Cohere, in order, under one concurrency permit.

use switchyard_protocols::bedrock::EmbedFamily;
use switchyard_protocols::bedrock::embed::{
    cohere_requests, decode_cohere_response, decode_titan_response, titan_requests,
};
use switchyard_types::{CallContext, EmbedRequest, EmbedResponse, ProviderError, Usage};

use super::provider::BedrockProvider;
use crate::upstream::{encode_error, to_body};

/// Bedrock counts an InvokeModel call's input tokens in this header; Cohere's body
/// reports none.
const INPUT_TOKENS: &str = "x-amzn-bedrock-input-token-count";

impl BedrockProvider {
    pub(super) async fn embed_with(
        &self,
        family: EmbedFamily,
        request: EmbedRequest,
        cx: &CallContext,
    ) -> Result<EmbedResponse, ProviderError> {
        let deadline = self.upstream.deadline();
        let model = &self.config.upstream_model;
        let mut embeddings = Vec::with_capacity(request.input.len());
        let mut input_tokens = 0;
        let _permit = self.upstream.permit().await?;
        match family {
            EmbedFamily::Titan => {
                for call in titan_requests(&request, model).map_err(encode_error)? {
                    let response = self
                        .post(&self.invoke_url, to_body(&call)?, cx, deadline)
                        .await?;
                    let (vector, tokens) = self
                        .upstream
                        .read_body(response, deadline, decode_titan_response)
                        .await?;
                    embeddings.push(vector);
                    input_tokens += tokens;
                }
            }
            EmbedFamily::Cohere => {
                for call in cohere_requests(&request, model).map_err(encode_error)? {
                    let inputs = call.texts.len();
                    let response = self
                        .post(&self.invoke_url, to_body(&call)?, cx, deadline)
                        .await?;
                    input_tokens += response
                        .headers()
                        .get(INPUT_TOKENS)
                        .and_then(|value| value.to_str().ok())
                        .and_then(|value| value.trim().parse::<u64>().ok())
                        .unwrap_or(0);
                    let vectors = self
                        .upstream
                        .read_body(response, deadline, |body| {
                            decode_cohere_response(body, inputs)
                        })
                        .await?;
                    embeddings.extend(vectors);
                }
            }
        }
        Ok(EmbedResponse {
            model: model.clone(),
            embeddings,
            usage: Usage {
                input_tokens,
                ..Usage::default()
            },
        })
    }
}
