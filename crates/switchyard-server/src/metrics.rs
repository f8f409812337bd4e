//! Prometheus metrics, served at `GET /metrics`.
//!
//! One registry per app instance (no process-global recorder), so servers started side
//! by side in one test process keep separate counts. Label values come only from the
//! configuration (model, deployment and provider names), fixed route names, status
//! codes and error kinds, so cardinality is bounded by the config, never by callers:
//! a model name nobody configured is counted as `unknown`.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;
use std::sync::atomic::AtomicU64;
use switchyard_router::Observed;
use switchyard_types::DeploymentInfo;

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RequestLabels {
    pub route: &'static str,
    pub model: String,
    pub deployment: String,
    pub provider: String,
    pub status: u16,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct CallLabels {
    pub route: &'static str,
    pub model: String,
    pub deployment: String,
    pub provider: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct TokenLabels {
    pub model: String,
    pub deployment: String,
    pub provider: String,
    pub direction: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RouteLabels {
    pub route: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct UpstreamErrorLabels {
    pub deployment: String,
    pub provider: String,
    pub kind: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct DeploymentLabels {
    pub deployment: String,
    pub provider: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct CircuitLabels {
    pub deployment: String,
    pub provider: String,
    pub state: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct TaskLabels {
    pub model: String,
    /// The task's configured name, `none` when no task was near enough, `error` when
    /// the prompt could not be embedded in time.
    pub task: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RefusalLabels {
    /// `organisation`, `team` or `key`.
    pub level: &'static str,
    /// `requests`, `tokens`, `too_large`, `parallel` or `budget`.
    pub reason: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct AlertLabels {
    pub level: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct LedgerLabels {
    pub outcome: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct CheckLabels {
    pub deployment: String,
    pub provider: String,
    /// `passed`, `failed`, or `skipped` (the breaker is open and not yet due a probe).
    pub result: &'static str,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ModelLabels {
    pub model: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct LatencyLabels {
    pub deployment: String,
    pub provider: String,
    /// `total` or `first_token`.
    pub measure: &'static str,
}

fn latency_histogram() -> Histogram {
    // 1 ms to ~2 min: a cached local answer to a long reasoning call.
    Histogram::new([
        0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0,
        120.0,
    ])
}

#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    pub requests: Family<RequestLabels, Counter>,
    pub duration: Family<CallLabels, Histogram, fn() -> Histogram>,
    pub time_to_first_token: Family<CallLabels, Histogram, fn() -> Histogram>,
    pub tokens: Family<TokenLabels, Counter>,
    pub in_flight: Family<RouteLabels, Gauge>,
    pub upstream_errors: Family<UpstreamErrorLabels, Counter>,
    pub circuit: Family<CircuitLabels, Gauge>,
    pub deployment_in_flight: Family<DeploymentLabels, Gauge>,
    pub latency_average: Family<LatencyLabels, Gauge<f64, AtomicU64>>,
    pub tasks: Family<TaskLabels, Counter>,
    pub hedges: Family<ModelLabels, Counter>,
    pub calls_cancelled: Family<DeploymentLabels, Counter>,
    pub task_duration: Family<ModelLabels, Histogram, fn() -> Histogram>,
    pub health_checks: Family<CheckLabels, Counter>,
    pub refusals: Family<RefusalLabels, Counter>,
    pub budget_alerts: Family<AlertLabels, Counter>,
    pub budget_alert_failures: Counter,
    pub ledger_records: Family<LedgerLabels, Gauge>,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

impl Metrics {
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("switchyard");
        let requests = Family::<RequestLabels, Counter>::default();
        let duration = Family::new_with_constructor(latency_histogram as fn() -> Histogram);
        let time_to_first_token =
            Family::new_with_constructor(latency_histogram as fn() -> Histogram);
        let tokens = Family::<TokenLabels, Counter>::default();
        let in_flight = Family::<RouteLabels, Gauge>::default();
        let upstream_errors = Family::<UpstreamErrorLabels, Counter>::default();
        let circuit = Family::<CircuitLabels, Gauge>::default();
        let deployment_in_flight = Family::<DeploymentLabels, Gauge>::default();
        let latency_average = Family::<LatencyLabels, Gauge<f64, AtomicU64>>::default();
        let tasks = Family::<TaskLabels, Counter>::default();
        let hedges = Family::<ModelLabels, Counter>::default();
        let calls_cancelled = Family::<DeploymentLabels, Counter>::default();
        let health_checks = Family::<CheckLabels, Counter>::default();
        registry.register(
            "health_checks",
            "Active health checks of deployments, by result",
            health_checks.clone(),
        );
        registry.register(
            "hedges",
            "Requests hedged: the rest of the plan started because the first deployment was slow",
            hedges.clone(),
        );
        registry.register(
            "upstream_calls_cancelled",
            "Upstream calls dropped because a hedge answered first, by deployment",
            calls_cancelled.clone(),
        );
        let task_duration = Family::new_with_constructor(latency_histogram as fn() -> Histogram);
        registry.register(
            "route_tasks",
            "Prompts the semantic strategy classified, by model and task (none: no task near \
             enough; error: not embedded in time)",
            tasks.clone(),
        );
        registry.register(
            "route_task_duration_seconds",
            "Time to embed a prompt and find its task, by model",
            task_duration.clone(),
        );
        registry.register(
            "deployment_circuit",
            "Each deployment's circuit breaker: 1 for its current state (closed, half_open, open)",
            circuit.clone(),
        );
        registry.register(
            "deployment_in_flight",
            "Calls to each deployment in flight now",
            deployment_in_flight.clone(),
        );
        registry.register(
            "deployment_latency_average_seconds",
            "The router's moving average of each deployment's latency, as least-latency reads it",
            latency_average.clone(),
        );
        registry.register(
            "requests",
            "Model requests answered, by route, model, deployment, provider and HTTP status",
            requests.clone(),
        );
        registry.register(
            "request_duration_seconds",
            "Time from request to the last byte of the answer",
            duration.clone(),
        );
        registry.register(
            "time_to_first_token_seconds",
            "Time from request to the first streamed event",
            time_to_first_token.clone(),
        );
        registry.register(
            "tokens",
            "Tokens metered, by direction (input or output)",
            tokens.clone(),
        );
        registry.register(
            "requests_in_flight",
            "Model requests being served now",
            in_flight.clone(),
        );
        registry.register(
            "upstream_errors",
            "Failed upstream calls, by deployment and error kind",
            upstream_errors.clone(),
        );
        let refusals = Family::<RefusalLabels, Counter>::default();
        registry.register(
            "governance_refusals",
            "Requests refused by a key's, team's or organisation's limits or budget, by level \
             and reason",
            refusals.clone(),
        );
        let budget_alerts = Family::<AlertLabels, Counter>::default();
        registry.register(
            "budget_alerts",
            "Budget alert thresholds crossed and claimed by this replica, by level",
            budget_alerts.clone(),
        );
        let budget_alert_failures = Counter::default();
        registry.register(
            "budget_alert_failures",
            "Budget alerts the webhook never accepted",
            budget_alert_failures.clone(),
        );
        let ledger_records = Family::<LedgerLabels, Gauge>::default();
        registry.register(
            "ledger_records",
            "Ledger records since start, by outcome: written to the store, spilled to the \
             spill file (replayed at the next start), or lost",
            ledger_records.clone(),
        );
        Metrics {
            refusals,
            budget_alerts,
            budget_alert_failures,
            ledger_records,
            registry,
            requests,
            duration,
            time_to_first_token,
            tokens,
            in_flight,
            upstream_errors,
            circuit,
            deployment_in_flight,
            latency_average,
            tasks,
            task_duration,
            hedges,
            calls_cancelled,
            health_checks,
        }
    }

    /// Sets the deployment gauges from the router's view of `deployments`: called before
    /// each scrape, so the gauges are never stale.
    pub fn observe_deployments<'a>(
        &self,
        deployments: impl IntoIterator<Item = (&'a DeploymentInfo, Observed)>,
    ) {
        for (info, observed) in deployments {
            let (deployment, provider) = (info.id.to_string(), info.provider.to_string());
            for state in ["closed", "half_open", "open"] {
                self.circuit
                    .get_or_create(&CircuitLabels {
                        deployment: deployment.clone(),
                        provider: provider.clone(),
                        state,
                    })
                    .set(i64::from(observed.circuit.as_str() == state));
            }
            self.deployment_in_flight
                .get_or_create(&DeploymentLabels {
                    deployment: deployment.clone(),
                    provider: provider.clone(),
                })
                .set(i64::from(observed.in_flight));
            let averages = [
                ("total", observed.latency),
                ("first_token", observed.time_to_first_token),
            ];
            for (measure, average) in averages {
                if let Some(average) = average {
                    self.latency_average
                        .get_or_create(&LatencyLabels {
                            deployment: deployment.clone(),
                            provider: provider.clone(),
                            measure,
                        })
                        .set(average.as_secs_f64());
                }
            }
        }
    }

    /// Sets the ledger gauges from the writer's counts; called before each scrape.
    pub fn observe_ledger(&self, stats: &switchyard_governance::ledger::writer::WriterStats) {
        use std::sync::atomic::Ordering::Relaxed;
        for (outcome, count) in [
            ("written", &stats.written),
            ("spilled", &stats.spilled),
            ("lost", &stats.lost),
        ] {
            self.ledger_records
                .get_or_create(&LedgerLabels { outcome })
                .set(i64::try_from(count.load(Relaxed)).unwrap_or(i64::MAX));
        }
    }

    /// The Prometheus text exposition of every metric.
    pub fn render(&self) -> String {
        let mut text = String::new();
        // Writing to a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut text, &self.registry);
        text
    }
}
