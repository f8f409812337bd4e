//! Structured logs with `tracing`: human-readable or one JSON object per line.
//! The level comes from `RUST_LOG` (default `info`, with llama.cpp's own chatter, its
//! hundreds of lines per model load, only from `error` up: `RUST_LOG=debug` shows it).

use std::io::IsTerminal;

use tracing_subscriber::EnvFilter;

use crate::args::LogFormat;

/// The target of every event llama.cpp and ggml log through `llama-cpp-2`.
const LLAMA_CPP: &str = "llama-cpp-2";

pub fn init(format: LogFormat) {
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new(format!("info,{LLAMA_CPP}=error")));
    // Colour only for a terminal: a log file or collector gets plain text.
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stderr().is_terminal() && std::env::var_os("NO_COLOR").is_none())
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Pretty => builder.compact().init(),
        LogFormat::Json => builder.json().flatten_event(true).init(),
    }
}
