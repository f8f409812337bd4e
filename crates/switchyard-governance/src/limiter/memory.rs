//! [`MemoryLimiter`]: the embedded backend's counters, in this process.
//!
//! One mutex guards every counter, so an admission across all levels is one critical
//! section; it holds no `await`. A budget's spend before the process started comes from
//! the ledger the first time the budget's window is used.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use tokio::time::Instant;

use crate::GovernanceError;
use crate::gcra::{Decision, Gcra};
use crate::limiter::{
    Admission, Demand, Grant, Level, Limiter, Quota, Refusal, RefusalReason, Remaining, Spend,
    SpendSource, Used,
};
use crate::model::{Budget, MicroUsd, Scope};
use crate::period::{Period, Window, now_millis};

#[derive(Debug)]
pub struct MemoryLimiter {
    state: Mutex<State>,
    spend_source: Option<Arc<dyn SpendSource>>,
    /// The origin of GCRA's microseconds.
    epoch: Instant,
    /// Wall-clock milliseconds, for budget windows; replaceable in tests.
    wall_clock: fn() -> i64,
}

#[derive(Debug, Default)]
struct State {
    /// Theoretical arrival times, by scope id and limit.
    tats: HashMap<(String, Rate), u64>,
    /// Leases in flight by scope id: request id → expiry.
    leases: HashMap<String, HashMap<String, Instant>>,
    budgets: HashMap<BudgetKey, BudgetState>,
    /// When windows that ended were last forgotten (wall-clock milliseconds).
    pruned_at: i64,
}

/// How often windows that ended, and leases and reservations that expired, are
/// forgotten, so the state holds only what can still matter.
const PRUNE_EVERY_MS: i64 = 60_000;

impl State {
    fn prune(&mut self, wall: i64, now: Instant) {
        if wall - self.pruned_at < PRUNE_EVERY_MS {
            return;
        }
        self.pruned_at = wall;
        self.budgets.retain(|(_, period, start), budget| {
            let ended = period.window(*start).end.is_some_and(|end| end <= wall);
            !ended || budget.reserved(now) > 0
        });
        for leases in self.leases.values_mut() {
            leases.retain(|_, expiry| *expiry > now);
        }
        self.leases.retain(|_, leases| !leases.is_empty());
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Rate {
    Requests,
    Tokens,
}

type BudgetKey = (String, Period, i64);

#[derive(Debug, Default)]
struct BudgetState {
    spent: MicroUsd,
    /// Request id → (amount, expiry).
    reservations: HashMap<String, (MicroUsd, Instant)>,
}

impl BudgetState {
    fn reserved(&mut self, now: Instant) -> MicroUsd {
        self.reservations.retain(|_, (_, expiry)| *expiry > now);
        self.reservations.values().map(|(amount, _)| amount).sum()
    }
}

impl Default for MemoryLimiter {
    fn default() -> Self {
        MemoryLimiter::new()
    }
}

impl MemoryLimiter {
    /// Counters that start from nothing spent.
    pub fn new() -> Self {
        MemoryLimiter {
            state: Mutex::default(),
            spend_source: None,
            epoch: Instant::now(),
            wall_clock: now_millis,
        }
    }

    /// Counters that take each budget's earlier spend from `source` (the ledger).
    pub fn with_spend_source(mut self, source: Arc<dyn SpendSource>) -> Self {
        self.spend_source = Some(source);
        self
    }

    #[cfg(test)]
    fn with_wall_clock(mut self, clock: fn() -> i64) -> Self {
        self.wall_clock = clock;
        self
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock leaves consistent counters (every update is a
        // single assignment), so a poisoned lock is still usable.
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn micros(&self, at: Instant) -> u64 {
        at.duration_since(self.epoch).as_micros() as u64
    }

    /// Makes sure every budget window of `levels` has its earlier spend loaded.
    async fn load_spend(&self, levels: &[Level], now: i64) -> Result<(), GovernanceError> {
        let Some(source) = &self.spend_source else {
            return Ok(());
        };
        let missing: Vec<(Scope, BudgetKey, Window)> = {
            let state = self.lock();
            levels
                .iter()
                .flat_map(|level| {
                    level.budgets.iter().map(move |budget| {
                        let window = budget.period.window(now);
                        (
                            level.scope.clone(),
                            budget_key(&level.scope, budget, window),
                            window,
                        )
                    })
                })
                .filter(|(_, key, _)| !state.budgets.contains_key(key))
                .collect()
        };
        for (scope, key, window) in missing {
            let spent = source.spent(&scope, window).await?;
            self.lock().budgets.entry(key).or_insert(BudgetState {
                spent,
                reservations: HashMap::new(),
            });
        }
        Ok(())
    }
}

fn budget_key(scope: &Scope, budget: &Budget, window: Window) -> BudgetKey {
    (scope.id(), budget.period, window.start)
}

fn remaining(decision: &Decision, limit: u64) -> Option<Remaining> {
    match *decision {
        Decision::Allow {
            remaining,
            reset_us,
            ..
        } => Some(Remaining {
            limit,
            remaining,
            reset: Duration::from_micros(reset_us),
        }),
        _ => None,
    }
}

#[async_trait::async_trait]
impl Limiter for MemoryLimiter {
    async fn admit(&self, levels: &[Level], demand: &Demand) -> Result<Admission, GovernanceError> {
        let wall = (self.wall_clock)();
        self.load_spend(levels, wall).await?;
        let now = Instant::now();
        let now_us = self.micros(now);
        let expiry = now + demand.ttl;
        let mut state = self.lock();
        let state = &mut *state;
        state.prune(wall, now);

        // Every check first, against the state as it is; nothing is written until all
        // have passed.
        let mut quota = Quota::default();
        let mut new_tats = Vec::new();
        // The budget windows to reserve in once every check has passed.
        let mut windows = Vec::new();
        for level in levels {
            let scope_id = level.scope.id();
            let refuse = |reason, retry_after, quota| {
                Ok(Admission::Refused(Refusal {
                    scope: level.scope.clone(),
                    reason,
                    retry_after,
                    quota,
                }))
            };
            if let Some(limit) = level.limits.max_parallel {
                let leases = state.leases.entry(scope_id.clone()).or_default();
                leases.retain(|_, lease_expiry| *lease_expiry > now);
                if leases.len() as u64 >= limit {
                    return refuse(
                        RefusalReason::Parallel { limit },
                        Some(Duration::from_secs(1)),
                        quota,
                    );
                }
            }
            let mut level_requests = None;
            let mut level_tokens = None;
            for (rate, limit, units) in [
                (Rate::Requests, level.limits.rpm, 1),
                (Rate::Tokens, level.limits.tpm, demand.tokens),
            ] {
                let Some(limit) = limit else { continue };
                let gcra = Gcra::per_minute(limit);
                let key = (scope_id.clone(), rate);
                let decision = gcra.decide(state.tats.get(&key).copied(), now_us, units);
                match decision {
                    Decision::Allow { tat, .. } => new_tats.push((key, tat)),
                    Decision::Deny { retry_after_us } => {
                        let reason = match rate {
                            Rate::Requests => RefusalReason::Requests { limit },
                            Rate::Tokens => RefusalReason::Tokens { limit },
                        };
                        return refuse(reason, Some(Duration::from_micros(retry_after_us)), quota);
                    }
                    Decision::TooLarge => {
                        return refuse(
                            RefusalReason::TooLarge {
                                limit,
                                tokens: demand.tokens,
                            },
                            None,
                            quota,
                        );
                    }
                }
                match rate {
                    Rate::Requests => level_requests = remaining(&decision, limit),
                    Rate::Tokens => level_tokens = remaining(&decision, limit),
                }
            }
            quota.tighten(level_requests, level_tokens);
            for budget in &level.budgets {
                let window = budget.period.window(wall);
                let counted = state
                    .budgets
                    .entry(budget_key(&level.scope, budget, window))
                    .or_default();
                let reserved = counted.reserved(now);
                let total = counted
                    .spent
                    .saturating_add(reserved)
                    .saturating_add(demand.max_cost);
                if total > budget.micro_usd || counted.spent >= budget.micro_usd {
                    let retry_after = window
                        .end
                        .map(|end| Duration::from_millis(u64::try_from(end - wall).unwrap_or(0)));
                    return refuse(
                        RefusalReason::Budget {
                            budget: *budget,
                            spent: counted.spent,
                            reserved,
                            cost: demand.max_cost,
                        },
                        retry_after,
                        quota,
                    );
                }
                windows.push((level.scope.clone(), *budget, window));
            }
        }

        // All passed: charge every level.
        for (key, tat) in new_tats {
            state.tats.insert(key, tat);
        }
        for level in levels
            .iter()
            .filter(|level| level.limits.max_parallel.is_some())
        {
            state
                .leases
                .entry(level.scope.id())
                .or_default()
                .insert(demand.request_id.clone(), expiry);
        }
        for (scope, budget, window) in &windows {
            state
                .budgets
                .entry(budget_key(scope, budget, *window))
                .or_default()
                .reservations
                .insert(demand.request_id.clone(), (demand.max_cost, expiry));
        }
        Ok(Admission::Granted(Grant {
            request_id: demand.request_id.clone(),
            levels: levels.to_vec(),
            tokens: demand.tokens,
            reserved: demand.max_cost,
            windows,
            quota,
        }))
    }

    async fn settle(&self, grant: &Grant, used: Used) -> Result<Vec<Spend>, GovernanceError> {
        let now = Instant::now();
        let now_us = self.micros(now);
        let mut state = self.lock();
        for level in &grant.levels {
            let scope_id = level.scope.id();
            if let Some(leases) = state.leases.get_mut(&scope_id) {
                leases.remove(&grant.request_id);
            }
            if let Some(limit) = level.limits.tpm {
                let key = (scope_id, Rate::Tokens);
                if let Some(tat) = state.tats.get(&key).copied() {
                    let gcra = Gcra::per_minute(limit);
                    state
                        .tats
                        .insert(key, gcra.reconcile(tat, now_us, grant.tokens, used.tokens));
                }
            }
        }
        let mut spends = Vec::new();
        for (scope, budget, window) in &grant.windows {
            let counted = state
                .budgets
                .entry(budget_key(scope, budget, *window))
                .or_default();
            counted.reservations.remove(&grant.request_id);
            let before = counted.spent;
            counted.spent = before.saturating_add(used.cost);
            spends.push(Spend {
                scope: scope.clone(),
                budget: *budget,
                window: *window,
                before,
                after: counted.spent,
            });
        }
        Ok(spends)
    }

    async fn spend(
        &self,
        level: &Level,
    ) -> Result<Vec<(Budget, MicroUsd, MicroUsd)>, GovernanceError> {
        let wall = (self.wall_clock)();
        self.load_spend(std::slice::from_ref(level), wall).await?;
        let now = Instant::now();
        let mut state = self.lock();
        Ok(level
            .budgets
            .iter()
            .map(|budget| {
                let window = budget.period.window(wall);
                let counted = state
                    .budgets
                    .entry(budget_key(&level.scope, budget, window))
                    .or_default();
                (*budget, counted.spent, counted.reserved(now))
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Limits;

    #[derive(Debug)]
    struct Fixed(MicroUsd);

    #[async_trait::async_trait]
    impl SpendSource for Fixed {
        async fn spent(&self, _: &Scope, _: Window) -> Result<MicroUsd, GovernanceError> {
            Ok(self.0)
        }
    }

    fn key_level(budget: Budget) -> Level {
        Level {
            scope: Scope::Key {
                key: "key_a".into(),
            },
            limits: Limits::default(),
            budgets: vec![budget],
        }
    }

    fn demand(id: &str, cost: MicroUsd) -> Demand {
        Demand {
            request_id: id.into(),
            tokens: 10,
            max_cost: cost,
            ttl: Duration::from_secs(60),
        }
    }

    #[tokio::test]
    async fn earlier_spend_comes_from_the_source_once_per_window() {
        let limiter = MemoryLimiter::new().with_spend_source(Arc::new(Fixed(900)));
        let level = key_level(Budget {
            micro_usd: 1_000,
            period: Period::Month,
        });
        let refused = limiter
            .admit(std::slice::from_ref(&level), &demand("r1", 200))
            .await;
        assert!(matches!(refused, Ok(Admission::Refused(_))), "{refused:?}");
        assert_eq!(
            limiter.spend(&level).await.expect("spend")[0],
            (level.budgets[0], 900, 0)
        );
    }

    #[tokio::test]
    async fn a_new_day_starts_a_new_window() {
        fn day_one() -> i64 {
            1_795_305_600_000
        }
        fn day_two() -> i64 {
            1_795_305_600_000 + 86_400_000
        }
        let budget = Budget {
            micro_usd: 100,
            period: Period::Day,
        };
        let limiter = MemoryLimiter::new().with_wall_clock(day_one);
        let Ok(Admission::Granted(grant)) = limiter
            .admit(&[key_level(budget)], &demand("r1", 100))
            .await
        else {
            panic!("the first request fits");
        };
        limiter
            .settle(
                &grant,
                Used {
                    tokens: 5,
                    cost: 100,
                },
            )
            .await
            .expect("settles");
        assert!(matches!(
            limiter.admit(&[key_level(budget)], &demand("r2", 1)).await,
            Ok(Admission::Refused(_))
        ));
        let limiter = MemoryLimiter {
            wall_clock: day_two,
            ..limiter
        };
        assert!(matches!(
            limiter.admit(&[key_level(budget)], &demand("r3", 1)).await,
            Ok(Admission::Granted(_))
        ));
        // Day one's window ended and holds no reservation: it is forgotten.
        let windows = limiter.lock().budgets.len();
        assert_eq!(windows, 1, "only day two's window is kept");
    }
}
