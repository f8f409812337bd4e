//! `switchyard config check FILE`.

use std::process::ExitCode;

use switchyard_engine::resolve::inspect;
use switchyard_engine::source::ModelSource;
use switchyard_server::config::{Config, DeploymentKind};

use crate::args::ConfigCheckArgs;

pub fn check(args: ConfigCheckArgs) -> anyhow::Result<ExitCode> {
    match Config::load(&args.file) {
        Ok(config) => {
            let problems = local_model_problems(&config);
            if !problems.is_empty() {
                for problem in &problems {
                    eprintln!("{}: {problem}", args.file.display());
                }
                eprintln!(
                    "{}: {} error{}",
                    args.file.display(),
                    problems.len(),
                    if problems.len() == 1 { "" } else { "s" }
                );
                return Ok(ExitCode::from(1));
            }
            println!(
                "{}: ok ({} models, {} deployments)",
                args.file.display(),
                config.models.len(),
                config.deployments.len()
            );
            Ok(ExitCode::SUCCESS)
        }
        Err(errors) => {
            eprintln!("{errors}");
            eprintln!(
                "{}: {} error{}",
                args.file.display(),
                errors.errors.len(),
                if errors.errors.len() == 1 { "" } else { "s" }
            );
            Ok(ExitCode::from(1))
        }
    }
}

/// What the file alone cannot show: each local deployment's `model` must be a reference
/// Switchyard understands, and a file or folder named by path must hold a model. (Built-in
/// and hub models that are not downloaded yet are fetched by `serve`.)
fn local_model_problems(config: &Config) -> Vec<String> {
    config
        .deployments
        .iter()
        .filter_map(|deployment| {
            let DeploymentKind::Local(local) = &deployment.kind else {
                return None;
            };
            let problem = match local.source.parse::<ModelSource>() {
                Err(error) => error.to_string(),
                Ok(ModelSource::Path(path)) => {
                    let source = ModelSource::Path(path.clone());
                    inspect(&path, &source).err()?.to_string()
                }
                Ok(_) => return None,
            };
            Some(format!("deployments.{}.model: {problem}", deployment.name))
        })
        .collect()
}

/// Loads a config file for a command, printing every problem if it is invalid.
pub fn load_or_report(path: &std::path::Path) -> anyhow::Result<Config> {
    Config::load(path).map_err(|errors| {
        eprintln!("{errors}");
        anyhow::anyhow!(
            "{}: {} error(s) in the config file",
            path.display(),
            errors.errors.len()
        )
    })
}
