//! The embedded store's cost ledger: batched inserts, reports and budget sums.

use sqlx::{QueryBuilder, Sqlite};
use switchyard_governance::{
    GovernanceError, Ledger, LedgerRecord, MicroUsd, Scope, SpendSource, UsageQuery, UsageRow,
    Window,
};

use super::SqliteStore;
use crate::StoreError;
use crate::ledger_sql::{group_expression, push_filters, spent_query};
use crate::rows::{
    LEDGER_COLUMNS, LedgerRow, USAGE_SUMS, UsageRowRaw, bind_ledger_record, convert,
};

const DAY: &str = "strftime('%Y-%m-%d', at / 1000, 'unixepoch')";

#[async_trait::async_trait]
impl SpendSource for SqliteStore {
    async fn spent(&self, scope: &Scope, window: Window) -> Result<MicroUsd, GovernanceError> {
        let pool = self.ready().await?;
        let mut sql = spent_query::<Sqlite>(scope, window);
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
            let mut sql =
                QueryBuilder::<Sqlite>::new(format!("INSERT INTO ledger ({LEDGER_COLUMNS}) "));
            sql.push_values(chunk, bind_ledger_record);
            sql.push(" ON CONFLICT (id) DO NOTHING");
            sql.build().execute(pool).await.map_err(StoreError::from)?;
        }
        Ok(())
    }

    async fn usage(&self, query: &UsageQuery) -> Result<Vec<UsageRow>, GovernanceError> {
        let pool = self.ready().await?;
        let group = group_expression(query.group_by, DAY);
        let mut sql =
            QueryBuilder::<Sqlite>::new(format!("SELECT {group} AS grp, {USAGE_SUMS} FROM ledger"));
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
        let mut sql = QueryBuilder::<Sqlite>::new(format!("SELECT {LEDGER_COLUMNS} FROM ledger"));
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
