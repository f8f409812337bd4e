use switchyard_types::{CallContext, ChatRequest, ChatResponse, ErrorKind};

use super::*;
use crate::testing::{Scripted, Step, fails, scripted, succeeds};

fn taking(step: Step, seconds: u64) -> Step {
    Step {
        takes: Duration::from_secs(seconds),
        ..step
    }
}

fn deployments(scripted: &[Arc<Scripted>]) -> Vec<Deployment> {
    scripted
        .iter()
        .map(|deployment| Deployment::new(deployment.clone() as Arc<dyn Provider>))
        .collect()
}

async fn run(
    scripted: &[Arc<Scripted>],
    health: &Health,
    hedge: &Hedge,
) -> (Result<Outcome<ChatResponse>, RouteError>, Hedged) {
    execute_hedged(
        &deployments(scripted),
        health,
        &RetrySettings::default(),
        Some(hedge),
        false,
        |provider| async move {
            provider
                .chat(ChatRequest::default(), &CallContext::default())
                .await
        },
    )
    .await
}

fn after(seconds: u64) -> Hedge {
    Hedge::new(HedgeAfter::Fixed(Duration::from_secs(seconds)))
}

#[tokio::test(start_paused = true)]
async fn a_slow_first_deployment_is_hedged_and_the_first_answer_wins() {
    let slow = scripted("slow", vec![taking(succeeds(), 10)]);
    let quick = scripted("quick", vec![taking(succeeds(), 1)]);
    let health = Health::default();
    let started = Instant::now();
    let (result, hedged) = run(&[slow.clone(), quick.clone()], &health, &after(2)).await;
    let outcome = result.expect("an answer");
    assert_eq!(outcome.value.id, "quick");
    assert_eq!(
        started.elapsed(),
        Duration::from_secs(3),
        "2 s wait, 1 s call"
    );
    assert_eq!(quick.called_at(), [Duration::from_secs(2)]);
    assert_eq!(hedged.fired_after, Some(Duration::from_secs(2)));
    let cancelled: Vec<&str> = hedged.cancelled.iter().map(|d| d.id.as_str()).collect();
    assert_eq!(cancelled, ["slow"]);
    // The loser's slot is free, with no verdict on it; the winner's is held until the
    // caller settles it.
    assert_eq!(health.observe(&slow.info.id).in_flight, 0);
    assert_eq!(health.observe(&slow.info.id).failures, 0);
    assert_eq!(health.observe(&quick.info.id).in_flight, 1);
}

#[tokio::test(start_paused = true)]
async fn the_first_deployment_still_wins_if_it_answers_first_after_the_hedge() {
    let first = scripted("first", vec![taking(succeeds(), 3)]);
    let second = scripted("second", vec![taking(succeeds(), 5)]);
    let (result, hedged) = run(
        &[first.clone(), second.clone()],
        &Health::default(),
        &after(1),
    )
    .await;
    assert_eq!(result.expect("an answer").value.id, "first");
    assert_eq!(second.calls(), 1, "the hedge was sent");
    let cancelled: Vec<&str> = hedged.cancelled.iter().map(|d| d.id.as_str()).collect();
    assert_eq!(cancelled, ["second"]);
}

#[tokio::test(start_paused = true)]
async fn an_answer_before_the_delay_sends_no_hedge() {
    let first = scripted("first", vec![taking(succeeds(), 1)]);
    let second = scripted("second", vec![]);
    let (result, hedged) = run(&[first, second.clone()], &Health::default(), &after(2)).await;
    assert_eq!(result.expect("an answer").value.id, "first");
    assert_eq!(second.calls(), 0);
    assert_eq!(hedged.fired_after, None);
    assert!(hedged.cancelled.is_empty());
}

#[tokio::test(start_paused = true)]
async fn a_quick_failure_falls_back_at_once_and_a_request_error_does_not() {
    let failing = scripted("failing", vec![fails(ErrorKind::Overloaded)]);
    let second = scripted("second", vec![]);
    let (result, hedged) = run(&[failing, second.clone()], &Health::default(), &after(5)).await;
    let outcome = result.expect("the fallback answers");
    assert_eq!(outcome.value.id, "second");
    assert_eq!(outcome.attempts, 2);
    assert_eq!(outcome.earlier[0].kind, ErrorKind::Overloaded);
    assert_eq!(
        second.called_at(),
        [Duration::ZERO],
        "no wait for the hedge"
    );
    assert_eq!(hedged.fired_after, None);

    let refusing = scripted("refusing", vec![fails(ErrorKind::InvalidRequest)]);
    let second = scripted("second", vec![]);
    let (result, _) = run(&[refusing, second.clone()], &Health::default(), &after(5)).await;
    assert_eq!(
        result.expect_err("the caller's error").error.kind,
        ErrorKind::InvalidRequest
    );
    assert_eq!(second.calls(), 0, "another deployment would refuse it too");
}

#[tokio::test(start_paused = true)]
async fn after_the_hedge_a_failure_waits_for_the_other_call() {
    let first = scripted("first", vec![taking(fails(ErrorKind::Upstream), 3)]);
    let second = scripted("second", vec![taking(succeeds(), 4)]);
    let started = Instant::now();
    let (result, _) = run(&[first, second], &Health::default(), &after(1)).await;
    let outcome = result.expect("the hedge answers");
    assert_eq!(outcome.value.id, "second");
    assert_eq!(started.elapsed(), Duration::from_secs(5));
    assert_eq!(outcome.attempts, 2, "the failure and the answer");
    assert_eq!(outcome.earlier.len(), 1);

    let first = scripted("first", vec![taking(fails(ErrorKind::Upstream), 3)]);
    let second = scripted("second", vec![taking(fails(ErrorKind::Timeout), 4)]);
    let (result, _) = run(&[first, second], &Health::default(), &after(1)).await;
    let error = result.expect_err("both failed");
    assert_eq!(error.attempts, 2);
    assert_eq!(error.error.kind, ErrorKind::Timeout, "the last to fail");
    assert_eq!(error.earlier.len(), 1);
}

#[tokio::test(start_paused = true)]
async fn a_percentile_hedge_waits_for_enough_measurements() {
    let hedge = Hedge::new(HedgeAfter::Percentile(0.95));
    for _ in 0..MIN_SAMPLES - 1 {
        hedge.record(false, Duration::from_millis(100));
    }
    assert_eq!(hedge.delay(false), None);
    hedge.record(false, Duration::from_millis(2000));
    // 19 at 100 ms and one at 2 s: the 95th percentile is the 19th, 100 ms.
    assert_eq!(hedge.delay(false), Some(Duration::from_millis(100)));
    assert_eq!(hedge.delay(true), None, "streams are measured apart");
    for _ in 0..WINDOW {
        hedge.record(false, Duration::from_millis(300));
    }
    assert_eq!(
        hedge.delay(false),
        Some(Duration::from_millis(300)),
        "only the last {WINDOW} count"
    );

    // A route's answered requests teach it its latency.
    let health = Health::default();
    let learning = Hedge::new(HedgeAfter::Percentile(0.9));
    for _ in 0..MIN_SAMPLES {
        let first = scripted("first", vec![taking(succeeds(), 1)]);
        let second = scripted("second", vec![]);
        let (result, hedged) = run(&[first, second.clone()], &health, &learning).await;
        assert!(result.is_ok());
        assert_eq!(hedged.fired_after, None, "not measured enough yet");
        assert_eq!(second.calls(), 0);
    }
    assert_eq!(learning.delay(false), Some(Duration::from_secs(1)));
}

#[test]
fn hedge_delays_are_percentiles_or_durations() {
    assert_eq!(HedgeAfter::parse("p95"), Ok(HedgeAfter::Percentile(0.95)));
    assert!(
        matches!(HedgeAfter::parse("p99.9"), Ok(HedgeAfter::Percentile(share)) if (share - 0.999).abs() < 1e-9)
    );
    assert_eq!(
        HedgeAfter::parse("800ms"),
        Ok(HedgeAfter::Fixed(Duration::from_millis(800)))
    );
    for wrong in ["p0", "p100", "pfast", "0s", "soon"] {
        assert!(HedgeAfter::parse(wrong).is_err(), "{wrong}");
    }
}

#[tokio::test(start_paused = true)]
async fn a_quick_context_overflow_falls_back_only_to_larger_windows() {
    let windowed = |scripted: &Arc<Scripted>, window: u64| {
        Deployment::with_profile(
            scripted.clone() as Arc<dyn Provider>,
            crate::deployment::Profile {
                context_window: Some(window),
                ..Default::default()
            },
        )
    };
    let first = scripted("first", vec![fails(ErrorKind::ContextLengthExceeded)]);
    let small = scripted("small", vec![]);
    let large = scripted("large", vec![]);
    let (result, _) = execute_hedged(
        &[
            windowed(&first, 1000),
            windowed(&small, 500),
            windowed(&large, 10_000),
        ],
        &Health::default(),
        &RetrySettings::default(),
        Some(&after(5)),
        false,
        |provider| async move {
            provider
                .chat(ChatRequest::default(), &CallContext::default())
                .await
        },
    )
    .await;
    assert_eq!(result.expect("the larger window answers").value.id, "large");
    assert_eq!(small.calls(), 0, "a smaller window cannot help");
}
