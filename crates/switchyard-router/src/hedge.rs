//! Hedging: when a route's first deployment has not answered by the time most of the
//! route's requests have (its p95 latency, or a fixed delay), the rest of the plan is
//! started beside it and the first answer wins; the other call is dropped, which
//! closes its connection, and its deployment's in-flight slot is freed without a
//! verdict. Both calls are reported, so both are metered.
//!
//! The hedge is built from [`execute`] twice: the first deployment alone, then — after
//! the delay — the others with their own fallbacks and retries. A request that fails
//! fast on the first deployment falls back without waiting, as without hedging.
//!
//! The latencies the percentile is read from are those of whole requests to the route
//! (to the first event for streams), kept per kind (streamed or not) over the last
//! [`WINDOW`] requests; until [`MIN_SAMPLES`] are known, a percentile hedge waits.

use std::collections::VecDeque;
use std::future::Future;
use std::pin::pin;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use switchyard_types::{DeploymentInfo, Provider, ProviderError};
use tokio::time::Instant;

use crate::deployment::Deployment;
use crate::execute::{Next, Outcome, RetrySettings, RouteError, classify, execute};
use crate::health::Health;

/// Requests whose latency the percentile is read from, per kind.
pub const WINDOW: usize = 256;
/// Requests measured before a percentile hedge may fire.
pub const MIN_SAMPLES: usize = 20;

/// When a route hedges.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum HedgeAfter {
    /// After this share of the route's recent requests had answered (0.95 for p95).
    Percentile(f64),
    /// After a fixed delay.
    Fixed(Duration),
}

impl HedgeAfter {
    /// `p95`, `p99.9` (a percentile of the route's latency) or a duration (`800ms`).
    pub fn parse(text: &str) -> Result<HedgeAfter, String> {
        let text = text.trim();
        if let Some(number) = text.strip_prefix('p') {
            return match number.parse::<f64>() {
                Ok(percent) if percent > 0.0 && percent < 100.0 => {
                    Ok(HedgeAfter::Percentile(percent / 100.0))
                }
                _ => Err(format!(
                    "`{text}` is not a percentile between p0 and p100 (say `p95`)"
                )),
            };
        }
        match humantime::parse_duration(text) {
            Ok(delay) if !delay.is_zero() => Ok(HedgeAfter::Fixed(delay)),
            Ok(_) => Err("a hedge delay must be longer than zero".to_owned()),
            Err(error) => Err(format!(
                "`{text}` is neither a percentile (`p95`) nor a duration (`800ms`): {error}"
            )),
        }
    }
}

/// A route's hedging policy and the latencies it learns from.
#[derive(Debug)]
pub struct Hedge {
    after: HedgeAfter,
    /// Recent request latencies: `[unary, streamed]`.
    latencies: Mutex<[VecDeque<Duration>; 2]>,
}

impl Hedge {
    pub fn new(after: HedgeAfter) -> Hedge {
        Hedge {
            after,
            latencies: Mutex::new([VecDeque::new(), VecDeque::new()]),
        }
    }

    /// How long to wait for the first deployment before hedging a request of this
    /// kind; `None` while too few requests are measured.
    pub fn delay(&self, streaming: bool) -> Option<Duration> {
        match self.after {
            HedgeAfter::Fixed(delay) => Some(delay),
            HedgeAfter::Percentile(share) => {
                let latencies = self.latencies.lock().unwrap_or_else(|e| e.into_inner());
                let window = &latencies[usize::from(streaming)];
                if window.len() < MIN_SAMPLES {
                    return None;
                }
                let mut sorted: Vec<Duration> = window.iter().copied().collect();
                sorted.sort_unstable();
                let rank = ((sorted.len() as f64 * share).ceil() as usize).clamp(1, sorted.len());
                Some(sorted[rank - 1])
            }
        }
    }

    /// Learns the latency of one answered request.
    pub fn record(&self, streaming: bool, latency: Duration) {
        let mut latencies = self.latencies.lock().unwrap_or_else(|e| e.into_inner());
        let window = &mut latencies[usize::from(streaming)];
        if window.len() == WINDOW {
            window.pop_front();
        }
        window.push_back(latency);
    }
}

/// What a hedged request left behind besides its answer.
#[derive(Debug, Clone, Default)]
pub struct Hedged {
    /// When the hedge fired, after how long.
    pub fired_after: Option<Duration>,
    /// Calls dropped because another answered first (they were still running).
    pub cancelled: Vec<DeploymentInfo>,
}

/// [`execute`], hedged as the module docs say when `hedge` is set and the plan has a
/// second deployment; `streaming` picks the latencies the delay is read from.
pub async fn execute_hedged<T, F, Fut>(
    candidates: &[Deployment],
    health: &Health,
    settings: &RetrySettings,
    hedge: Option<&Hedge>,
    streaming: bool,
    call: F,
) -> (Result<Outcome<T>, RouteError>, Hedged)
where
    F: Fn(Arc<dyn Provider>) -> Fut,
    Fut: Future<Output = Result<T, ProviderError>>,
{
    let started = Instant::now();
    let delay = hedge.and_then(|hedge| hedge.delay(streaming));
    let (result, hedged) = match (delay, candidates) {
        (Some(delay), [_, _, ..]) => hedged(candidates, health, settings, delay, &call).await,
        _ => (
            execute(candidates, health, settings, &call).await,
            Hedged::default(),
        ),
    };
    if let (Some(hedge), Ok(_)) = (hedge, &result) {
        hedge.record(streaming, started.elapsed());
    }
    (result, hedged)
}

async fn hedged<T, F, Fut>(
    candidates: &[Deployment],
    health: &Health,
    settings: &RetrySettings,
    delay: Duration,
    call: &F,
) -> (Result<Outcome<T>, RouteError>, Hedged)
where
    F: Fn(Arc<dyn Provider>) -> Fut,
    Fut: Future<Output = Result<T, ProviderError>>,
{
    let (first, rest) = candidates.split_at(1);
    let mut primary = pin!(execute(first, health, settings, call));
    let early = tokio::select! {
        result = &mut primary => Some(result),
        () = tokio::time::sleep(delay) => None,
    };
    if let Some(result) = early {
        // Answered (or failed) before the hedge was due: no hedge.
        return match result {
            Ok(outcome) => (Ok(outcome), Hedged::default()),
            Err(error) if stops(&error, settings) => (Err(error), Hedged::default()),
            Err(error) => {
                // As `execute` would: after a context overflow only larger windows help.
                let rest: Vec<Deployment> = match (
                    classify(&error.error, settings),
                    first[0].profile.context_window,
                ) {
                    (Next::LargerWindow, Some(overflowed)) => rest
                        .iter()
                        .filter(|d| d.profile.context_window.is_none_or(|w| w > overflowed))
                        .cloned()
                        .collect(),
                    _ => rest.to_vec(),
                };
                let fallback = execute(&rest, health, settings, call).await;
                (merge_failure(fallback, error), Hedged::default())
            }
        };
    }
    tracing::debug!(
        deployment = %first[0].info().id,
        after_ms = delay.as_millis() as u64,
        "No answer yet; hedging."
    );
    let mut hedged = Hedged {
        fired_after: Some(delay),
        cancelled: Vec::new(),
    };
    let mut secondary = pin!(execute(rest, health, settings, call));
    // The first answer wins; a failure waits for the other.
    tokio::select! {
        result = &mut primary => match result {
            Ok(mut outcome) => {
                // The hedge's call counts among the attempts: it was made.
                outcome.attempts += 1;
                hedged.cancelled.extend(rest.first().map(|d| d.info().clone()));
                (Ok(outcome), hedged)
            }
            Err(error) if stops(&error, settings) => (Err(error), hedged),
            Err(error) => (merge_failure(secondary.await, error), hedged),
        },
        result = &mut secondary => match result {
            Ok(mut outcome) => {
                outcome.attempts += 1;
                hedged.cancelled.push(first[0].info().clone());
                (Ok(outcome), hedged)
            }
            Err(error) => (merge_failure(primary.await, error), hedged),
        },
    }
}

/// Whether a failure is the caller's to see at once (no other deployment would do
/// better).
fn stops(error: &RouteError, settings: &RetrySettings) -> bool {
    classify(&error.error, settings) == Next::Stop
}

/// `result` of the other half, with `failed` (the first half's failure) counted in its
/// attempts and listed first among its earlier failures. When the other half could
/// try nothing (open breakers), the first half's failure stands.
#[allow(clippy::result_large_err)] // `execute`'s own result, passed through.
fn merge_failure<T>(
    result: Result<Outcome<T>, RouteError>,
    failed: RouteError,
) -> Result<Outcome<T>, RouteError> {
    match result {
        Err(other) if other.attempts == 0 => Err(failed),
        Ok(mut outcome) => {
            let (attempts, mut earlier) = failed.into_attempts();
            outcome.attempts += attempts;
            earlier.append(&mut outcome.earlier);
            outcome.earlier = earlier;
            Ok(outcome)
        }
        Err(mut other) => {
            let (attempts, mut earlier) = failed.into_attempts();
            other.attempts += attempts;
            earlier.append(&mut other.earlier);
            other.earlier = earlier;
            Err(other)
        }
    }
}

#[cfg(test)]
#[path = "hedge_tests.rs"]
mod tests;
