//! Strategies: the order a route tries its eligible deployments in. The first is the
//! one chosen; the rest are its fallbacks, in the same order of preference.

use std::cmp::Ordering;
use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::deployment::Deployment;
use crate::health::Observed;

/// How a route orders its deployments.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Strategy {
    /// In the order configured.
    #[default]
    Priority,
    /// At random, in proportion to each deployment's weight.
    Weighted,
    /// Fastest first, by the average time to the first token for streamed requests and
    /// of the whole call otherwise. Deployments not yet measured go first, so each gets
    /// measured.
    LeastLatency,
    /// Fewest requests in flight first.
    LeastBusy,
    /// Lowest estimated cost of this request first; unknown prices last.
    Cheapest,
    /// Highest eval score per estimated dollar first; unscored deployments last.
    QualityPerCost,
    /// The deployment of the task the prompt resembles most first (see
    /// [`crate::task`]), the rest in the order configured.
    Semantic,
}

impl Strategy {
    pub const ALL: [Strategy; 7] = [
        Strategy::Priority,
        Strategy::Weighted,
        Strategy::LeastLatency,
        Strategy::LeastBusy,
        Strategy::Cheapest,
        Strategy::QualityPerCost,
        Strategy::Semantic,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Strategy::Priority => "priority",
            Strategy::Weighted => "weighted",
            Strategy::LeastLatency => "least-latency",
            Strategy::LeastBusy => "least-busy",
            Strategy::Cheapest => "cheapest",
            Strategy::QualityPerCost => "quality-per-cost",
            Strategy::Semantic => "semantic",
        }
    }

    pub fn parse(name: &str) -> Option<Strategy> {
        Strategy::ALL
            .into_iter()
            .find(|strategy| strategy.as_str() == name)
    }
}

impl fmt::Display for Strategy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What a strategy weighs: a candidate, how it has behaved, and this request's size.
pub(crate) struct Scored {
    pub deployment: Deployment,
    pub observed: Observed,
}

/// The request's size, for cost estimates.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Size {
    pub input_tokens: u64,
    pub output_tokens: u64,
    pub streaming: bool,
}

/// Orders `candidates` by `strategy`, keeping the configured order among equals, and
/// says why the first was chosen.
pub(crate) fn order(
    strategy: Strategy,
    mut candidates: Vec<Scored>,
    size: Size,
    rng: &mut fastrand::Rng,
) -> (Vec<Deployment>, String) {
    let cost = |candidate: &Scored| {
        candidate
            .deployment
            .profile
            .cost(size.input_tokens, size.output_tokens)
    };
    match strategy {
        // The plan puts the task's deployment first, knowing the prompt's task.
        Strategy::Priority | Strategy::Semantic => {}
        Strategy::Weighted => {
            // Efraimidis–Spirakis: sorting by u^(1/w) descending draws a weighted
            // permutation in one pass; weight 0 goes last.
            let mut keyed: Vec<(f64, Scored)> = candidates
                .into_iter()
                .map(|candidate| {
                    let weight = f64::from(candidate.deployment.weight);
                    let key = if weight > 0.0 {
                        rng.f64().powf(1.0 / weight)
                    } else {
                        -1.0
                    };
                    (key, candidate)
                })
                .collect();
            keyed.sort_by(|a, b| b.0.total_cmp(&a.0));
            candidates = keyed.into_iter().map(|(_, candidate)| candidate).collect();
        }
        Strategy::LeastLatency => {
            let latency = |candidate: &Scored| {
                measured_latency(&candidate.observed, size.streaming)
                    .map_or(0.0, |(_, latency)| latency.as_secs_f64())
            };
            candidates.sort_by(|a, b| latency(a).total_cmp(&latency(b)));
        }
        Strategy::LeastBusy => candidates.sort_by_key(|candidate| candidate.observed.in_flight),
        Strategy::Cheapest => candidates.sort_by(|a, b| known_first(cost(a), cost(b))),
        Strategy::QualityPerCost => {
            let value = |candidate: &Scored| {
                let quality = candidate.deployment.quality?;
                // A free deployment (a local model) is worth its quality over a
                // millionth of a dollar, not infinity, so scores still rank free ones.
                Some(quality / cost(candidate).unwrap_or(f64::INFINITY).max(1e-6))
            };
            // Highest value first: sort by its negation, unknown values still last.
            candidates.sort_by(|a, b| known_first(value(a).map(|v| -v), value(b).map(|v| -v)));
        }
    }
    let reason = candidates
        .first()
        .map(|first| reason(strategy, first, cost(first), size))
        .unwrap_or_default();
    let ordered = candidates
        .into_iter()
        .map(|candidate| candidate.deployment)
        .collect();
    (ordered, reason)
}

/// The latency `least-latency` compares, and what it measures: the time to the first
/// token for a streamed request (the whole call until one was streamed), the whole call
/// otherwise.
fn measured_latency(observed: &Observed, streaming: bool) -> Option<(&'static str, Duration)> {
    let first_token = observed
        .time_to_first_token
        .filter(|_| streaming)
        .map(|ttft| ("time to first token", ttft));
    first_token.or(observed.latency.map(|latency| ("latency", latency)))
}

/// Smaller known values first, then unknown ones, in their configured order.
fn known_first(a: Option<f64>, b: Option<f64>) -> Ordering {
    match (a, b) {
        (Some(a), Some(b)) => a.total_cmp(&b),
        (Some(_), None) => Ordering::Less,
        (None, Some(_)) => Ordering::Greater,
        (None, None) => Ordering::Equal,
    }
}

fn reason(strategy: Strategy, first: &Scored, cost: Option<f64>, size: Size) -> String {
    let id = &first.deployment.info().id;
    match strategy {
        Strategy::Priority => format!("priority: `{id}` is the first eligible deployment"),
        Strategy::Semantic => format!("semantic: no task recognised; `{id}` is first in order"),
        Strategy::Weighted => format!(
            "weighted: `{id}` drawn with weight {}",
            first.deployment.weight
        ),
        Strategy::LeastLatency => match measured_latency(&first.observed, size.streaming) {
            Some((what, latency)) => format!(
                "least-latency: `{id}` has the lowest average {what}, {} ms",
                latency.as_millis()
            ),
            None => format!("least-latency: `{id}` has not been measured yet"),
        },
        Strategy::LeastBusy => format!(
            "least-busy: `{id}` has {} requests in flight",
            first.observed.in_flight
        ),
        Strategy::Cheapest => match cost {
            Some(cost) => format!("cheapest: `{id}` at an estimated ${cost:.6}"),
            None => format!("cheapest: no price known; `{id}` is first in order"),
        },
        Strategy::QualityPerCost => match first.deployment.quality {
            Some(quality) => format!(
                "quality-per-cost: `{id}` scores {quality} at an estimated ${:.6}",
                cost.unwrap_or(0.0)
            ),
            None => format!("quality-per-cost: no scores known; `{id}` is first in order"),
        },
    }
}
