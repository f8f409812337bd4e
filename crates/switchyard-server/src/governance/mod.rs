//! Governance on the request path: admission before dispatch, the rate-limit headers,
//! settlement and budget alerts after the answer; and the admin API.
//!
//! - this module: [`admit`] and [`settle`], and the headers.
//! - [`admin`]: `/admin/keys`, `/admin/orgs`, `/admin/audit`.
//! - [`usage`]: `/admin/usage`, as JSON or CSV.
//! - [`alerts`]: budget thresholds crossed, claimed once and sent to the webhook.

pub mod admin;
pub mod alerts;
pub mod usage;

use std::time::Duration;

use axum::http::{HeaderMap, HeaderName, HeaderValue};
use switchyard_governance::{Admission, Demand, Grant, Quota, Refusal, Remaining, Used};
use switchyard_router::{Deployment, Route};

use crate::context::RequestContext;
use crate::error::{ApiError, Code};
use crate::state::AppState;

/// The route `model` names, if the caller may use it. A key limited to some models is
/// told that others do not exist, as OpenAI does, without suggesting any names.
pub fn route_for<'s>(
    state: &'s AppState,
    cx: &RequestContext,
    model: &str,
) -> Result<&'s Route, ApiError> {
    let limited = cx
        .caller
        .principal()
        .filter(|principal| !principal.key.settings.models.is_empty());
    let Some(principal) = limited else {
        return Ok(state.catalog().get(model)?);
    };
    match state.catalog().get(model) {
        Ok(route) if principal.key.allows_model(&route.name) => Ok(route),
        _ => Err(ApiError::new(
            Code::ModelNotFound,
            format!("the model `{model}` does not exist or you do not have access to it"),
        )
        .with_param("model")),
    }
}

/// What a request may use, as estimated before dispatch.
#[derive(Debug, Clone, Copy)]
pub struct Estimate {
    /// Every prompt's tokens together: each is sent (and billed) once.
    pub input_tokens: u64,
    /// The request's `max_tokens` (per answer), if it set one.
    pub max_output_tokens: Option<u64>,
    /// How many answers it asks for: prompts × `n`. Each may be `max_output_tokens`
    /// long, so the reservation covers them all.
    pub answers: u64,
}

impl Estimate {
    /// The estimate of a chat or text-completion request, from the plan's `needs`
    /// (which hold the longest sequence, what must fit a window).
    pub fn of(
        request: &switchyard_types::ChatRequest,
        needs: &switchyard_router::Needs,
    ) -> Estimate {
        let prompts = request
            .completion
            .as_ref()
            .map_or(1, |completion| completion.prompt.len().max(1)) as u64;
        let input_tokens = if prompts > 1 {
            switchyard_router::tokens::estimate_input_tokens(request)
        } else {
            needs.input_tokens
        };
        Estimate {
            input_tokens,
            max_output_tokens: needs.max_output_tokens,
            answers: prompts.saturating_mul(u64::from(request.sampling.n.unwrap_or(1).max(1))),
        }
    }
}

/// Keeps a budgeted key off deployments with no known price: their cost would count as
/// nothing, and the budget would not hold. The operator marks a free deployment with
/// `price = { input = 0, output = 0 }`. Refused by name when nothing priced is left.
pub fn priced_for_budget(
    state: &AppState,
    cx: &RequestContext,
    candidates: &mut Vec<Deployment>,
) -> Result<(), ApiError> {
    let Some(principal) = cx.caller.principal() else {
        return Ok(());
    };
    if principal
        .levels()
        .iter()
        .all(|level| level.budgets.is_empty())
    {
        return Ok(());
    }
    let unpriced: Vec<String> = candidates
        .iter()
        .filter(|deployment| state.prices().priced(&deployment.info().id).price.is_none())
        .map(|deployment| deployment.info().id.to_string())
        .collect();
    if unpriced.is_empty() {
        return Ok(());
    }
    candidates.retain(|deployment| state.prices().priced(&deployment.info().id).price.is_some());
    if candidates.is_empty() {
        return Err(ApiError::new(
            Code::NoEligibleDeployment,
            format!(
                "this key has a budget, and no deployment of this model has a known price \
                 ({}); the operator can set one (`price = {{ input = 0, output = 0 }}` for a \
                 free one)",
                unpriced.join(", ")
            ),
        )
        .with_param("model"));
    }
    Ok(())
}

/// The output limit put on a keyed request that sets none, when a token rate or a
/// budget holds it: the reservation assumes `default_output_tokens`, and the limit
/// makes that a bound the upstream keeps, not a guess it may exceed.
pub fn output_cap(state: &AppState, cx: &RequestContext) -> Option<u32> {
    let principal = cx.caller.principal()?;
    let held = principal
        .levels()
        .iter()
        .any(|level| level.limits.tpm.is_some() || !level.budgets.is_empty());
    held.then(|| u32::try_from(state.governance_config().default_output_tokens).unwrap_or(u32::MAX))
}

/// Admits the request under its key, team and organisation, or refuses it. Requests
/// without a key (a master key, an open server) are held to nothing here. A store that
/// cannot answer refuses the request, unless `on_store_error = "allow"`.
pub async fn admit(
    state: &AppState,
    cx: &RequestContext,
    ledger_id: &str,
    candidates: &[Deployment],
    estimate: Estimate,
) -> Result<Option<Grant>, ApiError> {
    let Some(principal) = cx.caller.principal() else {
        return Ok(None);
    };
    let output = estimate
        .max_output_tokens
        .unwrap_or(state.governance_config().default_output_tokens)
        .saturating_mul(estimate.answers.max(1));
    let demand = Demand {
        request_id: ledger_id.to_owned(),
        tokens: estimate.input_tokens.saturating_add(output),
        max_cost: state
            .prices()
            .max_cost(candidates, estimate.input_tokens, output),
        // Longer than any request can live: it expires only when its replica died.
        ttl: state.lease_ttl(),
    };
    let levels = principal.levels();
    match state.governance().limiter().admit(&levels, &demand).await {
        Ok(Admission::Granted(grant)) => Ok(Some(grant)),
        Ok(Admission::Refused(refusal)) => {
            state
                .metrics()
                .refusals
                .get_or_create(&crate::metrics::RefusalLabels {
                    level: refusal.scope.level(),
                    reason: reason_label(&refusal),
                })
                .inc();
            Err(refused(&refusal))
        }
        Err(error) if state.governance_config().allow_on_store_error => {
            tracing::warn!(
                %error,
                key = %principal.key.id,
                "Limits and budgets cannot be checked; letting the request through \
                 (on_store_error = \"allow\")."
            );
            Ok(None)
        }
        Err(error) => Err(error.into()),
    }
}

/// A refusal in OpenAI's terms: budgets are `insufficient_quota`, the rest
/// `rate_limit_exceeded`, both 429 with `Retry-After` where trying again can help.
fn refused(refusal: &Refusal) -> ApiError {
    let code = if refusal.is_budget() {
        Code::InsufficientQuota
    } else {
        Code::RateLimited
    };
    let mut error = ApiError::new(code, refusal.to_string());
    error.retry_after = refusal.retry_after;
    let mut headers = HeaderMap::new();
    quota_headers(&mut headers, &refusal.quota);
    if !headers.is_empty() {
        error.headers = Some(Box::new(headers));
    }
    error
}

fn reason_label(refusal: &Refusal) -> &'static str {
    use switchyard_governance::RefusalReason;
    match refusal.reason {
        RefusalReason::Requests { .. } => "requests",
        RefusalReason::Tokens { .. } => "tokens",
        RefusalReason::TooLarge { .. } => "too_large",
        RefusalReason::Parallel { .. } => "parallel",
        RefusalReason::Budget { .. } => "budget",
    }
}

/// Gives back `grant` for what the request used, then sends any budget alerts it set
/// off. Runs on its own task, so a response never waits for it.
pub fn settle(state: &AppState, grant: Grant, used: Used) {
    let Ok(runtime) = tokio::runtime::Handle::try_current() else {
        tracing::warn!(request = %grant.request_id, "No runtime to settle a request on.");
        return;
    };
    let state = state.clone();
    runtime.spawn(async move {
        match state.governance().limiter().settle(&grant, used).await {
            Ok(spends) => alerts::check(&state, &spends).await,
            Err(error) => tracing::error!(
                %error,
                request = %grant.request_id,
                "Cannot settle a request's limits and budget; its reservation lapses on its own."
            ),
        }
    });
}

const LIMIT_REQUESTS: HeaderName = HeaderName::from_static("x-ratelimit-limit-requests");
const REMAINING_REQUESTS: HeaderName = HeaderName::from_static("x-ratelimit-remaining-requests");
const RESET_REQUESTS: HeaderName = HeaderName::from_static("x-ratelimit-reset-requests");
const LIMIT_TOKENS: HeaderName = HeaderName::from_static("x-ratelimit-limit-tokens");
const REMAINING_TOKENS: HeaderName = HeaderName::from_static("x-ratelimit-remaining-tokens");
const RESET_TOKENS: HeaderName = HeaderName::from_static("x-ratelimit-reset-tokens");

/// OpenAI's rate-limit headers for the tightest request and token limits.
pub fn quota_headers(headers: &mut HeaderMap, quota: &Quota) {
    let mut set = |names: [HeaderName; 3], remaining: Option<Remaining>| {
        let Some(remaining) = remaining else { return };
        let [limit, left, reset] = names;
        headers.insert(limit, HeaderValue::from(remaining.limit));
        headers.insert(left, HeaderValue::from(remaining.remaining));
        if let Ok(value) = HeaderValue::from_str(&go_duration(remaining.reset)) {
            headers.insert(reset, value);
        }
    };
    set(
        [LIMIT_REQUESTS, REMAINING_REQUESTS, RESET_REQUESTS],
        quota.requests,
    );
    set([LIMIT_TOKENS, REMAINING_TOKENS, RESET_TOKENS], quota.tokens);
}

/// A duration as OpenAI writes it in reset headers (Go's format): `12ms`, `1.5s`,
/// `6m0s`, `1h2m3s`.
pub fn go_duration(duration: Duration) -> String {
    let millis = duration.as_millis();
    if millis < 1000 {
        return format!("{millis}ms");
    }
    let seconds_part = |millis: u128| {
        let (whole, fraction) = (millis / 1000, millis % 1000);
        if fraction == 0 {
            format!("{whole}s")
        } else {
            let fraction = format!("{fraction:03}");
            format!("{whole}.{}s", fraction.trim_end_matches('0'))
        }
    };
    let (hours, rest) = (millis / 3_600_000, millis % 3_600_000);
    let (minutes, rest) = (rest / 60_000, rest % 60_000);
    match (hours, minutes) {
        (0, 0) => seconds_part(rest),
        (0, minutes) => format!("{minutes}m{}", seconds_part(rest)),
        (hours, minutes) => format!("{hours}h{minutes}m{}", seconds_part(rest)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_are_written_as_openai_does() {
        let cases = [
            (12, "12ms"),
            (1_000, "1s"),
            (1_500, "1.5s"),
            (360_000, "6m0s"),
            (3_723_000, "1h2m3s"),
            (59_999, "59.999s"),
        ];
        for (millis, text) in cases {
            assert_eq!(go_duration(Duration::from_millis(millis)), text);
        }
    }
}
