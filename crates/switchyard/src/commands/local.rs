//! The models the engine runs in this process, at `serve`: the built-in ones (with no
//! config file) or the config's `local` deployments, found or fetched by the engine's
//! resolver, loaded, and handed to the server as providers.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Instant;

use anyhow::Context as _;
use switchyard_engine::embed::{SentenceEncoder, StaticEncoder, TextEncoder};
use switchyard_engine::hub::HubOptions;
use switchyard_engine::llama::{TextModel, TextModelOptions};
use switchyard_engine::resolve::{ResolvedModel, Resolver};
use switchyard_engine::source::ModelSource;
use switchyard_engine::{
    BUILTIN, BuiltinModel, LocalEmbedProvider, LocalTextProvider, ModelKind, ModelStore,
    OnDemandProvider,
};
use switchyard_router::Route;
use switchyard_server::config::{Config, DeploymentKind, LocalDeployment, LocalKind};
use switchyard_types::{ErrorKind, Provider, ProviderError};

use super::pull::BarProgress;

/// A resolver over the model store at `home` and the hub settings of the environment.
pub fn resolver(home: &std::path::Path, offline: bool) -> Resolver {
    Resolver {
        store: ModelStore::under(home),
        hub: HubOptions::from_env(),
        offline,
        pull: Default::default(),
    }
}

/// The routes of every built-in model under its name and aliases, pulling what is
/// missing first (unless offline, which skips those with a warning).
pub async fn builtin_routes(resolver: &Resolver) -> anyhow::Result<Vec<Route>> {
    let mut routes = Vec::new();
    for builtin in BUILTIN {
        let source = ModelSource::Builtin {
            model: builtin,
            variant: None,
        };
        if resolver.store.manifest(builtin.name)?.is_none() {
            if resolver.offline {
                tracing::warn!(
                    model = builtin.name,
                    "Not installed and --offline: not served. Run `switchyard pull {}`.",
                    builtin.name
                );
                continue;
            }
            tracing::info!(model = builtin.name, "Not installed yet: pulling it now.");
        }
        let resolved = resolver
            .resolve(&source, Arc::new(BarProgress::new()))
            .await
            .with_context(|| format!("cannot install {}", builtin.name))?;
        let provider = load(
            builtin.name,
            &resolved,
            TextModelOptions::default(),
            Encoder::Full,
        )
        .await?;
        let description = Some(describe(&resolved));
        for public in std::iter::once(&builtin.name).chain(builtin.aliases) {
            routes.push(Route {
                description: description.clone(),
                ..Route::new(*public, vec![provider.clone()])
            });
        }
        routes.extend(variant_routes(resolver, builtin).await?);
    }
    Ok(routes)
}

/// `name:variant` routes (and `alias:variant`) for a built-in model's other files, such
/// as SmolLM2's original Q4_1: offered at once, loaded on their first request.
async fn variant_routes(
    resolver: &Resolver,
    builtin: &'static BuiltinModel,
) -> anyhow::Result<Vec<Route>> {
    let mut routes = Vec::new();
    for variant in builtin.variants() {
        let name = format!("{}:{variant}", builtin.name);
        let source = ModelSource::Builtin {
            model: builtin,
            variant: Some(variant.to_owned()),
        };
        let resolved = resolver
            .resolve(&source, Arc::new(BarProgress::new()))
            .await
            .with_context(|| format!("cannot find {name}"))?;
        let description = Some(format!("{} (loaded on first use)", describe(&resolved)));
        let loader_name = name.clone();
        let provider: Arc<dyn Provider> = Arc::new(OnDemandProvider::new(
            LocalTextProvider::info_for(&name, &name),
            Arc::new(move || {
                load_now(
                    &loader_name,
                    &resolved,
                    TextModelOptions::default(),
                    Encoder::Full,
                )
                .map_err(|error| ProviderError::new(ErrorKind::Internal, format!("{error:#}")))
            }),
        ));
        for public in std::iter::once(&builtin.name).chain(builtin.aliases) {
            routes.push(Route {
                description: description.clone(),
                ..Route::new(format!("{public}:{variant}"), vec![provider.clone()])
            });
        }
    }
    Ok(routes)
}

/// Loads every `local` deployment of `config`, keyed by deployment name.
pub async fn configured_providers(
    config: &Config,
    resolver: &Resolver,
) -> anyhow::Result<HashMap<String, Arc<dyn Provider>>> {
    let mut providers = HashMap::new();
    for deployment in &config.deployments {
        let DeploymentKind::Local(settings) = &deployment.kind else {
            continue;
        };
        let name = &deployment.name;
        let source: ModelSource = settings
            .source
            .parse()
            .with_context(|| format!("deployment `{name}`: model"))?;
        let mut resolved = resolver
            .resolve(&source, Arc::new(BarProgress::new()))
            .await
            .with_context(|| format!("deployment `{name}`"))?;
        if let Some(kind) = settings.kind {
            resolved.kind =
                kind_of(kind, &resolved).with_context(|| format!("deployment `{name}`: kind"))?;
        }
        let encoder = match settings.kind {
            Some(LocalKind::StaticEmbedding) => Encoder::Static,
            _ => Encoder::Full,
        };
        let provider = load(name, &resolved, text_options(settings), encoder).await?;
        providers.insert(name.clone(), provider);
    }
    Ok(providers)
}

fn kind_of(kind: LocalKind, resolved: &ResolvedModel) -> anyhow::Result<ModelKind> {
    let wanted = match kind {
        LocalKind::Chat => ModelKind::Chat,
        LocalKind::Completion => ModelKind::Completion,
        LocalKind::Embedding | LocalKind::StaticEmbedding => ModelKind::Embedding,
    };
    // GGUF files generate; encoder directories embed. Either may not become the other.
    if (wanted == ModelKind::Embedding) != (resolved.kind == ModelKind::Embedding) {
        anyhow::bail!(
            "{} is a {} model and cannot be served as `{}`",
            resolved.source,
            resolved.kind.as_str(),
            kind.name()
        );
    }
    Ok(wanted)
}

fn text_options(settings: &LocalDeployment) -> TextModelOptions {
    let mut options = TextModelOptions::default();
    let limits = &mut options.limits;
    if let Some(threads) = settings.threads {
        limits.threads = threads as i32;
    }
    if let Some(context_tokens) = settings.context_tokens {
        limits.context_tokens = context_tokens;
    }
    if let Some(max_sequences) = settings.max_sequences {
        limits.max_sequences = max_sequences;
    }
    if let Some(queue_limit) = settings.queue_limit {
        limits.queue_limit = queue_limit as usize;
    }
    options
}

/// What `/v1/models` says of a model: base models are marked as such.
fn describe(resolved: &ResolvedModel) -> String {
    match resolved.kind {
        ModelKind::Completion => format!("{} (base model: continues text)", resolved.description),
        _ => resolved.description.clone(),
    }
}

/// How a sentence encoder's deployment embeds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Encoder {
    /// With the encoder itself.
    Full,
    /// With static vectors distilled from it, kept beside its files.
    Static,
}

/// The file the static vectors of an encoder's directory are kept in.
const STATIC_VECTORS: &str = "static-vectors.safetensors";

/// Loads a model's files as the provider of `deployment`, on a blocking thread.
async fn load(
    deployment: &str,
    resolved: &ResolvedModel,
    options: TextModelOptions,
    encoder: Encoder,
) -> anyhow::Result<Arc<dyn Provider>> {
    let owned = (deployment.to_owned(), resolved.clone());
    tokio::task::spawn_blocking(move || {
        let (deployment, resolved) = owned;
        load_now(&deployment, &resolved, options, encoder)
    })
    .await?
}

/// The static vectors of the encoder at `dir`: read, or distilled (~20 s for MiniLM)
/// and saved beside its files, with progress in the log.
fn static_encoder(
    deployment: &str,
    encoder: &SentenceEncoder,
    dir: &std::path::Path,
) -> anyhow::Result<StaticEncoder> {
    let path = dir.join(STATIC_VECTORS);
    let last_tenth = std::sync::atomic::AtomicUsize::new(0);
    let progress = |done: usize, total: usize| {
        let tenth = done * 10 / total.max(1);
        if tenth > last_tenth.swap(tenth, std::sync::atomic::Ordering::Relaxed) {
            tracing::info!(
                model = deployment,
                done,
                total,
                "Distilling static vectors from the encoder (once; saved beside its files)."
            );
        }
    };
    Ok(StaticEncoder::load_or_distill(encoder, &path, &progress)?)
}

/// Loads a model's files as the provider of `deployment`, reporting time and size.
fn load_now(
    deployment: &str,
    resolved: &ResolvedModel,
    options: TextModelOptions,
    encoder: Encoder,
) -> anyhow::Result<Arc<dyn Provider>> {
    let started = Instant::now();
    let provider: Arc<dyn Provider> = (|| {
        anyhow::Ok(if resolved.kind == ModelKind::Embedding {
            let loaded = SentenceEncoder::load(&resolved.path)?;
            let encoder = match encoder {
                Encoder::Full => TextEncoder::Full(Arc::new(loaded)),
                Encoder::Static => TextEncoder::Static(Arc::new(static_encoder(
                    deployment,
                    &loaded,
                    &resolved.path,
                )?)),
            };
            Arc::new(LocalEmbedProvider::with_encoder(
                deployment, deployment, encoder,
            )) as Arc<dyn Provider>
        } else {
            let model = TextModel::load(deployment, resolved.kind, &resolved.path, options)?;
            Arc::new(LocalTextProvider::new(deployment, Arc::new(model)))
        })
    })()
    .with_context(|| format!("cannot load {} ({})", deployment, resolved.path.display()))?;
    tracing::info!(
        model = deployment,
        source = %resolved.source,
        kind = resolved.kind.as_str(),
        architecture = resolved.architecture.as_deref().unwrap_or("unknown"),
        bytes = resolved.bytes,
        load_ms = started.elapsed().as_millis() as u64,
        "Local model loaded."
    );
    Ok(provider)
}
