//! What the router has seen of each deployment: latency (EWMA of time to first token
//! and of the whole call), requests in flight, and a circuit breaker.
//!
//! The breaker opens after `consecutive_failures` failures in a row, or when at least
//! `error_rate` of the calls in the last `window` failed (once there were
//! `min_calls`). While open, planning leaves the deployment out; after `cooldown` it is
//! half-open and lets one probe through: success closes it, failure opens it again.
//! Only failures that say something about the deployment's health count (the upstream
//! down, overloaded, timing out, refusing our credentials); a request the caller got
//! wrong does not, nor does a rate limit.
//!
//! Time is `tokio::time::Instant`, so tests pause and advance it.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use serde::Serialize;
use switchyard_types::{DeploymentId, ErrorKind, ProviderError, SourceSide};
use tokio::time::Instant;

/// When a breaker opens and how long it stays open.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BreakerSettings {
    /// Failures in a row that open the breaker.
    pub consecutive_failures: u32,
    /// The failed share of recent calls that opens it, from 0 to 1.
    pub error_rate: f64,
    /// Calls within `window` needed before the error rate counts.
    pub min_calls: u32,
    pub window: Duration,
    /// How long it stays open before a probe is let through.
    pub cooldown: Duration,
}

impl Default for BreakerSettings {
    fn default() -> Self {
        BreakerSettings {
            consecutive_failures: 5,
            error_rate: 0.5,
            min_calls: 20,
            window: Duration::from_secs(60),
            cooldown: Duration::from_secs(30),
        }
    }
}

/// A breaker's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case", tag = "state")]
pub enum Circuit {
    Closed,
    /// No calls until `retry_in` has passed.
    Open {
        #[serde(serialize_with = "seconds")]
        retry_in: Duration,
    },
    /// One probe may go through.
    HalfOpen,
}

impl Circuit {
    pub fn as_str(self) -> &'static str {
        match self {
            Circuit::Closed => "closed",
            Circuit::Open { .. } => "open",
            Circuit::HalfOpen => "half_open",
        }
    }
}

fn seconds<S: serde::Serializer>(duration: &Duration, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_f64(duration.as_secs_f64())
}

/// One deployment as last seen.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Observed {
    pub circuit: Circuit,
    pub in_flight: u32,
    /// EWMA of the time to the first event of streamed calls.
    #[serde(serialize_with = "optional_seconds")]
    pub time_to_first_token: Option<Duration>,
    /// EWMA of whole calls, streamed or not.
    #[serde(serialize_with = "optional_seconds")]
    pub latency: Option<Duration>,
    pub successes: u64,
    pub failures: u64,
}

fn optional_seconds<S: serde::Serializer>(
    duration: &Option<Duration>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    match duration {
        Some(duration) => serializer.serialize_f64(duration.as_secs_f64()),
        None => serializer.serialize_none(),
    }
}

impl Observed {
    /// A deployment never called.
    pub const FRESH: Observed = Observed {
        circuit: Circuit::Closed,
        in_flight: 0,
        time_to_first_token: None,
        latency: None,
        successes: 0,
        failures: 0,
    };
}

/// Whether a failure says the deployment is unwell, rather than the request wrong or
/// the deployment busy: a rate limit asks for patience (and is honoured through
/// `Retry-After` and fallback), so it does not open a breaker that would then refuse
/// traffic long after the burst.
pub fn counts_against(error: &ProviderError) -> bool {
    error.source_side == SourceSide::Upstream && error.kind != ErrorKind::RateLimited
}

/// The weight of the newest sample in the latency averages.
const EWMA_ALPHA: f64 = 0.3;

#[derive(Debug)]
struct Tracker {
    breaker: Breaker,
    /// Recent outcomes (`true` = failure) for the error rate.
    recent: VecDeque<(Instant, bool)>,
    consecutive_failures: u32,
    time_to_first_token: Option<f64>,
    latency: Option<f64>,
    successes: u64,
    failures: u64,
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Breaker {
    Closed,
    Open {
        until: Instant,
    },
    /// `probing` while the one probe is out.
    HalfOpen {
        probing: bool,
    },
}

#[derive(Debug)]
struct Entry {
    in_flight: AtomicU32,
    tracker: Mutex<Tracker>,
}

/// The health of every deployment the router has called, shared by all requests.
#[derive(Debug, Default)]
pub struct Health {
    settings: BreakerSettings,
    entries: Mutex<HashMap<DeploymentId, Arc<Entry>>>,
}

/// A call admitted to a deployment: counts it in flight until dropped.
#[derive(Debug)]
pub struct Admitted {
    entry: Arc<Entry>,
    settings: BreakerSettings,
    started: Instant,
    /// Whether this call is the half-open breaker's probe.
    probe: bool,
    /// Whether it counts in flight (a health check does not: it is not traffic).
    counted: bool,
    settled: bool,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding the lock leaves plain counters behind; they stay usable.
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Health {
    pub fn new(settings: BreakerSettings) -> Self {
        Health {
            settings,
            entries: Mutex::default(),
        }
    }

    fn entry(&self, id: &DeploymentId) -> Arc<Entry> {
        lock(&self.entries)
            .entry(id.clone())
            .or_insert_with(|| {
                Arc::new(Entry {
                    in_flight: AtomicU32::new(0),
                    tracker: Mutex::new(Tracker {
                        breaker: Breaker::Closed,
                        recent: VecDeque::new(),
                        consecutive_failures: 0,
                        time_to_first_token: None,
                        latency: None,
                        successes: 0,
                        failures: 0,
                    }),
                })
            })
            .clone()
    }

    /// How `id` looks now.
    pub fn observe(&self, id: &DeploymentId) -> Observed {
        let Some(entry) = lock(&self.entries).get(id).cloned() else {
            return Observed::FRESH;
        };
        let now = Instant::now();
        let tracker = lock(&entry.tracker);
        let circuit = match tracker.breaker {
            Breaker::Closed => Circuit::Closed,
            Breaker::Open { until } if until > now => Circuit::Open {
                retry_in: until - now,
            },
            Breaker::Open { .. } | Breaker::HalfOpen { .. } => Circuit::HalfOpen,
        };
        Observed {
            circuit,
            in_flight: entry.in_flight.load(Ordering::Relaxed),
            time_to_first_token: tracker.time_to_first_token.map(Duration::from_secs_f64),
            latency: tracker.latency.map(Duration::from_secs_f64),
            successes: tracker.successes,
            failures: tracker.failures,
        }
    }

    /// Lets a call through to `id` unless its breaker is open, or half-open with its
    /// probe already out; `Err` carries how long until it may be tried.
    pub fn admit(&self, id: &DeploymentId) -> Result<Admitted, Duration> {
        self.admit_as(id, true)
    }

    /// Lets a health check through as [`Health::admit`] would a call: while the
    /// breaker is half-open the check is its probe, so a deployment recovers without a
    /// caller's request being risked on it. A check is not counted in flight.
    pub fn admit_check(&self, id: &DeploymentId) -> Result<Admitted, Duration> {
        self.admit_as(id, false)
    }

    fn admit_as(&self, id: &DeploymentId, counted: bool) -> Result<Admitted, Duration> {
        let entry = self.entry(id);
        let now = Instant::now();
        let probe = {
            let mut tracker = lock(&entry.tracker);
            match tracker.breaker {
                Breaker::Closed => false,
                Breaker::Open { until } if until > now => return Err(until - now),
                Breaker::Open { .. } | Breaker::HalfOpen { probing: false } => {
                    tracker.breaker = Breaker::HalfOpen { probing: true };
                    true
                }
                // Another request is probing; the answer will come with it.
                Breaker::HalfOpen { probing: true } => return Err(Duration::ZERO),
            }
        };
        if counted {
            entry.in_flight.fetch_add(1, Ordering::Relaxed);
        }
        Ok(Admitted {
            entry,
            settings: self.settings,
            started: now,
            probe,
            counted,
            settled: false,
        })
    }
}

impl Admitted {
    /// The first event of a streamed call arrived.
    pub fn first_token(&self) {
        let elapsed = self.started.elapsed().as_secs_f64();
        let mut tracker = lock(&self.entry.tracker);
        tracker.time_to_first_token = Some(ewma(tracker.time_to_first_token, elapsed));
    }

    /// The call succeeded: it closes a half-open breaker and feeds the latency average.
    pub fn succeeded(mut self) {
        self.settled = true;
        let now = Instant::now();
        let elapsed = (now - self.started).as_secs_f64();
        let mut tracker = lock(&self.entry.tracker);
        tracker.latency = Some(ewma(tracker.latency, elapsed));
        tracker.successes += 1;
        tracker.consecutive_failures = 0;
        tracker.recent.push_back((now, false));
        if self.probe || matches!(tracker.breaker, Breaker::HalfOpen { .. }) {
            tracker.breaker = Breaker::Closed;
            tracker.recent.clear();
        }
    }

    /// A health check passed: the deployment answers. It closes a half-open breaker
    /// and ends a run of failures, but is no latency sample (it did no model work).
    pub fn check_passed(mut self) {
        self.settled = true;
        let mut tracker = lock(&self.entry.tracker);
        tracker.consecutive_failures = 0;
        if self.probe || matches!(tracker.breaker, Breaker::HalfOpen { .. }) {
            tracker.breaker = Breaker::Closed;
            tracker.recent.clear();
        }
    }

    /// The call failed with `error`; failures that count against the deployment may
    /// open its breaker.
    pub fn failed(mut self, error: &ProviderError) {
        self.settled = true;
        let settings = self.settings;
        if !counts_against(error) {
            self.release_probe();
            return;
        }
        let now = Instant::now();
        let mut tracker = lock(&self.entry.tracker);
        tracker.failures += 1;
        tracker.consecutive_failures += 1;
        tracker.recent.push_back((now, true));
        while tracker
            .recent
            .front()
            .is_some_and(|(at, _)| now.duration_since(*at) > settings.window)
        {
            tracker.recent.pop_front();
        }
        let calls = tracker.recent.len();
        let failed = tracker.recent.iter().filter(|(_, failed)| *failed).count();
        let rate_exceeded = calls >= settings.min_calls as usize
            && failed as f64 >= settings.error_rate * calls as f64;
        if self.probe
            || tracker.consecutive_failures >= settings.consecutive_failures
            || rate_exceeded
        {
            tracker.breaker = Breaker::Open {
                until: now + settings.cooldown,
            };
            tracker.recent.clear();
            tracker.consecutive_failures = 0;
        }
    }

    /// The probe ended without a verdict (the caller went away, or the request was at
    /// fault): the next request may probe.
    fn release_probe(&self) {
        if self.probe {
            let mut tracker = lock(&self.entry.tracker);
            if tracker.breaker == (Breaker::HalfOpen { probing: true }) {
                tracker.breaker = Breaker::HalfOpen { probing: false };
            }
        }
    }
}

impl Drop for Admitted {
    fn drop(&mut self) {
        if self.counted {
            self.entry.in_flight.fetch_sub(1, Ordering::Relaxed);
        }
        if !self.settled {
            self.release_probe();
        }
    }
}

fn ewma(average: Option<f64>, sample: f64) -> f64 {
    match average {
        None => sample,
        Some(average) => average + EWMA_ALPHA * (sample - average),
    }
}
