//! `switchyard.toml`: the gateway's one config file, read into a validated [`Config`].
//!
//! Loading has two phases (house style §4):
//!
//! 1. `raw` parses the TOML into a file model of optional, spanned fields, reporting
//!    syntax errors, unknown keys (with a "did you mean") and values of the wrong type.
//! 2. `validate` turns the file model into [`Config`]: required fields, durations,
//!    URLs, header names, secret references resolved to [`SecretString`]s, and the
//!    references from deployments to providers and from models to deployments.
//!
//! Both phases report *every* problem they find, as [`Diagnostic`]s printed
//! `file:line:col: path: message`; [`ConfigErrors`] carries them all, in file order.
//! The documented example file, [`example_config`], doubles as the config reference.
//!
//! Secrets are only ever written as references (`env:NAME`, `file:PATH`, see
//! [`SecretRef`]) and never appear in a message or in `Debug` output.
//!
//! This module does not know about command-line flags or `SWITCHYARD_*` variables; the
//! binary merges those over [`ServerConfig`].
//!
//! Start reading at [`Config::load`].

mod diagnostic;
mod from_env;
mod raw;
mod schema;
mod secret;
mod suggest;
mod validate;

#[cfg(test)]
mod tests;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use secrecy::SecretString;
use switchyard_catalog::{Jurisdiction, Price};
use switchyard_router::{BreakerSettings, HedgeAfter, Policy, Retention, RetrySettings, Strategy};

pub use diagnostic::{ConfigErrors, Diagnostic};
pub use from_env::vendors_from_env;
pub use secret::{SecretError, SecretRef, SecretRefError};

/// The validated configuration.
#[derive(Debug, Clone, Default)]
pub struct Config {
    /// The file it was loaded from; `None` when built from a string or by default.
    pub source: Option<PathBuf>,
    pub server: ServerConfig,
    /// Every deployment, in the order the file defines them, with its provider's
    /// settings folded in.
    pub deployments: Vec<DeploymentConfig>,
    /// Every public model, in the order the file defines them.
    pub models: Vec<ModelConfig>,
    pub routing: RoutingConfig,
    pub governance: GovernanceConfig,
}

/// `[governance]`: how keys, limits, budgets and the ledger behave.
#[derive(Debug, Clone, PartialEq)]
pub struct GovernanceConfig {
    pub backend: GovernanceBackend,
    /// Let requests through (unmetered by limits and budgets) when the store or
    /// counters cannot be reached, instead of refusing them with a 503.
    pub allow_on_store_error: bool,
    /// The output a request that sets no `max_tokens` is assumed to produce, for its
    /// token-rate charge and budget reservation before it is answered.
    pub default_output_tokens: u64,
    /// Where budget alerts are POSTed.
    pub alert_webhook: Option<String>,
    /// Percentages of a budget at which an alert goes out, ascending.
    pub alert_at: Vec<u32>,
}

impl Default for GovernanceConfig {
    fn default() -> Self {
        GovernanceConfig {
            backend: GovernanceBackend::Embedded,
            allow_on_store_error: false,
            default_output_tokens: 4096,
            alert_webhook: None,
            alert_at: vec![50, 80, 100],
        }
    }
}

/// Where keys, the ledger, the audit log and the counters of limits and budgets live.
#[derive(Debug, Clone, Default, PartialEq)]
pub enum GovernanceBackend {
    /// The server's SQLite store (`server.store`) and counters in this process: one
    /// replica, nothing to install.
    #[default]
    Embedded,
    /// PostgreSQL and Redis, shared by every replica (stored responses move to
    /// PostgreSQL too).
    Distributed(Box<DistributedBackend>),
}

/// The distributed backend's servers.
#[derive(Debug, Clone, PartialEq)]
pub struct DistributedBackend {
    pub postgres: switchyard_store::PgTarget,
    pub postgres_max_connections: u32,
    pub redis: switchyard_store::RedisTarget,
    /// Put before every Redis key, so deployments can share one Redis.
    pub redis_prefix: String,
}

/// `[routing]`: how requests are retried, bounded and kept where the operator allows.
#[derive(Debug, Clone, Default)]
pub struct RoutingConfig {
    /// The operator's policy, under every request's.
    pub policy: Policy,
    pub retry: RetrySettings,
    pub breaker: BreakerSettings,
    /// Where this server runs: where its local models process requests.
    pub hosted_in: Option<Jurisdiction>,
}

/// What a deployment's config says about it for routing policies, over what the
/// catalog knows.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ProfileOverrides {
    pub jurisdiction: Option<Jurisdiction>,
    pub hosted_in: Option<Jurisdiction>,
    pub region: Option<String>,
    pub retention: Option<Retention>,
    pub price: Option<Price>,
    pub context_window: Option<u64>,
}

/// `[server]`: how the gateway itself listens and behaves.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// Where to listen; `None` leaves the choice to the command line and its default.
    pub listen: Option<SocketAddr>,
    /// The largest request body accepted, in bytes.
    pub max_body_bytes: usize,
    /// Keys that may call the model API (`/v1/*`); empty leaves it open.
    pub master_keys: Vec<SecretString>,
    pub log_format: LogFormat,
    /// How long in-flight requests may run on after a shutdown signal.
    pub shutdown_grace: Duration,
    /// Where durable state (stored responses) lives; `None` leaves it to the command
    /// (`serve` keeps a file in its home directory, other uses keep it in memory).
    pub store: Option<StoreLocation>,
    /// How long a stored response is kept (OpenAI keeps them 30 days).
    pub response_retention: Duration,
    /// `Host` names an open server (one without master keys) answers besides loopback
    /// names and its own listen address: what stops a DNS-rebinding page.
    pub allowed_hosts: Vec<String>,
    /// Lets a server without master keys listen on an address other computers reach.
    /// Off by default: such a server spends the operator's vendor keys for anyone.
    pub allow_unauthenticated: bool,
    /// Vendor fields that buy a dearer service (`service_tier`, audio, web search…) that
    /// callers may pass through anyway; the others are refused by name.
    pub passthrough_fields: Vec<String>,
    /// Requests worked on at once (streams until their end); more get 503.
    pub max_concurrent_requests: usize,
    /// `/metrics` without a master key on a server that has them.
    pub public_metrics: bool,
}

/// Requests worked on at once unless `server.max_concurrent_requests` says.
pub const DEFAULT_MAX_CONCURRENT_REQUESTS: usize = 4096;

/// How long stored responses are kept unless `server.response_retention` says.
pub const DEFAULT_RESPONSE_RETENTION: Duration = Duration::from_secs(30 * 24 * 3600);

/// Where the embedded store keeps its data.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreLocation {
    /// Nothing on disk: gone when the process ends.
    Memory,
    /// A SQLite file, created with its directory if missing.
    File(PathBuf),
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            listen: None,
            max_body_bytes: 4 * 1024 * 1024,
            master_keys: Vec::new(),
            log_format: LogFormat::default(),
            shutdown_grace: Duration::from_secs(30),
            store: None,
            response_retention: DEFAULT_RESPONSE_RETENTION,
            allowed_hosts: Vec::new(),
            allow_unauthenticated: false,
            passthrough_fields: Vec::new(),
            max_concurrent_requests: DEFAULT_MAX_CONCURRENT_REQUESTS,
            public_metrics: false,
        }
    }
}

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LogFormat {
    /// For people at a terminal.
    #[default]
    Pretty,
    /// One JSON object per line, for log collectors.
    Json,
}

/// `[deployments.<name>]`: one model on one provider.
#[derive(Debug, Clone)]
pub struct DeploymentConfig {
    pub name: String,
    pub kind: DeploymentKind,
    pub profile: ProfileOverrides,
    /// How often the deployment's model list is fetched to tell its circuit breaker
    /// whether it answers; `None`: never (traffic alone tells it).
    pub health_check: Option<Duration>,
}

/// A deployment's settings, by provider family (the provider's `type`).
#[derive(Debug, Clone)]
pub enum DeploymentKind {
    /// `type = "openai"`: any OpenAI-compatible server.
    OpenAiCompat(switchyard_providers::openai::OpenAiCompatConfig),
    /// `type = "anthropic"`: Anthropic's Messages API.
    Anthropic(switchyard_providers::anthropic::AnthropicConfig),
    /// `type = "gemini"`: Google's Gemini API.
    Gemini(switchyard_providers::gemini::GeminiConfig),
    /// `type = "bedrock"`: AWS Bedrock's Converse API.
    Bedrock(switchyard_providers::bedrock::BedrockConfig),
    /// `type = "local"`: a model the engine runs in this process. The binary loads it
    /// and hands the provider to [`crate::AppState::from_config_with_local`].
    Local(LocalDeployment),
}

/// A model the engine runs in-process, and how.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocalDeployment {
    /// The provider's configured name.
    pub provider: String,
    /// What to serve: a built-in model name (`smollm2`, `smollm2-135m-instruct:q4_1`),
    /// a path to a GGUF file or encoder directory, or `hf:OWNER/REPO/FILE.gguf`.
    pub source: String,
    /// What to serve it as; `None` decides from the files.
    pub kind: Option<LocalKind>,
    /// CPU threads for this model; `None` uses every core.
    pub threads: Option<u32>,
    /// Tokens of context shared by all running sequences.
    pub context_tokens: Option<u32>,
    /// Requests generated at once (continuous batching).
    pub max_sequences: Option<u32>,
    /// Requests that may wait for a sequence before new ones get 429.
    pub queue_limit: Option<u32>,
}

/// What a local model is served for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LocalKind {
    Chat,
    Completion,
    Embedding,
    /// Embeddings from static token vectors distilled from a sentence encoder:
    /// microseconds per text, coarser than the encoder (for task routing).
    StaticEmbedding,
}

impl LocalKind {
    pub const ALL: [LocalKind; 4] = [
        LocalKind::Chat,
        LocalKind::Completion,
        LocalKind::Embedding,
        LocalKind::StaticEmbedding,
    ];

    pub fn name(self) -> &'static str {
        match self {
            LocalKind::Chat => "chat",
            LocalKind::Completion => "completion",
            LocalKind::Embedding => "embedding",
            LocalKind::StaticEmbedding => "static-embedding",
        }
    }
}

/// `[models.<name>]`: a public model name and the deployments that serve it.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelConfig {
    /// The name callers put in `model`.
    pub name: String,
    /// Deployment names, in the order the router should prefer them; never empty.
    pub deployments: Vec<String>,
    pub description: Option<String>,
    pub strategy: Strategy,
    /// Shares under `weighted`, by deployment name; unlisted deployments weigh 1.
    pub weights: BTreeMap<String, u32>,
    /// Eval scores, by deployment name, for `quality-per-cost`.
    pub quality: BTreeMap<String, f64>,
    /// Prompts in a language (ISO 639-3 code) go first to this deployment.
    pub languages: BTreeMap<&'static str, String>,
    /// When a slow first deployment is hedged with the rest; `None`: never.
    pub hedge: Option<HedgeAfter>,
    /// The tasks of the `semantic` strategy; set exactly when it is the strategy.
    pub tasks: Option<TasksConfig>,
}

/// A model's tasks, for the `semantic` strategy.
#[derive(Debug, Clone, PartialEq)]
pub struct TasksConfig {
    /// The deployment (serving embeddings) that embeds prompts and examples.
    pub embedder: String,
    /// Prompts less similar than this to every example have no task.
    pub min_similarity: f32,
    /// How long finding a prompt's task may take before the route goes by priority.
    pub timeout: std::time::Duration,
    /// In file order.
    pub tasks: Vec<switchyard_router::Task>,
}

/// The documented example `switchyard.toml`, every field explained.
#[must_use]
pub fn example_config() -> &'static str {
    include_str!("example.toml")
}

impl Config {
    /// Reads, parses and validates the file at `path`, resolving `env:` secrets from the
    /// process environment and relative `file:` secrets against the file's directory.
    ///
    /// # Errors
    ///
    /// Every problem found: an unreadable file, a syntax error, or else all unknown
    /// keys, invalid values, missing fields, unresolvable secrets and dangling names.
    pub fn load(path: &Path) -> Result<Config, ConfigErrors> {
        Config::load_with(path, secret::env_lookup)
    }

    /// [`Config::load`] with environment variables looked up by `lookup`.
    pub fn load_with(
        path: &Path,
        lookup: impl Fn(&str) -> Option<String>,
    ) -> Result<Config, ConfigErrors> {
        let origin = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|error| {
            ConfigErrors::whole_file(&origin, format!("cannot read the config file: {error}"))
        })?;
        let base_dir = path.parent();
        let mut config = Config::build(&text, &origin, &lookup, base_dir)?;
        config.source = Some(path.to_path_buf());
        Ok(config)
    }

    /// Parses and validates `text`; `origin` names it in messages (a file name).
    /// `env:` secrets come from the process environment and relative `file:` secrets
    /// from the working directory.
    ///
    /// # Errors
    ///
    /// Every problem found, as for [`Config::load`].
    pub fn from_toml_str(text: &str, origin: &str) -> Result<Config, ConfigErrors> {
        Config::from_toml_str_with(text, origin, secret::env_lookup)
    }

    /// [`Config::from_toml_str`] with environment variables looked up by `lookup`.
    pub fn from_toml_str_with(
        text: &str,
        origin: &str,
        lookup: impl Fn(&str) -> Option<String>,
    ) -> Result<Config, ConfigErrors> {
        Config::build(text, origin, &lookup, None)
    }

    fn build(
        text: &str,
        origin: &str,
        lookup: &dyn Fn(&str) -> Option<String>,
        base_dir: Option<&Path>,
    ) -> Result<Config, ConfigErrors> {
        let mut diagnostics = diagnostic::Diagnostics::new(origin, text);
        let Some(parsed) = raw::parse(text, &mut diagnostics) else {
            return diagnostics.finish(Config::default());
        };
        let validated = validate::validate(
            &parsed,
            &mut validate::Context {
                diagnostics: &mut diagnostics,
                removed: &parsed.removed,
                lookup,
                base_dir,
            },
        );
        diagnostics.finish(Config {
            source: None,
            server: validated.server,
            deployments: validated.deployments,
            models: validated.models,
            routing: validated.routing,
            governance: validated.governance,
        })
    }

    /// Deployments that no model lists or embeds prompts with: valid, but never called.
    /// Worth a warning at startup.
    #[must_use]
    pub fn unused_deployments(&self) -> Vec<&str> {
        let used = |name: &String, model: &ModelConfig| {
            model.deployments.contains(name)
                || model
                    .tasks
                    .as_ref()
                    .is_some_and(|tasks| &tasks.embedder == name)
        };
        self.deployments
            .iter()
            .filter(|deployment| {
                !self
                    .models
                    .iter()
                    .any(|model| used(&deployment.name, model))
            })
            .map(|deployment| deployment.name.as_str())
            .collect()
    }
}
