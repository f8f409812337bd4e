//! The embedded store's cost ledger: batched inserts, reports and budget sums.

use sqlx::sqlite::SqliteRow;
use sqlx::{QueryBuilder, Row, Sqlite};
use switchyard_governance::{
    GovernanceError, GroupBy, Ledger, LedgerRecord, MicroUsd, Scope, SpendSource, UsageQuery,
    UsageRow, Window,
};

use super::SqliteStore;
use crate::StoreError;

const COLUMNS: &str = "id, request_id, at, key_id, org, team, model, deployment, provider, \
    route, input_tokens, output_tokens, cached_tokens, reasoning_tokens, price_version, cost, \
    latency_ms, ttft_ms, status, stream, usage_estimated, cancelled_calls";

/// SQLite stores integers as i64; token counts and micro-dollars fit with room to spare.
fn int(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

fn uint(row: &SqliteRow, column: &str) -> Result<u64, sqlx::Error> {
    Ok(u64::try_from(row.try_get::<i64, _>(column)?).unwrap_or(0))
}

fn record_from(row: &SqliteRow) -> Result<LedgerRecord, sqlx::Error> {
    Ok(LedgerRecord {
        id: row.try_get("id")?,
        request_id: row.try_get("request_id")?,
        at: row.try_get("at")?,
        key: row.try_get("key_id")?,
        org: row.try_get("org")?,
        team: row.try_get("team")?,
        model: row.try_get("model")?,
        deployment: row.try_get("deployment")?,
        provider: row.try_get("provider")?,
        route: row.try_get("route")?,
        input_tokens: uint(row, "input_tokens")?,
        output_tokens: uint(row, "output_tokens")?,
        cached_tokens: uint(row, "cached_tokens")?,
        reasoning_tokens: uint(row, "reasoning_tokens")?,
        price_version: row.try_get("price_version")?,
        cost: uint(row, "cost")?,
        latency_ms: uint(row, "latency_ms")?,
        ttft_ms: row
            .try_get::<Option<i64>, _>("ttft_ms")?
            .map(|ms| u64::try_from(ms).unwrap_or(0)),
        status: u16::try_from(row.try_get::<i64, _>("status")?).unwrap_or(0),
        stream: row.try_get("stream")?,
        usage_estimated: row.try_get("usage_estimated")?,
        cancelled_calls: u32::try_from(row.try_get::<i64, _>("cancelled_calls")?).unwrap_or(0),
    })
}

/// The SQL expression a report groups by.
fn group_expression(group: Option<GroupBy>) -> &'static str {
    match group {
        None => "NULL",
        Some(GroupBy::Key) => "key_id",
        Some(GroupBy::Team) => "CASE WHEN team IS NULL THEN NULL ELSE org || '/' || team END",
        Some(GroupBy::Org) => "org",
        Some(GroupBy::Model) => "model",
        Some(GroupBy::Deployment) => "deployment",
        Some(GroupBy::Provider) => "provider",
        Some(GroupBy::Day) => "strftime('%Y-%m-%d', at / 1000, 'unixepoch')",
    }
}

/// `WHERE …` for a query's time range and filters.
fn push_filters(sql: &mut QueryBuilder<'_, Sqlite>, query: &UsageQuery) {
    sql.push(" WHERE 1 = 1");
    if let Some(from) = query.from {
        sql.push(" AND at >= ").push_bind(from);
    }
    if let Some(to) = query.to {
        sql.push(" AND at < ").push_bind(to);
    }
    if let Some(org) = &query.org {
        sql.push(" AND org = ").push_bind(org.clone());
    }
    if let Some(key) = &query.key {
        sql.push(" AND key_id = ").push_bind(key.clone());
    }
}

#[async_trait::async_trait]
impl SpendSource for SqliteStore {
    async fn spent(&self, scope: &Scope, window: Window) -> Result<MicroUsd, GovernanceError> {
        let pool = self.ready().await?;
        let mut sql =
            QueryBuilder::<Sqlite>::new("SELECT COALESCE(SUM(cost), 0) FROM ledger WHERE ");
        match scope {
            Scope::Org { org } => {
                sql.push("org = ").push_bind(org.clone());
            }
            Scope::Team { org, team } => {
                sql.push("org = ").push_bind(org.clone());
                sql.push(" AND team = ").push_bind(team.clone());
            }
            Scope::Key { key } => {
                sql.push("key_id = ").push_bind(key.clone());
            }
        }
        sql.push(" AND at >= ").push_bind(window.start);
        if let Some(end) = window.end {
            sql.push(" AND at < ").push_bind(end);
        }
        let spent: i64 = sql
            .build_query_scalar()
            .fetch_one(pool)
            .await
            .map_err(StoreError::from)?;
        Ok(u64::try_from(spent).unwrap_or(0))
    }
}

#[async_trait::async_trait]
impl Ledger for SqliteStore {
    async fn append(&self, records: &[LedgerRecord]) -> Result<(), GovernanceError> {
        if records.is_empty() {
            return Ok(());
        }
        let pool = self.ready().await?;
        // 22 columns × 500 rows stays under SQLite's 32,766 bound parameters.
        for chunk in records.chunks(500) {
            let mut sql = QueryBuilder::<Sqlite>::new(format!("INSERT INTO ledger ({COLUMNS}) "));
            sql.push_values(chunk, |mut row, record| {
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
            });
            sql.push(" ON CONFLICT (id) DO NOTHING");
            sql.build().execute(pool).await.map_err(StoreError::from)?;
        }
        Ok(())
    }

    async fn usage(&self, query: &UsageQuery) -> Result<Vec<UsageRow>, GovernanceError> {
        let pool = self.ready().await?;
        let group = group_expression(query.group_by);
        let mut sql = QueryBuilder::<Sqlite>::new(format!(
            "SELECT {group} AS grp, COUNT(*) AS requests, \
             SUM(CASE WHEN status >= 400 THEN 1 ELSE 0 END) AS errors, \
             SUM(input_tokens) AS input_tokens, SUM(output_tokens) AS output_tokens, \
             SUM(cached_tokens) AS cached_tokens, SUM(reasoning_tokens) AS reasoning_tokens, \
             SUM(cost) AS cost FROM ledger"
        ));
        push_filters(&mut sql, query);
        sql.push(" GROUP BY grp ORDER BY grp IS NULL, grp");
        let rows = sql
            .build()
            .fetch_all(pool)
            .await
            .map_err(StoreError::from)?;
        Ok(rows
            .iter()
            .map(|row| -> Result<UsageRow, sqlx::Error> {
                Ok(UsageRow {
                    group: row.try_get("grp")?,
                    requests: uint(row, "requests")?,
                    errors: uint(row, "errors")?,
                    input_tokens: uint(row, "input_tokens")?,
                    output_tokens: uint(row, "output_tokens")?,
                    cached_tokens: uint(row, "cached_tokens")?,
                    reasoning_tokens: uint(row, "reasoning_tokens")?,
                    cost: uint(row, "cost")?,
                })
            })
            .collect::<Result<Vec<_>, _>>()
            .map_err(StoreError::from)?)
    }

    async fn records(
        &self,
        query: &UsageQuery,
        limit: u32,
    ) -> Result<Vec<LedgerRecord>, GovernanceError> {
        let pool = self.ready().await?;
        let mut sql = QueryBuilder::<Sqlite>::new(format!("SELECT {COLUMNS} FROM ledger"));
        push_filters(&mut sql, query);
        sql.push(" ORDER BY at, id LIMIT ")
            .push_bind(i64::from(limit));
        let rows = sql
            .build()
            .fetch_all(pool)
            .await
            .map_err(StoreError::from)?;
        Ok(rows
            .iter()
            .map(record_from)
            .collect::<Result<_, _>>()
            .map_err(StoreError::from)?)
    }
}
