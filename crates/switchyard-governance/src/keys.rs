//! [`KeyStore`]: organisations, teams and keys, and the claims that make budget alerts
//! go out once across replicas.

use crate::GovernanceError;
use crate::model::{Group, GroupSettings, Key, KeySettings, Millis, Principal};
use crate::period::Period;

/// Which keys a listing shows.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KeyFilter {
    pub org: Option<String>,
    pub team: Option<String>,
    /// Revoked keys too.
    pub revoked: bool,
}

/// One budget threshold of one window, claimed by whoever sends its alert.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AlertClaim {
    pub scope: String,
    pub period: Period,
    pub window_start: Millis,
    /// Percent of the budget.
    pub threshold: u32,
}

#[async_trait::async_trait]
pub trait KeyStore: Send + Sync + std::fmt::Debug {
    /// Creates the organisation (`team` = `None`) or team, or replaces its settings.
    /// A team's organisation must exist.
    async fn put_group(
        &self,
        org: &str,
        team: Option<&str>,
        settings: &GroupSettings,
        now: Millis,
    ) -> Result<Group, GovernanceError>;

    async fn group(&self, org: &str, team: Option<&str>) -> Result<Option<Group>, GovernanceError>;

    /// Every organisation and team, organisations first within each, by name.
    async fn groups(&self) -> Result<Vec<Group>, GovernanceError>;

    /// Stores a new key; its organisation (and team) must exist.
    async fn insert_key(&self, key: &Key) -> Result<(), GovernanceError>;

    async fn key(&self, id: &str) -> Result<Option<Key>, GovernanceError>;

    async fn key_by_hash(&self, secret_hash: &str) -> Result<Option<Key>, GovernanceError>;

    /// Keys by creation time, oldest first.
    async fn keys(&self, filter: &KeyFilter) -> Result<Vec<Key>, GovernanceError>;

    async fn update_key(
        &self,
        id: &str,
        settings: &KeySettings,
    ) -> Result<Option<Key>, GovernanceError>;

    /// Revokes the key from `at` (which may be in the future, for a rotation's grace),
    /// unless it is already revoked earlier.
    async fn revoke_key(&self, id: &str, at: Millis) -> Result<Option<Key>, GovernanceError>;

    /// Claims an alert; true for exactly one caller per claim.
    async fn claim_alert(&self, claim: &AlertClaim) -> Result<bool, GovernanceError>;

    /// The key with this secret hash and the groups above it.
    async fn principal(&self, secret_hash: &str) -> Result<Option<Principal>, GovernanceError> {
        let Some(key) = self.key_by_hash(secret_hash).await? else {
            return Ok(None);
        };
        let org = self.group(&key.org, None).await?.ok_or_else(|| {
            GovernanceError::Corrupt(format!("key {} names a missing organisation", key.id))
        })?;
        let team = match &key.team {
            None => None,
            Some(team) => Some(self.group(&key.org, Some(team)).await?.ok_or_else(|| {
                GovernanceError::Corrupt(format!("key {} names a missing team", key.id))
            })?),
        };
        Ok(Some(Principal { key, org, team }))
    }
}
