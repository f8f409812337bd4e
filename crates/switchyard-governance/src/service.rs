//! [`Governance`]: the stores, the limiter and the ledger writer together, with key
//! authentication and the admin operations (each one audited).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde::{Deserialize, Serialize};
use tokio::time::Instant;

use crate::audit::{AuditEntry, AuditLog};
use crate::keys::KeyStore;
use crate::ledger::Ledger;
use crate::ledger::writer::{LedgerWriter, WriterOptions};
use crate::limiter::Limiter;
use crate::model::{Group, GroupSettings, Key, KeySettings, Principal, check_name};
use crate::period::now_millis;
use crate::{GovernanceError, secret};

/// How long a looked-up key is trusted before it is read again. A change made through
/// this replica takes effect at once; one made through another, within this time.
pub const KEY_CACHE_TTL: Duration = Duration::from_secs(10);

#[derive(Debug)]
pub struct Governance {
    keys: Arc<dyn KeyStore>,
    limiter: Arc<dyn Limiter>,
    ledger: Arc<dyn Ledger>,
    audit: Arc<dyn AuditLog>,
    writer: LedgerWriter,
    /// Principals by secret hash. Unknown secrets are not cached here, so guessing
    /// cannot fill it.
    cache: Mutex<HashMap<String, (Principal, Instant)>>,
    /// Hashes no key has, remembered for [`KEY_CACHE_TTL`] and at most
    /// [`MAX_UNKNOWN_KEYS`]: a client repeating a bad key costs no store query.
    unknown: Mutex<HashMap<String, Instant>>,
    /// Store lookups of uncached keys at once: a flood of made-up keys queues here
    /// instead of taking every pooled connection from admission and the ledger.
    lookups: tokio::sync::Semaphore,
}

/// The most unknown key hashes remembered.
pub const MAX_UNKNOWN_KEYS: usize = 10_000;
/// Store lookups of uncached keys that may run at once.
const CONCURRENT_LOOKUPS: usize = 2;

/// A key to create: where it belongs and what it may do.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewKey {
    pub org: String,
    #[serde(default)]
    pub team: Option<String>,
    #[serde(flatten)]
    pub settings: KeySettings,
}

impl Governance {
    pub fn new(
        keys: Arc<dyn KeyStore>,
        limiter: Arc<dyn Limiter>,
        ledger: Arc<dyn Ledger>,
        audit: Arc<dyn AuditLog>,
        writer: WriterOptions,
    ) -> Governance {
        let writer = LedgerWriter::new(ledger.clone(), writer);
        Governance {
            keys,
            limiter,
            ledger,
            audit,
            writer,
            cache: Mutex::default(),
            unknown: Mutex::default(),
            lookups: tokio::sync::Semaphore::new(CONCURRENT_LOOKUPS),
        }
    }

    pub fn keys(&self) -> &dyn KeyStore {
        self.keys.as_ref()
    }

    pub fn limiter(&self) -> &dyn Limiter {
        self.limiter.as_ref()
    }

    pub fn ledger(&self) -> &dyn Ledger {
        self.ledger.as_ref()
    }

    pub fn audit(&self) -> &dyn AuditLog {
        self.audit.as_ref()
    }

    pub fn writer(&self) -> &LedgerWriter {
        &self.writer
    }

    /// The key whose secret is `presented`, with its groups; `None` when no key has it.
    /// The caller decides what a revoked or expired key means.
    pub async fn authenticate(
        &self,
        presented: &str,
    ) -> Result<Option<Principal>, GovernanceError> {
        let hash = secret::hash(presented);
        if let Some((principal, read_at)) = self.cache_lock().get(&hash)
            && read_at.elapsed() < KEY_CACHE_TTL
        {
            return Ok(Some(principal.clone()));
        }
        if self.is_known_unknown(&hash) {
            return Ok(None);
        }
        let principal = {
            let _permit = self.lookups.acquire().await;
            self.keys.principal(&hash).await?
        };
        match &principal {
            Some(principal) => {
                self.cache_lock()
                    .insert(hash, (principal.clone(), Instant::now()));
            }
            None => self.remember_unknown(hash),
        }
        Ok(principal)
    }

    fn unknown_lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Instant>> {
        self.unknown
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn is_known_unknown(&self, hash: &str) -> bool {
        self.unknown_lock()
            .get(hash)
            .is_some_and(|seen| seen.elapsed() < KEY_CACHE_TTL)
    }

    /// Remembers a hash no key has; when full, forgets the expired ones first, and
    /// remembers nothing more while it is still full.
    fn remember_unknown(&self, hash: String) {
        let mut unknown = self.unknown_lock();
        if unknown.len() >= MAX_UNKNOWN_KEYS {
            unknown.retain(|_, seen| seen.elapsed() < KEY_CACHE_TTL);
        }
        if unknown.len() < MAX_UNKNOWN_KEYS {
            unknown.insert(hash, Instant::now());
        }
    }

    fn cache_lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, (Principal, Instant)>> {
        self.cache
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Forgets cached keys after a change, so this replica sees it at once.
    fn invalidate(&self) {
        self.cache_lock().clear();
        self.unknown_lock().clear();
    }

    async fn record(
        &self,
        actor: &str,
        action: &str,
        target: String,
        before: Option<serde_json::Value>,
        after: Option<serde_json::Value>,
    ) -> Result<(), GovernanceError> {
        self.audit
            .append(&AuditEntry {
                at: now_millis(),
                actor: actor.to_owned(),
                action: action.to_owned(),
                target,
                before,
                after,
            })
            .await
    }

    /// Creates or updates an organisation (`team` = `None`) or team.
    pub async fn put_group(
        &self,
        actor: &str,
        org: &str,
        team: Option<&str>,
        settings: &GroupSettings,
    ) -> Result<Group, GovernanceError> {
        check_name("organisation", org).map_err(GovernanceError::Invalid)?;
        if let Some(team) = team {
            check_name("team", team).map_err(GovernanceError::Invalid)?;
            if self.keys.group(org, None).await?.is_none() {
                return Err(GovernanceError::NotFound(format!(
                    "organisation `{org}` does not exist; create it first"
                )));
            }
        }
        let before = self.keys.group(org, team).await?;
        let group = self
            .keys
            .put_group(org, team, settings, now_millis())
            .await?;
        self.record(
            actor,
            if before.is_some() {
                "group.update"
            } else {
                "group.create"
            },
            group.scope().id(),
            before.map(|before| to_value(&before)),
            Some(to_value(&group)),
        )
        .await?;
        self.invalidate();
        Ok(group)
    }

    /// Creates a key, and its organisation and team when they do not exist yet (with
    /// no limits of their own). Returns the key and its secret, which is not kept.
    pub async fn create_key(
        &self,
        actor: &str,
        new: NewKey,
    ) -> Result<(Key, String), GovernanceError> {
        if self.keys.group(&new.org, None).await?.is_none() {
            self.put_group(actor, &new.org, None, &GroupSettings::default())
                .await?;
        }
        if let Some(team) = &new.team
            && self.keys.group(&new.org, Some(team)).await?.is_none()
        {
            self.put_group(actor, &new.org, Some(team), &GroupSettings::default())
                .await?;
        }
        self.insert_key(actor, "key.create", new.org, new.team, new.settings, None)
            .await
    }

    async fn insert_key(
        &self,
        actor: &str,
        action: &str,
        org: String,
        team: Option<String>,
        settings: KeySettings,
        rotated_from: Option<String>,
    ) -> Result<(Key, String), GovernanceError> {
        let entropy = |error: getrandom::Error| {
            GovernanceError::Unavailable(format!("no randomness for a key secret: {error}"))
        };
        let (secret, secret_hash) = secret::generate().map_err(entropy)?;
        let key = Key {
            id: secret::public_id("key").map_err(entropy)?,
            settings,
            org,
            team,
            last4: secret::last4(&secret),
            secret_hash,
            created_at: now_millis(),
            revoked_at: None,
            rotated_from,
        };
        self.keys.insert_key(&key).await?;
        self.record(actor, action, key.id.clone(), None, Some(to_value(&key)))
            .await?;
        Ok((key, secret))
    }

    async fn existing_key(&self, id: &str) -> Result<Key, GovernanceError> {
        self.keys
            .key(id)
            .await?
            .ok_or_else(|| GovernanceError::NotFound(format!("there is no key `{id}`")))
    }

    /// Replaces what the key may do.
    pub async fn update_key(
        &self,
        actor: &str,
        id: &str,
        settings: &KeySettings,
    ) -> Result<Key, GovernanceError> {
        let before = self.existing_key(id).await?;
        let after = self.keys.update_key(id, settings).await?;
        self.key_changed(actor, "key.update", &before, after).await
    }

    /// Revokes the key now.
    pub async fn revoke_key(&self, actor: &str, id: &str) -> Result<Key, GovernanceError> {
        let before = self.existing_key(id).await?;
        let after = self.keys.revoke_key(id, now_millis()).await?;
        self.key_changed(actor, "key.revoke", &before, after).await
    }

    /// Audits a key's change from `before` to `after` (what the store returned; `None`
    /// if the key went meanwhile) and forgets cached keys.
    async fn key_changed(
        &self,
        actor: &str,
        action: &str,
        before: &Key,
        after: Option<Key>,
    ) -> Result<Key, GovernanceError> {
        let after = after
            .ok_or_else(|| GovernanceError::NotFound(format!("there is no key `{}`", before.id)))?;
        self.record(
            actor,
            action,
            before.id.clone(),
            Some(to_value(before)),
            Some(to_value(&after)),
        )
        .await?;
        self.invalidate();
        Ok(after)
    }

    /// A new key with the old one's settings; the old one keeps working for `grace`
    /// (zero: revoked at once). Returns the new key and its secret.
    pub async fn rotate_key(
        &self,
        actor: &str,
        id: &str,
        grace: Duration,
    ) -> Result<(Key, String), GovernanceError> {
        let old = self.existing_key(id).await?;
        if let Some(reason) = old.unusable_at(now_millis()) {
            return Err(GovernanceError::Conflict(format!(
                "key `{id}` is {reason}; only a usable key can be rotated"
            )));
        }
        let (new, secret) = self
            .insert_key(
                actor,
                "key.rotate",
                old.org.clone(),
                old.team.clone(),
                old.settings.clone(),
                Some(old.id.clone()),
            )
            .await?;
        let revoke_at = now_millis().saturating_add(grace.as_millis() as i64);
        let revoked = self.keys.revoke_key(id, revoke_at).await?;
        self.key_changed(actor, "key.revoke", &old, revoked).await?;
        Ok((new, secret))
    }
}

fn to_value(value: &impl Serialize) -> serde_json::Value {
    serde_json::to_value(value).unwrap_or(serde_json::Value::Null)
}
