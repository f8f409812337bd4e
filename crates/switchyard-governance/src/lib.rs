//! Who may spend what: virtual keys under teams and organisations, their rate limits
//! and budgets, the cost ledger and the audit log.
//!
//! The traits are what a backend implements; [`Governance`] is what the server holds.
//! The embedded backend is SQLite (in `switchyard-store`) with [`MemoryLimiter`]; the
//! distributed one is PostgreSQL with a Redis limiter (also in `switchyard-store`). The [`conformance`] suite holds every backend to the
//! same behaviour.
//!
//! - [`model`]: organisations, teams, keys, limits, budgets, money.
//! - [`period`]: budget periods as UTC calendar windows.
//! - [`secret`]: key secrets and their hashes.
//! - [`gcra`]: the rate-limit arithmetic.
//! - [`limiter`]: admission and settlement ([`Limiter`]), and the in-process counters.
//! - [`ledger`]: per-request cost records, reports, and the batching writer.
//! - [`keys`], [`audit`]: the stores of keys and of admin actions.
//! - [`private_file`]: files of governance data readable by this user only.
//! - [`service`]: [`Governance`], authentication and the admin operations.

pub mod audit;
#[cfg(any(test, feature = "conformance"))]
pub mod conformance;
pub mod gcra;
pub mod keys;
pub mod ledger;
pub mod limiter;
pub mod model;
pub mod period;
pub mod private_file;
pub mod secret;
pub mod service;

pub use audit::{AuditEntry, AuditLog};
pub use keys::{AlertClaim, KeyFilter, KeyStore};
pub use ledger::writer::{LedgerWriter, WriterOptions, replay_journal, replay_spill};
pub use ledger::{GroupBy, Ledger, LedgerRecord, UsageQuery, UsageRow};
pub use limiter::memory::MemoryLimiter;
pub use limiter::{
    Admission, Demand, Grant, Level, Limiter, Quota, Refusal, RefusalReason, Remaining, Spend,
    SpendSource, Used,
};
pub use model::{
    Budget, Group, GroupSettings, Key, KeySettings, Limits, MicroUsd, Millis, Principal, Scope,
};
pub use period::{Period, Window};
pub use service::{Governance, NewKey};

/// What went wrong in governance: the store, or the request to change it.
#[derive(Debug, thiserror::Error)]
pub enum GovernanceError {
    /// The store or counters cannot be reached; requests are refused or let through
    /// as `on_store_error` says.
    #[error("the governance store is unavailable: {0}")]
    Unavailable(String),
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    Invalid(String),
    #[error("a stored record is corrupt: {0}")]
    Corrupt(String),
    #[error("the ledger spill file failed: {0}")]
    Spill(String),
}
