//! [`PgStore`]: the distributed backend's store, one PostgreSQL database shared by every
//! replica.
//!
//! - this module: the pool, migrations, and stored responses;
//! - [`keys`]: organisations, teams, keys, alert claims and the audit log;
//! - [`ledger`]: the cost ledger.
//!
//! Their SQL, and that of stored responses, is the embedded store's: one text both
//! databases run ([`crate::keys_sql`], [`crate::ledger_sql`]).
//!
//! The schema is the embedded store's in PostgreSQL's types (`migrations/postgres/`);
//! rows are read and written through the same [`crate::rows`] types. Replicas starting
//! together migrate once: sqlx holds an advisory lock while it migrates.

mod keys;
mod ledger;

use std::str::FromStr;
use std::time::Duration;

use sqlx::migrate::Migrator;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use tokio::sync::OnceCell;

use crate::StoreError;
use crate::responses::{ResponseStore, StoredResponse};
use crate::rows::{RESPONSE_COLUMNS, ResponseRow};

static MIGRATOR: Migrator = sqlx::migrate!("migrations/postgres");

/// How long a request waits for a pooled connection before the store counts as down.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(5);

/// Deadlines the server enforces on every session, so a lock wait or a runaway query
/// fails the request (the governance fails closed) instead of holding it and its
/// pooled connection: a statement, a wait for a lock, a transaction left idle.
const SESSION_DEADLINES: [(&str, &str); 3] = [
    ("statement_timeout", "5s"),
    ("lock_timeout", "3s"),
    ("idle_in_transaction_session_timeout", "10s"),
];

/// A PostgreSQL server and database to connect to, parsed from its URL. Shows only
/// `host:port/database`: never the user or password.
#[derive(Clone)]
pub struct PgTarget {
    options: PgConnectOptions,
    location: String,
}

impl PgTarget {
    /// Parses `postgres://user:password@host:port/db`.
    ///
    /// # Errors
    ///
    /// A URL that does not parse; the message does not repeat it.
    pub fn parse(url: &str) -> Result<PgTarget, StoreError> {
        if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
            return Err(StoreError::Open {
                location: "the PostgreSQL URL".to_owned(),
                source: "it must start with `postgres://` or `postgresql://`".into(),
            });
        }
        let options = PgConnectOptions::from_str(url)
            .map_err(|error| StoreError::Open {
                location: "the PostgreSQL URL".to_owned(),
                source: Box::new(error),
            })?
            .options(SESSION_DEADLINES);
        let location = format!(
            "postgres://{}:{}/{}",
            options.get_host(),
            options.get_port(),
            options.get_database().unwrap_or_default()
        );
        Ok(PgTarget { options, location })
    }

    pub fn location(&self) -> &str {
        &self.location
    }
}

impl std::fmt::Debug for PgTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.location)
    }
}

impl PartialEq for PgTarget {
    fn eq(&self, other: &PgTarget) -> bool {
        self.location == other.location
    }
}

#[derive(Debug)]
pub struct PgStore {
    pool: PgPool,
    /// `host:port/database`, for messages.
    location: String,
    migrated: OnceCell<()>,
}

impl PgStore {
    /// A store in `target`'s database, with at most `max_connections`. Nothing is
    /// connected until the first call or [`ResponseStore::check`], so building one never
    /// blocks.
    pub fn new(target: &PgTarget, max_connections: u32) -> PgStore {
        let pool = PgPoolOptions::new()
            .max_connections(max_connections.max(1))
            .acquire_timeout(ACQUIRE_TIMEOUT)
            .connect_lazy_with(target.options.clone());
        PgStore {
            pool,
            location: target.location.clone(),
            migrated: OnceCell::new(),
        }
    }

    /// [`PgStore::new`] from a URL.
    ///
    /// # Errors
    ///
    /// A URL that does not parse; the message does not repeat it.
    pub fn connect_lazy(url: &str, max_connections: u32) -> Result<PgStore, StoreError> {
        Ok(PgStore::new(&PgTarget::parse(url)?, max_connections))
    }

    async fn ready(&self) -> Result<&PgPool, StoreError> {
        self.migrated
            .get_or_try_init(|| async {
                MIGRATOR
                    .run(&self.pool)
                    .await
                    .map_err(|error| StoreError::Open {
                        location: self.location.clone(),
                        source: Box::new(error),
                    })
            })
            .await?;
        Ok(&self.pool)
    }
}

crate::responses::impl_response_store!(PgStore);

#[cfg(test)]
mod tests {
    use switchyard_testkit::services::fresh_postgres_database;

    use super::*;

    pub(super) async fn fresh() -> std::sync::Arc<PgStore> {
        let url = fresh_postgres_database().await;
        std::sync::Arc::new(PgStore::connect_lazy(&url, 4).expect("a valid URL"))
    }

    #[tokio::test]
    async fn responses_are_walled_by_owner_and_expire() {
        crate::responses::conformance::responses_are_walled_by_owner_and_expire(
            fresh().await.as_ref(),
        )
        .await;
    }

    #[tokio::test]
    async fn every_session_has_deadlines() {
        let store = fresh().await;
        let pool = store.ready().await.expect("connects");
        for (setting, value) in SESSION_DEADLINES {
            let (shown,): (String,) = sqlx::query_as(&format!("SHOW {setting}"))
                .fetch_one(pool)
                .await
                .expect("shows");
            assert_eq!(shown, value, "{setting}");
        }
        let error = sqlx::query("SELECT pg_sleep(10)")
            .execute(pool)
            .await
            .expect_err("a statement past its deadline is cancelled");
        assert!(error.to_string().contains("statement timeout"), "{error}");
    }

    #[tokio::test]
    async fn a_bad_url_is_refused_without_repeating_it() {
        let error =
            PgStore::connect_lazy("postgres://user:hunter2@[bad", 1).expect_err("does not parse");
        assert!(!error.to_string().contains("hunter2"), "{error}");
    }

    #[tokio::test]
    async fn an_unreachable_server_says_where_but_not_who() {
        let store = PgStore::connect_lazy("postgres://user:hunter2@127.0.0.1:1/db", 1)
            .expect("a valid URL");
        let error = store.check().await.expect_err("nothing listens on port 1");
        let message = error.to_string();
        assert!(message.contains("127.0.0.1:1/db"), "{message}");
        assert!(
            !message.contains("hunter2") && !message.contains("user"),
            "{message}"
        );
    }
}

#[cfg(test)]
mod governance_conformance {
    switchyard_governance::store_conformance!(super::tests::fresh().await);
}
