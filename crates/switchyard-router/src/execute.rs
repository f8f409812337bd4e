//! Walks a route's deployments in order until one answers.
//!
//! 1. Try the first deployment.
//! 2. If it fails with an error that another deployment might not have (the upstream is
//!    down, overloaded, rate-limited, timed out, or rejects our credentials or the
//!    model), try the next one.
//! 3. Stop at the first success, or at an error caused by the request itself (another
//!    deployment would reject it too), or when the candidates run out.

use std::future::Future;
use std::sync::Arc;

use switchyard_types::{DeploymentInfo, ErrorKind, Provider, ProviderError, SourceSide};

/// A success, with the deployment that produced it.
#[derive(Debug)]
pub struct Outcome<T> {
    pub value: T,
    pub deployment: DeploymentInfo,
    /// How many deployments were tried, this one included.
    pub attempts: u32,
    /// The failures that sent the request on to this deployment.
    pub earlier: Vec<Attempted>,
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

#[derive(Debug, Clone)]
pub struct Attempted {
    pub deployment: DeploymentInfo,
    pub kind: ErrorKind,
    pub message: String,
}

/// Whether a failure on one deployment should send the request to the next.
fn should_fall_back(error: &ProviderError) -> bool {
    match error.source_side {
        SourceSide::Downstream => false,
        SourceSide::Internal => false,
        SourceSide::Upstream => {
            error.retry.is_retryable()
                || matches!(
                    error.kind,
                    ErrorKind::Authentication | ErrorKind::PermissionDenied | ErrorKind::NotFound
                )
        }
    }
}

/// Calls `call` on each candidate in order, as described in the module docs.
pub async fn execute<'a, T, F, Fut>(
    candidates: impl IntoIterator<Item = &'a Arc<dyn Provider>>,
    mut call: F,
) -> Result<Outcome<T>, RouteError>
where
    F: FnMut(Arc<dyn Provider>) -> Fut,
    Fut: Future<Output = Result<T, ProviderError>>,
{
    let mut attempts = 0;
    let mut earlier = Vec::new();
    let mut last: Option<(ProviderError, DeploymentInfo)> = None;
    for deployment in candidates {
        if let Some((error, info)) = last.take() {
            tracing::warn!(
                deployment = %info.id,
                kind = error.kind.as_str(),
                next = %deployment.info().id,
                "Deployment failed; falling back."
            );
            earlier.push(Attempted {
                deployment: info,
                kind: error.kind,
                message: error.message.clone(),
            });
        }
        attempts += 1;
        let info = deployment.info().clone();
        match call(deployment.clone()).await {
            Ok(value) => {
                return Ok(Outcome {
                    value,
                    deployment: info,
                    attempts,
                    earlier,
                });
            }
            Err(error) if should_fall_back(&error) => last = Some((error, info)),
            Err(error) => {
                return Err(RouteError {
                    error,
                    deployment: Some(info),
                    attempts,
                    earlier,
                });
            }
        }
    }
    match last {
        Some((error, info)) => Err(RouteError {
            error,
            deployment: Some(info),
            attempts,
            earlier,
        }),
        None => Err(RouteError {
            error: ProviderError::new(
                ErrorKind::Unsupported,
                "no deployment of this model can serve the request",
            ),
            deployment: None,
            attempts,
            earlier,
        }),
    }
}

#[cfg(test)]
#[path = "execute_tests.rs"]
mod tests;
