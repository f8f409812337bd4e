//! [`SqliteStore`]: the embedded store, one SQLite file (or an in-memory database).
//!
//! - this module: the pool, migrations, and stored responses;
//! - [`keys`]: organisations, teams, keys, alert claims and the audit log;
//! - [`ledger`]: the cost ledger.

mod keys;
mod ledger;

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use sqlx::migrate::Migrator;
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions};
use tokio::sync::OnceCell;

use crate::StoreError;
use crate::responses::{ResponseStore, StoredResponse};
use crate::rows::{RESPONSE_COLUMNS, ResponseRow};

static MIGRATOR: Migrator = sqlx::migrate!("migrations/sqlite");

/// How long a writer waits for another's lock before failing.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

#[derive(Debug)]
pub struct SqliteStore {
    pool: SqlitePool,
    /// Where the data lives, for messages.
    location: String,
    /// The file's directory, created on first use.
    directory: Option<PathBuf>,
    /// The file, when there is one.
    path: Option<PathBuf>,
    /// Set once the schema is up to date.
    migrated: OnceCell<()>,
}

impl SqliteStore {
    /// A store in the file at `path`, created if missing. Nothing is opened until the
    /// first call or [`ResponseStore::check`], so building one never blocks or fails.
    pub fn file(path: &Path) -> SqliteStore {
        let options = SqliteConnectOptions::new()
            .filename(path)
            .create_if_missing(true)
            // Readers do not wait for a writer, and a crash cannot tear a write.
            .journal_mode(SqliteJournalMode::Wal)
            .busy_timeout(BUSY_TIMEOUT);
        let pool = SqlitePoolOptions::new()
            .max_connections(4)
            .connect_lazy_with(options);
        SqliteStore {
            pool,
            location: path.display().to_string(),
            directory: path.parent().map(Path::to_path_buf),
            path: Some(path.to_path_buf()),
            migrated: OnceCell::new(),
        }
    }

    /// A store that lives as long as the process: for tests and for a server told to
    /// keep nothing on disk.
    pub fn in_memory() -> SqliteStore {
        let options = SqliteConnectOptions::from_str("sqlite::memory:")
            .unwrap_or_else(|_| SqliteConnectOptions::new());
        // Every connection to `:memory:` is a database of its own: one connection,
        // kept for good.
        let pool = SqlitePoolOptions::new()
            .max_connections(1)
            .idle_timeout(None)
            .max_lifetime(None)
            .connect_lazy_with(options);
        SqliteStore {
            pool,
            location: "memory".to_owned(),
            directory: None,
            path: None,
            migrated: OnceCell::new(),
        }
    }

    async fn ready(&self) -> Result<&SqlitePool, StoreError> {
        self.migrated
            .get_or_try_init(|| async {
                if let Some(directory) = self
                    .directory
                    .as_ref()
                    .filter(|dir| !dir.as_os_str().is_empty())
                {
                    switchyard_governance::private_file::create_dir(directory)
                        .map_err(|error| self.open_error(error))?;
                }
                // Created before SQLite opens it, readable by this user only: it holds
                // stored conversations and the ledger. (SQLite gives its journal files
                // the database's permissions.)
                if let Some(path) = &self.path {
                    switchyard_governance::private_file::open_append(path)
                        .map_err(|error| self.open_error(error))?;
                }
                MIGRATOR
                    .run(&self.pool)
                    .await
                    .map_err(|error| self.open_error(error))
            })
            .await?;
        Ok(&self.pool)
    }

    fn open_error(&self, error: impl std::error::Error + Send + Sync + 'static) -> StoreError {
        StoreError::Open {
            location: self.location.clone(),
            source: Box::new(error),
        }
    }
}

crate::responses::impl_response_store!(SqliteStore);

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn sample(id: &str) -> StoredResponse {
        StoredResponse {
            id: id.to_owned(),
            owner: crate::Owner::operator(),
            created_at: 1_700_000_000,
            expires_at: i64::MAX,
            response: json!({"id": id, "object": "response", "output": []}),
            input_items: vec![json!({"type": "message", "role": "user", "content": "hi"})],
        }
    }

    #[tokio::test]
    async fn responses_are_walled_by_owner_and_expire() {
        crate::responses::conformance::responses_are_walled_by_owner_and_expire(
            &SqliteStore::in_memory(),
        )
        .await;
    }

    #[tokio::test]
    #[cfg(unix)]
    async fn a_file_store_is_readable_by_its_owner_only() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().expect("a temporary directory");
        let path = dir.path().join("private/switchyard.db");
        SqliteStore::file(&path).check().await.expect("opens");
        let mode = |path: &Path| {
            std::fs::metadata(path)
                .expect("exists")
                .permissions()
                .mode()
                & 0o777
        };
        assert_eq!(mode(&path), 0o600);
        assert_eq!(mode(path.parent().expect("a directory")), 0o700);
    }

    #[tokio::test]
    async fn a_file_store_survives_reopening_and_creates_its_directory() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let path = dir.path().join("nested/switchyard.db");
        {
            let store = SqliteStore::file(&path);
            store.check().await.expect("opens");
            store
                .save_response(&sample("resp_kept"))
                .await
                .expect("saves");
        }
        let reopened = SqliteStore::file(&path);
        assert_eq!(
            reopened
                .response(crate::Owner::OPERATOR, "resp_kept", 0)
                .await
                .expect("reads"),
            Some(sample("resp_kept"))
        );
    }

    #[tokio::test]
    async fn a_store_that_cannot_open_says_where() {
        let dir = tempfile::tempdir().expect("a temporary directory");
        let blocker = dir.path().join("file");
        std::fs::write(&blocker, b"not a directory").expect("writes");
        let store = SqliteStore::file(&blocker.join("switchyard.db"));
        let error = store.check().await.expect_err("a file is in the way");
        assert!(error.to_string().contains("file/switchyard.db"), "{error}");
    }
}

#[cfg(test)]
mod governance_conformance {
    switchyard_governance::store_conformance!(std::sync::Arc::new(super::SqliteStore::in_memory()));
}
