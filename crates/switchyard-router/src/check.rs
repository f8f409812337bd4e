//! Active health checks: a deployment's model list, fetched on a timer, tells its
//! breaker whether it answers, so an outage opens the breaker before callers meet it
//! and a recovered deployment closes it without a caller's request as the probe.
//!
//! The check lists models (`GET /models` and its equivalents): it proves the host is
//! up, reachable and accepts the credentials, and costs no tokens. It does not prove
//! that generation works; traffic still does that.

use std::time::Duration;

use switchyard_types::{CallContext, ErrorKind, ProviderError};

use crate::deployment::Deployment;
use crate::health::Health;

/// What one check found.
#[derive(Debug, Clone, PartialEq)]
pub enum Checked {
    Passed,
    Failed {
        kind: ErrorKind,
        message: String,
    },
    /// The breaker is open and not yet due a probe; nothing was sent.
    Skipped,
}

/// Checks `deployment` once, within `timeout`, and tells its breaker.
pub async fn check(deployment: &Deployment, health: &Health, timeout: Duration) -> Checked {
    let info = deployment.info();
    let Ok(admission) = health.admit_check(&info.id) else {
        return Checked::Skipped;
    };
    let listed = tokio::time::timeout(
        timeout,
        deployment.provider.list_models(&CallContext::default()),
    )
    .await
    .unwrap_or_else(|_| {
        Err(ProviderError::new(
            ErrorKind::Timeout,
            format!(
                "the health check got no answer within {:.1} s",
                timeout.as_secs_f64()
            ),
        ))
    });
    match listed {
        Ok(_) => {
            admission.check_passed();
            Checked::Passed
        }
        Err(error) => {
            admission.failed(&error);
            Checked::Failed {
                kind: error.kind,
                message: error.message,
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};

    use switchyard_types::{
        ChatRequest, ChatResponse, DeploymentInfo, EventStream, Provider, UpstreamModel,
    };

    use super::*;
    use crate::health::{BreakerSettings, Circuit};
    use crate::testing::info;

    /// Lists models while `up`; otherwise fails as a 503 would.
    #[derive(Debug)]
    struct Lister {
        info: DeploymentInfo,
        up: AtomicBool,
    }

    #[async_trait::async_trait]
    impl Provider for Lister {
        fn info(&self) -> &DeploymentInfo {
            &self.info
        }

        async fn chat(
            &self,
            _: ChatRequest,
            _: &CallContext,
        ) -> Result<ChatResponse, ProviderError> {
            unreachable!("a health check never chats")
        }

        async fn chat_stream(
            &self,
            _: ChatRequest,
            _: &CallContext,
        ) -> Result<EventStream, ProviderError> {
            unreachable!("a health check never chats")
        }

        async fn list_models(&self, _: &CallContext) -> Result<Vec<UpstreamModel>, ProviderError> {
            if self.up.load(Ordering::SeqCst) {
                Ok(Vec::new())
            } else {
                Err(ProviderError::new(ErrorKind::Overloaded, "down"))
            }
        }
    }

    #[tokio::test(start_paused = true)]
    async fn checks_open_a_breaker_on_an_outage_and_close_it_on_recovery() {
        let lister = Arc::new(Lister {
            info: info("test", "checked", Default::default()),
            up: AtomicBool::new(false),
        });
        let deployment = Deployment::new(lister.clone());
        let settings = BreakerSettings {
            consecutive_failures: 3,
            cooldown: Duration::from_secs(30),
            ..BreakerSettings::default()
        };
        let health = Health::new(settings);
        let timeout = Duration::from_secs(5);
        for _ in 0..3 {
            assert!(matches!(
                check(&deployment, &health, timeout).await,
                Checked::Failed { .. }
            ));
        }
        let id = &lister.info.id;
        assert!(matches!(health.observe(id).circuit, Circuit::Open { .. }));
        assert_eq!(check(&deployment, &health, timeout).await, Checked::Skipped);

        // Back up: after the cooldown the next check is the probe and closes it.
        lister.up.store(true, Ordering::SeqCst);
        tokio::time::advance(Duration::from_secs(30)).await;
        assert_eq!(check(&deployment, &health, timeout).await, Checked::Passed);
        let observed = health.observe(id);
        assert_eq!(observed.circuit, Circuit::Closed);
        assert_eq!(observed.in_flight, 0, "checks are not traffic");
        assert_eq!(observed.latency, None, "nor latency samples");
    }
}
