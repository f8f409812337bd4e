//! [`Limiter`]: one atomic admission per request across every level above it, and its
//! settlement once answered.
//!
//! Admission checks, for each level (organisation, team, key): its concurrent
//! requests, its requests and tokens per minute (GCRA), and each of its budgets (spent
//! plus reserved plus this request's maximum cost). Either every check passes and all
//! of them are charged, or none is: a refusal holds nothing, so nothing needs undoing.
//!
//! Settlement releases the request's lease, moves its token charge from the estimate to
//! what it used, and turns its budget reservation into what it cost.
//!
//! - [`memory`]: counters in this process (the embedded backend).

pub mod memory;

use std::time::Duration;

use serde::Serialize;

use crate::GovernanceError;
use crate::model::{Budget, Limits, MicroUsd, Scope};
use crate::period::Window;

/// One level a request is held to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Level {
    pub scope: Scope,
    pub limits: Limits,
    pub budgets: Vec<Budget>,
}

/// What a request asks for before it is dispatched.
#[derive(Debug, Clone)]
pub struct Demand {
    /// Names the request's lease and reservations: unique per request.
    pub request_id: String,
    /// Estimated tokens: the prompt's, plus its output allowance.
    pub tokens: u64,
    /// The most it can cost: the estimate at the dearest candidate's prices.
    pub max_cost: MicroUsd,
    /// How long a lease and a reservation outlive a request that never settles (a
    /// replica that died mid-request).
    pub ttl: Duration,
}

/// What a request used, once answered (or cut off).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Used {
    pub tokens: u64,
    pub cost: MicroUsd,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Admission {
    Granted(Grant),
    Refused(Refusal),
}

/// An admitted request's hold on its levels, given back by [`Limiter::settle`].
#[derive(Debug, Clone, PartialEq)]
pub struct Grant {
    pub request_id: String,
    pub levels: Vec<Level>,
    pub tokens: u64,
    pub reserved: MicroUsd,
    /// The budget windows reserved in, so settlement lands in the same ones even when
    /// a period ends while the request runs.
    pub windows: Vec<(Scope, Budget, Window)>,
    /// What is left of the tightest limits, for the caller's rate-limit headers.
    pub quota: Quota,
}

/// The remaining allowance of the tightest request and token limits.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Quota {
    pub requests: Option<Remaining>,
    pub tokens: Option<Remaining>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Remaining {
    pub limit: u64,
    pub remaining: u64,
    /// Until the limit is back to full.
    pub reset: Duration,
}

impl Quota {
    /// Keeps whichever of `self` and `other` has less left, per kind.
    pub fn tighten(&mut self, requests: Option<Remaining>, tokens: Option<Remaining>) {
        fn tighter(old: Option<Remaining>, new: Option<Remaining>) -> Option<Remaining> {
            match (old, new) {
                (Some(old), Some(new)) if new.remaining < old.remaining => Some(new),
                (None, new) => new,
                (old, _) => old,
            }
        }
        self.requests = tighter(self.requests, requests);
        self.tokens = tighter(self.tokens, tokens);
    }
}

/// Why a request was not admitted, at the level that refused it.
#[derive(Debug, Clone, PartialEq)]
pub struct Refusal {
    pub scope: Scope,
    pub reason: RefusalReason,
    /// When trying again could succeed; `None` when it cannot before something changes
    /// (a request larger than a whole minute's tokens).
    pub retry_after: Option<Duration>,
    pub quota: Quota,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefusalReason {
    Requests {
        limit: u64,
    },
    Tokens {
        limit: u64,
    },
    /// One request's estimate exceeds a whole minute of the token limit.
    TooLarge {
        limit: u64,
        tokens: u64,
    },
    Parallel {
        limit: u64,
    },
    Budget {
        budget: Budget,
        spent: MicroUsd,
        reserved: MicroUsd,
        cost: MicroUsd,
    },
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let scope = &self.scope;
        match self.reason {
            RefusalReason::Requests { limit } => {
                write!(
                    f,
                    "rate limit reached for {scope}: {limit} requests per minute"
                )
            }
            RefusalReason::Tokens { limit } => {
                write!(
                    f,
                    "rate limit reached for {scope}: {limit} tokens per minute"
                )
            }
            RefusalReason::TooLarge { limit, tokens } => write!(
                f,
                "request too large for {scope}: it may use {tokens} tokens (prompt and output \
                 allowance), more than its limit of {limit} tokens per minute; lower \
                 `max_tokens` or shorten the prompt"
            ),
            RefusalReason::Parallel { limit } => write!(
                f,
                "too many requests in flight for {scope}: at most {limit} at once"
            ),
            RefusalReason::Budget {
                budget,
                spent,
                reserved,
                cost,
            } => write!(
                f,
                "budget exhausted for {scope}: {budget} with ${} spent and ${} reserved by \
                 requests in flight; this request may cost up to ${}",
                crate::model::format_usd(spent),
                crate::model::format_usd(reserved),
                crate::model::format_usd(cost),
            ),
        }
    }
}

impl Refusal {
    /// Budgets are quota, the rest are rates (OpenAI's `insufficient_quota` and
    /// `rate_limit_exceeded`).
    pub fn is_budget(&self) -> bool {
        matches!(self.reason, RefusalReason::Budget { .. })
    }
}

/// Where a limiter learns what was spent before it started counting: the ledger.
#[async_trait::async_trait]
pub trait SpendSource: Send + Sync + std::fmt::Debug {
    async fn spent(&self, scope: &Scope, window: Window) -> Result<MicroUsd, GovernanceError>;
}

/// A budget's spend after a settlement, for alerts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Spend {
    pub scope: Scope,
    pub budget: Budget,
    pub window: Window,
    pub before: MicroUsd,
    pub after: MicroUsd,
}

#[async_trait::async_trait]
pub trait Limiter: Send + Sync + std::fmt::Debug {
    /// Admits the request under every level, or refuses it at the first level (in the
    /// order given) that cannot take it, holding nothing.
    async fn admit(&self, levels: &[Level], demand: &Demand) -> Result<Admission, GovernanceError>;

    /// Gives back `grant` for what the request used; called once per grant. A grant
    /// whose lease has expired still has its cost counted.
    async fn settle(&self, grant: &Grant, used: Used) -> Result<Vec<Spend>, GovernanceError>;

    /// The spend counted so far in each of `level`'s budgets (settled, reserved).
    async fn spend(
        &self,
        level: &Level,
    ) -> Result<Vec<(Budget, MicroUsd, MicroUsd)>, GovernanceError>;
}
