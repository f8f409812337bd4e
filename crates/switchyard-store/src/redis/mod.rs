//! [`RedisLimiter`]: the distributed backend's counters, shared by every replica.
//!
//! Each admission is one Lua script (`admit.lua`) over every level's keys, so it is as
//! atomic across replicas as [`switchyard_governance::MemoryLimiter`]'s critical section
//! is within one process, and settlement is another (`settle.lua`). The scripts keep the
//! same state the in-process limiter does, under `{prefix}{scope id}:…`:
//!
//! - `…:rpm`, `…:tpm`: GCRA theoretical arrival times (µs, Redis's clock), expiring a
//!   minute after the limit is full again;
//! - `…:leases`: a sorted set of request ids by lease expiry;
//! - `…:budget:{period}:{window start}`: a hash of `spent`, `reserved` and each
//!   reservation (`r:{request id}`), with `…:expiries` (request ids by expiry) beside it,
//!   both dropped a week after the window ends.
//!
//! The arithmetic that needs more than a double's 53 bits, and everything presented to
//! callers, stays in Rust ([`Gcra`]): a script is given each rate check's interval and
//! returns the new arrival times. A budget window's spend before this Redis knew it comes
//! from the ledger the first time the window is used, like the in-process limiter's.
//!
//! All of a request's keys go to one script, so this needs a single Redis (or a
//! primary behind Sentinel), not Redis Cluster.

use std::sync::Arc;
use std::time::Duration;

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::{Script, ScriptInvocation};
use switchyard_governance::gcra::{Gcra, MINUTE_US};
use switchyard_governance::limiter::{
    Admission, Demand, Grant, Level, Limiter, Quota, Refusal, RefusalReason, Remaining, Spend,
    SpendSource, Used,
};
use switchyard_governance::period::{Window, now_millis};
use switchyard_governance::{Budget, GovernanceError, MicroUsd, Scope};
use tokio::sync::OnceCell;

const PRELUDE: &str = include_str!("prelude.lua");

/// How long a Redis command may take before the limiter counts Redis as down.
const RESPONSE_TIMEOUT: Duration = Duration::from_secs(2);

/// How long after its window ends a budget's counters are kept (late settlements of
/// requests that started inside it still land).
const BUDGET_GRACE_MS: i64 = 7 * 86_400_000;

/// A Redis server to connect to, parsed from its URL. Shows only `host:port`: never a
/// password.
#[derive(Clone)]
pub struct RedisTarget {
    client: redis::Client,
    location: String,
}

impl RedisTarget {
    /// Parses `redis://[:password@]host:port[/db]` (or `rediss://`).
    ///
    /// # Errors
    ///
    /// A URL that does not parse; the message does not repeat it.
    pub fn parse(url: &str) -> Result<RedisTarget, GovernanceError> {
        let client = redis::Client::open(url).map_err(|error| {
            GovernanceError::Invalid(format!("the Redis URL is not valid: {error}"))
        })?;
        let location = client.get_connection_info().addr().to_string();
        Ok(RedisTarget { client, location })
    }

    pub fn location(&self) -> &str {
        &self.location
    }
}

impl std::fmt::Debug for RedisTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.location)
    }
}

impl PartialEq for RedisTarget {
    fn eq(&self, other: &RedisTarget) -> bool {
        self.location == other.location
    }
}

#[derive(Debug)]
pub struct RedisLimiter {
    target: RedisTarget,
    connection: OnceCell<ConnectionManager>,
    prefix: String,
    spend_source: Option<Arc<dyn SpendSource>>,
    scripts: Scripts,
}

#[derive(Debug)]
struct Scripts {
    admit: Script,
    settle: Script,
    spend: Script,
    seed: Script,
}

impl Scripts {
    fn new() -> Scripts {
        let script = |body: &str| Script::new(&format!("{PRELUDE}\n{body}"));
        Scripts {
            admit: script(include_str!("admit.lua")),
            settle: script(include_str!("settle.lua")),
            spend: script(include_str!("spend.lua")),
            seed: script(include_str!("seed.lua")),
        }
    }
}

/// One check of an admission, in the order the script runs them.
#[derive(Debug)]
enum Check<'a> {
    Parallel {
        level: &'a Level,
        limit: u64,
    },
    Rate {
        level: &'a Level,
        tokens: bool,
        gcra: Gcra,
    },
    TooLarge {
        level: &'a Level,
        limit: u64,
    },
    Budget {
        level: &'a Level,
        budget: Budget,
        window: Window,
    },
}

impl Check<'_> {
    fn level(&self) -> &Level {
        match self {
            Check::Parallel { level, .. }
            | Check::Rate { level, .. }
            | Check::TooLarge { level, .. }
            | Check::Budget { level, .. } => level,
        }
    }
}

impl RedisLimiter {
    /// A limiter on `target`, its keys under `prefix`. Nothing is connected until the
    /// first admission.
    pub fn new(target: &RedisTarget, prefix: &str) -> RedisLimiter {
        RedisLimiter {
            target: target.clone(),
            connection: OnceCell::new(),
            prefix: prefix.to_owned(),
            spend_source: None,
            scripts: Scripts::new(),
        }
    }

    /// Counters that take each budget's earlier spend from `source` (the ledger).
    pub fn with_spend_source(mut self, source: Arc<dyn SpendSource>) -> Self {
        self.spend_source = Some(source);
        self
    }

    fn unavailable(&self, error: &redis::RedisError) -> GovernanceError {
        GovernanceError::Unavailable(format!("Redis at {}: {error}", self.target.location))
    }

    /// Budget windows stayed unseeded after seeding them: something else keeps deleting
    /// the keys (an eviction policy, a `FLUSHDB`).
    fn still_unseeded(&self) -> GovernanceError {
        GovernanceError::Unavailable(format!(
            "Redis at {}: budget windows were not counted after seeding them",
            self.target.location
        ))
    }

    async fn connection(&self) -> Result<ConnectionManager, GovernanceError> {
        let connection = self
            .connection
            .get_or_try_init(|| async {
                let config = ConnectionManagerConfig::new()
                    .set_connection_timeout(Some(RESPONSE_TIMEOUT))
                    .set_response_timeout(Some(RESPONSE_TIMEOUT))
                    .set_number_of_retries(2);
                self.target
                    .client
                    .get_connection_manager_with_config(config)
                    .await
                    .map_err(|error| self.unavailable(&error))
            })
            .await?;
        Ok(connection.clone())
    }

    async fn invoke<T: redis::FromRedisValue>(
        &self,
        invocation: &ScriptInvocation<'_>,
    ) -> Result<T, GovernanceError> {
        let mut connection = self.connection().await?;
        invocation
            .invoke_async(&mut connection)
            .await
            .map_err(|error| self.unavailable(&error))
    }

    fn key(&self, scope: &Scope, what: &str) -> String {
        format!("{}{}:{what}", self.prefix, scope.id())
    }

    fn budget_keys(&self, scope: &Scope, budget: &Budget, window: Window) -> (String, String) {
        let hash = self.key(
            scope,
            &format!("budget:{}:{}", budget.period.as_str(), window.start),
        );
        let expiries = format!("{hash}:expiries");
        (hash, expiries)
    }

    /// Reads the ledger's spend for budget windows the limiter has not counted yet, and
    /// stores it unless another replica already has.
    async fn seed(&self, windows: &[(&Scope, Budget, Window)]) -> Result<(), GovernanceError> {
        let mut invocation = self.scripts.seed.prepare_invoke();
        for (scope, budget, window) in windows {
            let spent = match &self.spend_source {
                Some(source) => source.spent(scope, *window).await?,
                None => 0,
            };
            invocation
                .key(self.budget_keys(scope, budget, *window).0)
                .arg(spent)
                .arg(expire_at(*window));
        }
        self.invoke::<i64>(&invocation).await.map(drop)
    }
}

/// When a budget window's counters may go: a while after it ends, or never.
fn expire_at(window: Window) -> i64 {
    window.end.map_or(0, |end| end + BUDGET_GRACE_MS)
}

fn duration_us(us: i64) -> Duration {
    Duration::from_micros(u64::try_from(us).unwrap_or(0))
}

/// The checks of one admission: per level, leases, requests, tokens, budgets.
fn checks<'a>(levels: &'a [Level], demand: &Demand, wall: i64) -> Vec<Check<'a>> {
    let mut checks = Vec::new();
    for level in levels {
        if let Some(limit) = level.limits.max_parallel {
            checks.push(Check::Parallel { level, limit });
        }
        for (tokens, limit, units) in [
            (false, level.limits.rpm, 1),
            (true, level.limits.tpm, demand.tokens),
        ] {
            let Some(limit) = limit else { continue };
            let gcra = Gcra::per_minute(limit);
            if units > gcra.limit {
                checks.push(Check::TooLarge { level, limit });
            } else {
                checks.push(Check::Rate {
                    level,
                    tokens,
                    gcra,
                });
            }
        }
        for budget in &level.budgets {
            checks.push(Check::Budget {
                level,
                budget: *budget,
                window: budget.period.window(wall),
            });
        }
    }
    checks
}

/// What the admission script said.
enum Outcome {
    Admitted {
        now: i64,
        tats: Vec<i64>,
    },
    Refused {
        check: usize,
        a: i64,
        b: i64,
        now: i64,
        tats: Vec<i64>,
    },
    Unseeded(Vec<usize>),
}

fn outcome(reply: &[i64]) -> Result<Outcome, GovernanceError> {
    let bad = || GovernanceError::Corrupt(format!("the admission script answered {reply:?}"));
    let index = |value: i64| usize::try_from(value - 1).map_err(|_| bad());
    match reply {
        [1, now, tats @ ..] => Ok(Outcome::Admitted {
            now: *now,
            tats: tats.to_vec(),
        }),
        [0, check, a, b, now, tats @ ..] => Ok(Outcome::Refused {
            check: index(*check)?,
            a: *a,
            b: *b,
            now: *now,
            tats: tats.to_vec(),
        }),
        [2, checks @ ..] if !checks.is_empty() => Ok(Outcome::Unseeded(
            checks
                .iter()
                .map(|check| index(*check))
                .collect::<Result<_, _>>()?,
        )),
        _ => Err(bad()),
    }
}

/// The tightest quota of the rate checks that ran, given their new arrival times.
fn quota(checks: &[Check<'_>], tats: &[i64], now: i64) -> Quota {
    let mut quota = Quota::default();
    let rates = checks.iter().filter_map(|check| match check {
        Check::Rate {
            level,
            tokens,
            gcra,
        } => Some((level.scope.id(), *tokens, *gcra)),
        _ => None,
    });
    let now_us = u64::try_from(now).unwrap_or(0);
    let mut level_rates: Vec<(String, Option<Remaining>, Option<Remaining>)> = Vec::new();
    for ((scope, tokens, gcra), tat) in rates.zip(tats) {
        let tat = u64::try_from(*tat).unwrap_or(0);
        let remaining = Some(Remaining {
            limit: gcra.limit,
            remaining: gcra.remaining(tat, now_us),
            reset: Duration::from_micros(tat.saturating_sub(now_us)),
        });
        match level_rates.last_mut() {
            Some((last, requests, token_rate)) if *last == scope => {
                if tokens {
                    *token_rate = remaining;
                } else {
                    *requests = remaining;
                }
            }
            _ => level_rates.push(if tokens {
                (scope, None, remaining)
            } else {
                (scope, remaining, None)
            }),
        }
    }
    for (_, requests, tokens) in level_rates {
        quota.tighten(requests, tokens);
    }
    quota
}

#[async_trait::async_trait]
impl Limiter for RedisLimiter {
    async fn admit(&self, levels: &[Level], demand: &Demand) -> Result<Admission, GovernanceError> {
        let wall = now_millis();
        let checks = checks(levels, demand, wall);
        let mut invocation = self.scripts.admit.prepare_invoke();
        invocation
            .arg(&demand.request_id)
            .arg(u64::try_from(demand.ttl.as_micros()).unwrap_or(u64::MAX))
            .arg(demand.max_cost);
        for check in &checks {
            match check {
                Check::Parallel { level, limit } => {
                    invocation
                        .key(self.key(&level.scope, "leases"))
                        .arg("p")
                        .arg(*limit);
                }
                Check::Rate {
                    level,
                    tokens,
                    gcra,
                } => {
                    let units = if *tokens { demand.tokens } else { 1 };
                    invocation
                        .key(self.key(&level.scope, if *tokens { "tpm" } else { "rpm" }))
                        .arg("r")
                        .arg(gcra.interval(units))
                        .arg(gcra.period_us);
                }
                Check::TooLarge { .. } => {
                    invocation.arg("t");
                }
                Check::Budget {
                    level,
                    budget,
                    window,
                } => {
                    let (hash, expiries) = self.budget_keys(&level.scope, budget, *window);
                    invocation
                        .key(hash)
                        .key(expiries)
                        .arg("b")
                        .arg(budget.micro_usd)
                        .arg(expire_at(*window));
                }
            }
        }
        // At most twice: a budget window seen for the first time is seeded, then the
        // admission runs again.
        for _ in 0..2 {
            let reply: Vec<i64> = self.invoke(&invocation).await?;
            match outcome(&reply)? {
                Outcome::Admitted { now, tats } => {
                    return Ok(Admission::Granted(Grant {
                        request_id: demand.request_id.clone(),
                        levels: levels.to_vec(),
                        tokens: demand.tokens,
                        reserved: demand.max_cost,
                        windows: checks
                            .iter()
                            .filter_map(|check| match check {
                                Check::Budget {
                                    level,
                                    budget,
                                    window,
                                } => Some((level.scope.clone(), *budget, *window)),
                                _ => None,
                            })
                            .collect(),
                        quota: quota(&checks, &tats, now),
                    }));
                }
                Outcome::Refused {
                    check,
                    a,
                    b,
                    now,
                    tats,
                } => {
                    let refusing = checks.get(check).ok_or_else(|| {
                        GovernanceError::Corrupt(format!(
                            "the admission script named check {check}"
                        ))
                    })?;
                    return Ok(Admission::Refused(refusal(
                        refusing,
                        a,
                        b,
                        demand,
                        wall,
                        quota(&checks, &tats, now),
                    )));
                }
                Outcome::Unseeded(indices) => {
                    let windows: Vec<_> = indices
                        .iter()
                        .filter_map(|index| match checks.get(*index) {
                            Some(Check::Budget {
                                level,
                                budget,
                                window,
                            }) => Some((&level.scope, *budget, *window)),
                            _ => None,
                        })
                        .collect();
                    self.seed(&windows).await?;
                }
            }
        }
        Err(self.still_unseeded())
    }

    async fn settle(&self, grant: &Grant, used: Used) -> Result<Vec<Spend>, GovernanceError> {
        let mut invocation = self.scripts.settle.prepare_invoke();
        invocation.arg(&grant.request_id);
        for level in &grant.levels {
            if level.limits.max_parallel.is_some() {
                invocation.key(self.key(&level.scope, "leases")).arg("l");
            }
            if let Some(limit) = level.limits.tpm {
                let gcra = Gcra::per_minute(limit);
                let delta = if used.tokens >= grant.tokens {
                    i128::from(gcra.interval(used.tokens - grant.tokens))
                } else {
                    -i128::from(gcra.interval(grant.tokens - used.tokens))
                };
                let delta =
                    i64::try_from(delta.clamp(-i128::from(MINUTE_US), i128::from(i64::MAX)))
                        .unwrap_or(0);
                invocation
                    .key(self.key(&level.scope, "tpm"))
                    .arg("k")
                    .arg(delta);
            }
        }
        for (scope, budget, window) in &grant.windows {
            let (hash, expiries) = self.budget_keys(scope, budget, *window);
            invocation.key(hash).key(expiries).arg("s").arg(used.cost);
        }
        let reply: Vec<i64> = self.invoke(&invocation).await?;
        if reply.len() != 2 * grant.windows.len() {
            return Err(GovernanceError::Corrupt(format!(
                "the settlement script answered {reply:?}"
            )));
        }
        Ok(grant
            .windows
            .iter()
            .zip(reply.chunks(2))
            .filter_map(|((scope, budget, window), pair)| {
                let (before, after) = (u64::try_from(pair[0]).ok()?, u64::try_from(pair[1]).ok()?);
                Some(Spend {
                    scope: scope.clone(),
                    budget: *budget,
                    window: *window,
                    before,
                    after,
                })
            })
            .collect())
    }

    async fn spend(
        &self,
        level: &Level,
    ) -> Result<Vec<(Budget, MicroUsd, MicroUsd)>, GovernanceError> {
        let wall = now_millis();
        let windows: Vec<_> = level
            .budgets
            .iter()
            .map(|budget| (&level.scope, *budget, budget.period.window(wall)))
            .collect();
        let mut invocation = self.scripts.spend.prepare_invoke();
        for (scope, budget, window) in &windows {
            let (hash, expiries) = self.budget_keys(scope, budget, *window);
            invocation.key(hash).key(expiries);
        }
        for _ in 0..2 {
            let reply: Vec<i64> = self.invoke(&invocation).await?;
            if reply.len() != 2 * windows.len() {
                return Err(GovernanceError::Corrupt(format!(
                    "the spend script answered {reply:?}"
                )));
            }
            let unseeded: Vec<_> = windows
                .iter()
                .zip(reply.chunks(2))
                .filter(|(_, pair)| pair[0] < 0)
                .map(|(window, _)| *window)
                .collect();
            if unseeded.is_empty() {
                return Ok(windows
                    .iter()
                    .zip(reply.chunks(2))
                    .map(|((_, budget, _), pair)| {
                        let amount = |value: i64| u64::try_from(value).unwrap_or(0);
                        (*budget, amount(pair[0]), amount(pair[1]))
                    })
                    .collect());
            }
            self.seed(&unseeded).await?;
        }
        Err(self.still_unseeded())
    }
}

/// The refusal a check's answer (`a`, `b`) means.
fn refusal(check: &Check<'_>, a: i64, b: i64, demand: &Demand, wall: i64, quota: Quota) -> Refusal {
    let (reason, retry_after) = match check {
        Check::Parallel { limit, .. } => (
            RefusalReason::Parallel { limit: *limit },
            Some(Duration::from_secs(1)),
        ),
        Check::Rate { tokens, gcra, .. } => (
            if *tokens {
                RefusalReason::Tokens { limit: gcra.limit }
            } else {
                RefusalReason::Requests { limit: gcra.limit }
            },
            Some(duration_us(a)),
        ),
        Check::TooLarge { limit, .. } => (
            RefusalReason::TooLarge {
                limit: *limit,
                tokens: demand.tokens,
            },
            None,
        ),
        Check::Budget { budget, window, .. } => (
            RefusalReason::Budget {
                budget: *budget,
                spent: u64::try_from(a).unwrap_or(0),
                reserved: u64::try_from(b).unwrap_or(0),
                cost: demand.max_cost,
            },
            window
                .end
                .map(|end| Duration::from_millis(u64::try_from(end - wall).unwrap_or(0))),
        ),
    };
    Refusal {
        scope: check.level().scope.clone(),
        reason,
        retry_after,
        quota,
    }
}

#[cfg(test)]
mod tests {
    use switchyard_testkit::services::{fresh_redis_prefix, services};

    use super::*;

    pub(super) fn fresh() -> Arc<dyn Limiter> {
        let target = RedisTarget::parse(&services().redis_url).expect("a valid URL");
        Arc::new(RedisLimiter::new(&target, &fresh_redis_prefix()))
    }

    #[test]
    fn a_bad_url_is_refused_without_repeating_it() {
        let error = RedisTarget::parse("redis://:hunter2@[bad").expect_err("does not parse");
        assert!(!error.to_string().contains("hunter2"), "{error}");
    }

    #[tokio::test]
    async fn an_unreachable_redis_is_unavailable_and_says_where_but_not_the_password() {
        let target = RedisTarget::parse("redis://:hunter2@127.0.0.1:1").expect("valid");
        let limiter = RedisLimiter::new(&target, "p:");
        let level = Level {
            scope: Scope::Key { key: "k".into() },
            limits: switchyard_governance::Limits {
                rpm: Some(1),
                ..Default::default()
            },
            budgets: vec![],
        };
        let demand = Demand {
            request_id: "r".into(),
            tokens: 1,
            max_cost: 0,
            ttl: Duration::from_secs(1),
        };
        let error = limiter.admit(&[level], &demand).await.expect_err("down");
        assert!(matches!(error, GovernanceError::Unavailable(_)), "{error}");
        let message = error.to_string();
        assert!(message.contains("127.0.0.1:1"), "{message}");
        assert!(!message.contains("hunter2"), "{message}");
    }
}

#[cfg(test)]
mod governance_conformance {
    switchyard_governance::limiter_conformance!(super::tests::fresh());
}
