//! `switchyard serve`.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::process::ExitCode;

use anyhow::Context as _;
use switchyard_server::AppState;
use switchyard_server::config::{self, Config};
use tokio::net::TcpListener;
use tokio::sync::watch;

use crate::args::{LogFormat, ServeArgs};
use crate::logging;

const DEFAULT_LISTEN: SocketAddr =
    SocketAddr::new(std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST), 8080);

pub async fn run(args: ServeArgs) -> anyhow::Result<ExitCode> {
    let started = std::time::Instant::now();
    // Without a file: the built-in local models, and the catalog models of every
    // hosted vendor whose key variable is set.
    let (config, vendors) = match &args.config {
        Some(path) => (super::config::load_or_report(path)?, Vec::new()),
        None => config::vendors_from_env(switchyard_catalog::builtin(), |name| {
            std::env::var(name).ok()
        })
        .map_err(|errors| anyhow::anyhow!("the vendor keys in the environment:\n{errors}"))?,
    };
    let log_format = args.log_format.unwrap_or(match config.server.log_format {
        config::LogFormat::Pretty => LogFormat::Pretty,
        config::LogFormat::Json => LogFormat::Json,
    });
    logging::init(log_format);

    let listen = args
        .listen
        .or(config.server.listen)
        .unwrap_or(DEFAULT_LISTEN);
    let open = config.server.master_keys.is_empty();
    if open && !listen.ip().is_loopback() {
        if !(args.insecure_open || config.server.allow_unauthenticated) {
            anyhow::bail!(
                "refusing to listen on {listen} without master keys: anyone who can reach it \
                 could spend your vendor keys. Set `server.master_keys` in the config, listen \
                 on a loopback address (127.0.0.1), or pass --insecure-open \
                 (`server.allow_unauthenticated = true`) if you really mean it"
            );
        }
        tracing::warn!(
            address = %listen,
            "UNAUTHENTICATED: this server has no master keys and listens where other computers \
             can reach it; anyone who can connect spends your vendor keys."
        );
    } else if open {
        tracing::info!(
            "No master keys: the model API is open to this machine only (loopback); web pages \
             of other origins are refused."
        );
    }
    for deployment in config.unused_deployments() {
        tracing::warn!(
            deployment,
            "No model lists this deployment; it will never be used."
        );
    }
    // Listen first: while local models are pulled and loaded, `/healthz` answers and
    // `/readyz` says not yet; then the full app takes over.
    let listener = TcpListener::bind(listen)
        .await
        .with_context(|| format!("cannot listen on {listen}"))?;
    let local = listener
        .local_addr()
        .context("cannot read the bound address")?;
    // Scripts and tests read the address from here, then wait for `ready`; logs go to
    // stderr.
    println!("listening on http://{local}");
    // Every routed request estimates its tokens: load the encoding (~0.2 s) while the
    // local models load, not on the first request.
    tokio::task::spawn_blocking(switchyard_router::tokens::warm_up);
    let (publish, routers) = watch::channel(switchyard_server::starting_app());
    let mut server = tokio::spawn(switchyard_server::run_changing(
        listener,
        routers,
        shutdown_signal(),
        config.server.shutdown_grace,
    ));
    let mut config = config;
    config.server.listen = Some(local);
    let state = tokio::select! {
        state = build_state(&args, &config) => state?,
        // Stopped while starting.
        served = &mut server => {
            served.context("the server task failed")?.context("the server failed")?;
            return Ok(ExitCode::SUCCESS);
        }
    };
    tracing::info!(
        address = %local,
        models = state.catalog().len(),
        startup_ms = started.elapsed().as_millis() as u64,
        rss_mib = resident_mib(),
        config = %args.config.as_ref().map_or("none".to_owned(), |path| path.display().to_string()),
        auth = !state.settings().master_keys.is_empty(),
        vendors = %vendors.join(","),
        "Switchyard is ready."
    );
    let governance = state.governance().clone();
    let app = switchyard_server::app(state);
    publish.send_modify(|current| *current = app);
    println!("ready");
    let served = server.await;
    // Every request's ledger record reaches the store (or the spill file) before exit.
    governance.writer().shutdown().await;
    served
        .context("the server task failed")?
        .context("the server failed")?;
    Ok(ExitCode::SUCCESS)
}

/// The process's resident memory, for the start-up report (Linux only).
fn resident_mib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let kib: u64 = status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))?
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()?;
    Some(kib / 1024)
}

/// The full application state: the config's deployments and the local models (with
/// no file, the built-in ones; with one, its `local` deployments), pulled and loaded.
async fn build_state(args: &ServeArgs, config: &Config) -> anyhow::Result<AppState> {
    let home = args
        .home
        .clone()
        .unwrap_or_else(switchyard_engine::default_home);
    let resolver = super::local::resolver(&home, args.offline);
    let (local_providers, builtin_routes) = if args.config.is_none() {
        let routes = super::local::builtin_routes(&resolver)
            .await
            .context("cannot start the local models")?;
        (HashMap::new(), routes)
    } else {
        let providers = super::local::configured_providers(config, &resolver)
            .await
            .context("cannot start the local models")?;
        (providers, Vec::new())
    };
    // Stored responses live beside the models unless the config says otherwise.
    let mut config = config.clone();
    config
        .server
        .store
        .get_or_insert_with(|| config::StoreLocation::File(home.join("switchyard.db")));
    let state = AppState::from_config_with_local(&config, &local_providers, builtin_routes)
        .context("cannot build the deployments")?;
    for deployment in state.deployments() {
        let id = &deployment.info().id;
        if state.prices().priced(id).price.is_none() {
            tracing::warn!(
                deployment = %id,
                "This deployment has no known price: the ledger counts it as free and keys \
                 with a budget cannot use it. Set `price` (0 for a free one)."
            );
        }
    }
    state
        .responses()
        .check()
        .await
        .context("cannot open the store")?;
    let replayed = state
        .replay_ledger_spill()
        .await
        .context("cannot replay the ledger's spill file")?;
    if replayed > 0 {
        tracing::info!(
            records = replayed,
            "Wrote the ledger records spilled by the last run."
        );
    }
    state.prepare_tasks().await;
    state.spawn_health_checks();
    state.spawn_response_purge();
    Ok(state)
}

/// A future that resolves on SIGINT (Ctrl-C) or SIGTERM. The handlers are installed
/// here, before the future is first polled, so a signal that arrives as soon as the
/// server says it is listening is not lost to the default action (exit).
#[cfg(unix)]
fn shutdown_signal() -> impl std::future::Future<Output = ()> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut interrupt = signal(SignalKind::interrupt()).ok();
    let mut terminate = signal(SignalKind::terminate()).ok();
    async move {
        tokio::select! {
            () = received(interrupt.as_mut()) => {},
            () = received(terminate.as_mut()) => {},
        }
    }
}

/// Resolves when `signal` arrives; never, if its handler could not be installed.
#[cfg(unix)]
async fn received(signal: Option<&mut tokio::signal::unix::Signal>) {
    match signal {
        Some(signal) => {
            signal.recv().await;
        }
        None => std::future::pending().await,
    }
}

#[cfg(not(unix))]
fn shutdown_signal() -> impl std::future::Future<Output = ()> {
    async {
        let _ = tokio::signal::ctrl_c().await;
    }
}
