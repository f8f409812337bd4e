//! `switchyard pull`: install built-in models into the model store, or fetch hub
//! models into the Hugging Face cache.

use std::process::ExitCode;
use std::sync::{Arc, Mutex};

use anyhow::Context as _;
use indicatif::{ProgressBar, ProgressStyle};
use switchyard_engine::pull::{PullOptions, PullProgress};
use switchyard_engine::source::ModelSource;
use switchyard_engine::{BUILTIN, ModelStore};

use crate::args::PullArgs;

pub async fn run(args: PullArgs) -> anyhow::Result<ExitCode> {
    let names: Vec<String> = if args.all {
        BUILTIN.iter().map(|model| model.name.to_owned()).collect()
    } else {
        args.models.clone()
    };
    if names.is_empty() {
        anyhow::bail!(
            "name a model to pull (built in, or hf:OWNER/REPO/FILE.gguf), or --all; built in: {}",
            BUILTIN
                .iter()
                .map(|model| model.name)
                .collect::<Vec<_>>()
                .join(", ")
        );
    }
    let home = args
        .home
        .clone()
        .unwrap_or_else(switchyard_engine::default_home);
    let store = ModelStore::under(&home);
    let resolver = super::local::resolver(&home, false);
    for name in names {
        let source: ModelSource = name.parse()?;
        let model = match source {
            ModelSource::Builtin { model, .. } => model,
            ModelSource::Hub(_) => {
                let resolved = resolver
                    .resolve(&source, Arc::new(BarProgress::new()))
                    .await
                    .with_context(|| format!("cannot pull {name}"))?;
                println!(
                    "{source}: in the hub cache, {:.1} MB, {} ({}): {}",
                    resolved.bytes as f64 / 1e6,
                    resolved.kind.as_str(),
                    resolved
                        .architecture
                        .as_deref()
                        .unwrap_or("unknown architecture"),
                    resolved.path.display()
                );
                continue;
            }
            ModelSource::Path(path) => anyhow::bail!(
                "{} is a path: it is served where it is, with nothing to pull",
                path.display()
            ),
        };
        if !args.force && store.manifest(model.name)?.is_some() {
            println!(
                "{} is already installed (--force pulls it again).",
                model.name
            );
            continue;
        }
        let store = store.clone();
        let manifest = tokio::task::spawn_blocking(move || {
            switchyard_engine::pull::pull(
                &store,
                model,
                &PullOptions::default(),
                &BarProgress::new(),
            )
        })
        .await?
        .with_context(|| format!("cannot pull {name}"))?;
        println!(
            "{}: installed, {:.1} MB ({}).",
            manifest.name,
            manifest.total_bytes() as f64 / 1e6,
            manifest.source
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// A progress bar per step, drawn on stderr (hidden when it is not a terminal).
pub struct BarProgress {
    bar: Mutex<Option<ProgressBar>>,
}

impl BarProgress {
    pub fn new() -> Self {
        BarProgress {
            bar: Mutex::new(None),
        }
    }
}

impl PullProgress for BarProgress {
    fn step(&self, model: &str, step: &str) {
        let mut bar = self
            .bar
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(done) = bar.take() {
            done.finish_and_clear();
        }
        eprintln!("{model}: {step}");
        let next = ProgressBar::new(0).with_style(
            ProgressStyle::with_template("  {bar:40} {bytes}/{total_bytes} {bytes_per_sec} {eta}")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        *bar = Some(next);
    }

    fn bytes(&self, done: u64, total: u64) {
        let bar = self
            .bar
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(bar) = bar.as_ref() {
            bar.set_length(total);
            bar.set_position(done);
        }
    }
}

impl Drop for BarProgress {
    fn drop(&mut self) {
        if let Some(bar) = self.bar.get_mut().ok().and_then(Option::take) {
            bar.finish_and_clear();
        }
    }
}
