use switchyard_types::{CallContext, ChatRequest, ChatResponse, DeploymentId};

use super::*;
use crate::deployment::Profile;
use crate::health::{BreakerSettings, Circuit};
use crate::testing::{Scripted, Step, always, fails, scripted, succeeds};
use crate::{Catalog, Route};

fn deployments(scripted: &[Arc<Scripted>]) -> Vec<Deployment> {
    scripted
        .iter()
        .map(|deployment| Deployment::new(deployment.clone() as Arc<dyn Provider>))
        .collect()
}

async fn run_with(
    candidates: &[Deployment],
    health: &Health,
    settings: &RetrySettings,
) -> Result<Outcome<ChatResponse>, RouteError> {
    execute(candidates, health, settings, |provider| async move {
        provider
            .chat(ChatRequest::default(), &CallContext::default())
            .await
    })
    .await
}

async fn run(scripted: &[Arc<Scripted>]) -> Result<Outcome<ChatResponse>, RouteError> {
    run_with(&deployments(scripted), &Health::default(), &retrying()).await
}

/// The defaults, with two retry rounds.
fn retrying() -> RetrySettings {
    RetrySettings {
        retries: 2,
        ..RetrySettings::default()
    }
}

#[tokio::test(start_paused = true)]
async fn falls_back_past_upstream_failures() {
    for kind in [
        ErrorKind::Upstream,
        ErrorKind::RateLimited,
        ErrorKind::Overloaded,
        ErrorKind::Timeout,
        ErrorKind::Connection,
        ErrorKind::Authentication,
        ErrorKind::NotFound,
        ErrorKind::ContextLengthExceeded,
    ] {
        let first = always("first", Some(kind));
        let second = always("second", None);
        let outcome = run(&[first.clone(), second.clone()])
            .await
            .expect("the second deployment answers");
        assert_eq!(outcome.value.id, "second", "after {kind:?}");
        assert_eq!(outcome.attempts, 2);
        assert_eq!(outcome.earlier.len(), 1);
        assert_eq!(outcome.earlier[0].kind, kind);
        assert_eq!(second.calls(), 1);
        assert_eq!(
            second.called_at(),
            [Duration::ZERO],
            "a fallback does not wait"
        );
    }
}

#[tokio::test(start_paused = true)]
async fn stops_at_errors_the_request_caused() {
    for kind in [
        ErrorKind::InvalidRequest,
        ErrorKind::ContentFilter,
        ErrorKind::Unsupported,
    ] {
        let first = always("first", Some(kind));
        let second = always("second", None);
        let error = run(&[first.clone(), second.clone()])
            .await
            .expect_err("no fallback");
        assert_eq!(error.error.kind, kind);
        assert_eq!(error.attempts, 1);
        assert_eq!(first.calls(), 1, "not retried");
        assert_eq!(second.calls(), 0);
    }
}

#[tokio::test(start_paused = true)]
async fn a_content_filter_falls_back_when_the_route_says_so() {
    let first = always("first", Some(ErrorKind::ContentFilter));
    let second = always("second", None);
    let settings = RetrySettings {
        fallback_on_content_filter: true,
        ..retrying()
    };
    let outcome = run_with(
        &deployments(&[first, second]),
        &Health::default(),
        &settings,
    )
    .await
    .expect("another vendor's filter passes it");
    assert_eq!(outcome.value.id, "second");
}

#[tokio::test(start_paused = true)]
async fn reports_the_last_failure_and_the_earlier_ones() {
    let error = run_with(
        &deployments(&[
            always("a", Some(ErrorKind::Overloaded)),
            always("b", Some(ErrorKind::Timeout)),
        ]),
        &Health::default(),
        &RetrySettings {
            retries: 0,
            ..RetrySettings::default()
        },
    )
    .await
    .expect_err("both fail");
    assert_eq!(error.error.kind, ErrorKind::Timeout);
    assert_eq!(error.attempts, 2);
    assert_eq!(error.earlier.len(), 1);
    assert_eq!(error.earlier[0].deployment.id.as_str(), "a");
    assert_eq!(
        error.deployment.map(|info| info.id.to_string()).as_deref(),
        Some("b")
    );
}

#[tokio::test(start_paused = true)]
async fn retries_after_an_exponential_backoff_with_jitter() {
    let only = scripted(
        "only",
        vec![fails(ErrorKind::Overloaded), fails(ErrorKind::Upstream)],
    );
    let settings = RetrySettings {
        retries: 2,
        backoff_base: Duration::from_millis(400),
        ..RetrySettings::default()
    };
    let outcome = run_with(
        &deployments(std::slice::from_ref(&only)),
        &Health::default(),
        &settings,
    )
    .await
    .expect("the third call succeeds");
    assert_eq!(outcome.attempts, 3);
    let at = only.called_at();
    // Round 1 waits 400 ms (half fixed, half jitter), round 2 waits 800 ms.
    let first_wait = at[1] - at[0];
    let second_wait = at[2] - at[1];
    assert!(
        (Duration::from_millis(200)..=Duration::from_millis(400)).contains(&first_wait),
        "{first_wait:?}"
    );
    assert!(
        (Duration::from_millis(400)..=Duration::from_millis(800)).contains(&second_wait),
        "{second_wait:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn gives_up_after_the_configured_retries() {
    let only = always("only", Some(ErrorKind::Connection));
    let settings = RetrySettings {
        retries: 3,
        ..RetrySettings::default()
    };
    let error = run_with(
        &deployments(std::slice::from_ref(&only)),
        &Health::default(),
        &settings,
    )
    .await
    .expect_err("it never answers");
    assert_eq!(only.calls(), 4);
    assert_eq!(error.attempts, 4);
    assert_eq!(error.error.kind, ErrorKind::Connection);
}

#[tokio::test(start_paused = true)]
async fn falls_back_first_and_retries_the_round_later() {
    let a = scripted("a", vec![fails(ErrorKind::RateLimited)]);
    let b = scripted("b", vec![fails(ErrorKind::Overloaded)]);
    let outcome = run(&[a.clone(), b.clone()])
        .await
        .expect("a answers on the second round");
    assert_eq!(outcome.value.id, "a");
    assert_eq!(outcome.attempts, 3);
    assert_eq!(b.calls(), 1);
    assert_eq!(a.called_at()[0], b.called_at()[0], "b was tried at once");
}

#[tokio::test(start_paused = true)]
async fn honours_retry_after_and_drops_a_deployment_asking_for_too_long() {
    let patient = scripted(
        "patient",
        vec![Step {
            retry: Some(RetryAdvice::After(Duration::from_secs(3))),
            ..fails(ErrorKind::RateLimited)
        }],
    );
    let outcome = run(std::slice::from_ref(&patient))
        .await
        .expect("answers after 3 s");
    assert_eq!(outcome.attempts, 2);
    assert_eq!(patient.called_at()[1], Duration::from_secs(3));

    let slow = scripted(
        "slow",
        vec![Step {
            retry: Some(RetryAdvice::After(Duration::from_secs(600))),
            ..fails(ErrorKind::RateLimited)
        }],
    );
    let error = run(std::slice::from_ref(&slow))
        .await
        .expect_err("ten minutes is longer than the 30 s allowed");
    assert_eq!(slow.calls(), 1);
    assert_eq!(error.error.kind, ErrorKind::RateLimited);
}

#[tokio::test(start_paused = true)]
async fn the_deadline_bounds_attempts_and_backoffs() {
    let hanging = scripted(
        "hanging",
        vec![Step {
            takes: Duration::from_secs(120),
            ..succeeds()
        }],
    );
    let backup = always("backup", None);
    let settings = RetrySettings {
        deadline: Some(Duration::from_secs(10)),
        ..RetrySettings::default()
    };
    let started = Instant::now();
    let error = run_with(
        &deployments(&[hanging, backup.clone()]),
        &Health::default(),
        &settings,
    )
    .await
    .expect_err("the deadline passes during the first attempt");
    assert_eq!(started.elapsed(), Duration::from_secs(10));
    assert_eq!(error.error.kind, ErrorKind::Timeout);
    assert_eq!(backup.calls(), 0, "nothing is tried after the deadline");

    // A backoff that would end after the deadline is not waited for.
    let failing = always("failing", Some(ErrorKind::Upstream));
    let settings = RetrySettings {
        deadline: Some(Duration::from_millis(100)),
        backoff_base: Duration::from_secs(1),
        ..retrying()
    };
    let started = Instant::now();
    run_with(
        &deployments(std::slice::from_ref(&failing)),
        &Health::default(),
        &settings,
    )
    .await
    .expect_err("fails");
    assert_eq!(failing.calls(), 1);
    assert!(started.elapsed() < Duration::from_millis(100));
}

#[tokio::test(start_paused = true)]
async fn a_slow_attempt_times_out_and_the_next_deployment_answers() {
    let slow = scripted(
        "slow",
        vec![Step {
            takes: Duration::from_secs(60),
            ..succeeds()
        }],
    );
    let fast = always("fast", None);
    let settings = RetrySettings {
        attempt_timeout: Some(Duration::from_secs(5)),
        ..RetrySettings::default()
    };
    let outcome = run_with(
        &deployments(&[slow, fast.clone()]),
        &Health::default(),
        &settings,
    )
    .await
    .expect("the fast one answers");
    assert_eq!(outcome.value.id, "fast");
    assert_eq!(outcome.earlier[0].kind, ErrorKind::Timeout);
    assert_eq!(fast.called_at(), [Duration::from_secs(5)]);
}

#[tokio::test(start_paused = true)]
async fn a_context_overflow_goes_only_to_larger_windows() {
    let window = |id: &str, tokens: u64, kind: Option<ErrorKind>| {
        Deployment::with_profile(
            always(id, kind),
            Profile {
                context_window: Some(tokens),
                ..Profile::default()
            },
        )
    };
    let candidates = vec![
        window("small", 8_000, Some(ErrorKind::ContextLengthExceeded)),
        window("also-small", 8_000, None),
        window("smaller", 4_000, None),
        window("large", 128_000, None),
    ];
    let outcome = run_with(&candidates, &Health::default(), &RetrySettings::default())
        .await
        .expect("the large window answers");
    assert_eq!(outcome.value.id, "large");
    assert_eq!(outcome.attempts, 2);
}

#[tokio::test(start_paused = true)]
async fn failures_open_the_breaker_and_later_requests_pass_the_deployment_over() {
    let health = Health::new(BreakerSettings {
        consecutive_failures: 3,
        ..BreakerSettings::default()
    });
    let broken = always("broken", Some(ErrorKind::Upstream));
    let backup = always("backup", None);
    let candidates = deployments(&[broken.clone(), backup.clone()]);
    let settings = RetrySettings {
        retries: 0,
        ..RetrySettings::default()
    };
    for _ in 0..3 {
        run_with(&candidates, &health, &settings)
            .await
            .expect("the backup answers")
            .admission
            .succeeded();
    }
    assert!(matches!(
        health.observe(&DeploymentId::new("broken")).circuit,
        Circuit::Open { .. }
    ));
    run_with(&candidates, &health, &settings)
        .await
        .expect("the backup answers");
    assert_eq!(broken.calls(), 3, "an open circuit is not called");
    assert_eq!(backup.calls(), 4);
}

#[tokio::test(start_paused = true)]
async fn requests_in_flight_are_counted_until_the_outcome_is_dropped() {
    let health = Health::default();
    let only = always("only", None);
    let outcome = run_with(&deployments(&[only]), &health, &RetrySettings::default())
        .await
        .expect("answers");
    assert_eq!(health.observe(&DeploymentId::new("only")).in_flight, 1);
    drop(outcome);
    assert_eq!(health.observe(&DeploymentId::new("only")).in_flight, 0);
}

#[tokio::test(start_paused = true)]
async fn by_default_nothing_is_retried_but_every_deployment_is_tried() {
    let a = always("a", Some(ErrorKind::Overloaded));
    let b = always("b", Some(ErrorKind::Overloaded));
    let error = run_with(
        &deployments(&[a.clone(), b.clone()]),
        &Health::default(),
        &RetrySettings::default(),
    )
    .await
    .expect_err("both fail");
    assert_eq!((a.calls(), b.calls()), (1, 1));
    assert_eq!(error.attempts, 2);
}

#[test]
fn errors_are_classified_by_their_data() {
    let settings = RetrySettings::default();
    let next = |kind| classify(&ProviderError::new(kind, "x"), &settings);
    assert_eq!(next(ErrorKind::RateLimited), Next::Retry);
    assert_eq!(next(ErrorKind::Overloaded), Next::Retry);
    assert_eq!(next(ErrorKind::Upstream), Next::Retry);
    assert_eq!(next(ErrorKind::Timeout), Next::Retry);
    assert_eq!(next(ErrorKind::Connection), Next::Retry);
    assert_eq!(next(ErrorKind::Authentication), Next::FallBack);
    assert_eq!(next(ErrorKind::PermissionDenied), Next::FallBack);
    assert_eq!(next(ErrorKind::NotFound), Next::FallBack);
    assert_eq!(next(ErrorKind::ContextLengthExceeded), Next::LargerWindow);
    assert_eq!(next(ErrorKind::ContentFilter), Next::Stop);
    assert_eq!(next(ErrorKind::InvalidRequest), Next::Stop);
    assert_eq!(next(ErrorKind::Internal), Next::Stop);
    // The message does not matter, the data does.
    let worded = ProviderError::new(ErrorKind::InvalidRequest, "rate limit exceeded; overloaded");
    assert_eq!(classify(&worded, &settings), Next::Stop);
}

#[test]
fn suggests_close_model_names() {
    let route = |name: &str| Route::new(name, Vec::new());
    let catalog = Catalog::new(["gpt-4o", "gpt-4o-mini", "claude-sonnet", "llama"].map(route));
    let unknown = catalog.get("gpt4o").expect_err("not configured");
    assert_eq!(unknown.suggestions, vec!["gpt-4o", "gpt-4o-mini"]);
    assert_eq!(
        unknown.to_string(),
        "the model `gpt4o` does not exist; did you mean one of `gpt-4o`, `gpt-4o-mini`?"
    );
    let unknown = catalog.get("gpt-4").expect_err("a prefix of two names");
    assert_eq!(unknown.suggestions, vec!["gpt-4o", "gpt-4o-mini"]);
    let unknown = catalog.get("CLAUDE-SONNET").expect_err("case differs");
    assert_eq!(unknown.suggestions[0], "claude-sonnet");
    let unknown = catalog.get("lalma").expect_err("a transposition");
    assert_eq!(unknown.suggestions, vec!["llama"]);
    let unknown = catalog.get("zzz").expect_err("nothing close");
    assert!(unknown.suggestions.is_empty());
    assert_eq!(unknown.to_string(), "the model `zzz` does not exist");
}
