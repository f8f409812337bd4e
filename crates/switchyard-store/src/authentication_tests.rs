//! Authentication through the governance service on a real store: a made-up key is
//! looked up once, then answered from memory, so repeating it costs the store nothing.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use switchyard_governance::{
    AlertClaim, Governance, GovernanceError, Group, GroupSettings, Key, KeyFilter, KeySettings,
    KeyStore, MemoryLimiter, Millis, WriterOptions,
};

use crate::SqliteStore;

/// The SQLite store, counting lookups by secret hash.
#[derive(Debug)]
struct Counting {
    store: Arc<SqliteStore>,
    lookups: AtomicUsize,
}

#[async_trait::async_trait]
impl KeyStore for Counting {
    async fn put_group(
        &self,
        org: &str,
        team: Option<&str>,
        settings: &GroupSettings,
        now: Millis,
    ) -> Result<Group, GovernanceError> {
        self.store.put_group(org, team, settings, now).await
    }
    async fn group(&self, org: &str, team: Option<&str>) -> Result<Option<Group>, GovernanceError> {
        self.store.group(org, team).await
    }
    async fn groups(&self) -> Result<Vec<Group>, GovernanceError> {
        self.store.groups().await
    }
    async fn insert_key(&self, key: &Key) -> Result<(), GovernanceError> {
        self.store.insert_key(key).await
    }
    async fn key(&self, id: &str) -> Result<Option<Key>, GovernanceError> {
        self.store.key(id).await
    }
    async fn key_by_hash(&self, secret_hash: &str) -> Result<Option<Key>, GovernanceError> {
        self.lookups.fetch_add(1, Ordering::SeqCst);
        self.store.key_by_hash(secret_hash).await
    }
    async fn keys(&self, filter: &KeyFilter) -> Result<Vec<Key>, GovernanceError> {
        self.store.keys(filter).await
    }
    async fn update_key(
        &self,
        id: &str,
        settings: &KeySettings,
    ) -> Result<Option<Key>, GovernanceError> {
        self.store.update_key(id, settings).await
    }
    async fn revoke_key(&self, id: &str, at: Millis) -> Result<Option<Key>, GovernanceError> {
        self.store.revoke_key(id, at).await
    }
    async fn claim_alert(&self, claim: &AlertClaim) -> Result<bool, GovernanceError> {
        self.store.claim_alert(claim).await
    }
}

#[tokio::test]
async fn a_repeated_unknown_key_costs_one_lookup() {
    let store = Arc::new(SqliteStore::in_memory());
    let keys = Arc::new(Counting {
        store: store.clone(),
        lookups: AtomicUsize::new(0),
    });
    let governance = Governance::new(
        keys.clone(),
        Arc::new(MemoryLimiter::new()),
        store.clone(),
        store.clone(),
        WriterOptions::default(),
    );
    let made_up = format!("sy-{}", "a".repeat(43));
    for _ in 0..50 {
        assert!(
            governance
                .authenticate(&made_up)
                .await
                .expect("answers")
                .is_none()
        );
    }
    assert_eq!(keys.lookups.load(Ordering::SeqCst), 1);
}
