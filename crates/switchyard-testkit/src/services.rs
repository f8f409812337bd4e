//! PostgreSQL and Redis for tests of the distributed backend.
//!
//! [`services`] gives the servers' URLs: those `scripts/test.sh` exported
//! (`SWITCHYARD_TEST_POSTGRES_URL`, `SWITCHYARD_TEST_REDIS_URL`), or else servers of this
//! test process's own, started by `scripts/services.sh` (which installs them from
//! Debian's packages when missing) and stopped by it when this process exits. A test
//! that cannot have them panics saying why; none is skipped.
//!
//! Tests share the servers, so each works in a namespace of its own: a database from
//! [`unique_name`], a Redis key prefix from the same.

use std::io::{BufRead, BufReader};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};

/// Where the test servers listen.
#[derive(Debug, Clone)]
pub struct Services {
    /// A superuser on the `postgres` database, trusted without a password.
    pub postgres_url: String,
    pub redis_url: String,
}

/// The servers started for this process, kept until it exits: closing the script's
/// standard input (which exiting does) stops them.
#[allow(dead_code)] // Held, never read.
struct Started {
    child: Child,
    stdin: ChildStdin,
}

static SERVICES: OnceLock<Services> = OnceLock::new();
static STARTED: OnceLock<Started> = OnceLock::new();

const POSTGRES_VAR: &str = "SWITCHYARD_TEST_POSTGRES_URL";
const REDIS_VAR: &str = "SWITCHYARD_TEST_REDIS_URL";

/// The test servers, started on first use when the environment names none.
///
/// # Panics
///
/// When they cannot be started, with the script's reason.
pub fn services() -> &'static Services {
    SERVICES.get_or_init(
        || match (std::env::var(POSTGRES_VAR), std::env::var(REDIS_VAR)) {
            (Ok(postgres_url), Ok(redis_url)) => Services {
                postgres_url,
                redis_url,
            },
            _ => start(),
        },
    )
}

fn start() -> Services {
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../../scripts/services.sh");
    let mut child = Command::new("bash")
        .arg(script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap_or_else(|error| panic!("cannot run {script}: {error}"));
    let stdout = child.stdout.take().expect("piped stdout");
    let stdin = child.stdin.take().expect("piped stdin");
    let (mut postgres_url, mut redis_url, mut ready) = (None, None, false);
    for line in BufReader::new(stdout).lines() {
        let line = line.unwrap_or_default();
        match line.split_once('=') {
            Some((POSTGRES_VAR, url)) => postgres_url = Some(url.to_owned()),
            Some((REDIS_VAR, url)) => redis_url = Some(url.to_owned()),
            _ if line == "ready" => {
                ready = true;
                break;
            }
            _ => {}
        }
    }
    let (Some(postgres_url), Some(redis_url), true) = (postgres_url, redis_url, ready) else {
        let status = child.wait().map(|status| status.to_string());
        panic!(
            "the distributed backend's tests need PostgreSQL and Redis, and {script} could \
             not start them (it exited: {status:?}; its reasons are above)"
        );
    };
    let _ = STARTED.set(Started { child, stdin });
    Services {
        postgres_url,
        redis_url,
    }
}

/// A name no other test in any process uses: for a database or a key prefix.
pub fn unique_name(prefix: &str) -> String {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |since| since.subsec_nanos());
    format!(
        "{prefix}_{}_{}_{nanos}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

/// A new, empty database on the test PostgreSQL server, and its URL.
///
/// # Panics
///
/// When the server refuses.
pub async fn fresh_postgres_database() -> String {
    use sqlx::Connection;

    let admin_url = &services().postgres_url;
    let name = unique_name("sy");
    let mut admin = sqlx::PgConnection::connect(admin_url)
        .await
        .unwrap_or_else(|error| panic!("cannot reach the test PostgreSQL server: {error}"));
    sqlx::query(&format!("CREATE DATABASE \"{name}\""))
        .execute(&mut admin)
        .await
        .unwrap_or_else(|error| panic!("cannot create database {name}: {error}"));
    let _ = admin.close().await;
    let (server, _) = admin_url
        .rsplit_once('/')
        .expect("a PostgreSQL URL ends in its database");
    format!("{server}/{name}")
}

/// A Redis key prefix of this test's own.
pub fn fresh_redis_prefix() -> String {
    format!("{}:", unique_name("sy-test"))
}
