//! Mistral La Plateforme speaks OpenAI's protocol with its own rules (API reference,
//! "Chat Completion"); a request encoded for OpenAI is fitted to them here:
//! - `seed` is `random_seed`; `max_completion_tokens` is `max_tokens`;
//! - tool call ids are exactly nine letters or digits, so ids from other vendors are
//!   mapped, the same id always to the same one, in calls and in tool results alike;
//! - `tool_choice: "required"` is `"any"`;
//! - unknown fields are refused (422), so OpenAI-only ones go: `stream_options` (Mistral
//!   sends usage in its last chunk anyway) and the `refusal` / `reasoning_content` of
//!   earlier assistant turns; parameters without an equivalent (`logprobs`,
//!   `top_logprobs`, `logit_bias`, `user`, `metadata`) are a 400 naming them unless
//!   dropping is allowed.

use std::hash::{DefaultHasher, Hash, Hasher};

use serde_json::Value;
use switchyard_protocols::openai::ChatCompletionRequest;
use switchyard_protocols::openai::wire::ToolChoice;
use switchyard_types::{ErrorKind, ProviderError};

/// Mistral's API root.
pub const MISTRAL_BASE_URL: &str = "https://api.mistral.ai/v1";

pub(super) fn fit(
    wire: &mut ChatCompletionRequest,
    drop_unsupported: bool,
) -> Result<(), ProviderError> {
    let unsupported = [
        ("logprobs", wire.logprobs == Some(true)),
        ("top_logprobs", wire.top_logprobs.is_some()),
        ("logit_bias", wire.extra.contains_key("logit_bias")),
        ("user", wire.user.is_some()),
        ("metadata", wire.metadata.is_some()),
    ];
    if !drop_unsupported && let Some((param, _)) = unsupported.iter().find(|(_, used)| *used) {
        return Err(ProviderError::new(
            ErrorKind::InvalidRequest,
            format!(
                "`{param}` has no equivalent in Mistral's API; remove it, or allow dropping \
                 unsupported parameters (`drop_unsupported_params`)"
            ),
        )
        .with_param(Some((*param).to_owned())));
    }
    wire.logprobs = None;
    wire.top_logprobs = None;
    wire.extra.remove("logit_bias");
    wire.user = None;
    wire.metadata = None;
    wire.stream_options = None;
    if let Some(seed) = wire.seed.take() {
        wire.extra.insert("random_seed".into(), Value::from(seed));
    }
    if let Some(tokens) = wire.max_completion_tokens.take() {
        wire.max_tokens = Some(tokens);
    }
    if let Some(ToolChoice::Mode(mode)) = &mut wire.tool_choice
        && mode == "required"
    {
        *mode = "any".to_owned();
    }
    for message in &mut wire.messages {
        message.refusal = None;
        message.reasoning_content = None;
        for call in message.tool_calls.iter_mut().flatten() {
            call.id = tool_call_id(&call.id);
        }
        if let Some(id) = &mut message.tool_call_id {
            *id = tool_call_id(id);
        }
    }
    Ok(())
}

/// Fits an embedding request to Mistral's names: the vector length is
/// `output_dimension`. `user`, an abuse-monitoring tag with no effect on the vectors,
/// is left out, since Mistral answers 422 to fields it does not know.
pub(super) fn fit_embedding(wire: &mut switchyard_protocols::openai::EmbeddingRequest) {
    if let Some(dimensions) = wire.dimensions.take() {
        wire.extra
            .insert("output_dimension".into(), Value::from(dimensions));
    }
    wire.user = None;
}

/// A Mistral-valid tool call id (`[a-zA-Z0-9]{9}`) for `id`: itself when already valid,
/// else a stable digest of it.
pub fn tool_call_id(id: &str) -> String {
    if id.len() == 9 && id.bytes().all(|byte| byte.is_ascii_alphanumeric()) {
        return id.to_owned();
    }
    const DIGITS: &[u8] = b"0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
    let mut hasher = DefaultHasher::new();
    id.hash(&mut hasher);
    let mut value = hasher.finish();
    (0..9)
        .map(|_| {
            let digit = DIGITS[(value % 62) as usize] as char;
            value /= 62;
            digit
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wire(body: Value) -> ChatCompletionRequest {
        serde_json::from_value(body).expect("a request")
    }

    #[test]
    fn an_embedding_request_names_its_dimensions_as_mistral_does() {
        let mut request: switchyard_protocols::openai::EmbeddingRequest =
            serde_json::from_value(serde_json::json!({
                "model": "codestral-embed", "input": ["a"], "dimensions": 256, "user": "u1"
            }))
            .expect("a request");
        fit_embedding(&mut request);
        let body = serde_json::to_value(&request).expect("json");
        assert_eq!(
            body,
            serde_json::json!({"model": "codestral-embed", "input": ["a"], "output_dimension": 256})
        );
    }

    #[test]
    fn an_openai_request_is_fitted_to_mistrals_fields() {
        let mut request = wire(serde_json::json!({
            "model": "mistral-large-latest",
            "messages": [
                {"role": "user", "content": "Weather?"},
                {"role": "assistant", "content": null, "refusal": null,
                 "tool_calls": [{"id": "call_8a7b6c5d4e3f", "type": "function",
                                 "function": {"name": "get_weather", "arguments": "{}"}}]},
                {"role": "tool", "tool_call_id": "call_8a7b6c5d4e3f", "content": "sunny"}
            ],
            "seed": 42,
            "max_completion_tokens": 100,
            "tool_choice": "required",
            "stream": true,
            "stream_options": {"include_usage": true}
        }));
        fit(&mut request, false).expect("fits");
        let body = serde_json::to_value(&request).expect("json");
        assert_eq!(body["random_seed"], 42);
        assert!(
            body.get("seed").is_none() && body.get("stream_options").is_none(),
            "{body}"
        );
        assert_eq!(body["max_tokens"], 100);
        assert_eq!(body["tool_choice"], "any");
        let id = tool_call_id("call_8a7b6c5d4e3f");
        assert_eq!(
            body["messages"][1]["tool_calls"][0]["id"],
            serde_json::json!(id)
        );
        assert_eq!(body["messages"][2]["tool_call_id"], serde_json::json!(id));
    }

    #[test]
    fn a_parameter_mistral_lacks_is_refused_unless_dropping_is_allowed() {
        let body = serde_json::json!({"model": "m", "messages": [], "user": "u-1"});
        let error = fit(&mut wire(body.clone()), false).expect_err("user");
        assert_eq!(error.param.as_deref(), Some("user"));
        let mut request = wire(body);
        fit(&mut request, true).expect("dropped");
        assert_eq!(request.user, None);
    }

    #[test]
    fn ids_become_nine_alphanumerics_and_stay_stable() {
        assert_eq!(tool_call_id("D681PevKs"), "D681PevKs");
        let mapped = tool_call_id("call_8a7b6c5d4e3f");
        assert_eq!(mapped.len(), 9);
        assert!(mapped.bytes().all(|byte| byte.is_ascii_alphanumeric()));
        assert_eq!(mapped, tool_call_id("call_8a7b6c5d4e3f"));
        assert_ne!(mapped, tool_call_id("toolu_01A09q90qw90lq917835lq9"));
    }
}
