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
