//! Stored responses of the Responses API.

use serde_json::Value;

use crate::StoreError;

/// A response created with `store: true`, as the API gives it back.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredResponse {
    /// `resp_…`.
    pub id: String,
    /// Unix seconds.
    pub created_at: i64,
    /// The response object as the caller received it.
    pub response: Value,
    /// The input items of the whole conversation, oldest first: those of the
    /// responses this one continues and their outputs, then its own.
    pub input_items: Vec<Value>,
}

#[async_trait::async_trait]
pub trait ResponseStore: Send + Sync + std::fmt::Debug {
    /// Opens the store and brings its schema up to date, so that a server can refuse to
    /// start on a store it cannot use rather than fail its first request.
    async fn check(&self) -> Result<(), StoreError>;

    /// Saves `response`, replacing one with the same id.
    async fn save_response(&self, response: &StoredResponse) -> Result<(), StoreError>;

    async fn response(&self, id: &str) -> Result<Option<StoredResponse>, StoreError>;

    /// Deletes a response; `false` if there was none with that id.
    async fn delete_response(&self, id: &str) -> Result<bool, StoreError>;
}

/// Implements [`ResponseStore`] for a SQL store, `$store`, with a `ready()` method giving
/// its pool: one body of SQL both databases run (see [`crate::keys_sql`]).
macro_rules! impl_response_store {
    ($store:ty) => {
        #[async_trait::async_trait]
        impl ResponseStore for $store {
            async fn check(&self) -> Result<(), StoreError> {
                self.ready().await.map(|_| ())
            }

            async fn save_response(&self, response: &StoredResponse) -> Result<(), StoreError> {
                let pool = self.ready().await?;
                let (id, created_at, body, input_items) = ResponseRow::values(response);
                sqlx::query(&format!(
                    "INSERT INTO responses ({RESPONSE_COLUMNS}) VALUES ($1, $2, $3, $4) \
                     ON CONFLICT (id) DO UPDATE SET created_at = excluded.created_at, \
                     response = excluded.response, input_items = excluded.input_items"
                ))
                .bind(id)
                .bind(created_at)
                .bind(body)
                .bind(input_items)
                .execute(pool)
                .await?;
                Ok(())
            }

            async fn response(&self, id: &str) -> Result<Option<StoredResponse>, StoreError> {
                let pool = self.ready().await?;
                sqlx::query_as::<_, ResponseRow>(&format!(
                    "SELECT {RESPONSE_COLUMNS} FROM responses WHERE id = $1"
                ))
                .bind(id)
                .fetch_optional(pool)
                .await?
                .map(StoredResponse::try_from)
                .transpose()
            }

            async fn delete_response(&self, id: &str) -> Result<bool, StoreError> {
                let pool = self.ready().await?;
                let deleted = sqlx::query("DELETE FROM responses WHERE id = $1")
                    .bind(id)
                    .execute(pool)
                    .await?;
                Ok(deleted.rows_affected() > 0)
            }
        }
    };
}

pub(crate) use impl_response_store;
