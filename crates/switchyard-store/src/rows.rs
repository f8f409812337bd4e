//! Rows as both SQL stores read and write them, and their conversion to governance's
//! types: the mapping lives here once, the SQL dialects in `sqlite` and `postgres`.
//!
//! `#[derive(FromRow)]` is generic over the database, so one row type serves both.
//! Integers are `BIGINT`/`INTEGER` (i64) in both; settings and audit snapshots are JSON
//! text.

use serde::Serialize;
use serde::de::DeserializeOwned;
use sqlx::query_builder::Separated;
use sqlx::{Database, Encode, Type};
use switchyard_governance::{
    AuditEntry, Group, GroupSettings, Key, KeySettings, LedgerRecord, UsageRow,
};

use crate::StoreError;
use crate::responses::{Owner, StoredResponse};

pub(crate) fn to_json(value: &impl Serialize) -> String {
    serde_json::to_string(value).unwrap_or_else(|_| "null".to_owned())
}

pub(crate) fn from_json<T: DeserializeOwned>(what: &str, text: &str) -> Result<T, StoreError> {
    serde_json::from_str(text).map_err(|error| StoreError::Corrupt(format!("{what}: {error}")))
}

/// Both databases store integers as i64; token counts and micro-dollars fit with room
/// to spare.
pub(crate) fn int(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

fn uint(value: i64) -> u64 {
    u64::try_from(value).unwrap_or(0)
}

pub(crate) const GROUP_COLUMNS: &str = "org, team, settings, created_at, updated_at";

/// An organisation (`team` empty) or a team.
#[derive(sqlx::FromRow)]
pub(crate) struct GroupRow {
    org: String,
    team: String,
    settings: String,
    created_at: i64,
    updated_at: i64,
}

impl TryFrom<GroupRow> for Group {
    type Error = StoreError;

    fn try_from(row: GroupRow) -> Result<Group, StoreError> {
        let settings: GroupSettings = from_json("groups.settings", &row.settings)?;
        Ok(Group {
            org: row.org,
            team: (!row.team.is_empty()).then_some(row.team),
            limits: settings.limits,
            budgets: settings.budgets,
            metadata: settings.metadata,
            created_at: row.created_at,
            updated_at: row.updated_at,
        })
    }
}

pub(crate) const KEY_COLUMNS: &str =
    "id, secret_hash, last4, org, team, settings, created_at, revoked_at, rotated_from";

#[derive(sqlx::FromRow)]
pub(crate) struct KeyRow {
    id: String,
    secret_hash: String,
    last4: String,
    org: String,
    team: Option<String>,
    settings: String,
    created_at: i64,
    revoked_at: Option<i64>,
    rotated_from: Option<String>,
}

impl TryFrom<KeyRow> for Key {
    type Error = StoreError;

    fn try_from(row: KeyRow) -> Result<Key, StoreError> {
        let settings: KeySettings = from_json("keys.settings", &row.settings)?;
        Ok(Key {
            id: row.id,
            settings,
            org: row.org,
            team: row.team,
            secret_hash: row.secret_hash,
            last4: row.last4,
            created_at: row.created_at,
            revoked_at: row.revoked_at,
            rotated_from: row.rotated_from,
        })
    }
}

/// Converts rows fetched as `R` into `T`, the first unreadable one failing them all.
pub(crate) fn convert<R, T>(rows: Vec<R>) -> Result<Vec<T>, StoreError>
where
    T: TryFrom<R, Error = StoreError>,
{
    rows.into_iter().map(T::try_from).collect()
}

pub(crate) const AUDIT_COLUMNS: &str = "at, actor, action, target, before, after";

#[derive(sqlx::FromRow)]
pub(crate) struct AuditRow {
    at: i64,
    actor: String,
    action: String,
    target: String,
    before: Option<String>,
    after: Option<String>,
}

impl TryFrom<AuditRow> for AuditEntry {
    type Error = StoreError;

    fn try_from(row: AuditRow) -> Result<AuditEntry, StoreError> {
        let snapshot = |column: &str, text: Option<String>| {
            text.map(|text| from_json(&format!("audit.{column}"), &text))
                .transpose()
        };
        Ok(AuditEntry {
            at: row.at,
            actor: row.actor,
            action: row.action,
            target: row.target,
            before: snapshot("before", row.before)?,
            after: snapshot("after", row.after)?,
        })
    }
}

pub(crate) const LEDGER_COLUMNS: &str = "id, request_id, at, key_id, org, team, model, \
    deployment, provider, route, input_tokens, output_tokens, cached_tokens, \
    reasoning_tokens, price_version, cost, latency_ms, ttft_ms, status, stream, \
    usage_estimated, cancelled_calls";

#[derive(sqlx::FromRow)]
pub(crate) struct LedgerRow {
    id: String,
    request_id: String,
    at: i64,
    key_id: Option<String>,
    org: Option<String>,
    team: Option<String>,
    model: String,
    deployment: Option<String>,
    provider: Option<String>,
    route: String,
    input_tokens: i64,
    output_tokens: i64,
    cached_tokens: i64,
    reasoning_tokens: i64,
    price_version: String,
    cost: i64,
    latency_ms: i64,
    ttft_ms: Option<i64>,
    status: i64,
    stream: bool,
    usage_estimated: bool,
    cancelled_calls: i64,
}

impl TryFrom<LedgerRow> for LedgerRecord {
    type Error = StoreError;

    fn try_from(row: LedgerRow) -> Result<LedgerRecord, StoreError> {
        Ok(LedgerRecord {
            id: row.id,
            request_id: row.request_id,
            at: row.at,
            key: row.key_id,
            org: row.org,
            team: row.team,
            model: row.model,
            deployment: row.deployment,
            provider: row.provider,
            route: row.route,
            input_tokens: uint(row.input_tokens),
            output_tokens: uint(row.output_tokens),
            cached_tokens: uint(row.cached_tokens),
            reasoning_tokens: uint(row.reasoning_tokens),
            price_version: row.price_version,
            cost: uint(row.cost),
            latency_ms: uint(row.latency_ms),
            ttft_ms: row.ttft_ms.map(uint),
            status: u16::try_from(row.status).unwrap_or(0),
            stream: row.stream,
            usage_estimated: row.usage_estimated,
            cancelled_calls: u32::try_from(row.cancelled_calls).unwrap_or(0),
        })
    }
}

/// Binds one ledger record's values, in [`LEDGER_COLUMNS`] order, to a row of a
/// multi-row `INSERT … VALUES`.
pub(crate) fn bind_ledger_record<'args, DB>(
    mut row: Separated<'_, 'args, DB, &'static str>,
    record: &LedgerRecord,
) where
    DB: Database,
    String: Encode<'args, DB> + Type<DB>,
    Option<String>: Encode<'args, DB> + Type<DB>,
    i64: Encode<'args, DB> + Type<DB>,
    Option<i64>: Encode<'args, DB> + Type<DB>,
    bool: Encode<'args, DB> + Type<DB>,
{
    row.push_bind(record.id.clone())
        .push_bind(record.request_id.clone())
        .push_bind(record.at)
        .push_bind(record.key.clone())
        .push_bind(record.org.clone())
        .push_bind(record.team.clone())
        .push_bind(record.model.clone())
        .push_bind(record.deployment.clone())
        .push_bind(record.provider.clone())
        .push_bind(record.route.clone())
        .push_bind(int(record.input_tokens))
        .push_bind(int(record.output_tokens))
        .push_bind(int(record.cached_tokens))
        .push_bind(int(record.reasoning_tokens))
        .push_bind(record.price_version.clone())
        .push_bind(int(record.cost))
        .push_bind(int(record.latency_ms))
        .push_bind(record.ttft_ms.map(int))
        .push_bind(i64::from(record.status))
        .push_bind(record.stream)
        .push_bind(record.usage_estimated)
        .push_bind(i64::from(record.cancelled_calls));
}

/// One line of a usage report, its sums as the database returns them.
#[derive(sqlx::FromRow)]
pub(crate) struct UsageRowRaw {
    grp: Option<String>,
    requests: i64,
    errors: i64,
    input_tokens: i64,
    output_tokens: i64,
    cached_tokens: i64,
    reasoning_tokens: i64,
    cost: i64,
}

/// The sums of a usage report, each cast to a 64-bit integer (PostgreSQL's `SUM` of
/// `BIGINT` is `NUMERIC`; SQLite's is an integer already).
pub(crate) const USAGE_SUMS: &str = "COUNT(*) AS requests, \
    CAST(SUM(CASE WHEN status >= 400 THEN 1 ELSE 0 END) AS BIGINT) AS errors, \
    CAST(SUM(input_tokens) AS BIGINT) AS input_tokens, \
    CAST(SUM(output_tokens) AS BIGINT) AS output_tokens, \
    CAST(SUM(cached_tokens) AS BIGINT) AS cached_tokens, \
    CAST(SUM(reasoning_tokens) AS BIGINT) AS reasoning_tokens, \
    CAST(SUM(cost) AS BIGINT) AS cost";

impl TryFrom<UsageRowRaw> for UsageRow {
    type Error = StoreError;

    fn try_from(row: UsageRowRaw) -> Result<UsageRow, StoreError> {
        Ok(UsageRow {
            group: row.grp,
            requests: uint(row.requests),
            errors: uint(row.errors),
            input_tokens: uint(row.input_tokens),
            output_tokens: uint(row.output_tokens),
            cached_tokens: uint(row.cached_tokens),
            reasoning_tokens: uint(row.reasoning_tokens),
            cost: uint(row.cost),
        })
    }
}

pub(crate) const RESPONSE_COLUMNS: &str =
    "id, owner_org, owner_key, created_at, expires_at, response, input_items";

/// A row of `responses`, in [`RESPONSE_COLUMNS`] order.
#[derive(sqlx::FromRow)]
pub(crate) struct ResponseRow {
    pub(crate) id: String,
    pub(crate) owner_org: String,
    pub(crate) owner_key: Option<String>,
    pub(crate) created_at: i64,
    pub(crate) expires_at: i64,
    pub(crate) response: String,
    pub(crate) input_items: String,
}

impl From<&StoredResponse> for ResponseRow {
    fn from(response: &StoredResponse) -> ResponseRow {
        ResponseRow {
            id: response.id.clone(),
            owner_org: response.owner.org.clone(),
            owner_key: response.owner.key.clone(),
            created_at: response.created_at,
            expires_at: response.expires_at,
            response: response.response.to_string(),
            input_items: serde_json::Value::from(response.input_items.clone()).to_string(),
        }
    }
}

impl TryFrom<ResponseRow> for StoredResponse {
    type Error = StoreError;

    fn try_from(row: ResponseRow) -> Result<StoredResponse, StoreError> {
        let serde_json::Value::Array(input_items) =
            from_json("responses.input_items", &row.input_items)?
        else {
            return Err(StoreError::Corrupt(
                "responses.input_items is not a list".to_owned(),
            ));
        };
        Ok(StoredResponse {
            id: row.id,
            owner: Owner {
                org: row.owner_org,
                key: row.owner_key,
            },
            created_at: row.created_at,
            expires_at: row.expires_at,
            response: from_json("responses.response", &row.response)?,
            input_items,
        })
    }
}
