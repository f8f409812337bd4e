//! The embedded store's organisations, teams, keys, alert claims and audit log, as
//! [`crate::keys_sql::impl_key_store`] writes them for both SQL stores.

use switchyard_governance::{
    AlertClaim, AuditEntry, AuditLog, GovernanceError, Group, GroupSettings, Key, KeyFilter,
    KeySettings, KeyStore, Millis,
};

use super::SqliteStore;
use crate::StoreError;
use crate::keys_sql::impl_key_store;
use crate::rows::{
    AUDIT_COLUMNS, AuditRow, GROUP_COLUMNS, GroupRow, KEY_COLUMNS, KeyRow, convert, to_json,
};

impl_key_store!(SqliteStore);
