//! [`Accounting`]: what one model request did, recorded exactly once.
//!
//! A handler starts it when the request arrives and fills it in as the request is
//! routed and answered. It records metrics, the request's single log line and its
//! ledger record, and settles its limits and budget, when it is finished — for a
//! stream, when the last event has been sent — or, if it is dropped unfinished because
//! the client went away, with status 499 (client closed request). A stream cut off
//! before the upstream reported usage is billed for what was sent: the prompt's
//! estimate and the streamed text, counted. A request dropped while an upstream call
//! was under way (a client that left before the answer, or before a stream's first
//! event) is billed the prompt's estimate on the deployment it was sent to, as the
//! vendor bills the operator for it; an answer without usage is billed its estimate.

use std::sync::Arc;

use switchyard_governance::{Grant, LedgerRecord, Used};
use switchyard_router::{Hedged, Outcome, RouteError};
use switchyard_types::{DeploymentInfo, ErrorKind, StreamEvent, Usage};
use tokio::time::Instant;

use crate::auth::Caller;
use crate::context::RequestContext;
use crate::error::ApiError;
use crate::metrics::{
    CallLabels, DeploymentLabels, ModelLabels, RequestLabels, RouteLabels, TokenLabels,
    UpstreamErrorLabels,
};
use crate::state::AppState;

/// nginx's status for a request whose client closed the connection first.
pub const CLIENT_CLOSED: u16 = 499;

#[derive(Debug)]
pub struct Accounting {
    state: AppState,
    route: &'static str,
    request_id: Arc<str>,
    /// The ledger record's id, unique per request (a caller's `x-request-id` need not be).
    ledger_id: String,
    caller: Caller,
    /// When the request arrived, Unix milliseconds: the ledger's time for it.
    arrived_at: i64,
    /// The request's hold on its key's limits and budget, settled when it is recorded.
    grant: Option<Grant>,
    /// The prompt's estimated tokens, for a stream that ends without usage.
    input_estimate: Option<u64>,
    /// What a stream sent, kept until the upstream reports usage.
    streamed: String,
    cancelled_calls: u32,
    /// The configured model name, or `unknown` (a metrics label: bounded).
    model: String,
    deployment: Option<DeploymentInfo>,
    /// The deployment the latest upstream call went to, set as each call starts: who
    /// bills a request that is dropped before any call returned.
    dispatched: Dispatched,
    attempts: u32,
    stream: bool,
    started: Instant,
    first_event: Option<Instant>,
    usage: Option<Usage>,
    /// `usage` is the gateway's own count, not the upstream's.
    usage_estimated: bool,
    /// When the request was hedged, after how long.
    hedged_after: Option<std::time::Duration>,
    recorded: bool,
}

impl Accounting {
    pub fn start(state: &AppState, route: &'static str, cx: &RequestContext) -> Self {
        state
            .metrics()
            .in_flight
            .get_or_create(&RouteLabels { route })
            .inc();
        Accounting {
            state: state.clone(),
            route,
            request_id: cx.request_id.clone(),
            ledger_id: uuid::Uuid::new_v4().simple().to_string(),
            caller: cx.caller.clone(),
            arrived_at: switchyard_governance::period::now_millis(),
            grant: None,
            input_estimate: None,
            streamed: String::new(),
            cancelled_calls: 0,
            model: "unknown".to_owned(),
            deployment: None,
            dispatched: Dispatched::default(),
            attempts: 0,
            stream: false,
            started: Instant::now(),
            first_event: None,
            usage: None,
            usage_estimated: false,
            hedged_after: None,
            recorded: false,
        }
    }

    /// What each upstream call reports itself to as it starts (see [`Dispatched`]).
    pub fn dispatched(&self) -> Dispatched {
        self.dispatched.clone()
    }

    /// A virtual key's caller: a tenant, who sees no detail of the operator's vendor
    /// accounts.
    pub fn caller_is_tenant(&self) -> bool {
        self.caller.principal().is_some()
    }

    pub fn request_id(&self) -> &str {
        &self.request_id
    }

    pub fn ledger_id(&self) -> &str {
        &self.ledger_id
    }

    /// The request was admitted under its key's limits and budget.
    pub fn set_grant(&mut self, grant: Option<Grant>) {
        self.grant = grant;
    }

    pub fn set_input_estimate(&mut self, tokens: u64) {
        self.input_estimate = Some(tokens);
    }

    /// Keeps the text a stream frame carries, to count if no usage ever comes.
    pub fn note_streamed(&mut self, frame: &[StreamEvent]) {
        if self.usage.is_some() {
            return;
        }
        for event in frame {
            match event {
                StreamEvent::TextDelta { text, .. }
                | StreamEvent::ReasoningDelta { text, .. }
                | StreamEvent::RefusalDelta { text, .. } => self.streamed.push_str(text),
                StreamEvent::ToolCallDelta {
                    name, arguments, ..
                } => {
                    self.streamed.push_str(name.as_deref().unwrap_or(""));
                    self.streamed.push_str(arguments);
                }
                _ => {}
            }
        }
    }

    /// Keeps the text of an answer that came without usage, to bill its estimate.
    pub fn note_answer(&mut self, response: &switchyard_types::ChatResponse) {
        for choice in &response.choices {
            for block in &choice.message.content {
                match block {
                    switchyard_types::ContentBlock::Text { text, .. }
                    | switchyard_types::ContentBlock::Reasoning { text, .. } => {
                        self.streamed.push_str(text);
                    }
                    switchyard_types::ContentBlock::ToolCall {
                        name, arguments, ..
                    } => {
                        self.streamed.push_str(name);
                        self.streamed.push_str(arguments);
                    }
                    _ => {}
                }
            }
        }
    }

    /// For a stream that ended without the upstream reporting usage (llama-cpp-python's
    /// server ignores `stream_options`): the gateway's own count, kept as the usage to
    /// bill and returned so a caller that asked for usage still gets it. It says
    /// `"switchyard_estimated": true`, so no one mistakes it for the vendor's count.
    pub fn estimate_missing_usage(&mut self) -> Option<Usage> {
        if self.usage.is_some() {
            return None;
        }
        let (mut usage, estimated) = self.usage_to_bill(200);
        if !estimated {
            return None;
        }
        usage.extra.insert(
            "switchyard_estimated".to_owned(),
            serde_json::Value::Bool(true),
        );
        self.usage = Some(usage.clone());
        self.usage_estimated = true;
        self.streamed = String::new();
        Some(usage)
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
        self.cancelled_calls = u32::try_from(hedged.cancelled.len()).unwrap_or(u32::MAX);
        self.state
            .metrics()
            .hedges
            .get_or_create(&ModelLabels {
                model: self.model.clone(),
            })
            .inc();
        for deployment in &hedged.cancelled {
            self.state
                .metrics()
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
        self.streamed = String::new();
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
        self.state
            .metrics()
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
        let metrics = self.state.metrics();
        metrics
            .in_flight
            .get_or_create(&RouteLabels { route: self.route })
            .dec();
        // The deployment that bills it: the one that answered, else the one the last
        // call went to (a request dropped while that call was under way).
        if self.deployment.is_none() {
            self.deployment = self.dispatched.get();
        }
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
        let (usage, usage_estimated) = self.usage_to_bill(status);
        let (input_tokens, output_tokens) = (usage.input_tokens, usage.output_tokens);
        if self.usage.is_some() || usage_estimated {
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
        self.bill(
            status,
            &usage,
            usage_estimated,
            elapsed,
            time_to_first_event,
        );
    }

    /// The usage to bill: the upstream's; else, when an upstream call was under way
    /// and the vendor bills it, the prompt's estimate and whatever text reached the
    /// caller, counted: a client that left before the answer (the call is dropped, the
    /// vendor still bills the prompt), a stream cut off after it began, an answer that
    /// came without usage. An upstream that refused or failed before answering bills
    /// nothing, and neither does a request never sent.
    fn usage_to_bill(&self, status: u16) -> (Usage, bool) {
        if let Some(usage) = &self.usage {
            return (usage.clone(), self.usage_estimated);
        }
        if self.deployment.is_none() {
            return (Usage::default(), false);
        }
        let billed = status == CLIENT_CLOSED
            || (200..300).contains(&status)
            || (self.stream && self.first_event.is_some());
        if !billed {
            return (Usage::default(), false);
        }
        let usage = Usage {
            input_tokens: self.input_estimate.unwrap_or(0),
            output_tokens: if self.streamed.is_empty() {
                0
            } else {
                switchyard_router::tokens::count_text(&self.streamed)
            },
            ..Usage::default()
        };
        (usage, true)
    }

    /// Writes the ledger record and settles the request's limits and budget.
    fn bill(
        &mut self,
        status: u16,
        usage: &Usage,
        usage_estimated: bool,
        elapsed: std::time::Duration,
        time_to_first_event: Option<std::time::Duration>,
    ) {
        let priced = self
            .deployment
            .as_ref()
            .map(|deployment| self.state.prices().priced(&deployment.id));
        let cost = priced.as_ref().map_or(0, |priced| priced.cost(usage));
        let principal = self.caller.principal();
        let record = LedgerRecord {
            id: std::mem::take(&mut self.ledger_id),
            request_id: self.request_id.to_string(),
            at: self.arrived_at,
            key: principal.map(|principal| principal.key.id.clone()),
            org: principal.map(|principal| principal.key.org.clone()),
            team: principal.and_then(|principal| principal.key.team.clone()),
            model: self.model.clone(),
            deployment: self.deployment.as_ref().map(|info| info.id.to_string()),
            provider: self
                .deployment
                .as_ref()
                .map(|info| info.provider.to_string()),
            route: self.route.to_owned(),
            input_tokens: usage.input_tokens,
            output_tokens: usage.output_tokens,
            cached_tokens: usage.cached_input_tokens.unwrap_or(0),
            reasoning_tokens: usage.reasoning_tokens.unwrap_or(0),
            price_version: priced
                .map_or_else(|| "none".to_owned(), |priced| priced.version.to_string()),
            cost,
            latency_ms: elapsed.as_millis() as u64,
            ttft_ms: time_to_first_event.map(|ttft| ttft.as_millis() as u64),
            status,
            stream: self.stream,
            usage_estimated,
            cancelled_calls: self.cancelled_calls,
        };
        self.state.governance().writer().record(record);
        if let Some(grant) = self.grant.take() {
            let used = Used {
                tokens: usage.total_tokens(),
                cost,
            };
            crate::governance::settle(&self.state, grant, used);
        }
    }
}

/// The deployment an upstream call went to, shared by the calls a request makes (its
/// fallbacks and hedges report here as they start) and the request's [`Accounting`].
#[derive(Debug, Clone, Default)]
pub struct Dispatched(Arc<std::sync::Mutex<Option<DeploymentInfo>>>);

impl Dispatched {
    /// A call to `deployment` is starting.
    pub fn to(&self, deployment: &DeploymentInfo) {
        let mut slot = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if slot
            .as_ref()
            .is_none_or(|current| current.id != deployment.id)
        {
            *slot = Some(deployment.clone());
        }
    }

    fn get(&self) -> Option<DeploymentInfo> {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }
}

impl Drop for Accounting {
    fn drop(&mut self) {
        if !self.recorded {
            self.record(CLIENT_CLOSED, None);
        }
    }
}
