//! Organisations, teams, keys, alert claims and the audit log, as both SQL stores keep
//! them: one body of SQL in the subset SQLite and PostgreSQL share (`$n` parameters,
//! `ON CONFLICT`, `RETURNING`, `CAST`), so the two cannot drift apart.

/// Implements [`KeyStore`] and [`AuditLog`] for a SQL store, `$store`, with a `ready()`
/// method giving its pool. A macro, like [`crate::ledger_sql::impl_ledger`]: the text
/// is the same for both databases, while sqlx's executor bounds would make a generic
/// version much harder to read.
///
/// [`KeyStore`]: switchyard_governance::KeyStore
/// [`AuditLog`]: switchyard_governance::AuditLog
macro_rules! impl_key_store {
    ($store:ty) => {
        impl $store {
            async fn key_where(
                &self,
                column: &str,
                value: &str,
            ) -> Result<Option<Key>, StoreError> {
                let pool = self.ready().await?;
                let row = sqlx::query_as::<_, KeyRow>(&format!(
                    "SELECT {KEY_COLUMNS} FROM keys WHERE {column} = $1"
                ))
                .bind(value)
                .fetch_optional(pool)
                .await?;
                row.map(Key::try_from).transpose()
            }
        }

        #[async_trait::async_trait]
        impl KeyStore for $store {
            async fn put_group(
                &self,
                org: &str,
                team: Option<&str>,
                settings: &GroupSettings,
                now: Millis,
            ) -> Result<Group, GovernanceError> {
                let pool = self.ready().await?;
                let row = sqlx::query_as::<_, GroupRow>(&format!(
                    "INSERT INTO groups ({GROUP_COLUMNS}) VALUES ($1, $2, $3, $4, $5) \
                     ON CONFLICT (org, team) DO UPDATE SET settings = excluded.settings, \
                     updated_at = excluded.updated_at \
                     RETURNING {GROUP_COLUMNS}"
                ))
                .bind(org)
                .bind(team.unwrap_or(""))
                .bind(to_json(settings))
                .bind(now)
                .bind(now)
                .fetch_one(pool)
                .await
                .map_err(StoreError::from)?;
                Ok(Group::try_from(row)?)
            }

            async fn group(
                &self,
                org: &str,
                team: Option<&str>,
            ) -> Result<Option<Group>, GovernanceError> {
                let pool = self.ready().await?;
                let row = sqlx::query_as::<_, GroupRow>(&format!(
                    "SELECT {GROUP_COLUMNS} FROM groups WHERE org = $1 AND team = $2"
                ))
                .bind(org)
                .bind(team.unwrap_or(""))
                .fetch_optional(pool)
                .await
                .map_err(StoreError::from)?;
                Ok(row.map(Group::try_from).transpose()?)
            }

            async fn groups(&self) -> Result<Vec<Group>, GovernanceError> {
                let pool = self.ready().await?;
                let rows = sqlx::query_as::<_, GroupRow>(&format!(
                    "SELECT {GROUP_COLUMNS} FROM groups ORDER BY org, team"
                ))
                .fetch_all(pool)
                .await
                .map_err(StoreError::from)?;
                Ok(convert(rows)?)
            }

            async fn insert_key(&self, key: &Key) -> Result<(), GovernanceError> {
                let pool = self.ready().await?;
                sqlx::query(&format!(
                    "INSERT INTO keys ({KEY_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
                ))
                .bind(&key.id)
                .bind(&key.secret_hash)
                .bind(&key.last4)
                .bind(&key.org)
                .bind(&key.team)
                .bind(to_json(&key.settings))
                .bind(key.created_at)
                .bind(key.revoked_at)
                .bind(&key.rotated_from)
                .execute(pool)
                .await
                .map_err(|error| match &error {
                    sqlx::Error::Database(database) if database.is_unique_violation() => {
                        GovernanceError::Conflict(format!("key `{}` already exists", key.id))
                    }
                    _ => StoreError::from(error).into(),
                })?;
                Ok(())
            }

            async fn key(&self, id: &str) -> Result<Option<Key>, GovernanceError> {
                Ok(self.key_where("id", id).await?)
            }

            async fn key_by_hash(&self, secret_hash: &str) -> Result<Option<Key>, GovernanceError> {
                Ok(self.key_where("secret_hash", secret_hash).await?)
            }

            async fn keys(&self, filter: &KeyFilter) -> Result<Vec<Key>, GovernanceError> {
                let pool = self.ready().await?;
                let rows = sqlx::query_as::<_, KeyRow>(&format!(
                    "SELECT {KEY_COLUMNS} FROM keys \
                     WHERE (CAST($1 AS TEXT) IS NULL OR org = $1) \
                     AND (CAST($2 AS TEXT) IS NULL OR team = $2) \
                     AND ($3 OR revoked_at IS NULL OR revoked_at > $4) \
                     ORDER BY created_at, id"
                ))
                .bind(&filter.org)
                .bind(&filter.team)
                .bind(filter.revoked)
                .bind(switchyard_governance::period::now_millis())
                .fetch_all(pool)
                .await
                .map_err(StoreError::from)?;
                Ok(convert(rows)?)
            }

            async fn update_key(
                &self,
                id: &str,
                settings: &KeySettings,
            ) -> Result<Option<Key>, GovernanceError> {
                let pool = self.ready().await?;
                let row = sqlx::query_as::<_, KeyRow>(&format!(
                    "UPDATE keys SET settings = $1 WHERE id = $2 RETURNING {KEY_COLUMNS}"
                ))
                .bind(to_json(settings))
                .bind(id)
                .fetch_optional(pool)
                .await
                .map_err(StoreError::from)?;
                Ok(row.map(Key::try_from).transpose()?)
            }

            async fn revoke_key(
                &self,
                id: &str,
                at: Millis,
            ) -> Result<Option<Key>, GovernanceError> {
                let pool = self.ready().await?;
                let row = sqlx::query_as::<_, KeyRow>(&format!(
                    "UPDATE keys SET revoked_at = CASE WHEN revoked_at IS NULL OR revoked_at > $1 \
                     THEN $1 ELSE revoked_at END WHERE id = $2 \
                     RETURNING {KEY_COLUMNS}"
                ))
                .bind(at)
                .bind(id)
                .fetch_optional(pool)
                .await
                .map_err(StoreError::from)?;
                Ok(row.map(Key::try_from).transpose()?)
            }

            async fn claim_alert(&self, claim: &AlertClaim) -> Result<bool, GovernanceError> {
                let pool = self.ready().await?;
                let inserted = sqlx::query(
                    "INSERT INTO alert_claims (scope, period, window_start, threshold) \
                     VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
                )
                .bind(&claim.scope)
                .bind(claim.period.as_str())
                .bind(claim.window_start)
                .bind(i64::from(claim.threshold))
                .execute(pool)
                .await
                .map_err(StoreError::from)?;
                Ok(inserted.rows_affected() == 1)
            }
        }

        #[async_trait::async_trait]
        impl AuditLog for $store {
            async fn append(&self, entry: &AuditEntry) -> Result<(), GovernanceError> {
                let pool = self.ready().await?;
                sqlx::query(&format!(
                    "INSERT INTO audit ({AUDIT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6)"
                ))
                .bind(entry.at)
                .bind(&entry.actor)
                .bind(&entry.action)
                .bind(&entry.target)
                .bind(entry.before.as_ref().map(to_json))
                .bind(entry.after.as_ref().map(to_json))
                .execute(pool)
                .await
                .map_err(StoreError::from)?;
                Ok(())
            }

            async fn entries(
                &self,
                since: Option<Millis>,
                limit: u32,
            ) -> Result<Vec<AuditEntry>, GovernanceError> {
                let pool = self.ready().await?;
                let rows = sqlx::query_as::<_, AuditRow>(&format!(
                    "SELECT {AUDIT_COLUMNS} FROM audit WHERE at >= $1 ORDER BY seq LIMIT $2"
                ))
                .bind(since.unwrap_or(i64::MIN))
                .bind(i64::from(limit))
                .fetch_all(pool)
                .await
                .map_err(StoreError::from)?;
                Ok(convert(rows)?)
            }
        }
    };
}

pub(crate) use impl_key_store;
