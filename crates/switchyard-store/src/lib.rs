//! Switchyard's durable state.
//!
//! The server holds one `Arc<dyn ResponseStore>`, and the same store as governance's
//! `KeyStore`, `Ledger` and `AuditLog` (see `switchyard-governance`). The embedded implementation, [`SqliteStore`], is one SQLite
//! file through sqlx: bundled, so nothing needs installing, its schema brought up to date
//! by the migrations compiled in from `migrations/sqlite/`.
//!
//! - [`responses`]: responses of the Responses API, for `GET /v1/responses/{id}`, its
//!   input items, and conversations continued with `previous_response_id`.
//! - keys, teams, organisations, the cost ledger and the audit log, for governance.

mod keys_sql;
mod ledger_sql;
mod postgres;
mod redis;
pub mod responses;
mod rows;
mod sqlite;

#[cfg(test)]
mod authentication_tests;

pub use postgres::{PgStore, PgTarget};
pub use redis::{RedisLimiter, RedisTarget};
pub use responses::{Owner, ResponseStore, StoredResponse};
pub use sqlite::SqliteStore;

/// A store that could not do what was asked.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("the store at {location} cannot be opened: {source}")]
    Open {
        location: String,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    #[error("the store failed: {0}")]
    Database(#[from] sqlx::Error),
    /// A stored record that no longer reads back: a bug, or a file edited by hand.
    #[error("a stored record is corrupt: {0}")]
    Corrupt(String),
}

impl From<StoreError> for switchyard_governance::GovernanceError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::Corrupt(what) => switchyard_governance::GovernanceError::Corrupt(what),
            other => switchyard_governance::GovernanceError::Unavailable(other.to_string()),
        }
    }
}
