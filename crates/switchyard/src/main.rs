//! The `switchyard` command line: serve the gateway, chat with a model, list models,
//! check a config file, manage keys and report usage.

mod args;
mod commands;
mod logging;

use std::process::ExitCode;

use clap::Parser;

use crate::args::{Cli, Command, ConfigCommand};

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("error: cannot start the async runtime: {error}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async {
        match cli.command {
            Command::Serve(args) => commands::serve::run(args).await,
            Command::Chat(args) => commands::chat::run(args).await,
            Command::Models(args) => commands::models::run(args).await,
            Command::Pull(args) => commands::pull::run(args).await,
            Command::Config(ConfigCommand::Check(args)) => commands::config::check(args),
            Command::Keys(args) => commands::keys::run(args).await,
            Command::Usage(args) => commands::usage::run(args).await,
        }
    });
    match result {
        Ok(code) => code,
        // The reader of a listing went away (`switchyard models --catalog | head`).
        Err(error) if is_broken_pipe(&error) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

fn is_broken_pipe(error: &anyhow::Error) -> bool {
    error.chain().any(|cause| {
        cause
            .downcast_ref::<std::io::Error>()
            .is_some_and(|io| io.kind() == std::io::ErrorKind::BrokenPipe)
    })
}
