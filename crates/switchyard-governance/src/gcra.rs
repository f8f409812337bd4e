//! The generic cell rate algorithm: "N per minute" with no window edges, kept as one
//! timestamp per limit.
//!
//! A limit of `limit` per `period` has an emission interval T = period / limit. The
//! state is the theoretical arrival time (TAT) of the next unit. A request costing `c`
//! units moves it to max(TAT, now) + c·T, and is allowed when that lands no further
//! than one period ahead of now: a full bucket holds `limit` units, and it refills
//! continuously. Times are microseconds, so a limit of 60 million per minute still has
//! an interval of a whole microsecond.
//!
//! Every limiter uses this arithmetic, and the conformance suite holds each to it.

/// One limit: `limit` units per `period_us` microseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Gcra {
    pub limit: u64,
    pub period_us: u64,
}

/// What a request costing some units would do to one limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Allowed: store `tat`. `remaining` units are left now, and the bucket is full
    /// again after `reset_us`.
    Allow {
        tat: u64,
        remaining: u64,
        reset_us: u64,
    },
    /// Refused: it would be allowed after `retry_after_us`.
    Deny { retry_after_us: u64 },
    /// The request alone is more than a full bucket: it can never be allowed.
    TooLarge,
}

pub const MINUTE_US: u64 = 60_000_000;

impl Gcra {
    pub fn per_minute(limit: u64) -> Gcra {
        Gcra {
            limit: limit.max(1),
            period_us: MINUTE_US,
        }
    }

    /// How far `units` move the TAT, rounded up.
    pub fn interval(&self, units: u64) -> u64 {
        let product = u128::from(units) * u128::from(self.period_us);
        product
            .div_ceil(u128::from(self.limit))
            .min(u128::from(u64::MAX)) as u64
    }

    pub fn decide(&self, tat: Option<u64>, now: u64, units: u64) -> Decision {
        if units > self.limit {
            return Decision::TooLarge;
        }
        let start = tat.unwrap_or(now).max(now);
        let new_tat = start.saturating_add(self.interval(units));
        let ahead = new_tat - now;
        if ahead > self.period_us {
            return Decision::Deny {
                retry_after_us: ahead - self.period_us,
            };
        }
        Decision::Allow {
            tat: new_tat,
            remaining: self.remaining(new_tat, now),
            reset_us: ahead,
        }
    }

    /// Units a request could still take at `now`, with the TAT at `tat`.
    pub fn remaining(&self, tat: u64, now: u64) -> u64 {
        let ahead = tat.saturating_sub(now);
        let free = self.period_us.saturating_sub(ahead);
        (u128::from(free) * u128::from(self.limit) / u128::from(self.period_us)) as u64
    }

    /// The TAT after a request used `actual` units where it was charged `charged`: an
    /// overrun is charged now, an overcharge refunded, but never into the past (an
    /// idle limit has nothing to refund into).
    pub fn reconcile(&self, tat: u64, now: u64, charged: u64, actual: u64) -> u64 {
        if actual >= charged {
            tat.saturating_add(self.interval(actual - charged))
        } else {
            tat.saturating_sub(self.interval(charged - actual)).max(now)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn allow(decision: Decision) -> (u64, u64, u64) {
        match decision {
            Decision::Allow {
                tat,
                remaining,
                reset_us,
            } => (tat, remaining, reset_us),
            other => panic!("expected Allow, got {other:?}"),
        }
    }

    #[test]
    fn a_full_bucket_takes_the_limit_at_once_then_refills_evenly() {
        let rpm = Gcra::per_minute(6);
        let mut tat = None;
        for left in (0..6).rev() {
            let (next, remaining, _) = allow(rpm.decide(tat, 0, 1));
            assert_eq!(remaining, left);
            tat = Some(next);
        }
        assert_eq!(
            rpm.decide(tat, 0, 1),
            Decision::Deny {
                retry_after_us: 10_000_000
            }
        );
        // One interval later exactly one more fits.
        let (next, remaining, reset) = allow(rpm.decide(tat, 10_000_000, 1));
        assert_eq!((remaining, reset), (0, 60_000_000));
        assert!(matches!(
            rpm.decide(Some(next), 10_000_001, 1),
            Decision::Deny { .. }
        ));
    }

    #[test]
    fn tokens_cost_their_count_and_a_request_over_the_limit_never_fits() {
        let tpm = Gcra::per_minute(1_000);
        let (tat, remaining, reset) = allow(tpm.decide(None, 5, 400));
        assert_eq!(remaining, 600);
        assert_eq!(reset, 24_000_000);
        assert_eq!(tat, 24_000_005);
        assert_eq!(
            tpm.decide(Some(tat), 5, 700),
            Decision::Deny {
                retry_after_us: 6_000_000
            }
        );
        assert_eq!(tpm.decide(None, 0, 1_001), Decision::TooLarge);
    }

    #[test]
    fn reconciliation_charges_overruns_and_refunds_no_further_than_now() {
        let tpm = Gcra::per_minute(1_000);
        let (tat, _, _) = allow(tpm.decide(None, 0, 100));
        assert_eq!(tpm.reconcile(tat, 0, 100, 300), 18_000_000);
        assert_eq!(tpm.reconcile(tat, 0, 100, 50), 3_000_000);
        assert_eq!(tpm.reconcile(tat, 5_000_000, 100, 0), 5_000_000);
    }

    #[test]
    fn odd_limits_round_the_interval_up() {
        let rpm = Gcra::per_minute(7);
        assert_eq!(rpm.interval(1), 8_571_429);
        assert_eq!(rpm.interval(7), 60_000_000);
    }
}
