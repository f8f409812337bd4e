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
