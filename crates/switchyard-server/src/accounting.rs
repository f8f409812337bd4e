//! [`Accounting`]: what one model request did, recorded exactly once.
//!
//! A handler starts it when the request arrives and fills it in as the request is
//! routed and answered. It records metrics and the request's single log line when it is
//! finished — for a stream, when the last event has been sent — or, if it is dropped
//! unfinished because the client went away, with status 499 (client closed request).

use std::sync::Arc;

use switchyard_router::{Hedged, Outcome, RouteError};
use switchyard_types::{DeploymentInfo, ErrorKind, Usage};
use tokio::time::Instant;

use crate::error::ApiError;
use crate::metrics::{
    CallLabels, DeploymentLabels, Metrics, ModelLabels, RequestLabels, RouteLabels, TokenLabels,
    UpstreamErrorLabels,
};

/// nginx's status for a request whose client closed the connection first.
pub const CLIENT_CLOSED: u16 = 499;

#[derive(Debug)]
pub struct Accounting {
    metrics: Arc<Metrics>,
    route: &'static str,
    request_id: Arc<str>,
    /// The configured model name, or `unknown` (a metrics label: bounded).
    model: String,
    deployment: Option<DeploymentInfo>,
    attempts: u32,
    stream: bool,
    started: Instant,
    first_event: Option<Instant>,
    usage: Option<Usage>,
    /// When the request was hedged, after how long.
    hedged_after: Option<std::time::Duration>,
    recorded: bool,
}

impl Accounting {
    pub fn start(metrics: Arc<Metrics>, route: &'static str, request_id: Arc<str>) -> Self {
        metrics
            .in_flight
            .get_or_create(&RouteLabels { route })
            .inc();
        Accounting {
            metrics,
            route,
            request_id,
            model: "unknown".to_owned(),
            deployment: None,
            attempts: 0,
            stream: false,
            started: Instant::now(),
            first_event: None,
            usage: None,
            hedged_after: None,
            recorded: false,
        }
    }

    /// The request named a configured model.
    pub fn set_model(&mut self, model: &str) {
        model.clone_into(&mut self.model);
    }

    pub fn set_stream(&mut self, stream: bool) {
        self.stream = stream;
    }

    pub fn set_served_by(&mut self, deployment: &DeploymentInfo, attempts: u32) {
        self.deployment = Some(deployment.clone());
        self.attempts = attempts;
    }

    /// A route succeeded: note which deployment served it and count the failed
    /// attempts that fell back to it.
    pub fn record_outcome<T>(&mut self, outcome: &Outcome<T>) {
        for attempt in &outcome.earlier {
            self.upstream_error(&attempt.deployment, attempt.kind);
        }
        self.set_served_by(&outcome.deployment, outcome.attempts);
    }

    /// A hedge was sent: count it, and each call dropped because another answered
    /// first (its deployment may bill what it generated before the drop).
    pub fn record_hedge(&mut self, hedged: &Hedged) {
        let Some(after) = hedged.fired_after else {
            return;
        };
        self.hedged_after = Some(after);
        self.metrics
            .hedges
            .get_or_create(&ModelLabels {
                model: self.model.clone(),
            })
            .inc();
        for deployment in &hedged.cancelled {
            self.metrics
                .calls_cancelled
                .get_or_create(&DeploymentLabels {
                    deployment: deployment.id.to_string(),
                    provider: deployment.provider.to_string(),
                })
                .inc();
        }
    }

    pub fn mark_first_event(&mut self) {
        self.first_event.get_or_insert_with(Instant::now);
    }

    pub fn set_usage(&mut self, usage: Usage) {
        self.usage = Some(usage);
    }

    /// Counts each failed upstream attempt of a route, the last one included.
    pub fn record_route_error(&mut self, error: &RouteError) {
        for attempt in &error.earlier {
            self.upstream_error(&attempt.deployment, attempt.kind);
        }
        if let Some(deployment) = &error.deployment {
            self.upstream_error(deployment, error.error.kind);
            self.set_served_by(deployment, error.attempts);
        }
    }

    fn upstream_error(&self, deployment: &DeploymentInfo, kind: ErrorKind) {
        if matches!(
            kind,
            ErrorKind::InvalidRequest | ErrorKind::ContextLengthExceeded | ErrorKind::Unsupported
        ) {
            return;
        }
        self.metrics
            .upstream_errors
            .get_or_create(&UpstreamErrorLabels {
                deployment: deployment.id.to_string(),
                provider: deployment.provider.to_string(),
                kind: kind.as_str(),
            })
            .inc();
    }

    pub fn finish_ok(mut self, status: u16) {
        self.record(status, None);
    }

    pub fn finish_error(mut self, error: &ApiError) {
        self.record(error.status().as_u16(), Some(error));
    }

    fn record(&mut self, status: u16, error: Option<&ApiError>) {
        if self.recorded {
            return;
        }
        self.recorded = true;
        let metrics = &self.metrics;
        metrics
            .in_flight
            .get_or_create(&RouteLabels { route: self.route })
            .dec();
        let (deployment, provider) = match &self.deployment {
            Some(info) => (info.id.to_string(), info.provider.to_string()),
            None => ("none".to_owned(), "none".to_owned()),
        };
        metrics
            .requests
            .get_or_create(&RequestLabels {
                route: self.route,
                model: self.model.clone(),
                deployment: deployment.clone(),
                provider: provider.clone(),
                status,
            })
            .inc();
        let call = CallLabels {
            route: self.route,
            model: self.model.clone(),
            deployment: deployment.clone(),
            provider: provider.clone(),
        };
        let elapsed = self.started.elapsed();
        metrics
            .duration
            .get_or_create(&call)
            .observe(elapsed.as_secs_f64());
        let time_to_first_event = self
            .first_event
            .map(|first| first.duration_since(self.started));
        if let Some(ttft) = time_to_first_event {
            metrics
                .time_to_first_token
                .get_or_create(&call)
                .observe(ttft.as_secs_f64());
        }
        let (input_tokens, output_tokens) = self
            .usage
            .as_ref()
            .map_or((0, 0), |usage| (usage.input_tokens, usage.output_tokens));
        if self.usage.is_some() {
            for (direction, count) in [("input", input_tokens), ("output", output_tokens)] {
                metrics
                    .tokens
                    .get_or_create(&TokenLabels {
                        model: self.model.clone(),
                        deployment: deployment.clone(),
                        provider: provider.clone(),
                        direction,
                    })
                    .inc_by(count);
            }
        }
        let latency_ms = elapsed.as_secs_f64() * 1000.0;
        let ttft_ms = time_to_first_event.map(|ttft| ttft.as_secs_f64() * 1000.0);
        let hedged_after_ms = self.hedged_after.map(|after| after.as_secs_f64() * 1000.0);
        match error {
            None => tracing::info!(
                request_id = %self.request_id,
                route = self.route,
                model = %self.model,
                deployment = %deployment,
                provider = %provider,
                stream = self.stream,
                status,
                input_tokens,
                output_tokens,
                latency_ms,
                ttft_ms,
                hedged_after_ms,
                attempts = self.attempts,
                "Request served."
            ),
            Some(error) => tracing::warn!(
                request_id = %self.request_id,
                route = self.route,
                model = %self.model,
                deployment = %deployment,
                provider = %provider,
                stream = self.stream,
                status,
                code = error.code.as_str(),
                error = %error.message,
                latency_ms,
                attempts = self.attempts,
                "Request failed."
            ),
        }
    }
}

impl Drop for Accounting {
    fn drop(&mut self) {
        if !self.recorded {
            self.record(CLIENT_CLOSED, None);
        }
    }
}
