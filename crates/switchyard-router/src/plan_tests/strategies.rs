//! Each strategy's order, and the language rule.

use std::time::Duration;

use super::*;

fn three(strategy: Strategy) -> Route {
    let mut route = profiled_route();
    route.strategy = strategy;
    route
}

fn first_under(route: &Route, health: &Health, seed: u64) -> String {
    let planned = plan(
        route,
        &Needs::default(),
        &Policies::default(),
        Conditions {
            health,
            rng: &mut fastrand::Rng::with_seed(seed),
        },
    )
    .expect("a plan");
    ids(&planned)[0].clone()
}

#[test]
fn priority_keeps_the_configured_order() {
    let planned = plan_plainly(&three(Strategy::Priority), &Needs::default()).expect("a plan");
    assert_eq!(ids(&planned), ["gpt-us", "mistral-eu", "small"]);
    assert_eq!(
        planned.reason,
        "priority: `gpt-us` is the first eligible deployment"
    );
}

#[test]
fn weighted_draws_in_proportion_to_the_weights() {
    let mut route = three(Strategy::Weighted);
    for (deployment, weight) in route.deployments.iter_mut().zip([6, 3, 1]) {
        deployment.weight = weight;
    }
    let health = Health::default();
    let mut firsts = std::collections::HashMap::<String, u32>::new();
    for seed in 0..10_000 {
        *firsts
            .entry(first_under(&route, &health, seed))
            .or_default() += 1;
    }
    // 60% / 30% / 10%, within a few points over 10 000 draws.
    let share = |id: &str| f64::from(firsts[id]) / 10_000.0;
    assert!((share("gpt-us") - 0.6).abs() < 0.03, "{firsts:?}");
    assert!((share("mistral-eu") - 0.3).abs() < 0.03, "{firsts:?}");
    assert!((share("small") - 0.1).abs() < 0.03, "{firsts:?}");
}

#[tokio::test(start_paused = true)]
async fn least_latency_prefers_the_fastest_measured_and_measures_the_unmeasured_first() {
    let route = three(Strategy::LeastLatency);
    let health = Health::default();
    for (id, millis) in [("gpt-us", 900), ("mistral-eu", 300), ("small", 600)] {
        let call = health.admit(&DeploymentId::new(id)).expect("closed");
        tokio::time::advance(Duration::from_millis(millis)).await;
        call.succeeded();
    }
    let planned = plan(
        &route,
        &Needs::default(),
        &Policies::default(),
        Conditions {
            health: &health,
            rng: &mut fastrand::Rng::with_seed(0),
        },
    )
    .expect("a plan");
    assert_eq!(ids(&planned), ["mistral-eu", "small", "gpt-us"]);
    assert_eq!(
        planned.reason,
        "least-latency: `mistral-eu` has the lowest average latency, 300 ms"
    );
    let fresh = Health::default();
    let call = fresh.admit(&DeploymentId::new("gpt-us")).expect("closed");
    tokio::time::advance(Duration::from_millis(10)).await;
    call.succeeded();
    assert_eq!(
        first_under(&route, &fresh, 0),
        "mistral-eu",
        "unmeasured go first"
    );
}

#[test]
fn least_busy_prefers_the_fewest_in_flight() {
    let route = three(Strategy::LeastBusy);
    let health = Health::default();
    let _busy: Vec<_> = ["gpt-us", "gpt-us", "mistral-eu"]
        .iter()
        .map(|id| health.admit(&DeploymentId::new(*id)).expect("closed"))
        .collect();
    assert_eq!(first_under(&route, &health, 0), "small");
    drop(_busy);
    assert_eq!(
        first_under(&route, &health, 0),
        "gpt-us",
        "ties keep the order"
    );
}

#[test]
fn cheapest_estimates_this_request_and_puts_unknown_prices_last() {
    let mut route = three(Strategy::Cheapest);
    route
        .deployments
        .insert(0, Deployment::new(on("x", "unpriced", hosted())));
    let planned = plan_plainly(
        &route,
        &Needs {
            input_tokens: 1_000,
            max_output_tokens: Some(100),
            ..Needs::default()
        },
    )
    .expect("a plan");
    assert_eq!(ids(&planned), ["small", "mistral-eu", "gpt-us", "unpriced"]);
    assert_eq!(
        planned.reason,
        "cheapest: `small` at an estimated $0.000000"
    );
}

#[test]
fn quality_per_cost_weighs_scores_against_the_estimate() {
    let mut route = three(Strategy::QualityPerCost);
    // gpt-us: 0.9 / $0.0075; mistral-eu: 0.8 / $0.0014; small: unscored.
    route.deployments[0].quality = Some(0.9);
    route.deployments[1].quality = Some(0.8);
    let planned = plan_plainly(
        &route,
        &Needs {
            input_tokens: 1_000,
            max_output_tokens: Some(500),
            ..Needs::default()
        },
    )
    .expect("a plan");
    assert_eq!(ids(&planned), ["mistral-eu", "gpt-us", "small"]);
}

#[test]
fn a_language_rule_puts_its_deployment_first_and_keeps_the_rest_in_order() {
    let mut route = three(Strategy::Priority);
    route.languages.insert("fra", "mistral-eu".into());
    let request = ChatRequest {
        messages: vec![Message::text(
            Role::User,
            "Bonjour, pourriez-vous m'expliquer comment fonctionne la photosynthèse ?",
        )],
        ..ChatRequest::default()
    };
    let needs = Needs::of(&request).with_language(&route, &request);
    assert_eq!(needs.language, Some("fra"));
    let planned = plan_plainly(&route, &needs).expect("a plan");
    assert_eq!(ids(&planned), ["mistral-eu", "gpt-us", "small"]);
    assert_eq!(
        planned.reason,
        "language: a French prompt goes to `mistral-eu`"
    );
    // A policy that rules the language's deployment out still wins.
    let refused = plan_under(
        &route,
        &needs,
        &requested(policy(r#"{"deny_deployments": ["mistral-eu"]}"#)),
    )
    .expect("a plan");
    assert_eq!(ids(&refused), ["gpt-us", "small"]);
    // Routes without a language rule never pay for detection.
    let plain = three(Strategy::Priority);
    assert_eq!(
        Needs::of(&request).with_language(&plain, &request).language,
        None
    );
}

#[test]
fn strategies_parse_by_their_config_names() {
    for strategy in Strategy::ALL {
        assert_eq!(Strategy::parse(strategy.as_str()), Some(strategy));
    }
    assert_eq!(Strategy::parse("fastest"), None);
}
