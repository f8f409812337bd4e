//! OpenAI-compatible hosts and the rules each adds to OpenAI's protocol.
//!
//! xAI, DeepSeek, Groq, Together and Fireworks all serve `/chat/completions`, each with
//! its own departures: a field it refuses (Groq answers 400 to any property it does
//! not know), a field it names differently, reasoning it will not take back, usage it
//! counts differently. Each host's departures are one row of data ([`Quirks`]); [`fit`]
//! applies a row to a request encoded for OpenAI, and [`fit_usage`] to the usage an
//! answer reports. Sources: `docs/vendors/openai-compatible.md`.

use serde_json::Value;
use switchyard_protocols::openai::ChatCompletionRequest;
use switchyard_protocols::openai::wire::{ContentPart, MessageContent};
use switchyard_types::{ErrorKind, ProviderError, Usage};

/// A host family with its own rules on top of OpenAI's protocol.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Host {
    Xai,
    DeepSeek,
    Groq,
    Together,
    Fireworks,
}

/// Where a host's `name` field may appear on messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Names {
    Anywhere,
    /// xAI answers 400 to `name` on any other role.
    UserOnly,
    /// Groq knows no `name` field.
    Nowhere,
}

/// One host's departures from OpenAI's Chat Completions.
#[derive(Debug, Clone, Copy)]
struct Quirks {
    /// The host reads only `max_tokens`, not `max_completion_tokens`.
    max_tokens_only: bool,
    /// Request parameters the host refuses: a 400 naming them unless dropping is
    /// allowed. `n` means `n > 1`.
    refuses: &'static [&'static str],
    /// The only fields beyond OpenAI's core the host accepts (`None`: any).
    extra_allowed: Option<&'static [&'static str]>,
    /// The host refuses the reasoning of earlier turns.
    no_reasoning_replay: bool,
    names: Names,
    /// Text-only content part lists become plain strings (DeepSeek takes strings only).
    flatten_text: bool,
    /// Fields set when the caller did not set them.
    defaults: &'static [(&'static str, &'static str)],
    /// Reasoning tokens are reported beside `completion_tokens`, not inside it (xAI).
    reasoning_beside_output: bool,
}

const OPENAI_LIKE: Quirks = Quirks {
    max_tokens_only: false,
    refuses: &[],
    extra_allowed: None,
    no_reasoning_replay: false,
    names: Names::Anywhere,
    flatten_text: false,
    defaults: &[],
    reasoning_beside_output: false,
};

impl Host {
    pub const ALL: [Host; 5] = [
        Host::Xai,
        Host::DeepSeek,
        Host::Groq,
        Host::Together,
        Host::Fireworks,
    ];

    /// The config's provider `type` for the host.
    pub fn name(self) -> &'static str {
        match self {
            Host::Xai => "xai",
            Host::DeepSeek => "deepseek",
            Host::Groq => "groq",
            Host::Together => "together",
            Host::Fireworks => "fireworks",
        }
    }

    /// The host's API root, before `/chat/completions`.
    pub fn base_url(self) -> &'static str {
        match self {
            Host::Xai => "https://api.x.ai/v1",
            Host::DeepSeek => "https://api.deepseek.com/v1",
            Host::Groq => "https://api.groq.com/openai/v1",
            Host::Together => "https://api.together.xyz/v1",
            Host::Fireworks => "https://api.fireworks.ai/inference/v1",
        }
    }

    /// Whether the host serves legacy text completions at `{base_url}/completions`
    /// (xAI's legacy endpoint, Together's and Fireworks' for base models). DeepSeek's
    /// completions are fill-in-the-middle under another root; Groq has none.
    pub fn serves_completions(self) -> bool {
        matches!(self, Host::Xai | Host::Together | Host::Fireworks)
    }

    fn quirks(self) -> Quirks {
        match self {
            Host::Xai => Quirks {
                no_reasoning_replay: true,
                names: Names::UserOnly,
                reasoning_beside_output: true,
                ..OPENAI_LIKE
            },
            // V4's thinking mode needs the reasoning of tool-call turns sent back.
            Host::DeepSeek => Quirks {
                max_tokens_only: true,
                flatten_text: true,
                ..OPENAI_LIKE
            },
            Host::Groq => Quirks {
                refuses: &["logprobs", "top_logprobs", "logit_bias", "n"],
                extra_allowed: Some(&[
                    "reasoning_effort",
                    "reasoning_format",
                    "include_reasoning",
                    "service_tier",
                ]),
                no_reasoning_replay: true,
                names: Names::Nowhere,
                ..OPENAI_LIKE
            },
            Host::Together => Quirks {
                max_tokens_only: true,
                ..OPENAI_LIKE
            },
            // Without it Fireworks quietly shortens `max_tokens` when the prompt is long.
            Host::Fireworks => Quirks {
                max_tokens_only: true,
                defaults: &[("context_length_exceeded_behavior", "error")],
                ..OPENAI_LIKE
            },
        }
    }
}

/// Azure AI Foundry's model inference (Mistral, Llama, DeepSeek… as serverless
/// deployments): `max_tokens` only, text-only content as strings. Fields beyond its
/// schema are governed by the `extra-parameters` header the provider sends.
const AZURE_FOUNDRY: Quirks = Quirks {
    max_tokens_only: true,
    flatten_text: true,
    ..OPENAI_LIKE
};

/// Fits a request encoded for OpenAI to Azure AI Foundry's model inference.
pub(super) fn fit_azure_foundry(wire: &mut ChatCompletionRequest) {
    // Nothing is refused here, so fitting cannot fail.
    let _ = apply(AZURE_FOUNDRY, "Azure AI Foundry", wire, false);
}

/// Fits a request encoded for OpenAI to `host`'s rules.
pub(super) fn fit(
    host: Host,
    wire: &mut ChatCompletionRequest,
    drop_unsupported: bool,
) -> Result<(), ProviderError> {
    apply(host.quirks(), host.name(), wire, drop_unsupported)
}

fn apply(
    quirks: Quirks,
    host: &str,
    wire: &mut ChatCompletionRequest,
    drop_unsupported: bool,
) -> Result<(), ProviderError> {
    let refused = quirks
        .refuses
        .iter()
        .copied()
        .filter(|param| uses(wire, param))
        .chain(
            quirks
                .extra_allowed
                .into_iter()
                .flat_map(|allowed| {
                    wire.extra
                        .keys()
                        .filter(|key| !allowed.contains(&key.as_str()))
                })
                .map(String::as_str),
        )
        .next()
        .map(str::to_owned);
    if let Some(param) = refused {
        if !drop_unsupported {
            return Err(ProviderError::new(
                ErrorKind::InvalidRequest,
                format!(
                    "`{param}` is not accepted by {host}; remove it, or allow dropping \
                     unsupported parameters (`drop_unsupported_params`)"
                ),
            )
            .with_param(Some(param)));
        }
        for param in quirks.refuses {
            drop_param(wire, param);
        }
        if let Some(allowed) = quirks.extra_allowed {
            wire.extra.retain(|key, _| allowed.contains(&key.as_str()));
        }
    }
    if quirks.extra_allowed.is_some() {
        // Bookkeeping fields with no effect on the answer, which strict hosts refuse.
        wire.metadata = None;
    }
    if quirks.max_tokens_only
        && let Some(tokens) = wire.max_completion_tokens.take()
    {
        wire.max_tokens = Some(tokens);
    }
    for (field, value) in quirks.defaults {
        wire.extra
            .entry((*field).to_owned())
            .or_insert_with(|| Value::from(*value));
    }
    for message in &mut wire.messages {
        if quirks.no_reasoning_replay {
            message.reasoning_content = None;
        }
        let keep_name = match quirks.names {
            Names::Anywhere => true,
            Names::UserOnly => message.role == "user",
            Names::Nowhere => false,
        };
        if !keep_name {
            message.name = None;
        }
        if quirks.flatten_text
            && let Some(MessageContent::Parts(parts)) = &message.content
            && let Some(text) = text_only(parts)
        {
            message.content = Some(MessageContent::Text(text));
        }
    }
    Ok(())
}

/// The usage as OpenAI counts it: reasoning tokens are part of the output.
pub(super) fn fit_usage(host: Host, usage: &mut Usage) {
    if host.quirks().reasoning_beside_output {
        usage.output_tokens += usage.reasoning_tokens.unwrap_or(0);
    }
}

/// Whether the request sets `param` (`n` counts only above 1).
fn uses(wire: &ChatCompletionRequest, param: &str) -> bool {
    match param {
        "logprobs" => wire.logprobs == Some(true),
        "top_logprobs" => wire.top_logprobs.is_some(),
        "n" => wire.n.is_some_and(|n| n > 1),
        other => wire.extra.contains_key(other),
    }
}

fn drop_param(wire: &mut ChatCompletionRequest, param: &str) {
    match param {
        "logprobs" => wire.logprobs = None,
        "top_logprobs" => wire.top_logprobs = None,
        "n" => wire.n = None,
        other => {
            wire.extra.remove(other);
        }
    }
}

/// The parts' text joined, when every part is text.
fn text_only(parts: &[ContentPart]) -> Option<String> {
    parts
        .iter()
        .map(|part| match (part.kind.as_str(), &part.text) {
            ("text", Some(text)) => Some(text.as_str()),
            _ => None,
        })
        .collect::<Option<Vec<&str>>>()
        .map(|texts| texts.concat())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn wire(body: Value) -> ChatCompletionRequest {
        serde_json::from_value(body).expect("a request")
    }

    fn fitted(host: Host, body: Value) -> Value {
        let mut request = wire(body);
        fit(host, &mut request, false).expect("fits");
        serde_json::to_value(request).expect("json")
    }

    #[test]
    fn groq_refuses_what_it_does_not_know_unless_dropping_is_allowed() {
        for (body, param) in [
            (json!({"logprobs": true}), "logprobs"),
            (json!({"n": 2}), "n"),
            (json!({"store": true}), "store"),
        ] {
            let mut body = body;
            body["model"] = json!("llama-3.3-70b-versatile");
            body["messages"] = json!([{"role": "user", "content": "hi"}]);
            let mut request = wire(body);
            let error = fit(Host::Groq, &mut request, false).expect_err(param);
            assert_eq!(error.param.as_deref(), Some(param));
            fit(Host::Groq, &mut request, true).expect("dropped");
            let sent = serde_json::to_value(&request).expect("json");
            assert!(sent.get(param).is_none(), "{sent}");
        }
        let sent = fitted(
            Host::Groq,
            json!({"model": "m", "reasoning_effort": "low", "metadata": {"team": "a"},
                   "messages": [{"role": "user", "name": "ada", "content": "hi"},
                                {"role": "assistant", "content": "x", "reasoning_content": "y"}]}),
        );
        assert_eq!(sent["reasoning_effort"], "low");
        assert!(sent.get("metadata").is_none());
        assert!(sent["messages"][0].get("name").is_none());
        assert!(sent["messages"][1].get("reasoning_content").is_none());
    }

    #[test]
    fn each_host_gets_its_own_field_names_and_defaults() {
        let body = json!({"model": "m", "max_completion_tokens": 64,
                          "messages": [{"role": "system", "name": "rules", "content": "Be brief."},
                                       {"role": "user", "content": [{"type": "text", "text": "Hi "},
                                                                    {"type": "text", "text": "there"}]}]});
        let deepseek = fitted(Host::DeepSeek, body.clone());
        assert_eq!(deepseek["max_tokens"], 64);
        assert!(deepseek.get("max_completion_tokens").is_none());
        assert_eq!(deepseek["messages"][1]["content"], "Hi there");
        let fireworks = fitted(Host::Fireworks, body.clone());
        assert_eq!(fireworks["context_length_exceeded_behavior"], "error");
        assert_eq!(fireworks["max_tokens"], 64);
        let xai = fitted(Host::Xai, body);
        assert_eq!(xai["max_completion_tokens"], 64);
        assert!(
            xai["messages"][0].get("name").is_none(),
            "xAI takes names on user turns only"
        );
    }

    #[test]
    fn xai_reasoning_tokens_count_as_output() {
        let mut usage = Usage {
            input_tokens: 10,
            output_tokens: 5,
            reasoning_tokens: Some(100),
            ..Usage::default()
        };
        fit_usage(Host::DeepSeek, &mut usage);
        assert_eq!(usage.output_tokens, 5);
        fit_usage(Host::Xai, &mut usage);
        assert_eq!(usage.output_tokens, 105);
    }
}
