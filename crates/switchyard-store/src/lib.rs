//! Switchyard's durable state.
//!
//! The server holds one `Arc<dyn ResponseStore>` (and, as they come, the key, usage and
//! budget stores beside it). The embedded implementation, [`SqliteStore`], is one SQLite
//! file through sqlx: bundled, so nothing needs installing, its schema brought up to date
//! by the migrations compiled in from `migrations/sqlite/`.
//!
//! - [`responses`]: responses of the Responses API, for `GET /v1/responses/{id}`, its
//!   input items, and conversations continued with `previous_response_id`.

pub mod responses;
mod sqlite;

pub use responses::{ResponseStore, StoredResponse};
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
