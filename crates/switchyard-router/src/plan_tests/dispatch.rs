//! The promise end to end: whatever the deployments answer and however long they take,
//! `execute` on a plan calls only deployments every policy allows, on the first
//! attempt, every retry, every fallback and every hedge. Time is paused, so backoffs
//! and slow answers cost nothing.

use std::sync::Mutex;

use proptest::prelude::*;
use switchyard_types::{CallContext, ErrorKind, RetryAdvice};

use super::properties::{PROVIDERS, build, catalog, needs, policies};
use super::*;
use crate::execute::RetrySettings;
use crate::hedge::{Hedge, HedgeAfter, execute_hedged};
use crate::strategy::Strategy;
use crate::testing::{Scripted, Step, fails, succeeds};

/// The step failure `index` of [`FAILURES`] scripts, taking `seconds`: a rate limit
/// asks for two seconds more.
fn step((index, seconds): (usize, u64)) -> Step {
    let step = match FAILURES[index] {
        Some(ErrorKind::RateLimited) => Step {
            retry: Some(RetryAdvice::After(std::time::Duration::from_secs(2))),
            ..fails(ErrorKind::RateLimited)
        },
        Some(kind) => fails(kind),
        None => succeeds(),
    };
    Step {
        takes: std::time::Duration::from_secs(seconds),
        ..step
    }
}

const FAILURES: [Option<ErrorKind>; 9] = [
    None,
    Some(ErrorKind::RateLimited),
    Some(ErrorKind::Overloaded),
    Some(ErrorKind::Upstream),
    Some(ErrorKind::Timeout),
    Some(ErrorKind::Authentication),
    Some(ErrorKind::ContextLengthExceeded),
    Some(ErrorKind::ContentFilter),
    Some(ErrorKind::InvalidRequest),
];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(1024))]

    #[test]
    fn no_attempt_retry_or_fallback_reaches_a_deployment_a_policy_forbids(
        catalog in catalog(),
        scripts in proptest::collection::vec(
            proptest::collection::vec((0..FAILURES.len(), 0..4u64), 0..4),
            8,
        ),
        hedge_after in proptest::option::of(1..4u64),
        policies in policies(),
        needs in needs(),
        fallback_on_content_filter in any::<bool>(),
    ) {
        let scripted = Mutex::new(Vec::<Arc<Scripted>>::new());
        let route = build(&catalog, Strategy::Priority, |provider, id, capabilities| {
            let index: usize = id[1..].parse().expect("d<index>");
            let deployment = Scripted::new(
                testing::info(PROVIDERS[provider], id, capabilities),
                scripts[index].iter().map(|failure| step(*failure)).collect(),
            );
            scripted.lock().expect("not poisoned").push(deployment.clone());
            deployment
        });
        let health = Health::default();
        let planned = plan(&route, &needs, &policies, Conditions {
            health: &health,
            rng: &mut fastrand::Rng::with_seed(0),
        });
        if let Ok(planned) = planned {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_time()
                .start_paused(true)
                .build()
                .expect("a runtime");
            let settings = RetrySettings {
                retries: 2,
                fallback_on_content_filter,
                ..RetrySettings::default()
            };
            let hedge = hedge_after.map(|seconds| {
                Hedge::new(HedgeAfter::Fixed(std::time::Duration::from_secs(seconds)))
            });
            let _ = runtime.block_on(execute_hedged(
                &planned.candidates,
                &health,
                &settings,
                hedge.as_ref(),
                false,
                |deployment| async move {
                    deployment.chat(ChatRequest::default(), &CallContext::default()).await
                },
            ));
        }
        for (deployment, route_deployment) in scripted.lock().expect("not poisoned").iter().zip(&route.deployments) {
            let calls = deployment.calls() as u32;
            if policies.forbids(route_deployment).is_some() {
                prop_assert_eq!(calls, 0, "{} was called", deployment.info.id);
            }
            prop_assert!(calls <= 3, "{} called {} times in three rounds", deployment.info.id, calls);
        }
    }
}
