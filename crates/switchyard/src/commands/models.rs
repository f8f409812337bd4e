//! `switchyard models`: the configured models as a table.

use std::io::Write as _;
use std::process::ExitCode;

use anyhow::Context as _;
use serde_json::Value;
use switchyard_catalog::{Capability, CatalogModel, Filter, Jurisdiction};
use switchyard_server::config::{Config, DeploymentKind};

use super::table::print_table;
use crate::args::ModelsArgs;

pub async fn run(args: ModelsArgs) -> anyhow::Result<ExitCode> {
    if args.catalog {
        return catalog(&args);
    }
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
        say!("No models configured. Add [models.NAME] sections to switchyard.toml.");
        return Ok(ExitCode::SUCCESS);
    }
    print_table(
        &["MODEL", "DEPLOYMENT", "PROVIDER", "UPSTREAM MODEL"],
        &rows,
    )?;
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
        say!(
            "No local models in {} or the hub cache ({}). `switchyard pull --all` installs the built-in ones.",
            store.root().display(),
            hub.cache_dir.display()
        );
        return Ok(ExitCode::SUCCESS);
    }
    print_table(&["MODEL", "KIND", "ARCHITECTURE", "SIZE", "FORMAT"], &rows)?;
    Ok(ExitCode::SUCCESS)
}

/// `--catalog`: the built-in catalog's rows that pass the filters.
fn catalog(args: &ModelsArgs) -> anyhow::Result<ExitCode> {
    let catalog = switchyard_catalog::builtin();
    let filter = Filter::parse(
        catalog,
        args.provider.as_deref(),
        args.jurisdiction.as_deref(),
        args.capability.iter().map(String::as_str),
    )
    .map_err(|error| anyhow::anyhow!("--{}: {}", error.param, error.message))?;
    let rows: Vec<&CatalogModel> = catalog.filter(&filter).collect();
    if args.json {
        let list = serde_json::json!({"object": "list", "checked": catalog.checked, "data": rows});
        say!("{}", serde_json::to_string_pretty(&list)?);
        return Ok(ExitCode::SUCCESS);
    }
    if rows.is_empty() {
        say!("No catalog models match.");
        return Ok(ExitCode::SUCCESS);
    }
    let table: Vec<[String; 8]> = rows
        .iter()
        .map(|model| catalog_row(model, filter.jurisdiction.as_ref()))
        .collect();
    print_table(
        &[
            "PROVIDER",
            "MODEL",
            "CONTEXT",
            "MAX OUT",
            "$ IN/M",
            "$ OUT/M",
            "CAPABILITIES",
            "WHERE",
        ],
        &table,
    )?;
    say!(
        "\n{} of {} models; prices in US dollars per million tokens, checked {}.",
        rows.len(),
        catalog.models.len(),
        catalog.checked
    );
    Ok(ExitCode::SUCCESS)
}

fn catalog_row(model: &CatalogModel, place: Option<&Jurisdiction>) -> [String; 8] {
    let capabilities: Vec<&str> = Capability::ALL
        .into_iter()
        .filter(|capability| *capability != Capability::Chat && capability.of(model))
        .map(Capability::as_str)
        .collect();
    // The vendor's home, and the regions that put the model inside the filter's place.
    let regions = match place {
        Some(place) => switchyard_catalog::regions_within(model, place),
        None => model.regions.iter().map(String::as_str).collect(),
    };
    let mut location = model.jurisdiction.to_string();
    if !regions.is_empty() {
        location.push_str(&format!(" ({})", regions.join(", ")));
    }
    [
        model.provider.clone(),
        model.id.clone(),
        tokens(model.context),
        model.max_output.map_or("-".to_owned(), tokens),
        dollars(Some(model.price.input)),
        dollars(model.price.output),
        if capabilities.is_empty() {
            "-".to_owned()
        } else {
            capabilities.join(",")
        },
        location,
    ]
}

/// 128000 → "128k", 1048576 → "1M".
fn tokens(count: u64) -> String {
    match count {
        n if n >= 1_000_000 => format!("{:.1}M", n as f64 / 1e6).replace(".0M", "M"),
        n if n >= 1_000 => format!("{}k", n / 1_000),
        n => n.to_string(),
    }
}

fn dollars(price: Option<f64>) -> String {
    price.map_or("-".to_owned(), |price| format!("{price:.2}"))
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
                DeploymentKind::Bedrock(settings) => {
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
