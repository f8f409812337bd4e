//! [`AuditLog`]: every admin action, append-only.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::GovernanceError;
use crate::model::Millis;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditEntry {
    pub at: Millis,
    /// Who acted: a master key's fingerprint (`master:` and 8 hex digits of its hash).
    pub actor: String,
    /// `key.create`, `key.revoke`, `group.put`, …
    pub action: String,
    /// The record acted on: a key id, `org:acme`, `team:acme/research`.
    pub target: String,
    /// The record before and after, as the admin API shows it (never a secret).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub before: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after: Option<Value>,
}

#[async_trait::async_trait]
pub trait AuditLog: Send + Sync + std::fmt::Debug {
    async fn append(&self, entry: &AuditEntry) -> Result<(), GovernanceError>;

    /// Entries from `since` on (all without), oldest first, at most `limit`.
    async fn entries(
        &self,
        since: Option<Millis>,
        limit: u32,
    ) -> Result<Vec<AuditEntry>, GovernanceError>;
}
