//! The built-in local models at `serve`: pulled when missing (unless offline), loaded,
//! and offered under their names and aliases.

use std::sync::Arc;
use std::time::Instant;

use anyhow::Context as _;
use switchyard_engine::embed::SentenceEncoder;
use switchyard_engine::llama::{TextModel, TextModelOptions};
use switchyard_engine::{BUILTIN, LocalEmbedProvider, LocalTextProvider, ModelKind, ModelStore};
use switchyard_router::Route;
use switchyard_types::Provider;

use super::pull::BarProgress;

/// The routes of every built-in model, pulling what is missing first.
pub async fn builtin_routes(store: ModelStore, offline: bool) -> anyhow::Result<Vec<Route>> {
    let mut routes = Vec::new();
    for builtin in BUILTIN {
        let manifest = match store.manifest(builtin.name)? {
            Some(manifest) => manifest,
            None if offline => {
                tracing::warn!(
                    model = builtin.name,
                    "Not installed and --offline: not served. Run `switchyard pull {}`.",
                    builtin.name
                );
                continue;
            }
            None => {
                tracing::info!(model = builtin.name, "Not installed yet: pulling it now.");
                let store = store.clone();
                tokio::task::spawn_blocking(move || {
                    switchyard_engine::pull::ensure(
                        &store,
                        builtin,
                        &Default::default(),
                        &BarProgress::new(),
                    )
                })
                .await?
                .with_context(|| format!("cannot pull {}", builtin.name))?
            }
        };
        let started = Instant::now();
        let name = builtin.name;
        let kind = builtin.kind;
        let dir = store.model_dir(name);
        let entry = dir.join(&manifest.entry);
        let provider: Arc<dyn Provider> = if kind == ModelKind::Embedding {
            let encoder = tokio::task::spawn_blocking(move || SentenceEncoder::load(&dir))
                .await?
                .with_context(|| format!("cannot load {name}"))?;
            Arc::new(LocalEmbedProvider::new(name, name, Arc::new(encoder)))
        } else {
            let model = tokio::task::spawn_blocking(move || {
                TextModel::load(name, kind, &entry, TextModelOptions::default())
            })
            .await?
            .with_context(|| format!("cannot load {name}"))?;
            Arc::new(LocalTextProvider::new(name, Arc::new(model)))
        };
        tracing::info!(
            model = name,
            architecture = manifest.architecture.as_deref().unwrap_or("unknown"),
            bytes = manifest.total_bytes(),
            load_ms = started.elapsed().as_millis() as u64,
            "Local model loaded."
        );
        let description = Some(match kind {
            ModelKind::Completion => {
                format!("{} (base model: continues text)", builtin.description)
            }
            _ => builtin.description.to_owned(),
        });
        for public in std::iter::once(&name).chain(builtin.aliases) {
            routes.push(Route {
                name: (*public).to_owned(),
                description: description.clone(),
                deployments: vec![provider.clone()],
            });
        }
    }
    Ok(routes)
}
