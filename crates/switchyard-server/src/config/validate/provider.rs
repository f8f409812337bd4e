//! `[providers.*]`: each provider's family (`type`) and the connection settings its
//! deployments share.

use http::{HeaderName, HeaderValue};
use secrecy::{ExposeSecret, SecretString};
use switchyard_providers::bedrock::BedrockCredentials;
use switchyard_providers::openai::{Dialect, Host, Timeouts};
use toml::Spanned;

use super::super::raw::RawProvider;
use super::super::suggest;
use super::{Context, Entry, headers_span};

/// The Azure OpenAI `api-version` used when a provider names none: the latest GA
/// version of the data-plane inference API.
const AZURE_API_VERSION: &str = "2024-10-21";

/// The `api-version` of Azure AI Foundry's model inference when a provider names none.
const AZURE_FOUNDRY_API_VERSION: &str = "2024-05-01-preview";

/// The values `providers.*.type` accepts. A new provider family is a variant here, an
/// arm in [`provider`] and in [`deployment`], and a [`DeploymentKind`] variant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum ProviderType {
    /// Any server speaking OpenAI's Chat Completions API.
    OpenAi,
    /// Anthropic's Messages API.
    Anthropic,
    /// Azure OpenAI: OpenAI's protocol on Azure's paths, with an `api-key` header.
    Azure,
    /// Azure AI Foundry's model inference: serverless models under `/models`.
    AzureFoundry,
    /// Mistral La Plateforme: OpenAI's protocol with Mistral's rules.
    Mistral,
    /// Google's Gemini API.
    Gemini,
    /// AWS Bedrock's Converse API.
    Bedrock,
    /// An OpenAI-compatible host with its own rules: xAI, DeepSeek, Groq, Together,
    /// Fireworks.
    Hosted(Host),
    /// The engine in this process.
    Local,
}

impl ProviderType {
    const ALL: [ProviderType; 13] = [
        ProviderType::OpenAi,
        ProviderType::Anthropic,
        ProviderType::Azure,
        ProviderType::AzureFoundry,
        ProviderType::Mistral,
        ProviderType::Gemini,
        ProviderType::Bedrock,
        ProviderType::Hosted(Host::Xai),
        ProviderType::Hosted(Host::DeepSeek),
        ProviderType::Hosted(Host::Groq),
        ProviderType::Hosted(Host::Together),
        ProviderType::Hosted(Host::Fireworks),
        ProviderType::Local,
    ];

    fn name(self) -> &'static str {
        match self {
            ProviderType::OpenAi => "openai",
            ProviderType::Anthropic => "anthropic",
            ProviderType::Azure => "azure",
            ProviderType::AzureFoundry => "azure-foundry",
            ProviderType::Mistral => "mistral",
            ProviderType::Gemini => "gemini",
            ProviderType::Bedrock => "bedrock",
            ProviderType::Hosted(host) => host.name(),
            ProviderType::Local => "local",
        }
    }

    fn parse(name: &str) -> Option<ProviderType> {
        Self::ALL.into_iter().find(|kind| kind.name() == name)
    }
}

/// A validated provider, by family.
pub(super) enum Provider {
    /// OpenAI's protocol, in the dialect of its host family.
    OpenAi(HttpProvider, Dialect),
    Anthropic(HttpProvider),
    Gemini(HttpProvider),
    Bedrock(BedrockProvider),
    Local,
}

/// A Bedrock provider: its region and credentials; `base_url` overrides the region's
/// runtime endpoint.
pub(super) struct BedrockProvider {
    pub region: String,
    pub base_url: Option<String>,
    pub credentials: BedrockCredentials,
    pub headers: Vec<(HeaderName, HeaderValue)>,
    pub timeouts: Timeouts,
}

/// Settings shared by providers reached over HTTP.
pub(super) struct HttpProvider {
    pub base_url: String,
    pub api_key: Option<SecretString>,
    pub headers: Vec<(HeaderName, HeaderValue)>,
    pub timeouts: Timeouts,
}

pub(super) fn provider(
    name: &Spanned<String>,
    raw: &RawProvider,
    cx: &mut Context<'_, '_>,
) -> Option<Provider> {
    let errors_before = cx.diagnostics.count();
    let entry = Entry::new("providers", name);
    let valid_name = !name.get_ref().is_empty()
        && name
            .get_ref()
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
    if !valid_name {
        cx.error(
            name.span(),
            &entry.path,
            "a provider name must be non-empty and use only ASCII letters, digits, `.`, `_` and `-`",
        );
    }

    let kind = cx
        .require(raw.kind.as_ref(), &entry, "type")
        .and_then(|kind| {
            let parsed = ProviderType::parse(kind.get_ref());
            if parsed.is_none() {
                let supported: Vec<&str> =
                    ProviderType::ALL.iter().map(|kind| kind.name()).collect();
                cx.error(
                    kind.span(),
                    &entry.field("type"),
                    format!(
                        "unsupported provider type `{}`{}",
                        kind.get_ref(),
                        suggest::hint(kind.get_ref(), &supported, "provider types are supported"),
                    ),
                );
            }
            parsed
        });

    // Checked whatever the type, so a bad `type` does not hide other mistakes.
    let base_url = raw
        .base_url
        .as_ref()
        .and_then(|url| base_url(url, &entry.field("base_url"), cx));
    let api_key = raw
        .api_key
        .as_ref()
        .and_then(|key| cx.secret(key, &entry.field("api_key")));
    let headers = cx.headers(raw.headers.as_ref(), &entry.path);
    let timeouts = cx
        .timeouts(raw.timeouts.as_ref(), &entry.path)
        .apply(Timeouts::default());

    if let Some(version) = &raw.api_version
        && kind
            .is_some_and(|kind| !matches!(kind, ProviderType::Azure | ProviderType::AzureFoundry))
    {
        cx.error(
            version.span(),
            &entry.field("api_version"),
            "only for `azure` and `azure-foundry` providers",
        );
    }
    let aws_fields = [
        ("region", raw.region.as_ref()),
        ("access_key_id", raw.access_key_id.as_ref()),
        ("secret_access_key", raw.secret_access_key.as_ref()),
        ("session_token", raw.session_token.as_ref()),
    ];
    if kind.is_some_and(|kind| kind != ProviderType::Bedrock) {
        for (field, value) in aws_fields {
            if let Some(value) = value {
                cx.error(
                    value.span(),
                    &entry.field(field),
                    "only for `bedrock` providers",
                );
            }
        }
    }
    let provider = match kind? {
        ProviderType::Bedrock => Provider::Bedrock(bedrock(
            raw, &entry, cx, api_key, base_url, headers, timeouts,
        )?),
        ProviderType::OpenAi => {
            let Some(base_url) = base_url else {
                cx.require(raw.base_url.as_ref(), &entry, "base_url");
                return None;
            };
            Provider::OpenAi(
                HttpProvider {
                    base_url,
                    api_key,
                    headers,
                    timeouts,
                },
                Dialect::OpenAi,
            )
        }
        ProviderType::Mistral => Provider::OpenAi(
            HttpProvider {
                base_url: base_url.unwrap_or_else(|| {
                    switchyard_providers::openai::mistral::MISTRAL_BASE_URL.to_owned()
                }),
                api_key,
                headers,
                timeouts,
            },
            Dialect::Mistral,
        ),
        ProviderType::Azure => {
            let Some(base_url) = base_url else {
                cx.require(raw.base_url.as_ref(), &entry, "base_url");
                return None;
            };
            let api_version = raw.api_version.as_ref().map_or_else(
                || AZURE_API_VERSION.to_owned(),
                |version| version.get_ref().clone(),
            );
            Provider::OpenAi(
                HttpProvider {
                    base_url,
                    api_key,
                    headers,
                    timeouts,
                },
                Dialect::Azure { api_version },
            )
        }
        ProviderType::AzureFoundry => {
            let Some(base_url) = base_url else {
                cx.require(raw.base_url.as_ref(), &entry, "base_url");
                return None;
            };
            let api_version = raw.api_version.as_ref().map_or_else(
                || AZURE_FOUNDRY_API_VERSION.to_owned(),
                |version| version.get_ref().clone(),
            );
            Provider::OpenAi(
                HttpProvider {
                    base_url,
                    api_key,
                    headers,
                    timeouts,
                },
                Dialect::AzureFoundry { api_version },
            )
        }
        ProviderType::Anthropic => Provider::Anthropic(HttpProvider {
            base_url: base_url
                .unwrap_or_else(|| switchyard_providers::anthropic::DEFAULT_BASE_URL.to_owned()),
            api_key,
            headers,
            timeouts,
        }),
        ProviderType::Hosted(host) => Provider::OpenAi(
            HttpProvider {
                base_url: base_url.unwrap_or_else(|| host.base_url().to_owned()),
                api_key,
                headers,
                timeouts,
            },
            Dialect::Hosted(host),
        ),
        ProviderType::Gemini => Provider::Gemini(HttpProvider {
            base_url: base_url
                .unwrap_or_else(|| switchyard_providers::gemini::DEFAULT_BASE_URL.to_owned()),
            api_key,
            headers,
            timeouts,
        }),
        ProviderType::Local => {
            let unused = [
                ("base_url", raw.base_url.as_ref().map(Spanned::span)),
                ("api_key", raw.api_key.as_ref().map(Spanned::span)),
                ("timeouts", raw.timeouts.as_ref().map(Spanned::span)),
                ("headers", headers_span(raw.headers.as_ref(), &entry)),
            ];
            for (field, span) in unused {
                if let Some(span) = span {
                    cx.error(
                        span,
                        &entry.field(field),
                        "not used by `local` providers: the engine runs in this process",
                    );
                }
            }
            Provider::Local
        }
    };
    (cx.diagnostics.count() == errors_before).then_some(provider)
}

/// A Bedrock provider's region and credentials: a Bedrock API key (`api_key`) or IAM
/// access keys, not both.
fn bedrock(
    raw: &RawProvider,
    entry: &Entry,
    cx: &mut Context<'_, '_>,
    api_key: Option<SecretString>,
    base_url: Option<String>,
    headers: Vec<(HeaderName, HeaderValue)>,
    timeouts: Timeouts,
) -> Option<BedrockProvider> {
    let region = cx
        .require(raw.region.as_ref(), entry, "region")
        .and_then(|region| {
            let valid = !region.get_ref().is_empty()
                && region
                    .get_ref()
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
            if !valid {
                cx.error(
                    region.span(),
                    &entry.field("region"),
                    "an AWS region name such as `us-east-1` or `eu-central-1`",
                );
            }
            valid.then(|| region.get_ref().clone())
        });
    let secret = |cx: &mut Context<'_, '_>, field: &str, value: Option<&Spanned<String>>| {
        value.and_then(|value| cx.secret(value, &entry.field(field)))
    };
    let access_key_id = secret(cx, "access_key_id", raw.access_key_id.as_ref());
    let secret_access_key = secret(cx, "secret_access_key", raw.secret_access_key.as_ref());
    let session_token = secret(cx, "session_token", raw.session_token.as_ref());
    let credentials = match (api_key, access_key_id, secret_access_key) {
        (Some(key), None, None) if raw.session_token.is_none() => BedrockCredentials::ApiKey(key),
        (None, Some(id), Some(secret)) => BedrockCredentials::AccessKey {
            access_key_id: id.expose_secret().to_owned(),
            secret_access_key: secret,
            session_token,
        },
        _ => {
            cx.error(
                entry.span.clone(),
                &entry.path,
                "a `bedrock` provider needs either `api_key` (a Bedrock API key) or both \
                 `access_key_id` and `secret_access_key` (with `session_token` for temporary \
                 credentials)",
            );
            return None;
        }
    };
    Some(BedrockProvider {
        region: region?,
        base_url,
        credentials,
        headers,
        timeouts,
    })
}

/// An absolute `http` or `https` URL, without a trailing `/`.
pub(super) fn base_url(
    raw: &Spanned<String>,
    path: &str,
    cx: &mut Context<'_, '_>,
) -> Option<String> {
    // The URL is not repeated in messages: it may carry credentials.
    match url::Url::parse(raw.get_ref()) {
        Ok(url) if matches!(url.scheme(), "http" | "https") && url.has_host() => {
            Some(raw.get_ref().trim_end_matches('/').to_owned())
        }
        Ok(url) => {
            cx.error(
                raw.span(),
                path,
                format!(
                    "unsupported URL scheme `{}`; expected `http` or `https`",
                    url.scheme()
                ),
            );
            None
        }
        Err(error) => {
            cx.error(raw.span(), path, format!("invalid URL: {error}"));
            None
        }
    }
}
