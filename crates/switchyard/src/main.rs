//! The `switchyard` command line: serve the gateway, chat with a model, list models,
//! check a config file.

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
        }
    });
    match result {
        Ok(code) => code,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}
