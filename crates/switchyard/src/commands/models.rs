//! `switchyard models`: the configured models as a table.

use std::process::ExitCode;

use anyhow::Context as _;
use serde_json::Value;
use switchyard_server::config::{Config, DeploymentKind};

use crate::args::ModelsArgs;

pub async fn run(args: ModelsArgs) -> anyhow::Result<ExitCode> {
    if args.url.is_none() && args.config.is_none() {
        return installed(&args);
    }
    let rows = match &args.url {
        Some(url) => remote_rows(url, args.api_key.as_deref()).await?,
        None => {
            let config = match &args.config {
                Some(path) => super::config::load_or_report(path)?,
                None => Config::default(),
            };
            config_rows(&config)
        }
    };
    if rows.is_empty() {
        println!("No models configured. Add [models.NAME] sections to switchyard.toml.");
        return Ok(ExitCode::SUCCESS);
    }
    print_table(
        &["MODEL", "DEPLOYMENT", "PROVIDER", "UPSTREAM MODEL"],
        &rows,
    );
    Ok(ExitCode::SUCCESS)
}

/// Without a config or a server: the local models installed in the model store.
fn installed(args: &ModelsArgs) -> anyhow::Result<ExitCode> {
    let home = args
        .home
        .clone()
        .unwrap_or_else(switchyard_engine::default_home);
    let store = switchyard_engine::ModelStore::under(&home);
    let manifests = store
        .installed()
        .with_context(|| format!("cannot read {}", store.root().display()))?;
    let mut rows: Vec<[String; 5]> = manifests
        .iter()
        .map(|manifest| {
            let variants: Vec<&str> = manifest.variants.iter().map(|v| v.tag.as_str()).collect();
            [
                manifest.name.clone(),
                manifest.kind.as_str().to_owned(),
                manifest
                    .architecture
                    .clone()
                    .unwrap_or_else(|| "-".to_owned()),
                megabytes(manifest.total_bytes()),
                if variants.is_empty() {
                    manifest.format.clone()
                } else {
                    format!("{} (also {})", manifest.format, variants.join(", "))
                },
            ]
        })
        .collect();
    // Models fetched from the Hugging Face hub live in its cache, shared with its tools.
    let hub = switchyard_engine::hub::HubOptions::from_env();
    for cached in switchyard_engine::hub::cached_models(&hub) {
        let Ok(source) = cached.reference.parse() else {
            continue;
        };
        if let Ok(model) = switchyard_engine::resolve::inspect(&cached.path, &source) {
            rows.push([
                cached.reference,
                model.kind.as_str().to_owned(),
                model.architecture.unwrap_or_else(|| "-".to_owned()),
                megabytes(model.bytes),
                if model.kind == switchyard_engine::ModelKind::Embedding {
                    "safetensors".to_owned()
                } else {
                    "gguf".to_owned()
                },
            ]);
        }
    }
    if rows.is_empty() {
        println!(
            "No local models in {} or the hub cache ({}). `switchyard pull --all` installs the built-in ones.",
            store.root().display(),
            hub.cache_dir.display()
        );
        return Ok(ExitCode::SUCCESS);
    }
    print_table(&["MODEL", "KIND", "ARCHITECTURE", "SIZE", "FORMAT"], &rows);
    Ok(ExitCode::SUCCESS)
}

fn megabytes(bytes: u64) -> String {
    format!("{:.0} MB", bytes as f64 / 1e6)
}

fn config_rows(config: &Config) -> Vec<[String; 4]> {
    let mut rows = Vec::new();
    for model in &config.models {
        for deployment_name in &model.deployments {
            let Some(deployment) = config
                .deployments
                .iter()
                .find(|deployment| &deployment.name == deployment_name)
            else {
                continue;
            };
            let (provider, upstream) = match &deployment.kind {
                DeploymentKind::OpenAiCompat(settings) => {
                    (settings.provider.clone(), settings.upstream_model.clone())
                }
                DeploymentKind::Anthropic(settings) => {
                    (settings.provider.clone(), settings.upstream_model.clone())
                }
                DeploymentKind::Gemini(settings) => {
                    (settings.provider.clone(), settings.upstream_model.clone())
                }
                DeploymentKind::Local(settings) => {
                    (settings.provider.clone(), settings.source.clone())
                }
            };
            rows.push([
                model.name.clone(),
                deployment.name.clone(),
                provider,
                upstream,
            ]);
        }
    }
    rows
}

async fn remote_rows(url: &str, api_key: Option<&str>) -> anyhow::Result<Vec<[String; 4]>> {
    let mut request =
        reqwest::Client::new().get(format!("{}/v1/models", url.trim_end_matches('/')));
    if let Some(key) = api_key {
        request = request.bearer_auth(key);
    }
    let response = request
        .send()
        .await
        .with_context(|| format!("cannot reach {url}"))?
        .error_for_status()
        .context("the server refused to list models")?;
    let list: Value = response
        .json()
        .await
        .context("the model list is not JSON")?;
    Ok(list["data"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|model| {
            let text = |key: &str| model[key].as_str().unwrap_or("-").to_owned();
            [text("id"), "-".to_owned(), text("owned_by"), "-".to_owned()]
        })
        .collect())
}

fn print_table<const N: usize>(header: &[&str; N], rows: &[[String; N]]) {
    let mut widths = header.map(str::len);
    for row in rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    let line = |cells: Vec<&str>| {
        let padded: Vec<String> = cells
            .iter()
            .zip(widths)
            .map(|(cell, width)| format!("{cell:<width$}"))
            .collect();
        println!("{}", padded.join("  ").trim_end());
    };
    line(header.to_vec());
    for row in rows {
        line(row.iter().map(String::as_str).collect());
    }
}
