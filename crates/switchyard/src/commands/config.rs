//! `switchyard config check FILE`.

use std::process::ExitCode;

use switchyard_server::config::Config;

use crate::args::ConfigCheckArgs;

pub fn check(args: ConfigCheckArgs) -> anyhow::Result<ExitCode> {
    match Config::load(&args.file) {
        Ok(config) => {
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
