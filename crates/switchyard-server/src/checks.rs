//! Active health checks, per deployment that asks for one (`health_check = "30s"`):
//! a task lists its models every interval (see [`switchyard_router::check`]), counts
//! the result in `/metrics` and logs when it starts or stops failing.

use std::time::Duration;

use switchyard_router::Deployment;
use switchyard_router::check::{Checked, check};

use crate::metrics::CheckLabels;
use crate::state::AppState;

/// The longest a check may wait for its answer (less when the interval is shorter).
const CHECK_TIMEOUT: Duration = Duration::from_secs(10);

/// Spawns one checking task per `(deployment, interval)`.
pub fn spawn(state: &AppState, checked: &[(Deployment, Duration)]) {
    for (deployment, interval) in checked {
        let (state, deployment, interval) = (state.clone(), deployment.clone(), *interval);
        tokio::spawn(async move { check_forever(&state, &deployment, interval).await });
    }
}

async fn check_forever(state: &AppState, deployment: &Deployment, interval: Duration) {
    let info = deployment.info();
    let count = |result: &'static str| {
        state
            .metrics()
            .health_checks
            .get_or_create(&CheckLabels {
                deployment: info.id.to_string(),
                provider: info.provider.to_string(),
                result,
            })
            .inc();
    };
    let timeout = interval.min(CHECK_TIMEOUT);
    let mut ticks = tokio::time::interval(interval);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut failing = false;
    loop {
        ticks.tick().await;
        match check(deployment, state.health(), timeout).await {
            Checked::Passed => {
                if std::mem::take(&mut failing) {
                    tracing::info!(deployment = %info.id, "Health check passes again.");
                }
                count("passed");
            }
            Checked::Failed { kind, message } => {
                if !std::mem::replace(&mut failing, true) {
                    tracing::warn!(
                        deployment = %info.id,
                        kind = kind.as_str(),
                        error = %message,
                        "Health check failed."
                    );
                }
                count("failed");
            }
            Checked::Skipped => count("skipped"),
        }
    }
}
