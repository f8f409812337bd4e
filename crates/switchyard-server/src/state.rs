//! [`AppState`]: what every handler shares — the catalog, settings, metrics and store.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use secrecy::SecretString;
use switchyard_governance::{
    AuditLog, Governance, KeyStore, Ledger, Limiter, MemoryLimiter, WriterOptions,
};
use switchyard_router::{Catalog, Deployment, Health, Hedge, Policy, RetrySettings, Route, Tasks};
use switchyard_store::{PgStore, RedisLimiter, ResponseStore, SqliteStore};
use switchyard_types::{DeploymentId, Provider};

use crate::config::{
    Config, DeploymentKind, DistributedBackend, GovernanceBackend, GovernanceConfig, RoutingConfig,
    StoreLocation, TasksConfig,
};
use crate::metrics::Metrics;
use crate::pricing::PriceBook;

/// Server settings handlers read on every request.
#[derive(Debug, Clone)]
pub struct Settings {
    pub max_body_bytes: usize,
    /// Accepted bearer tokens; empty means no authentication.
    pub master_keys: Vec<SecretString>,
    /// How long a stored response is kept.
    pub response_retention: std::time::Duration,
    /// `Host` names an open server answers besides loopback ones and its listen
    /// address (see [`crate::guard`]).
    pub allowed_hosts: Vec<String>,
    /// The address the server listens on, when known: a `Host` naming it is this server.
    pub listen: Option<std::net::IpAddr>,
    /// Premium vendor fields callers may pass through (see [`crate::ingress::prepare`]).
    pub passthrough_fields: Vec<String>,
    /// Requests worked on at once, streams until their end (see [`crate::concurrency`]).
    pub max_concurrent_requests: Option<usize>,
    /// `/metrics` answers without a master key on a server that has them.
    pub public_metrics: bool,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            max_body_bytes: crate::DEFAULT_MAX_BODY_BYTES,
            master_keys: Vec::new(),
            response_retention: crate::config::DEFAULT_RESPONSE_RETENTION,
            allowed_hosts: Vec::new(),
            listen: None,
            passthrough_fields: Vec::new(),
            max_concurrent_requests: None,
            public_metrics: false,
        }
    }
}

#[derive(Debug, Clone)]
pub struct AppState {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    catalog: Catalog,
    settings: Settings,
    metrics: Arc<Metrics>,
    /// Set once the config is loaded and every local model is ready to answer.
    ready: AtomicBool,
    /// Unix seconds at start, reported as each model's `created`.
    started_at: u64,
    /// Responses kept by the Responses API.
    responses: Arc<dyn ResponseStore>,
    /// Keys, limits, budgets, the ledger and the audit log.
    governance: Arc<Governance>,
    governance_config: GovernanceConfig,
    /// Where the ledger's spill file is, when it has one.
    spill: Option<std::path::PathBuf>,
    prices: PriceBook,
    /// Latency, load and circuit breakers of every deployment called.
    health: Health,
    routing: Routing,
    /// Deployments checked on a timer, and how often.
    checked: Vec<(Deployment, std::time::Duration)>,
    /// How long a request's lease and budget reservation live (see [`lease_ttl`]).
    lease_ttl: std::time::Duration,
    /// Places for requests at once, when the server has a bound.
    request_slots: Option<Arc<tokio::sync::Semaphore>>,
    /// SHA-256 of each master key, what a presented key is compared with.
    master_key_digests: Vec<String>,
}

/// How long a lease or reservation must live: past the longest a request can run, so
/// that it expires only when the replica holding it died before settling. A stream
/// may run for its deployment's whole `total` deadline, well past the routing deadline
/// (which bounds only its opening); a deployment with no deadline of its own (a local
/// model) is bounded by an hour.
fn lease_ttl(
    catalog: &Catalog,
    routing_deadline: Option<std::time::Duration>,
) -> std::time::Duration {
    const UNBOUNDED: std::time::Duration = std::time::Duration::from_secs(3600);
    const MARGIN: std::time::Duration = std::time::Duration::from_secs(60);
    let longest_call = catalog
        .routes()
        .flat_map(|route| &route.deployments)
        .map(|deployment| deployment.provider.longest_call().unwrap_or(UNBOUNDED))
        .max()
        .unwrap_or(UNBOUNDED);
    // Retries and fallback open calls until the routing deadline; the last one opened
    // may then run its whole course.
    longest_call + routing_deadline.unwrap_or(std::time::Duration::ZERO) + MARGIN
}

/// How requests are routed, beyond each route's own settings.
#[derive(Debug, Clone, Default)]
pub struct Routing {
    /// The operator's policy, under every request's.
    pub policy: Policy,
    pub retry: RetrySettings,
}

/// A deployment in the config could not be turned into a provider.
#[derive(Debug, thiserror::Error)]
#[error("deployment `{deployment}`: {source}")]
pub struct BuildError {
    pub deployment: String,
    #[source]
    pub source: Box<switchyard_types::ProviderError>,
}

/// A model's tasks, embedded by its `embedder` deployment, which must serve embeddings.
fn route_tasks(
    tasks: &TasksConfig,
    deployments: &HashMap<&str, Deployment>,
) -> Result<Tasks, BuildError> {
    let failed = |message: &str| BuildError {
        deployment: tasks.embedder.clone(),
        source: Box::new(switchyard_types::ProviderError::new(
            switchyard_types::ErrorKind::InvalidRequest,
            message,
        )),
    };
    let embedder = deployments
        .get(tasks.embedder.as_str())
        .ok_or_else(|| failed("the embedder is not a deployment"))?;
    if !embedder.info().capabilities.embeddings {
        return Err(failed(
            "it cannot embed the tasks' examples: the `embedder` of the semantic strategy \
             must be an embedding deployment (a local `minilm`, say)",
        ));
    }
    Ok(Tasks::new(
        embedder.provider.clone(),
        tasks.tasks.clone(),
        tasks.min_similarity,
    )
    .with_classify_timeout(tasks.timeout))
}

/// Where a deployment's price came from, for the ledger.
fn price_version(deployment: &Deployment, config: Option<&Config>) -> Arc<str> {
    let configured = config.and_then(|config| {
        config
            .deployments
            .iter()
            .find(|candidate| candidate.name == deployment.info().id.as_str())
    });
    Arc::from(match configured {
        Some(configured) if configured.profile.price.is_some() => "config".to_owned(),
        Some(configured) if matches!(configured.kind, DeploymentKind::Local(_)) => {
            "local".to_owned()
        }
        Some(_) => format!("catalog:{}", switchyard_catalog::builtin().checked),
        // A built-in local model.
        None => "local".to_owned(),
    })
}

/// The ledger journal beside the spill file (one per server: each replica needs a
/// store path of its own).
fn journal_path(spill: &std::path::Path) -> std::path::PathBuf {
    spill
        .with_extension("")
        .with_extension("ledger-journal.jsonl")
}

/// Where responses, keys, the ledger, the audit log and the limiter's counters live.
struct Stores {
    responses: Arc<dyn ResponseStore>,
    keys: Arc<dyn KeyStore>,
    ledger: Arc<dyn Ledger>,
    audit: Arc<dyn AuditLog>,
    limiter: Arc<dyn Limiter>,
}

impl Stores {
    /// One SQLite store for everything, and counters in this process.
    fn embedded(store: SqliteStore) -> Stores {
        let store = Arc::new(store);
        Stores {
            limiter: Arc::new(MemoryLimiter::new().with_spend_source(store.clone())),
            responses: store.clone(),
            keys: store.clone(),
            ledger: store.clone(),
            audit: store,
        }
    }

    /// PostgreSQL for everything stored, Redis for the counters: shared by replicas.
    fn distributed(backend: &DistributedBackend) -> Stores {
        let store = Arc::new(PgStore::new(
            &backend.postgres,
            backend.postgres_max_connections,
        ));
        Stores {
            limiter: Arc::new(
                RedisLimiter::new(&backend.redis, &backend.redis_prefix)
                    .with_spend_source(store.clone()),
            ),
            responses: store.clone(),
            keys: store.clone(),
            ledger: store.clone(),
            audit: store,
        }
    }
}

/// What [`AppState::build`] is made from besides the catalog.
struct Parts<'a> {
    settings: Settings,
    stores: Stores,
    spill: Option<std::path::PathBuf>,
    routing: &'a RoutingConfig,
    governance: GovernanceConfig,
    checked: Vec<(Deployment, std::time::Duration)>,
    config: Option<&'a Config>,
}

impl AppState {
    /// State with the store in memory and default routing and governance.
    pub fn new(catalog: Catalog, settings: Settings) -> Self {
        Self::build(
            catalog,
            Parts {
                settings,
                stores: Stores::embedded(SqliteStore::in_memory()),
                spill: None,
                routing: &RoutingConfig::default(),
                governance: GovernanceConfig::default(),
                checked: Vec::new(),
                config: None,
            },
        )
    }

    fn build(catalog: Catalog, parts: Parts<'_>) -> Self {
        let started_at = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |since| since.as_secs());
        let Parts {
            settings,
            stores,
            spill,
            routing,
            governance: governance_config,
            checked,
            config,
        } = parts;
        let governance = Governance::new(
            stores.keys,
            stores.limiter,
            stores.ledger,
            stores.audit,
            WriterOptions {
                spill: spill.clone(),
                journal: spill.as_deref().map(journal_path),
                ..WriterOptions::default()
            },
        );
        let prices = PriceBook::new(
            catalog.routes().flat_map(|route| &route.deployments),
            |deployment| price_version(deployment, config),
        );
        let lease_ttl = lease_ttl(&catalog, routing.retry.deadline);
        let request_slots = crate::concurrency::slots(settings.max_concurrent_requests);
        let master_key_digests = settings
            .master_keys
            .iter()
            .map(|key| {
                switchyard_governance::secret::hash(secrecy::ExposeSecret::expose_secret(key))
            })
            .collect();
        AppState {
            inner: Arc::new(Inner {
                lease_ttl,
                request_slots,
                master_key_digests,
                catalog,
                settings,
                metrics: Arc::new(Metrics::new()),
                ready: AtomicBool::new(true),
                started_at,
                responses: stores.responses,
                governance: Arc::new(governance),
                governance_config,
                spill,
                prices,
                health: Health::new(routing.breaker),
                routing: Routing {
                    policy: routing.policy.clone(),
                    retry: routing.retry,
                },
                checked,
            }),
        }
    }

    /// Builds one provider per deployment and one route per public model name. A config
    /// with local deployments needs [`AppState::from_config_with_local`].
    pub fn from_config(config: &Config) -> Result<Self, BuildError> {
        Self::from_config_with_local(config, &HashMap::new(), Vec::new())
    }

    /// As [`AppState::from_config`], with the providers of the config's local
    /// deployments (by deployment name; the binary loads them), plus routes built
    /// elsewhere (the built-in local models), listed after the configured ones.
    pub fn from_config_with_local(
        config: &Config,
        local: &HashMap<String, Arc<dyn Provider>>,
        extra_routes: Vec<Route>,
    ) -> Result<Self, BuildError> {
        let mut deployments = HashMap::<&str, Deployment>::new();
        for deployment in &config.deployments {
            let failed = |source| BuildError {
                deployment: deployment.name.clone(),
                source: Box::new(source),
            };
            let provider: Arc<dyn Provider> = match &deployment.kind {
                DeploymentKind::OpenAiCompat(settings) => Arc::new(
                    switchyard_providers::openai::OpenAiCompatProvider::new(
                        DeploymentId::new(deployment.name.as_str()),
                        settings.clone(),
                    )
                    .map_err(failed)?,
                ),
                DeploymentKind::Anthropic(settings) => Arc::new(
                    switchyard_providers::anthropic::AnthropicProvider::new(
                        DeploymentId::new(deployment.name.as_str()),
                        settings.clone(),
                    )
                    .map_err(failed)?,
                ),
                DeploymentKind::Gemini(settings) => Arc::new(
                    switchyard_providers::gemini::GeminiProvider::new(
                        DeploymentId::new(deployment.name.as_str()),
                        settings.clone(),
                    )
                    .map_err(failed)?,
                ),
                DeploymentKind::Bedrock(settings) => Arc::new(
                    switchyard_providers::bedrock::BedrockProvider::new(
                        DeploymentId::new(deployment.name.as_str()),
                        settings.clone(),
                    )
                    .map_err(failed)?,
                ),
                DeploymentKind::Local(_) => {
                    local.get(&deployment.name).cloned().ok_or_else(|| {
                        failed(switchyard_types::ProviderError::new(
                            switchyard_types::ErrorKind::Internal,
                            "the local model was not loaded",
                        ))
                    })?
                }
            };
            let profile = Arc::new(crate::profile::of(
                deployment,
                provider.as_ref(),
                &config.routing,
            ));
            deployments.insert(
                deployment.name.as_str(),
                Deployment {
                    provider,
                    profile,
                    weight: 1,
                    quality: None,
                },
            );
        }
        // Validation guarantees every referenced deployment exists.
        let mut routes = Vec::new();
        for model in &config.models {
            let tasks = match &model.tasks {
                Some(tasks) => Some(Arc::new(route_tasks(tasks, &deployments)?)),
                None => None,
            };
            routes.push(Route {
                name: model.name.clone(),
                description: model.description.clone(),
                strategy: model.strategy,
                languages: model.languages.clone(),
                tasks,
                hedge: model.hedge.map(|after| Arc::new(Hedge::new(after))),
                deployments: model
                    .deployments
                    .iter()
                    .filter_map(|name| {
                        let mut deployment = deployments.get(name.as_str())?.clone();
                        deployment.weight = model.weights.get(name).copied().unwrap_or(1);
                        deployment.quality = model.quality.get(name).copied();
                        Some(deployment)
                    })
                    .collect(),
            });
        }
        // The built-in local models run here, like configured local deployments.
        let extra_routes = extra_routes.into_iter().map(|mut route| {
            for deployment in &mut route.deployments {
                deployment.profile = Arc::new(crate::profile::self_hosted(
                    deployment.provider.as_ref(),
                    &config.routing,
                ));
            }
            route
        });
        let settings = Settings {
            max_body_bytes: config.server.max_body_bytes,
            master_keys: config.server.master_keys.clone(),
            response_retention: config.server.response_retention,
            allowed_hosts: config.server.allowed_hosts.clone(),
            listen: config.server.listen.map(|address| address.ip()),
            passthrough_fields: config.server.passthrough_fields.clone(),
            max_concurrent_requests: Some(config.server.max_concurrent_requests),
            public_metrics: config.server.public_metrics,
        };
        let file = match &config.server.store {
            Some(StoreLocation::File(path)) => Some(path),
            Some(StoreLocation::Memory) | None => None,
        };
        let stores = match &config.governance.backend {
            GovernanceBackend::Embedded => Stores::embedded(
                file.map_or_else(SqliteStore::in_memory, |path| SqliteStore::file(path)),
            ),
            GovernanceBackend::Distributed(backend) => Stores::distributed(backend),
        };
        // The spill file stays beside the embedded store's file whichever backend is
        // used: it is where ledger records wait when the store cannot take them.
        let spill = file.map(|path| path.with_extension("ledger-spill.jsonl"));
        let checked = config
            .deployments
            .iter()
            .filter_map(|deployment| {
                let interval = deployment.health_check?;
                Some((deployments.get(deployment.name.as_str())?.clone(), interval))
            })
            .collect();
        Ok(AppState::build(
            Catalog::new(routes.into_iter().chain(extra_routes)),
            Parts {
                settings,
                stores,
                spill,
                routing: &config.routing,
                governance: config.governance.clone(),
                checked,
                config: Some(config),
            },
        ))
    }

    pub fn catalog(&self) -> &Catalog {
        &self.inner.catalog
    }

    pub fn settings(&self) -> &Settings {
        &self.inner.settings
    }

    pub fn metrics(&self) -> &Arc<Metrics> {
        &self.inner.metrics
    }

    pub fn responses(&self) -> &Arc<dyn ResponseStore> {
        &self.inner.responses
    }

    pub fn governance(&self) -> &Arc<Governance> {
        &self.inner.governance
    }

    pub fn governance_config(&self) -> &GovernanceConfig {
        &self.inner.governance_config
    }

    pub fn prices(&self) -> &PriceBook {
        &self.inner.prices
    }

    /// Writes the ledger records a previous run spilled to disk or left in its journal
    /// (see [`switchyard_governance::LedgerWriter`]); call once the store is open and
    /// before the first request.
    pub async fn replay_ledger_spill(&self) -> Result<u64, switchyard_governance::GovernanceError> {
        let Some(spill) = &self.inner.spill else {
            return Ok(0);
        };
        let ledger = self.governance().ledger();
        Ok(switchyard_governance::replay_spill(ledger, spill).await?
            + switchyard_governance::replay_journal(ledger, &journal_path(spill)).await?)
    }

    /// Every deployment some route uses, once each, in route order.
    pub fn deployments(&self) -> Vec<&Deployment> {
        let mut seen = std::collections::HashSet::new();
        self.catalog()
            .routes()
            .flat_map(|route| &route.deployments)
            .filter(|deployment| seen.insert(deployment.info().id.clone()))
            .collect()
    }

    /// Embeds the example prompts of every route's tasks, so the first prompts do not
    /// wait for it. A route whose embedder fails is logged and tried again on its first
    /// prompt, which goes by priority meanwhile.
    pub async fn prepare_tasks(&self) {
        for route in self.catalog().routes() {
            let Some(tasks) = &route.tasks else { continue };
            let started = std::time::Instant::now();
            match tasks
                .prepare(&switchyard_types::CallContext::default())
                .await
            {
                Ok(examples) => tracing::info!(
                    model = %route.name,
                    embedder = %tasks.embedder().info().id,
                    examples,
                    elapsed_ms = started.elapsed().as_millis() as u64,
                    "Embedded the task examples."
                ),
                Err(error) => tracing::warn!(
                    model = %route.name,
                    %error,
                    "Cannot embed the task examples; trying again on the first prompt."
                ),
            }
        }
    }

    /// Starts the active health checks of the deployments that have one (see
    /// [`crate::checks`]); they run until the process ends.
    pub fn spawn_health_checks(&self) {
        crate::checks::spawn(self, &self.inner.checked);
    }

    /// Starts the task that deletes expired stored responses: at start, then hourly.
    /// (Reads never return an expired response, so the purge only frees space.)
    pub fn spawn_response_purge(&self) {
        const EVERY: std::time::Duration = std::time::Duration::from_secs(3600);
        let store = self.inner.responses.clone();
        tokio::spawn(async move {
            let mut ticks = tokio::time::interval(EVERY);
            loop {
                ticks.tick().await;
                let now = crate::ingress::responses::unix_now() as i64;
                match store.purge_expired_responses(now).await {
                    Ok(0) => {}
                    Ok(purged) => tracing::info!(purged, "Deleted expired stored responses."),
                    Err(error) => {
                        tracing::warn!(%error, "Cannot delete expired stored responses; trying again in an hour.")
                    }
                }
            }
        });
    }

    pub fn master_key_digests(&self) -> &[String] {
        &self.inner.master_key_digests
    }

    pub fn request_slots(&self) -> Option<&Arc<tokio::sync::Semaphore>> {
        self.inner.request_slots.as_ref()
    }

    pub fn lease_ttl(&self) -> std::time::Duration {
        self.inner.lease_ttl
    }

    pub fn health(&self) -> &Health {
        &self.inner.health
    }

    pub fn routing(&self) -> &Routing {
        &self.inner.routing
    }

    pub fn started_at(&self) -> u64 {
        self.inner.started_at
    }

    pub fn is_ready(&self) -> bool {
        self.inner.ready.load(Ordering::Acquire)
    }

    pub fn set_ready(&self, ready: bool) {
        self.inner.ready.store(ready, Ordering::Release);
    }
}
