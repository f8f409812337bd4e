//! The cost ledger: one record per request, and the usage reports made from it.
//!
//! - [`writer`]: the bounded queue and batching task between requests and the store,
//!   with its journal (`journal`) of records still queued.

mod journal;
pub mod writer;

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::GovernanceError;
use crate::limiter::SpendSource;
use crate::model::{MicroUsd, Millis};

/// What one request did and cost. `id` is unique per request (server-made), so a
/// record written twice is stored once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LedgerRecord {
    pub id: String,
    /// The `x-request-id` the caller saw (theirs, or the one the server made).
    pub request_id: String,
    /// When the request arrived: it is counted in the budget windows of that moment.
    pub at: Millis,
    /// `None` for requests made with a master key or with no key.
    pub key: Option<String>,
    pub org: Option<String>,
    pub team: Option<String>,
    pub model: String,
    pub deployment: Option<String>,
    pub provider: Option<String>,
    pub route: String,
    pub input_tokens: u64,
    pub output_tokens: u64,
    pub cached_tokens: u64,
    pub reasoning_tokens: u64,
    /// Where the prices came from: `catalog:<date>`, `config`, `local`, or `unknown`.
    pub price_version: String,
    pub cost: MicroUsd,
    pub latency_ms: u64,
    pub ttft_ms: Option<u64>,
    pub status: u16,
    pub stream: bool,
    /// Whether the usage was counted here because the upstream's never came (a stream
    /// cut off by either side).
    pub usage_estimated: bool,
    /// Calls to other deployments cut off because this one answered first.
    pub cancelled_calls: u32,
}

/// What usage is grouped by in a report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GroupBy {
    Key,
    Team,
    Org,
    Model,
    Deployment,
    Provider,
    Day,
}

impl GroupBy {
    pub const ALL: [GroupBy; 7] = [
        GroupBy::Key,
        GroupBy::Team,
        GroupBy::Org,
        GroupBy::Model,
        GroupBy::Deployment,
        GroupBy::Provider,
        GroupBy::Day,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            GroupBy::Key => "key",
            GroupBy::Team => "team",
            GroupBy::Org => "org",
            GroupBy::Model => "model",
            GroupBy::Deployment => "deployment",
            GroupBy::Provider => "provider",
            GroupBy::Day => "day",
        }
    }
}

impl fmt::Display for GroupBy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for GroupBy {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        GroupBy::ALL
            .into_iter()
            .find(|group| group.as_str() == text)
            .ok_or_else(|| {
                format!(
                    "`{text}` cannot group usage; use key, team, org, model, deployment, \
                     provider or day"
                )
            })
    }
}

/// Which records a report covers: `from` inclusive, `to` exclusive.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct UsageQuery {
    pub group_by: Option<GroupBy>,
    pub from: Option<Millis>,
    pub to: Option<Millis>,
    /// Only this organisation's records (an org-scoped report).
    pub org: Option<String>,
    pub key: Option<String>,
}

/// One line of a usage report.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UsageRow {
    /// The group's value (`None` for the whole when ungrouped, or for records without
    /// one, like requests made with no key).
    pub group: Option<String>,
    pub requests: u64,
    pub errors: u64,
    pub input_tokens: u64,
    pub output_tokens: u64,
    pub cached_tokens: u64,
    pub reasoning_tokens: u64,
    pub cost: MicroUsd,
}

#[async_trait::async_trait]
pub trait Ledger: SpendSource {
    /// Stores `records`, once each: a record whose id is already stored is skipped.
    async fn append(&self, records: &[LedgerRecord]) -> Result<(), GovernanceError>;

    async fn usage(&self, query: &UsageQuery) -> Result<Vec<UsageRow>, GovernanceError>;

    /// The records `query` covers (its grouping aside), oldest first, at most `limit`.
    async fn records(
        &self,
        query: &UsageQuery,
        limit: u32,
    ) -> Result<Vec<LedgerRecord>, GovernanceError>;
}
