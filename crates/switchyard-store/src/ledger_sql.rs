//! The cost ledger's queries, built the same way on both SQL stores: report filters,
//! budget sums and groupings. Only the day of a timestamp is dialect-specific.

use sqlx::{Database, Encode, QueryBuilder, Type};
use switchyard_governance::{GroupBy, Scope, UsageQuery, Window};

/// The SQL expression a report groups by; `day` turns the `at` column (Unix
/// milliseconds) into `YYYY-MM-DD` in UTC.
pub(crate) fn group_expression(group: Option<GroupBy>, day: &'static str) -> &'static str {
    match group {
        None => "NULL",
        Some(GroupBy::Key) => "key_id",
        Some(GroupBy::Team) => "CASE WHEN team IS NULL THEN NULL ELSE org || '/' || team END",
        Some(GroupBy::Org) => "org",
        Some(GroupBy::Model) => "model",
        Some(GroupBy::Deployment) => "deployment",
        Some(GroupBy::Provider) => "provider",
        Some(GroupBy::Day) => day,
    }
}

/// `WHERE …` for a report's time range and filters.
pub(crate) fn push_filters<'args, DB>(sql: &mut QueryBuilder<'args, DB>, query: &UsageQuery)
where
    DB: Database,
    String: Encode<'args, DB> + Type<DB>,
    i64: Encode<'args, DB> + Type<DB>,
{
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

/// `SELECT` of what `scope` spent in `window`, as a 64-bit integer.
pub(crate) fn spent_query<'args, DB>(scope: &Scope, window: Window) -> QueryBuilder<'args, DB>
where
    DB: Database,
    String: Encode<'args, DB> + Type<DB>,
    i64: Encode<'args, DB> + Type<DB>,
{
    let mut sql =
        QueryBuilder::<DB>::new("SELECT CAST(COALESCE(SUM(cost), 0) AS BIGINT) FROM ledger WHERE ");
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
    sql
}

/// Implements [`SpendSource`] and [`Ledger`] for a SQL store, `$store`, with a `ready()`
/// method giving its pool of database `$db`; `$day` is the dialect's expression for
/// the UTC day of `at`. A macro, because the bodies are the same text for both
/// databases while sqlx's executor bounds make a generic version much harder to read.
///
/// [`SpendSource`]: switchyard_governance::SpendSource
/// [`Ledger`]: switchyard_governance::Ledger
macro_rules! impl_ledger {
    ($store:ty, $db:ty, $day:expr) => {
        #[async_trait::async_trait]
        impl SpendSource for $store {
            async fn spent(
                &self,
                scope: &Scope,
                window: Window,
            ) -> Result<MicroUsd, GovernanceError> {
                let pool = self.ready().await?;
                let mut sql = spent_query::<$db>(scope, window);
                let spent: i64 = sql
                    .build_query_scalar()
                    .fetch_one(pool)
                    .await
                    .map_err(StoreError::from)?;
                Ok(u64::try_from(spent).unwrap_or(0))
            }
        }

        #[async_trait::async_trait]
        impl Ledger for $store {
            async fn append(&self, records: &[LedgerRecord]) -> Result<(), GovernanceError> {
                if records.is_empty() {
                    return Ok(());
                }
                let pool = self.ready().await?;
                // 22 columns × 500 rows stays under SQLite's 32,766 bound parameters and
                // PostgreSQL's 65,535.
                for chunk in records.chunks(500) {
                    let mut sql =
                        QueryBuilder::<$db>::new(format!("INSERT INTO ledger ({LEDGER_COLUMNS}) "));
                    sql.push_values(chunk, bind_ledger_record);
                    sql.push(" ON CONFLICT (id) DO NOTHING");
                    sql.build().execute(pool).await.map_err(StoreError::from)?;
                }
                Ok(())
            }

            async fn usage(&self, query: &UsageQuery) -> Result<Vec<UsageRow>, GovernanceError> {
                let pool = self.ready().await?;
                let group = group_expression(query.group_by, $day);
                let mut sql = QueryBuilder::<$db>::new(format!(
                    "SELECT {group} AS grp, {USAGE_SUMS} FROM ledger"
                ));
                push_filters(&mut sql, query);
                sql.push(" GROUP BY grp ORDER BY grp NULLS LAST");
                let rows = sql
                    .build_query_as::<UsageRowRaw>()
                    .fetch_all(pool)
                    .await
                    .map_err(StoreError::from)?;
                Ok(convert(rows)?)
            }

            async fn records(
                &self,
                query: &UsageQuery,
                limit: u32,
            ) -> Result<Vec<LedgerRecord>, GovernanceError> {
                let pool = self.ready().await?;
                let mut sql =
                    QueryBuilder::<$db>::new(format!("SELECT {LEDGER_COLUMNS} FROM ledger"));
                push_filters(&mut sql, query);
                sql.push(" ORDER BY at, id LIMIT ")
                    .push_bind(i64::from(limit));
                let rows = sql
                    .build_query_as::<LedgerRow>()
                    .fetch_all(pool)
                    .await
                    .map_err(StoreError::from)?;
                Ok(convert(rows)?)
            }
        }
    };
}

pub(crate) use impl_ledger;
