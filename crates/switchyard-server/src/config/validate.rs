//! The file model → [`Config`]: required fields, value formats, secrets, references.
//!
//! Validation never stops early. Each entry is checked on its own and every problem is
//! reported; an entry with problems is left out of the result (the caller discards the
//! result anyway when there are diagnostics). References are checked against the names
//! *declared* in the file, valid or not, so one broken provider causes one error, not
//! one more per deployment that uses it.

use std::collections::{BTreeMap, BTreeSet};
use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;

use http::{HeaderName, HeaderValue};
use secrecy::{ExposeSecret, SecretString};
use switchyard_providers::anthropic::AnthropicConfig;
use switchyard_providers::bedrock::BedrockConfig;
use switchyard_providers::gemini::GeminiConfig;
use switchyard_providers::openai::{OpenAiCompatConfig, Timeouts};

use toml::Spanned;

use super::diagnostic::{self, Diagnostics};
use super::raw::{self, Named, Parsed, RawDeployment, RawModel, RawServer, RawTimeouts};
use super::secret::SecretRef;
use super::suggest;

mod family;
mod governance;
mod provider;
mod routing;
mod tasks;
use super::{
    DeploymentConfig, DeploymentKind, LocalDeployment, LogFormat, ModelConfig, ServerConfig,
    StoreLocation,
};
use family::{anthropic_only_fields, local_only_fields, local_settings, remote_only_fields};
use provider::{Provider, provider};

/// What validation needs besides the file model.
pub(crate) struct Context<'a, 'd> {
    pub diagnostics: &'a mut Diagnostics<'d>,
    /// Key paths deserialization removed (already reported).
    pub removed: &'a BTreeSet<Vec<String>>,
    /// Looks environment variables up for `env:` secrets.
    pub lookup: &'a dyn Fn(&str) -> Option<String>,
    /// Relative `file:` secrets are read from here (the config file's directory).
    pub base_dir: Option<&'a Path>,
}

/// The validated sections; meaningful only when no diagnostic was recorded.
pub(crate) struct Validated {
    pub server: ServerConfig,
    pub deployments: Vec<DeploymentConfig>,
    pub models: Vec<ModelConfig>,
    pub routing: super::RoutingConfig,
    pub governance: super::GovernanceConfig,
}

pub(crate) fn validate(parsed: &Parsed, cx: &mut Context<'_, '_>) -> Validated {
    let raw = &parsed.config;
    let server = server(raw.server.as_ref().map(Spanned::get_ref), cx);

    let providers: BTreeMap<&str, Option<Provider>> = raw::in_file_order(&raw.providers)
        .into_iter()
        .map(|(name, provider)| {
            (
                name.get_ref().as_str(),
                self::provider(name, provider.get_ref(), cx),
            )
        })
        .collect();
    let provider_names = names(&raw.providers);

    let deployments = raw::in_file_order(&raw.deployments)
        .into_iter()
        .filter_map(|(name, deployment)| {
            let references = References {
                names: &provider_names,
                section: "providers",
            };
            self::deployment(name, deployment.get_ref(), &providers, &references, cx)
        })
        .collect();

    let deployment_names = names(&raw.deployments);
    let models = raw::in_file_order(&raw.models)
        .into_iter()
        .filter_map(|(name, model)| {
            let references = References {
                names: &deployment_names,
                section: "deployments",
            };
            self::model(name, model.get_ref(), &references, cx)
        })
        .collect();

    let routing = routing::routing(raw.routing.as_ref().map(Spanned::get_ref), cx);
    let governance = governance::governance(raw.governance.as_ref().map(Spanned::get_ref), cx);

    Validated {
        server,
        deployments,
        models,
        routing,
        governance,
    }
}

fn names<T>(map: &Named<T>) -> Vec<&str> {
    raw::in_file_order(map)
        .into_iter()
        .map(|(name, _)| name.get_ref().as_str())
        .collect()
}

// === server ===

fn server(raw: Option<&RawServer>, cx: &mut Context<'_, '_>) -> ServerConfig {
    let mut config = ServerConfig::default();
    let Some(raw) = raw else {
        return config;
    };
    if let Some(listen) = &raw.listen {
        match listen.get_ref().parse::<SocketAddr>() {
            Ok(address) => config.listen = Some(address),
            Err(_) => cx.error(
                listen.span(),
                "server.listen",
                format!(
                    "invalid listen address `{}`; expected an IP address and a port, such as `127.0.0.1:8080`",
                    listen.get_ref()
                ),
            ),
        }
    }
    if let Some(max_body_bytes) = &raw.max_body_bytes {
        match usize::try_from(*max_body_bytes.get_ref()) {
            Ok(bytes) if bytes >= MIN_BODY_BYTES => config.max_body_bytes = bytes,
            _ => cx.error(
                max_body_bytes.span(),
                "server.max_body_bytes",
                format!("must be at least {MIN_BODY_BYTES} bytes"),
            ),
        }
    }
    if let Some(master_keys) = &raw.master_keys {
        for (position, key) in master_keys.get_ref().iter().enumerate() {
            let path = diagnostic::index("server.master_keys", position);
            if let Some(secret) = cx.secret(key, &path) {
                config.master_keys.push(secret);
            }
        }
    }
    if let Some(log_format) = &raw.log_format {
        match log_format.get_ref().as_str() {
            "pretty" => config.log_format = LogFormat::Pretty,
            "json" => config.log_format = LogFormat::Json,
            other => cx.error(
                log_format.span(),
                "server.log_format",
                suggest::unknown("log format", other, &["pretty", "json"], "formats"),
            ),
        }
    }
    if let Some(grace) = &raw.shutdown_grace
        && let Some(grace) = cx.duration(grace, "server.shutdown_grace", ZeroDuration::Allowed)
    {
        config.shutdown_grace = grace;
    }
    if let Some(store) = &raw.store {
        config.store = match store.get_ref().as_str() {
            "" => {
                cx.error(
                    store.span(),
                    "server.store",
                    "must be a file path or \"memory\"",
                );
                None
            }
            "memory" => Some(StoreLocation::Memory),
            path => Some(StoreLocation::File(cx.relative_to_file(path))),
        };
    }
    if let Some(retention) = &raw.response_retention
        && let Some(retention) = cx.duration(
            retention,
            "server.response_retention",
            ZeroDuration::Rejected,
        )
    {
        config.response_retention = retention;
    }
    if let Some(hosts) = &raw.allowed_hosts {
        for (position, host) in hosts.get_ref().iter().enumerate() {
            let name = host.get_ref().trim().to_ascii_lowercase();
            if name.is_empty() || name.contains(['/', ' ', '@']) {
                cx.error(
                    host.span(),
                    &diagnostic::index("server.allowed_hosts", position),
                    "must be a host name, optionally with a port (`gateway.internal`, `gateway.internal:8080`)",
                );
            } else {
                config.allowed_hosts.push(name);
            }
        }
    }
    if let Some(public) = &raw.public_metrics {
        config.public_metrics = *public.get_ref();
    }
    if let Some(open) = &raw.allow_unauthenticated {
        config.allow_unauthenticated = *open.get_ref();
    }
    if let Some(max) = &raw.max_concurrent_requests {
        match usize::try_from(*max.get_ref()) {
            Ok(max) if max >= 1 => config.max_concurrent_requests = max,
            _ => cx.error(
                max.span(),
                "server.max_concurrent_requests",
                "must be at least 1",
            ),
        }
    }
    if let Some(fields) = &raw.passthrough_fields {
        config.passthrough_fields = fields
            .get_ref()
            .iter()
            .map(|field| field.get_ref().clone())
            .collect();
    }
    config
}

/// Whether a value that may be a literal names a secret instead (`env:`, `file:`).
pub(super) fn is_secret_reference(value: &str) -> bool {
    value.starts_with("env:") || value.starts_with("file:")
}

/// The smallest accepted `max_body_bytes`: below it, no chat request fits.
const MIN_BODY_BYTES: usize = 1024;

// === deployments ===

/// `max_tokens` of an Anthropic request that sets none, unless the deployment says.
const DEFAULT_MAX_TOKENS: u32 = 4096;

/// Names a reference may point to.
struct References<'n> {
    /// Declared names, in file order.
    names: &'n [&'n str],
    /// The section they are declared in: `providers`, `deployments`.
    section: &'static str,
}

fn deployment(
    name: &Spanned<String>,
    raw: &RawDeployment,
    providers: &BTreeMap<&str, Option<Provider>>,
    references: &References<'_>,
    cx: &mut Context<'_, '_>,
) -> Option<DeploymentConfig> {
    let errors_before = cx.diagnostics.count();
    let entry = Entry::new("deployments", name);
    if name.get_ref().is_empty() {
        cx.error(
            name.span(),
            &entry.path,
            "a deployment name must not be empty",
        );
    }

    let provider = cx
        .require(raw.provider.as_ref(), &entry, "provider")
        .filter(|provider| {
            cx.reference(provider, &entry.field("provider"), "provider", references)
        });
    let model = cx.require(raw.model.as_ref(), &entry, "model");
    if let Some(model) = model
        && model.get_ref().is_empty()
    {
        cx.error(
            model.span(),
            &entry.field("model"),
            "the upstream model id must not be empty",
        );
    }
    let max_concurrency = raw.max_concurrency.as_ref().and_then(|limit| {
        let parsed = usize::try_from(*limit.get_ref())
            .ok()
            .filter(|&limit| limit >= 1);
        if parsed.is_none() {
            cx.error(
                limit.span(),
                &entry.field("max_concurrency"),
                "must be at least 1",
            );
        }
        parsed
    });
    let default_max_tokens = raw.default_max_tokens.as_ref().and_then(|tokens| {
        let parsed = u32::try_from(*tokens.get_ref()).ok().filter(|&t| t >= 1);
        if parsed.is_none() {
            cx.error(
                tokens.span(),
                &entry.field("default_max_tokens"),
                "must be a positive number of tokens",
            );
        }
        parsed
    });
    let overrides = cx.timeouts(raw.timeouts.as_ref(), &entry.path);
    let own_headers = cx.headers(raw.headers.as_ref(), &entry.path);
    let local = local_settings(raw, &entry, cx);
    let profile = routing::profile_overrides(raw, &entry, cx);
    let health_check = raw.health_check.as_ref().and_then(|interval| {
        cx.duration(
            interval,
            &entry.field("health_check"),
            ZeroDuration::Rejected,
        )
    });

    // An invalid provider was reported where it is defined.
    let provider = providers.get(provider?.get_ref().as_str())?.as_ref()?;
    let misplaced: Vec<_> = match provider {
        Provider::OpenAi(..) | Provider::Gemini(_) | Provider::Bedrock(_) => local_only_fields(raw)
            .into_iter()
            .map(|(field, span)| (field, span, "only for deployments on a `local` provider"))
            .chain(anthropic_only_fields(raw).into_iter().map(|(field, span)| {
                (
                    field,
                    span,
                    "only for deployments on an `anthropic` provider",
                )
            }))
            .collect(),
        Provider::Anthropic(_) => local_only_fields(raw)
            .into_iter()
            .map(|(field, span)| (field, span, "only for deployments on a `local` provider"))
            .chain(raw.embeddings.map(|_| {
                (
                    "embeddings",
                    entry.span.clone(),
                    "Anthropic has no embeddings API",
                )
            }))
            .collect(),
        Provider::Local => remote_only_fields(raw, &entry)
            .into_iter()
            .chain(anthropic_only_fields(raw))
            .map(|(field, span)| {
                let message = if field == "max_concurrency" {
                    "not used by local deployments; `max_sequences` and `queue_limit` bound them"
                } else {
                    "not used by local deployments: the engine runs in this process"
                };
                (field, span, message)
            })
            .collect(),
    };
    for (field, span, message) in misplaced {
        cx.error(span, &entry.field(field), message);
    }
    if let (Provider::Bedrock(_), Some(true), Some(model)) = (provider, raw.embeddings, model)
        && switchyard_protocols::bedrock::EmbedFamily::of(model.get_ref()).is_none()
    {
        cx.error(
            model.span(),
            &entry.field("model"),
            "Bedrock embeddings are served for Titan (`amazon.titan-embed-…`) and Cohere \
             (`cohere.embed-…`) models, named by id",
        );
    }
    if cx.diagnostics.count() != errors_before {
        return None;
    }
    let model = model?.get_ref().clone();
    let kind = match provider {
        Provider::Local => DeploymentKind::Local(LocalDeployment {
            provider: raw.provider.as_ref()?.get_ref().clone(),
            source: model,
            ..local
        }),
        Provider::Anthropic(http) => DeploymentKind::Anthropic(AnthropicConfig {
            provider: raw.provider.as_ref()?.get_ref().clone(),
            base_url: http.base_url.clone(),
            api_key: http.api_key.clone(),
            upstream_model: model,
            headers: merge_headers(&http.headers, own_headers),
            timeouts: overrides.apply(http.timeouts),
            max_concurrency,
            default_max_tokens: default_max_tokens.unwrap_or(DEFAULT_MAX_TOKENS),
            drop_unsupported_params: raw.drop_unsupported_params.unwrap_or(false),
        }),
        Provider::Bedrock(bedrock) => DeploymentKind::Bedrock(BedrockConfig {
            provider: raw.provider.as_ref()?.get_ref().clone(),
            region: bedrock.region.clone(),
            base_url: bedrock.base_url.clone(),
            credentials: bedrock.credentials.clone(),
            upstream_model: model,
            headers: merge_headers(&bedrock.headers, own_headers),
            timeouts: overrides.apply(bedrock.timeouts),
            max_concurrency,
            embeddings: raw.embeddings.unwrap_or(false),
            drop_unsupported_params: raw.drop_unsupported_params.unwrap_or(false),
        }),
        Provider::Gemini(http) => DeploymentKind::Gemini(GeminiConfig {
            provider: raw.provider.as_ref()?.get_ref().clone(),
            base_url: http.base_url.clone(),
            api_key: http.api_key.clone(),
            upstream_model: model,
            headers: merge_headers(&http.headers, own_headers),
            timeouts: overrides.apply(http.timeouts),
            max_concurrency,
            embeddings: raw.embeddings.unwrap_or(false),
            drop_unsupported_params: raw.drop_unsupported_params.unwrap_or(false),
        }),
        Provider::OpenAi(http, dialect) => DeploymentKind::OpenAiCompat(OpenAiCompatConfig {
            provider: raw.provider.as_ref()?.get_ref().clone(),
            base_url: http.base_url.clone(),
            api_key: http.api_key.clone(),
            upstream_model: model,
            headers: merge_headers(&http.headers, own_headers),
            timeouts: overrides.apply(http.timeouts),
            max_concurrency,
            embeddings: raw.embeddings.unwrap_or(false),
            dialect: dialect.clone(),
            drop_unsupported_params: raw.drop_unsupported_params.unwrap_or(false),
        }),
    };
    Some(DeploymentConfig {
        name: name.get_ref().clone(),
        kind,
        profile,
        health_check,
    })
}

/// Where a `headers` table is written: its first key (an inline table has no span of
/// its own here), else the entry's name.
fn headers_span(headers: Option<&Named<String>>, entry: &Entry) -> Option<std::ops::Range<usize>> {
    headers.map(|headers| {
        headers
            .keys()
            .next()
            .map_or(entry.span.clone(), Spanned::span)
    })
}

/// The provider's headers with the deployment's set over them, by name.
fn merge_headers(
    provider: &[(HeaderName, HeaderValue)],
    deployment: Vec<(HeaderName, HeaderValue)>,
) -> Vec<(HeaderName, HeaderValue)> {
    let mut merged = provider.to_vec();
    for (name, value) in deployment {
        match merged.iter_mut().find(|(existing, _)| *existing == name) {
            Some(slot) => slot.1 = value,
            None => merged.push((name, value)),
        }
    }
    merged
}

// === models ===

fn model(
    name: &Spanned<String>,
    raw: &RawModel,
    references: &References<'_>,
    cx: &mut Context<'_, '_>,
) -> Option<ModelConfig> {
    let errors_before = cx.diagnostics.count();
    let entry = Entry::new("models", name);
    if name.get_ref().is_empty() {
        cx.error(name.span(), &entry.path, "a model name must not be empty");
    }
    let list = cx.require(raw.deployments.as_ref(), &entry, "deployments");
    let mut deployments = Vec::new();
    if let Some(list) = list {
        let path = entry.field("deployments");
        if list.get_ref().is_empty() {
            cx.error(list.span(), &path, "must name at least one deployment");
        }
        let mut seen = BTreeSet::new();
        for (position, deployment) in list.get_ref().iter().enumerate() {
            let item_path = diagnostic::index(&path, position);
            if !seen.insert(deployment.get_ref().as_str()) {
                cx.error(
                    deployment.span(),
                    &item_path,
                    format!("deployment `{}` is listed twice", deployment.get_ref()),
                );
            } else if cx.reference(deployment, &item_path, "deployment", references) {
                deployments.push(deployment.get_ref().clone());
            }
        }
    }
    let description = raw
        .description
        .as_ref()
        .map(|description| description.get_ref().clone());
    let choice = routing::choice(raw, &entry, &deployments, cx);
    let tasks = tasks::tasks(raw, &entry, choice.strategy, &deployments, references, cx);
    (cx.diagnostics.count() == errors_before).then(|| ModelConfig {
        name: name.get_ref().clone(),
        deployments,
        description,
        strategy: choice.strategy,
        weights: choice.weights,
        quality: choice.quality,
        languages: choice.languages,
        hedge: choice.hedge,
        tasks,
    })
}

// === shared checks ===

/// A `[section.name]` entry being validated.
struct Entry {
    /// `["deployments", "gpt4o-openai"]`, to match removed key paths.
    keys: Vec<String>,
    /// `deployments.gpt4o-openai`, for messages.
    path: String,
    /// Where `[deployments.gpt4o-openai]` names the entry.
    span: std::ops::Range<usize>,
}

impl Entry {
    fn new(section: &str, name: &Spanned<String>) -> Entry {
        Entry {
            keys: vec![section.to_owned(), name.get_ref().clone()],
            path: diagnostic::join(section, name.get_ref()),
            span: name.span(),
        }
    }

    fn field(&self, field: &str) -> String {
        diagnostic::join(&self.path, field)
    }
}

/// Whether a duration of zero makes sense for a setting.
#[derive(Clone, Copy, PartialEq, Eq)]
enum ZeroDuration {
    Allowed,
    Rejected,
}

/// Per-field overrides from a `timeouts` table.
#[derive(Default)]
struct TimeoutOverrides {
    connect: Option<Duration>,
    first_byte: Option<Duration>,
    total: Option<Duration>,
    idle: Option<Duration>,
}

impl TimeoutOverrides {
    fn apply(&self, base: Timeouts) -> Timeouts {
        Timeouts {
            connect: self.connect.unwrap_or(base.connect),
            first_byte: self.first_byte.unwrap_or(base.first_byte),
            total: self.total.unwrap_or(base.total),
            idle: self.idle.unwrap_or(base.idle),
        }
    }
}

impl Context<'_, '_> {
    fn error(&mut self, span: std::ops::Range<usize>, path: &str, message: impl Into<String>) {
        self.diagnostics.error(span, path, message);
    }

    /// `value`, or an error at the entry's name when it is missing, unless the field was
    /// there with the wrong type (already reported).
    fn require<'v, T>(
        &mut self,
        value: Option<&'v Spanned<T>>,
        entry: &Entry,
        field: &str,
    ) -> Option<&'v Spanned<T>> {
        if value.is_none() {
            let mut keys = entry.keys.clone();
            keys.push(field.to_owned());
            if !self.removed.contains(&keys) {
                self.error(
                    entry.span.clone(),
                    &entry.path,
                    format!("missing field `{field}`"),
                );
            }
        }
        value
    }

    /// Whether `name` is declared in `references.section`; reports it when not.
    fn reference(
        &mut self,
        name: &Spanned<String>,
        path: &str,
        what: &str,
        references: &References<'_>,
    ) -> bool {
        let declared = references.names.contains(&name.get_ref().as_str())
            || self.removed.contains(&vec![references.section.to_owned()])
            || self
                .removed
                .contains(&vec![references.section.to_owned(), name.get_ref().clone()]);
        if !declared {
            let plural = format!("{} are defined", references.section);
            let message = suggest::unknown(what, name.get_ref(), references.names, &plural);
            self.error(name.span(), path, message);
        }
        declared
    }

    /// A path from the file, relative to the file's directory when it is relative.
    fn relative_to_file(&self, path: &str) -> std::path::PathBuf {
        match self.base_dir {
            Some(base_dir) => base_dir.join(path),
            None => std::path::PathBuf::from(path),
        }
    }

    fn secret(&mut self, value: &Spanned<String>, path: &str) -> Option<SecretString> {
        let reference = match SecretRef::parse(value.get_ref()) {
            Ok(reference) => reference,
            Err(error) => {
                self.error(value.span(), path, error.to_string());
                return None;
            }
        };
        let reference = match self.base_dir {
            Some(base_dir) => reference.relative_to(base_dir),
            None => reference,
        };
        match reference.resolve_with(self.lookup) {
            Ok(secret) => Some(secret),
            Err(error) => {
                self.error(value.span(), path, error_chain(&error));
                None
            }
        }
    }

    fn duration(
        &mut self,
        value: &Spanned<String>,
        path: &str,
        zero: ZeroDuration,
    ) -> Option<Duration> {
        match humantime::parse_duration(value.get_ref()) {
            Ok(duration) if duration.is_zero() && zero == ZeroDuration::Rejected => {
                self.error(value.span(), path, "must be longer than zero");
                None
            }
            Ok(duration) => Some(duration),
            Err(error) => {
                self.error(
                    value.span(),
                    path,
                    format!("invalid duration `{}`: {error}", value.get_ref()),
                );
                None
            }
        }
    }

    /// The `timeouts` table under `parent`.
    fn timeouts(&mut self, raw: Option<&Spanned<RawTimeouts>>, parent: &str) -> TimeoutOverrides {
        let Some(raw) = raw.map(Spanned::get_ref) else {
            return TimeoutOverrides::default();
        };
        let path = diagnostic::join(parent, "timeouts");
        let mut field = |value: &Option<Spanned<String>>, name: &str| {
            value.as_ref().and_then(|value| {
                self.duration(
                    value,
                    &diagnostic::join(&path, name),
                    ZeroDuration::Rejected,
                )
            })
        };
        TimeoutOverrides {
            connect: field(&raw.connect, "connect"),
            first_byte: field(&raw.first_byte, "first_byte"),
            total: field(&raw.total, "total"),
            idle: field(&raw.idle, "idle"),
        }
    }

    /// The `headers` table under `parent`, in file order. Values are marked sensitive
    /// so they stay out of `Debug` output, since some carry credentials.
    fn headers(
        &mut self,
        raw: Option<&Named<String>>,
        parent: &str,
    ) -> Vec<(HeaderName, HeaderValue)> {
        let Some(raw) = raw else {
            return Vec::new();
        };
        let headers_path = diagnostic::join(parent, "headers");
        let mut headers: Vec<(HeaderName, HeaderValue)> = Vec::new();
        for (name, value) in raw::in_file_order(raw) {
            let path = diagnostic::join(&headers_path, name.get_ref());
            let header_name = match HeaderName::from_bytes(name.get_ref().as_bytes()) {
                Ok(header_name) => Some(header_name),
                Err(_) => {
                    self.error(
                        name.span(),
                        &path,
                        format!("invalid header name `{}`", name.get_ref()),
                    );
                    None
                }
            };
            // A credential header (a proxy's token) may be a secret reference.
            let text = if is_secret_reference(value.get_ref()) {
                match self.secret(value, &path) {
                    Some(secret) => secret.expose_secret().to_owned(),
                    None => continue,
                }
            } else {
                value.get_ref().clone()
            };
            let header_value = match HeaderValue::from_str(&text) {
                Ok(mut header_value) => {
                    header_value.set_sensitive(true);
                    Some(header_value)
                }
                Err(_) => {
                    self.error(
                        value.span(),
                        &path,
                        "invalid header value; control characters other than tab are not allowed",
                    );
                    None
                }
            };
            let (Some(header_name), Some(header_value)) = (header_name, header_value) else {
                continue;
            };
            if headers.iter().any(|(existing, _)| *existing == header_name) {
                self.error(
                    name.span(),
                    &path,
                    format!("header `{header_name}` is set twice; header names ignore case"),
                );
                continue;
            }
            headers.push((header_name, header_value));
        }
        headers
    }
}

/// An error and its sources, `outer: inner: innermost`.
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut message = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        message.push_str(": ");
        message.push_str(&cause.to_string());
        source = cause.source();
    }
    message
}
