//! The distributed store's cost ledger: batched inserts, reports and budget sums, as
//! [`crate::ledger_sql::impl_ledger`] writes them for both SQL stores.

use sqlx::{Postgres, QueryBuilder};
use switchyard_governance::{
    GovernanceError, Ledger, LedgerRecord, MicroUsd, Scope, SpendSource, UsageQuery, UsageRow,
    Window,
};

use super::PgStore;
use crate::StoreError;
use crate::ledger_sql::{group_expression, impl_ledger, push_filters, spent_query};
use crate::rows::{
    LEDGER_COLUMNS, LedgerRow, USAGE_SUMS, UsageRowRaw, bind_ledger_record, convert,
};

impl_ledger!(
    PgStore,
    Postgres,
    "to_char(to_timestamp(at / 1000.0) AT TIME ZONE 'UTC', 'YYYY-MM-DD')"
);
