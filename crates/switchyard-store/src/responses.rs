//! Stored responses of the Responses API.
//!
//! A stored response belongs to the organisation whose key made it (or to the
//! operator): every read and delete names the owner, and a response of another owner
//! is not found, exactly like one that does not exist. Each response expires
//! (`expires_at`); expired ones are never returned and are purged by
//! [`ResponseStore::purge_expired_responses`].

use serde_json::Value;

use crate::StoreError;

/// Whose a stored response is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Owner {
    /// The organisation, or [`Owner::OPERATOR`].
    pub org: String,
    /// The virtual key that made it, for the record; any key of the organisation may
    /// read it, as any key of an OpenAI project may.
    pub key: Option<String>,
}

impl Owner {
    /// The owner of what master keys and callers of an open server make. Not a valid
    /// organisation name (those start with a letter or digit), so no tenant shares it.
    pub const OPERATOR: &'static str = "~operator";

    pub fn operator() -> Owner {
        Owner {
            org: Owner::OPERATOR.to_owned(),
            key: None,
        }
    }

    pub fn org(org: impl Into<String>, key: impl Into<String>) -> Owner {
        Owner {
            org: org.into(),
            key: Some(key.into()),
        }
    }
}

/// A response created with `store: true`, as the API gives it back.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredResponse {
    /// `resp_…`.
    pub id: String,
    pub owner: Owner,
    /// Unix seconds.
    pub created_at: i64,
    /// Unix seconds after which it is gone.
    pub expires_at: i64,
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

    /// Saves `response`, replacing one with the same id and owner.
    async fn save_response(&self, response: &StoredResponse) -> Result<(), StoreError>;

    /// The response `id` of organisation `org`, unless it expired by `now` (Unix
    /// seconds).
    async fn response(
        &self,
        org: &str,
        id: &str,
        now: i64,
    ) -> Result<Option<StoredResponse>, StoreError>;

    /// Deletes a response of `org`; `false` if it has none with that id.
    async fn delete_response(&self, org: &str, id: &str) -> Result<bool, StoreError>;

    /// Deletes every response that expired by `now`; returns how many.
    async fn purge_expired_responses(&self, now: i64) -> Result<u64, StoreError>;
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
                let row = ResponseRow::from(response);
                // An id is random (`resp_` and a UUID); one that exists under another
                // owner is left alone rather than taken over.
                sqlx::query(&format!(
                    "INSERT INTO responses ({RESPONSE_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7) \
                     ON CONFLICT (id) DO UPDATE SET created_at = excluded.created_at, \
                     expires_at = excluded.expires_at, response = excluded.response, \
                     input_items = excluded.input_items \
                     WHERE responses.owner_org = excluded.owner_org"
                ))
                .bind(row.id)
                .bind(row.owner_org)
                .bind(row.owner_key)
                .bind(row.created_at)
                .bind(row.expires_at)
                .bind(row.response)
                .bind(row.input_items)
                .execute(pool)
                .await?;
                Ok(())
            }

            async fn response(
                &self,
                org: &str,
                id: &str,
                now: i64,
            ) -> Result<Option<StoredResponse>, StoreError> {
                let pool = self.ready().await?;
                sqlx::query_as::<_, ResponseRow>(&format!(
                    "SELECT {RESPONSE_COLUMNS} FROM responses \
                     WHERE id = $1 AND owner_org = $2 AND expires_at > $3"
                ))
                .bind(id)
                .bind(org)
                .bind(now)
                .fetch_optional(pool)
                .await?
                .map(StoredResponse::try_from)
                .transpose()
            }

            async fn delete_response(&self, org: &str, id: &str) -> Result<bool, StoreError> {
                let pool = self.ready().await?;
                let deleted = sqlx::query("DELETE FROM responses WHERE id = $1 AND owner_org = $2")
                    .bind(id)
                    .bind(org)
                    .execute(pool)
                    .await?;
                Ok(deleted.rows_affected() > 0)
            }

            async fn purge_expired_responses(&self, now: i64) -> Result<u64, StoreError> {
                let pool = self.ready().await?;
                let purged = sqlx::query("DELETE FROM responses WHERE expires_at <= $1")
                    .bind(now)
                    .execute(pool)
                    .await?;
                Ok(purged.rows_affected())
            }
        }
    };
}

pub(crate) use impl_response_store;

/// The behaviour every [`ResponseStore`] keeps, run by each store's tests.
#[cfg(test)]
pub(crate) mod conformance {
    use serde_json::json;

    use super::*;

    const NOW: i64 = 1_700_000_000;

    fn sample(id: &str, owner: Owner, expires_at: i64) -> StoredResponse {
        StoredResponse {
            id: id.to_owned(),
            owner,
            created_at: NOW - 10,
            expires_at,
            response: json!({"id": id, "object": "response", "output": []}),
            input_items: vec![json!({"type": "message", "role": "user", "content": "hi"})],
        }
    }

    pub(crate) async fn responses_are_walled_by_owner_and_expire(store: &dyn ResponseStore) {
        let acme = Owner::org("acme", "key_a");
        let globex = Owner::org("globex", "key_b");
        let mine = sample("resp_1", acme.clone(), NOW + 3600);
        store.save_response(&mine).await.expect("saves");
        assert_eq!(
            store.response("acme", "resp_1", NOW).await.expect("reads"),
            Some(mine.clone())
        );
        assert_eq!(
            store
                .response("globex", "resp_1", NOW)
                .await
                .expect("reads"),
            None,
            "another organisation's response is not found"
        );
        assert_eq!(
            store
                .response(Owner::OPERATOR, "resp_1", NOW)
                .await
                .expect("reads"),
            None,
            "nor is it the operator's"
        );
        assert!(
            !store
                .delete_response("globex", "resp_1")
                .await
                .expect("deletes"),
            "another organisation cannot delete it"
        );
        let mut taken = sample("resp_1", globex, NOW + 3600);
        taken.response = json!({"id": "resp_1", "output": ["overwritten"]});
        store.save_response(&taken).await.expect("saves");
        assert_eq!(
            store.response("acme", "resp_1", NOW).await.expect("reads"),
            Some(mine.clone()),
            "a save under another owner does not take it over"
        );
        let mut again = mine.clone();
        again.response = json!({"id": "resp_1", "output": ["again"]});
        store.save_response(&again).await.expect("replaces");
        assert_eq!(
            store.response("acme", "resp_1", NOW).await.expect("reads"),
            Some(again)
        );

        let old = sample("resp_old", acme, NOW - 1);
        store.save_response(&old).await.expect("saves");
        assert_eq!(
            store
                .response("acme", "resp_old", NOW)
                .await
                .expect("reads"),
            None,
            "an expired response is gone before it is purged"
        );
        assert_eq!(store.purge_expired_responses(NOW).await.expect("purges"), 1);
        assert_eq!(store.purge_expired_responses(NOW).await.expect("purges"), 0);

        assert!(
            store
                .delete_response("acme", "resp_1")
                .await
                .expect("deletes")
        );
        assert!(
            !store
                .delete_response("acme", "resp_1")
                .await
                .expect("deletes")
        );
        assert_eq!(
            store.response("acme", "resp_1", NOW).await.expect("reads"),
            None
        );
    }
}
