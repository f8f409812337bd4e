//! [`AppState`]: what every handler shares — the catalog, settings, metrics and store.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use secrecy::SecretString;
use switchyard_router::{Catalog, Deployment, Health, Hedge, Policy, RetrySettings, Route, Tasks};
use switchyard_store::{ResponseStore, SqliteStore};
use switchyard_types::{DeploymentId, Provider};

use crate::config::{Config, DeploymentKind, RoutingConfig, StoreLocation, TasksConfig};
use crate::metrics::Metrics;

/// Server settings handlers read on every request.
#[derive(Debug, Clone)]
pub struct Settings {
    pub max_body_bytes: usize,
    /// Accepted bearer tokens; empty means no authentication.
    pub master_keys: Vec<SecretString>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            max_body_bytes: crate::DEFAULT_MAX_BODY_BYTES,
            master_keys: Vec::new(),
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
    /// Latency, load and circuit breakers of every deployment called.
    health: Health,
    routing: Routing,
    /// Deployments checked on a timer, and how often.
    checked: Vec<(Deployment, std::time::Duration)>,
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

impl AppState {
    /// State with the store in memory; see [`AppState::with_store`].
    pub fn new(catalog: Catalog, settings: Settings) -> Self {
        Self::with_store(catalog, settings, Arc::new(SqliteStore::in_memory()))
    }

    pub fn with_store(
        catalog: Catalog,
        settings: Settings,
        responses: Arc<dyn ResponseStore>,
    ) -> Self {
        Self::with_routing(catalog, settings, responses, &RoutingConfig::default())
    }

    pub fn with_routing(
        catalog: Catalog,
        settings: Settings,
        responses: Arc<dyn ResponseStore>,
        routing: &RoutingConfig,
    ) -> Self {
        Self::build(catalog, settings, responses, routing, Vec::new())
    }

    fn build(
        catalog: Catalog,
        settings: Settings,
        responses: Arc<dyn ResponseStore>,
        routing: &RoutingConfig,
        checked: Vec<(Deployment, std::time::Duration)>,
    ) -> Self {
        let started_at = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |since| since.as_secs());
        AppState {
            inner: Arc::new(Inner {
                catalog,
                settings,
                metrics: Arc::new(Metrics::new()),
                ready: AtomicBool::new(true),
                started_at,
                responses,
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
        };
        let store = match &config.server.store {
            Some(StoreLocation::File(path)) => SqliteStore::file(path),
            Some(StoreLocation::Memory) | None => SqliteStore::in_memory(),
        };
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
            settings,
            Arc::new(store),
            &config.routing,
            checked,
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
