//! Walks a plan's candidates until one answers.
//!
//! Each failure is classified by its data (kind, side, retry advice), never its text:
//!
//! | failure | what happens |
//! |---|---|
//! | rate limit, overloaded, 5xx, timeout, broken connection | fall back now; retried in the next round, after a backoff |
//! | credentials refused, no permission, model not found | fall back; not retried |
//! | context length exceeded | fall back to a deployment with a larger (or unknown) window |
//! | content filter | fall back if the route says so, else return it |
//! | any other error caused by the request | return it: another deployment would refuse it too |
//!
//! A round tries every candidate still in play, in the plan's order. Between rounds the
//! router waits an exponential backoff with jitter, or longer where a deployment's
//! `Retry-After` asks for it (a deployment asking for more than the settings allow
//! drops out). A deployment whose circuit breaker is open is passed over. No attempt
//! outlives the request's deadline.

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use switchyard_types::{
    DeploymentInfo, ErrorKind, Provider, ProviderError, RetryAdvice, SourceSide,
};
use tokio::time::Instant;

use crate::deployment::Deployment;
use crate::health::{Admitted, Health};

/// How a route retries and how long a request may take.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RetrySettings {
    /// Rounds after the first, for the failures worth retrying.
    pub retries: u32,
    /// The backoff before the first retry; it doubles each round.
    pub backoff_base: Duration,
    pub backoff_max: Duration,
    /// The longest `Retry-After` honoured; a deployment asking for longer is not
    /// retried in this request.
    pub max_retry_after: Duration,
    /// A limit on each attempt, beyond the provider's own timeouts.
    pub attempt_timeout: Option<Duration>,
    /// A limit on the whole request: retries, backoffs and fallbacks included.
    pub deadline: Option<Duration>,
    /// Whether a content-filter refusal falls back to the next deployment (another
    /// vendor's filter may pass it) rather than reaching the caller.
    pub fallback_on_content_filter: bool,
}

impl Default for RetrySettings {
    /// No retry rounds by default: the official SDKs already retry rate limits and
    /// 5xx twice with backoff, and retrying here too would multiply their attempts.
    /// Falling back to the route's other deployments needs no retry and always happens.
    fn default() -> Self {
        RetrySettings {
            retries: 0,
            backoff_base: Duration::from_millis(250),
            backoff_max: Duration::from_secs(8),
            max_retry_after: Duration::from_secs(30),
            attempt_timeout: None,
            deadline: None,
            fallback_on_content_filter: false,
        }
    }
}

/// A success, with the deployment that produced it.
#[derive(Debug)]
pub struct Outcome<T> {
    pub value: T,
    pub deployment: DeploymentInfo,
    /// How many calls were made, this one included.
    pub attempts: u32,
    /// The failures that came before it.
    pub earlier: Vec<Attempted>,
    /// The call's place in the deployment's health: counted in flight until dropped.
    /// The caller settles it (`succeeded`, `failed`), after a stream ends for a stream.
    pub admission: Admitted,
}

/// The last failure of a route.
#[derive(Debug, thiserror::Error)]
#[error("{error}")]
pub struct RouteError {
    #[source]
    pub error: ProviderError,
    /// The deployment that produced `error`, `None` if none could be tried.
    pub deployment: Option<DeploymentInfo>,
    pub attempts: u32,
    /// Each earlier failure, for logs: deployment and reason.
    pub earlier: Vec<Attempted>,
}

impl RouteError {
    /// How many calls were made, and every failure, this one last.
    pub fn into_attempts(self) -> (u32, Vec<Attempted>) {
        let mut earlier = self.earlier;
        if let Some(deployment) = self.deployment {
            earlier.push(Attempted {
                deployment,
                kind: self.error.kind,
                message: self.error.message,
            });
        }
        (self.attempts, earlier)
    }
}

#[derive(Debug, Clone)]
pub struct Attempted {
    pub deployment: DeploymentInfo,
    pub kind: ErrorKind,
    pub message: String,
}

/// What a failure says about where to go next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Next {
    /// Another deployment may succeed now, and this one later.
    Retry,
    /// Another deployment may succeed; this one will not.
    FallBack,
    /// Only a deployment with a larger context window may succeed.
    LargerWindow,
    /// None will: the error goes to the caller.
    Stop,
}

/// Classifies `error` by its data.
pub fn classify(error: &ProviderError, settings: &RetrySettings) -> Next {
    match error.kind {
        ErrorKind::ContextLengthExceeded => Next::LargerWindow,
        ErrorKind::ContentFilter if settings.fallback_on_content_filter => Next::FallBack,
        _ => match error.source_side {
            SourceSide::Downstream | SourceSide::Internal => Next::Stop,
            SourceSide::Upstream if error.retry.is_retryable() => Next::Retry,
            SourceSide::Upstream => Next::FallBack,
        },
    }
}

/// A candidate still in play, and when it may next be tried.
struct InPlay<'a> {
    deployment: &'a Deployment,
    ready_at: Instant,
}

/// Calls `call` on the candidates as described in the module docs.
pub async fn execute<T, F, Fut>(
    candidates: &[Deployment],
    health: &Health,
    settings: &RetrySettings,
    mut call: F,
) -> Result<Outcome<T>, RouteError>
where
    F: FnMut(Arc<dyn Provider>) -> Fut,
    Fut: Future<Output = Result<T, ProviderError>>,
{
    let started = Instant::now();
    let deadline = settings.deadline.map(|limit| started + limit);
    let mut rng = fastrand::Rng::new();
    let mut in_play: Vec<InPlay<'_>> = candidates
        .iter()
        .map(|deployment| InPlay {
            deployment,
            ready_at: started,
        })
        .collect();
    let mut attempts = 0;
    let mut earlier = Vec::new();
    let mut last: Option<(ProviderError, DeploymentInfo)> = None;
    // After a context overflow, only windows larger than this may help.
    let mut overflowed_at: Option<u64> = None;

    for round in 0..=settings.retries {
        if round > 0 {
            let Some(soonest) = in_play.iter().map(|entry| entry.ready_at).min() else {
                break;
            };
            let resume = soonest.max(Instant::now() + backoff(settings, round, &mut rng));
            if deadline.is_some_and(|deadline| resume >= deadline) {
                break;
            }
            tracing::debug!(
                round,
                wait_ms = (resume - Instant::now()).as_millis() as u64,
                "Retrying after a backoff."
            );
            tokio::time::sleep_until(resume).await;
        }
        let mut retry_later = Vec::new();
        for entry in std::mem::take(&mut in_play) {
            let deployment = entry.deployment;
            let info = deployment.info();
            if entry.ready_at > Instant::now() {
                retry_later.push(entry);
                continue;
            }
            if let (Some(overflowed), Some(window)) =
                (overflowed_at, deployment.profile.context_window)
                && window <= overflowed
            {
                continue;
            }
            let admission = match health.admit(&info.id) {
                Ok(admission) => admission,
                Err(_) => {
                    tracing::debug!(deployment = %info.id, "Circuit open; passing over.");
                    continue;
                }
            };
            if let Some((error, failed)) = last.take() {
                tracing::warn!(
                    deployment = %failed.id,
                    kind = error.kind.as_str(),
                    next = %info.id,
                    "Deployment failed; trying another."
                );
                earlier.push(Attempted {
                    deployment: failed,
                    kind: error.kind,
                    message: error.message.clone(),
                });
            }
            attempts += 1;
            let result = attempt(call(deployment.provider.clone()), settings, deadline).await;
            let (error, next) = match result {
                Ok(value) => {
                    return Ok(Outcome {
                        value,
                        deployment: info.clone(),
                        attempts,
                        earlier,
                        admission,
                    });
                }
                // The request ran out of time, which says nothing of the deployment:
                // the admission ends without a verdict.
                Err(Failure::DeadlinePassed(error)) => (error, Next::Stop),
                Err(Failure::Call(error)) => {
                    admission.failed(&error);
                    let next = classify(&error, settings);
                    (error, next)
                }
            };
            match next {
                Next::Stop => {
                    return Err(RouteError {
                        error,
                        deployment: Some(info.clone()),
                        attempts,
                        earlier,
                    });
                }
                Next::Retry => {
                    let wait = match error.retry {
                        RetryAdvice::After(wait) => wait,
                        RetryAdvice::Yes | RetryAdvice::No => Duration::ZERO,
                    };
                    if wait <= settings.max_retry_after {
                        retry_later.push(InPlay {
                            deployment,
                            ready_at: Instant::now() + wait,
                        });
                    }
                }
                Next::LargerWindow => {
                    // Its window is the bar the next one must clear; an unknown window
                    // sets none.
                    overflowed_at = overflowed_at.max(deployment.profile.context_window);
                }
                Next::FallBack => {}
            }
            last = Some((error, info.clone()));
        }
        in_play = retry_later;
    }
    Err(match last {
        Some((error, info)) => RouteError {
            error,
            deployment: Some(info),
            attempts,
            earlier,
        },
        None => RouteError {
            error: ProviderError::new(
                ErrorKind::Overloaded,
                "every deployment of this model is failing; try again shortly",
            ),
            deployment: None,
            attempts,
            earlier,
        },
    })
}

/// Why an attempt ended without a value.
enum Failure {
    /// The call failed.
    Call(ProviderError),
    /// The request's deadline passed: nothing more may be tried.
    DeadlinePassed(ProviderError),
}

async fn attempt<T>(
    call: impl Future<Output = Result<T, ProviderError>>,
    settings: &RetrySettings,
    deadline: Option<Instant>,
) -> Result<T, Failure> {
    let attempt_ends = settings.attempt_timeout.map(|limit| Instant::now() + limit);
    let ends = match (attempt_ends, deadline) {
        (Some(attempt), Some(deadline)) => Some(attempt.min(deadline)),
        (one, other) => one.or(other),
    };
    let Some(ends) = ends else {
        return call.await.map_err(Failure::Call);
    };
    match tokio::time::timeout_at(ends, call).await {
        Ok(result) => result.map_err(Failure::Call),
        Err(_) if deadline == Some(ends) => Err(Failure::DeadlinePassed(
            ProviderError::new(
                ErrorKind::Timeout,
                format!(
                    "the request's deadline of {:.1} s passed",
                    settings.deadline.unwrap_or_default().as_secs_f64()
                ),
            )
            .with_retry(RetryAdvice::No),
        )),
        Err(_) => Err(Failure::Call(ProviderError::new(
            ErrorKind::Timeout,
            format!(
                "the attempt took longer than {:.1} s",
                settings.attempt_timeout.unwrap_or_default().as_secs_f64()
            ),
        ))),
    }
}

/// The wait before retry round `round` (from 1): `base · 2^(round-1)`, capped, with
/// "equal jitter" (half fixed, half random) so that callers who failed together do
/// not retry together.
pub fn backoff(settings: &RetrySettings, round: u32, rng: &mut fastrand::Rng) -> Duration {
    let exponential = settings
        .backoff_base
        .saturating_mul(1 << (round.saturating_sub(1)).min(16))
        .min(settings.backoff_max);
    let half = exponential / 2;
    half + half.mul_f64(rng.f64())
}

#[cfg(test)]
#[path = "execute_tests.rs"]
mod tests;
