//! `switchyard-mock-openai`: serves [`MockOpenAi`] for end-to-end tests in other processes.
//!
//! Usage: `switchyard-mock-openai [--listen 127.0.0.1:0]`. Prints exactly one line,
//! `listening on http://IP:PORT`, then serves until killed. Tests drive it through the
//! `/__mock/` control routes documented on `switchyard_testkit::mock::openai`.

use std::io::Write as _;
use std::net::SocketAddr;
use std::process::ExitCode;

use switchyard_testkit::MockOpenAi;

const USAGE: &str = "usage: switchyard-mock-openai [--listen IP:PORT]";

#[tokio::main]
async fn main() -> ExitCode {
    let listen = match parse_args(std::env::args().skip(1)) {
        Ok(Some(listen)) => listen,
        Ok(None) => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        Err(message) => {
            eprintln!("switchyard-mock-openai: {message}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let mock = match MockOpenAi::start_on(listen).await {
        Ok(mock) => mock,
        Err(error) => {
            eprintln!("switchyard-mock-openai: cannot listen on {listen}: {error}");
            return ExitCode::FAILURE;
        }
    };

    let mut stdout = std::io::stdout().lock();
    let announced =
        writeln!(stdout, "listening on http://{}", mock.addr()).and_then(|()| stdout.flush());
    drop(stdout);
    if let Err(error) = announced {
        eprintln!("switchyard-mock-openai: cannot write to stdout: {error}");
        return ExitCode::FAILURE;
    }

    // Serve until interrupted; a plain kill ends the process without reaching this point.
    if let Err(error) = tokio::signal::ctrl_c().await {
        eprintln!("switchyard-mock-openai: cannot wait for Ctrl-C ({error}); serving forever");
        std::future::pending::<()>().await;
    }
    drop(mock);
    ExitCode::SUCCESS
}

/// Parses `--listen ADDR` / `--listen=ADDR`; `Ok(None)` means help was requested.
fn parse_args(mut args: impl Iterator<Item = String>) -> Result<Option<SocketAddr>, String> {
    let mut listen = String::from("127.0.0.1:0");
    while let Some(arg) = args.next() {
        if arg == "-h" || arg == "--help" {
            return Ok(None);
        } else if arg == "--listen" {
            listen = args.next().ok_or("--listen needs a value")?;
        } else if let Some(value) = arg.strip_prefix("--listen=") {
            listen = value.to_owned();
        } else {
            return Err(format!("unexpected argument {arg:?}"));
        }
    }
    listen
        .parse()
        .map(Some)
        .map_err(|error| format!("invalid --listen address {listen:?}: {error}"))
}
