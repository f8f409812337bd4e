use std::sync::Arc;

use switchyard_types::{
    CallContext, Capabilities, ChatRequest, ChatResponse, ContentBlock, DeploymentId,
    DeploymentInfo, EventStream, ImageSource, Message, Prompt, Provider, ProviderError,
    ResponseFormat, Role, TextCompletion, Tool, UpstreamModel,
};

use switchyard_catalog::{Jurisdiction, Price};

use super::*;
use crate::deployment::{Deployment, Profile, Retention};
use crate::policy::{InvalidPolicy, Place, Policy};

/// A deployment that is never called: planning only reads what it can do.
#[derive(Debug)]
struct Described(DeploymentInfo);

#[async_trait::async_trait]
impl Provider for Described {
    fn info(&self) -> &DeploymentInfo {
        &self.0
    }

    async fn chat(&self, _: ChatRequest, _: &CallContext) -> Result<ChatResponse, ProviderError> {
        unreachable!("planning never calls a deployment")
    }

    async fn chat_stream(
        &self,
        _: ChatRequest,
        _: &CallContext,
    ) -> Result<EventStream, ProviderError> {
        unreachable!("planning never calls a deployment")
    }

    async fn list_models(&self, _: &CallContext) -> Result<Vec<UpstreamModel>, ProviderError> {
        Ok(Vec::new())
    }
}

fn deployment(id: &str, capabilities: Capabilities) -> Arc<dyn Provider> {
    on("test", id, capabilities)
}

fn on(provider: &str, id: &str, capabilities: Capabilities) -> Arc<dyn Provider> {
    Arc::new(Described(DeploymentInfo {
        id: DeploymentId::new(id),
        provider: Arc::from(provider),
        upstream_model: Arc::from(id),
        capabilities,
    }))
}

fn route(deployments: Vec<Arc<dyn Provider>>) -> Route {
    Route::new("m", deployments)
}

fn profiled(provider: Arc<dyn Provider>, profile: Profile) -> Deployment {
    Deployment::with_profile(provider, profile)
}

fn with(deployments: Vec<Deployment>, strategy: Strategy) -> Route {
    Route {
        name: "m".into(),
        description: None,
        deployments,
        strategy,
        languages: Default::default(),
    }
}

fn jurisdiction(code: &str) -> Jurisdiction {
    Jurisdiction::parse(code).expect("a jurisdiction")
}

fn price(input: f64, output: f64) -> Price {
    Price {
        input,
        output: Some(output),
        ..Price::default()
    }
}

/// Plans with no policy, fresh health and a fixed seed.
fn plan_plainly(route: &Route, needs: &Needs) -> Result<Plan, NoCandidate> {
    plan_under(route, needs, &Policies::default())
}

fn plan_under(route: &Route, needs: &Needs, policies: &Policies) -> Result<Plan, NoCandidate> {
    plan(
        route,
        needs,
        policies,
        Conditions {
            health: &Health::default(),
            rng: &mut fastrand::Rng::with_seed(7),
        },
    )
}

fn requested(policy: Policy) -> Policies {
    Policies::default().with(PolicySource::Request, policy)
}

fn hosted() -> Capabilities {
    Capabilities {
        completions: true,
        ..Capabilities::default()
    }
}

fn text_only() -> Capabilities {
    Capabilities {
        vision: false,
        tools: false,
        json_schema: false,
        ..Capabilities::default()
    }
}

fn ids(plan: &Plan) -> Vec<String> {
    plan.candidates
        .iter()
        .map(|candidate| candidate.info().id.to_string())
        .collect()
}

#[test]
fn needs_are_read_off_the_request() {
    let mut request = ChatRequest {
        messages: vec![Message {
            role: Role::User,
            content: vec![
                ContentBlock::text("what is this?"),
                ContentBlock::Image {
                    source: ImageSource::Url {
                        url: "https://example.com/a.png".into(),
                    },
                    detail: None,
                    extra: Default::default(),
                },
            ],
            name: None,
            content_is_text: false,
            extra: Default::default(),
        }],
        stream: true,
        ..ChatRequest::default()
    };
    request.tools.push(Tool {
        name: "f".into(),
        description: None,
        parameters: None,
        strict: None,
        extra: Default::default(),
    });
    request.response_format = Some(ResponseFormat::JsonObject);
    assert_eq!(
        Needs::of(&request),
        Needs {
            input_tokens: tokens::estimate_sequence_tokens(&request),
            max_output_tokens: None,
            text_completion: false,
            streaming: true,
            tools: true,
            vision: true,
            json_output: true,
            language: None,
        }
    );
    let completion = ChatRequest {
        completion: Some(TextCompletion {
            prompt: Prompt::Texts(vec!["x".into()]),
            echo: false,
        }),
        ..ChatRequest::default()
    };
    assert!(Needs::of(&completion).text_completion);
}

#[test]
fn deployments_that_cannot_serve_the_request_are_left_out_with_their_reason_in_order() {
    let route = route(vec![
        deployment("small", text_only()),
        deployment("big", hosted()),
        deployment("other", hosted()),
    ]);
    let plain = plan_plainly(&route, &Needs::default()).expect("a plan");
    assert_eq!(ids(&plain), ["small", "big", "other"]);
    assert!(plain.excluded.is_empty());

    let with_tools = plan_plainly(
        &route,
        &Needs {
            tools: true,
            ..Needs::default()
        },
    )
    .expect("a plan");
    assert_eq!(ids(&with_tools), ["big", "other"]);
    assert_eq!(with_tools.excluded.len(), 1);
    assert_eq!(with_tools.excluded[0].deployment.id.as_str(), "small");
    assert_eq!(
        with_tools.excluded[0].reason,
        Reason::Lacks(Capability::Tools)
    );
}

#[test]
fn a_request_no_deployment_can_serve_is_refused_naming_each_and_why() {
    let route = route(vec![
        deployment("small", text_only()),
        deployment("chat-only", Capabilities::default()),
    ]);
    let refused = plan_plainly(
        &route,
        &Needs {
            text_completion: true,
            ..Needs::default()
        },
    )
    .expect_err("nothing serves text completions");
    assert_eq!(
        refused.to_string(),
        "no deployment of the model `m` can serve this request: `small` (test) does not support \
         text completions; `chat-only` (test) does not support text completions"
    );
    let images = plan_plainly(
        &route,
        &Needs {
            vision: true,
            ..Needs::default()
        },
    )
    .expect("a plan");
    assert_eq!(ids(&images), ["chat-only"]);
    assert_eq!(
        images.excluded[0].reason.to_string(),
        "does not support image input"
    );
}

#[test]
fn the_policy_rules_come_first_and_name_the_rule() {
    let route = route(vec![
        on("anthropic", "sonnet", hosted()),
        on("openai", "gpt", hosted()),
        on("local", "small", text_only()),
    ]);
    let policy: Policy =
        serde_json::from_str(r#"{"deny_providers": ["anthropic"]}"#).expect("a policy");
    let planned = plan_under(&route, &Needs::default(), &requested(policy)).expect("a plan");
    assert_eq!(ids(&planned), ["gpt", "small"]);
    assert_eq!(
        planned.excluded[0].reason.to_string(),
        "is ruled out by the request's policy: provider `anthropic` is denied"
    );
    let only_local = Policy {
        allow_providers: vec!["local".into()],
        ..Policy::default()
    };
    let refused = plan_under(
        &route,
        &Needs {
            tools: true,
            ..Needs::default()
        },
        &requested(only_local),
    )
    .expect_err("the only allowed deployment lacks tools");
    let reasons: Vec<String> = refused
        .excluded
        .iter()
        .map(|e| e.reason.to_string())
        .collect();
    assert_eq!(
        reasons,
        [
            "is ruled out by the request's policy: provider `anthropic` is not among the allowed providers",
            "is ruled out by the request's policy: provider `openai` is not among the allowed providers",
            "does not support tools",
        ]
    );
    let unknown = serde_json::from_str::<Policy>(r#"{"jurisdiction": ["EU"]}"#);
    assert!(
        unknown.is_err(),
        "an unknown rule is refused, never ignored"
    );
}

/// Three deployments with everything a policy can ask about.
fn profiled_route() -> Route {
    with(
        vec![
            profiled(
                on("azure", "gpt-us", hosted()),
                Profile {
                    jurisdiction: Some(jurisdiction("US")),
                    hosted_in: Some(jurisdiction("US")),
                    region: Some("eastus2".into()),
                    retention: Retention::Days(30),
                    price: Some(price(2.5, 10.0)),
                    context_window: Some(128_000),
                },
            ),
            profiled(
                on("mistral", "mistral-eu", hosted()),
                Profile {
                    jurisdiction: Some(jurisdiction("FR")),
                    hosted_in: Some(jurisdiction("SE")),
                    region: Some("swedencentral".into()),
                    retention: Retention::Days(30),
                    price: Some(price(0.4, 2.0)),
                    context_window: Some(32_000),
                },
            ),
            profiled(
                on("local", "small", text_only()),
                Profile {
                    hosted_in: Some(jurisdiction("DE")),
                    retention: Retention::Zero,
                    price: Some(price(0.0, 0.0)),
                    context_window: Some(8_192),
                    ..Profile::default()
                },
            ),
        ],
        Strategy::Priority,
    )
}

fn reasons(plan: &Result<Plan, NoCandidate>) -> Vec<String> {
    let excluded = match plan {
        Ok(plan) => &plan.excluded,
        Err(refused) => &refused.excluded,
    };
    excluded
        .iter()
        .map(|exclusion| format!("{} {}", exclusion.deployment.id, exclusion.reason))
        .collect()
}

fn policy(json: &str) -> Policy {
    let policy: Policy = serde_json::from_str(json).expect("a policy");
    policy.check().expect("a valid policy");
    policy
}

#[test]
fn jurisdiction_and_hosting_are_separate_rules_and_unknowns_fail_closed() {
    let route = profiled_route();
    let vendor_in_eu = plan_under(
        &route,
        &Needs::default(),
        &requested(policy(r#"{"jurisdictions": ["EU"]}"#)),
    );
    assert_eq!(ids(vendor_in_eu.as_ref().expect("a plan")), ["mistral-eu"]);
    assert_eq!(
        reasons(&vendor_in_eu),
        [
            "gpt-us is ruled out by the request's policy: its vendor is based in US, outside EU",
            "small is ruled out by the request's policy: its vendor's home is unknown, and must be in EU",
        ]
    );
    // A region name stands for its country: Sweden is in the EU, Germany too.
    let hosted_in_eu = plan_under(
        &route,
        &Needs::default(),
        &requested(policy(r#"{"hosted_in": ["EU"]}"#)),
    );
    assert_eq!(
        ids(hosted_in_eu.as_ref().expect("a plan")),
        ["mistral-eu", "small"]
    );
    assert_eq!(
        reasons(&hosted_in_eu),
        ["gpt-us is ruled out by the request's policy: it is hosted in US (eastus2), outside EU"]
    );
    let hosted_in_germany = plan_under(
        &route,
        &Needs::default(),
        &requested(policy(r#"{"hosted_in": ["germanywestcentral"]}"#)),
    );
    assert_eq!(ids(hosted_in_germany.as_ref().expect("a plan")), ["small"]);
    assert!(serde_json::from_str::<Policy>(r#"{"hosted_in": ["atlantis-1"]}"#).is_err());
}

#[test]
fn retention_price_and_required_capabilities_are_rules_too() {
    let route = profiled_route();
    let zero_retention = plan_under(
        &route,
        &Needs::default(),
        &requested(policy(r#"{"max_retention_days": 0}"#)),
    );
    assert_eq!(ids(zero_retention.as_ref().expect("a plan")), ["small"]);
    assert_eq!(
        reasons(&zero_retention)[0],
        "gpt-us is ruled out by the request's policy: it keeps data 30 days, more than the 0 allowed"
    );
    let cheap = plan_under(
        &route,
        &Needs::default(),
        &requested(policy(r#"{"max_input_price": 1.0, "max_output_price": 5}"#)),
    );
    assert_eq!(
        ids(cheap.as_ref().expect("a plan")),
        ["mistral-eu", "small"]
    );
    assert_eq!(
        reasons(&cheap),
        [
            "gpt-us is ruled out by the request's policy: its input costs $2.5/M tokens, more than the $1/M allowed"
        ]
    );
    let with_tools = plan_under(
        &route,
        &Needs::default(),
        &requested(policy(r#"{"require": ["tools", "json_schema"]}"#)),
    );
    assert_eq!(
        ids(with_tools.as_ref().expect("a plan")),
        ["gpt-us", "mistral-eu"]
    );
    assert_eq!(
        reasons(&with_tools),
        ["small is ruled out by the request's policy: it lacks tools, which is required"]
    );
    let unknown_price = with(
        vec![Deployment::new(on("x", "unpriced", hosted()))],
        Strategy::Priority,
    );
    assert_eq!(
        reasons(&plan_under(
            &unknown_price,
            &Needs::default(),
            &requested(policy(r#"{"max_output_price": 100}"#))
        )),
        ["unpriced is ruled out by the request's policy: its output price is unknown"]
    );
    assert!(
        policy_checked(r#"{"max_input_price": -1}"#).is_err(),
        "a negative price is refused"
    );
}

fn policy_checked(json: &str) -> Result<(), InvalidPolicy> {
    serde_json::from_str::<Policy>(json)
        .expect("parses")
        .check()
}

#[test]
fn every_layer_must_hold_and_the_first_that_forbids_is_named() {
    let route = profiled_route();
    let policies = Policies::default()
        .with(PolicySource::Config, policy(r#"{"hosted_in": ["EU"]}"#))
        .with(
            PolicySource::Key,
            policy(r#"{"deny_deployments": ["small"]}"#),
        )
        .with(
            PolicySource::Request,
            policy(r#"{"allow_providers": ["azure", "local"]}"#),
        );
    let refused = plan_under(&route, &Needs::default(), &policies);
    assert!(
        refused.is_err(),
        "each deployment is forbidden by some layer"
    );
    assert_eq!(
        reasons(&refused),
        [
            "gpt-us is ruled out by the operator's policy: it is hosted in US (eastus2), outside EU",
            "mistral-eu is ruled out by the request's policy: provider `mistral` is not among the allowed providers",
            "small is ruled out by the key's policy: deployment `small` is denied",
        ]
    );
}

#[test]
fn a_request_too_long_for_a_window_skips_that_deployment_with_a_margin_for_the_estimate() {
    let route = profiled_route();
    let long = Needs {
        input_tokens: 20_000,
        max_output_tokens: Some(1_000),
        ..Needs::default()
    };
    let planned = plan_plainly(&route, &long);
    assert_eq!(
        ids(planned.as_ref().expect("a plan")),
        ["gpt-us", "mistral-eu"]
    );
    assert_eq!(
        reasons(&planned),
        ["small has a context window of 8192 tokens, and this request needs about 21000"]
    );
    // Within the estimate's margin of a window: kept, since the model may count fewer.
    let close = Needs {
        input_tokens: 8_500,
        ..Needs::default()
    };
    assert_eq!(
        ids(&plan_plainly(&route, &close).expect("a plan")),
        ["gpt-us", "mistral-eu", "small"]
    );
}

#[tokio::test(start_paused = true)]
async fn an_open_circuit_leaves_a_deployment_out_until_its_cooldown_ends() {
    let route = profiled_route();
    let health = Health::new(crate::BreakerSettings {
        consecutive_failures: 2,
        cooldown: std::time::Duration::from_secs(10),
        ..crate::BreakerSettings::default()
    });
    let failing = ProviderError::new(switchyard_types::ErrorKind::Overloaded, "busy");
    for _ in 0..2 {
        health
            .admit(&DeploymentId::new("gpt-us"))
            .expect("closed")
            .failed(&failing);
    }
    let planned = plan(
        &route,
        &Needs::default(),
        &Policies::default(),
        Conditions {
            health: &health,
            rng: &mut fastrand::Rng::with_seed(1),
        },
    )
    .expect("a plan");
    assert_eq!(ids(&planned), ["mistral-eu", "small"]);
    assert_eq!(
        reasons(&Ok(planned)),
        ["gpt-us is failing: its circuit breaker is open for 10.0 s more"]
    );
    tokio::time::advance(std::time::Duration::from_secs(10)).await;
    assert_eq!(
        health.observe(&DeploymentId::new("gpt-us")).circuit,
        Circuit::HalfOpen
    );
    let only_gpt = with(vec![route.deployments[0].clone()], Strategy::Priority);
    let probe = health
        .admit(&DeploymentId::new("gpt-us"))
        .expect("one probe");
    assert!(
        health.admit(&DeploymentId::new("gpt-us")).is_err(),
        "a second call waits for the probe's verdict"
    );
    probe.succeeded();
    assert_eq!(
        health.observe(&DeploymentId::new("gpt-us")).circuit,
        Circuit::Closed
    );
    assert!(plan_plainly(&only_gpt, &Needs::default()).is_ok());
}

#[tokio::test(start_paused = true)]
async fn when_every_circuit_is_open_the_refusal_says_when_to_come_back() {
    let route = with(
        vec![
            Deployment::new(on("a", "one", hosted())),
            Deployment::new(on("b", "two", hosted())),
        ],
        Strategy::Priority,
    );
    let health = Health::new(crate::BreakerSettings {
        consecutive_failures: 1,
        cooldown: std::time::Duration::from_secs(30),
        ..crate::BreakerSettings::default()
    });
    let failing = ProviderError::new(switchyard_types::ErrorKind::Connection, "refused");
    health
        .admit(&DeploymentId::new("one"))
        .expect("closed")
        .failed(&failing);
    tokio::time::advance(std::time::Duration::from_secs(5)).await;
    health
        .admit(&DeploymentId::new("two"))
        .expect("closed")
        .failed(&failing);
    let refused = plan(
        &route,
        &Needs::default(),
        &Policies::default(),
        Conditions {
            health: &health,
            rng: &mut fastrand::Rng::with_seed(1),
        },
    )
    .expect_err("both open");
    assert_eq!(
        refused.unavailable_for(),
        Some(std::time::Duration::from_secs(25))
    );
    // A failure the request caused does not count against the deployment.
    let health = Health::new(crate::BreakerSettings {
        consecutive_failures: 1,
        ..crate::BreakerSettings::default()
    });
    let bad_request = ProviderError::new(switchyard_types::ErrorKind::InvalidRequest, "bad");
    health
        .admit(&DeploymentId::new("one"))
        .expect("closed")
        .failed(&bad_request);
    assert_eq!(
        health.observe(&DeploymentId::new("one")).circuit,
        Circuit::Closed
    );
}

mod strategies {
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
}

mod properties {
    use proptest::prelude::*;
    use proptest::strategy::Strategy as _;

    use super::*;
    use crate::strategy::Strategy;

    pub(super) const PROVIDERS: [&str; 4] = ["openai", "anthropic", "gemini", "local"];
    const PLACES: [&str; 5] = ["US", "FR", "DE", "SE", "EU"];

    fn capabilities() -> impl proptest::strategy::Strategy<Value = Capabilities> {
        proptest::array::uniform7(any::<bool>()).prop_map(|flags| Capabilities {
            chat: flags[0],
            streaming: flags[1],
            tools: flags[2],
            vision: flags[3],
            json_schema: flags[4],
            embeddings: flags[5],
            completions: flags[6],
        })
    }

    fn place() -> impl proptest::strategy::Strategy<Value = Option<Jurisdiction>> {
        proptest::option::of((0..PLACES.len()).prop_map(|index| jurisdiction(PLACES[index])))
    }

    pub(super) fn profile() -> impl proptest::strategy::Strategy<Value = Profile> {
        (
            place(),
            place(),
            prop_oneof![
                Just(Retention::Zero),
                Just(Retention::Days(30)),
                Just(Retention::Unknown)
            ],
            proptest::option::of((0.0..20.0f64, 0.0..60.0f64)),
            proptest::option::of(1_000..200_000u64),
        )
            .prop_map(
                |(jurisdiction, hosted_in, retention, price_pair, context_window)| Profile {
                    jurisdiction,
                    hosted_in,
                    region: None,
                    retention,
                    price: price_pair.map(|(input, output)| price(input, output)),
                    context_window,
                },
            )
    }

    /// A random catalog: each deployment's provider, capabilities and profile.
    pub(super) fn catalog()
    -> impl proptest::strategy::Strategy<Value = Vec<(usize, Capabilities, Profile)>> {
        proptest::collection::vec((0..PROVIDERS.len(), capabilities(), profile()), 0..8)
    }

    fn names(indices: Vec<usize>, prefix: &str) -> Vec<String> {
        indices
            .into_iter()
            .map(|index| format!("{prefix}{index}"))
            .collect()
    }

    pub(super) fn policy() -> impl proptest::strategy::Strategy<Value = Policy> {
        let providers = proptest::collection::vec(0..PROVIDERS.len(), 0..3).prop_map(|indices| {
            indices
                .into_iter()
                .map(|index| PROVIDERS[index].to_owned())
                .collect::<Vec<_>>()
        });
        let deployments = proptest::collection::vec(0..8usize, 0..3);
        let places = proptest::collection::vec(0..PLACES.len(), 0..2);
        let lists = (
            providers.clone(),
            providers,
            deployments.clone(),
            deployments,
        );
        let rules = (
            places.clone(),
            places,
            proptest::option::of(prop_oneof![Just(0u32), Just(30), Just(90)]),
            proptest::option::of(0.0..20.0f64),
            proptest::option::of(0.0..60.0f64),
            proptest::collection::vec(
                prop_oneof![
                    Just(Capability::Tools),
                    Just(Capability::Vision),
                    Just(Capability::JsonOutput),
                    Just(Capability::Streaming)
                ],
                0..2,
            ),
        );
        (lists, rules).prop_map(
            |(
                (allow_providers, deny_providers, allow, deny),
                (jurisdictions, hosted, retention, input_price, output_price, require),
            )| Policy {
                allow_providers,
                deny_providers,
                allow_deployments: names(allow, "d"),
                deny_deployments: names(deny, "d"),
                jurisdictions: jurisdictions
                    .into_iter()
                    .map(|index| jurisdiction(PLACES[index]))
                    .collect(),
                hosted_in: hosted
                    .into_iter()
                    .map(|index| Place(jurisdiction(PLACES[index])))
                    .collect(),
                max_retention_days: retention,
                max_input_price: input_price,
                max_output_price: output_price,
                require,
                ..Policy::default()
            },
        )
    }

    /// Up to three layers, as operator, key and request.
    pub(super) fn policies() -> impl proptest::strategy::Strategy<Value = Policies> {
        proptest::collection::vec(policy(), 0..3).prop_map(|layers| {
            let sources = [
                PolicySource::Config,
                PolicySource::Key,
                PolicySource::Request,
            ];
            layers
                .into_iter()
                .zip(sources)
                .fold(Policies::default(), |policies, (policy, source)| {
                    policies.with(source, policy)
                })
        })
    }

    pub(super) fn needs() -> impl proptest::strategy::Strategy<Value = Needs> {
        (
            proptest::array::uniform5(any::<bool>()),
            0..300_000u64,
            proptest::option::of(0..10_000u64),
        )
            .prop_map(|(flags, input_tokens, max_output_tokens)| Needs {
                input_tokens,
                max_output_tokens,
                text_completion: flags[0],
                streaming: flags[1],
                tools: flags[2],
                vision: flags[3],
                json_output: flags[4],
                language: None,
            })
    }

    pub(super) fn build(
        catalog: &[(usize, Capabilities, Profile)],
        strategy: Strategy,
        provider: impl Fn(usize, &str, Capabilities) -> Arc<dyn Provider>,
    ) -> Route {
        with(
            catalog
                .iter()
                .enumerate()
                .map(|(index, (provider_index, can, profile))| {
                    let mut deployment = profiled(
                        provider(*provider_index, &format!("d{index}"), can.clone()),
                        profile.clone(),
                    );
                    deployment.weight = index as u32 % 3;
                    deployment.quality = (index % 2 == 0).then_some(index as f64 / 10.0);
                    deployment
                })
                .collect(),
            strategy,
        )
    }

    fn strategy() -> impl proptest::strategy::Strategy<Value = Strategy> {
        (0..Strategy::ALL.len()).prop_map(|index| Strategy::ALL[index])
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2048))]

        /// Every deployment is either a candidate that every policy layer allows, that
        /// can serve the request and whose window holds it, or excluded with a reason;
        /// the strategy only reorders candidates; no candidates means a refusal naming
        /// every deployment.
        #[test]
        fn a_plan_never_offers_what_a_policy_forbids_or_a_deployment_cannot_do(
            catalog in catalog(),
            policies in policies(),
            needs in needs(),
            strategy in strategy(),
            seed in any::<u64>(),
        ) {
            let route = build(&catalog, strategy, |provider, id, can| on(PROVIDERS[provider], id, can));
            let planned = plan(&route, &needs, &policies, Conditions {
                health: &Health::default(),
                rng: &mut fastrand::Rng::with_seed(seed),
            });
            match planned {
                Ok(planned) => {
                    prop_assert!(!planned.candidates.is_empty());
                    for candidate in &planned.candidates {
                        prop_assert_eq!(policies.forbids(candidate), None);
                        prop_assert_eq!(needs.unmet_by(&candidate.info().capabilities), None);
                        prop_assert_eq!(needs.overflows(candidate), None);
                    }
                    let mut seen: Vec<&str> = planned
                        .candidates
                        .iter()
                        .map(|c| c.info().id.as_str())
                        .chain(planned.excluded.iter().map(|e| e.deployment.id.as_str()))
                        .collect();
                    seen.sort_unstable();
                    seen.dedup();
                    prop_assert_eq!(seen.len(), catalog.len(), "each deployment once");
                    if strategy == Strategy::Priority {
                        let order: Vec<usize> = planned
                            .candidates
                            .iter()
                            .map(|c| c.info().id.as_str()[1..].parse().unwrap_or(usize::MAX))
                            .collect();
                        prop_assert!(order.windows(2).all(|pair| pair[0] < pair[1]));
                    }
                }
                Err(refused) => {
                    prop_assert_eq!(refused.excluded.len(), catalog.len());
                    for exclusion in &refused.excluded {
                        let deployment = route
                            .deployments
                            .iter()
                            .find(|d| d.info().id == exclusion.deployment.id)
                            .expect("from the route");
                        let allowed = policies.forbids(deployment).is_none();
                        let capable = needs.unmet_by(&deployment.info().capabilities).is_none();
                        let fits = needs.overflows(deployment).is_none();
                        prop_assert!(!(allowed && capable && fits), "{:?} was refused", exclusion);
                    }
                }
            }
        }
    }
}

/// The promise end to end: whatever the deployments answer, `execute` on a plan calls
/// only deployments every policy allows, on the first attempt, every retry and every
/// fallback. Time is paused, so backoffs cost nothing.
mod dispatch {
    use std::sync::Mutex;
    use std::sync::atomic::{AtomicU32, Ordering};

    use proptest::prelude::*;
    use switchyard_types::{ErrorKind, RetryAdvice};

    use super::properties::{PROVIDERS, build, catalog, needs, policies};
    use super::*;
    use crate::execute::{RetrySettings, execute};
    use crate::strategy::Strategy;

    /// A deployment that answers from a script of failures (then succeeds) and counts
    /// its calls.
    #[derive(Debug)]
    struct Scripted {
        info: DeploymentInfo,
        script: Mutex<Vec<Option<ErrorKind>>>,
        calls: AtomicU32,
    }

    #[async_trait::async_trait]
    impl Provider for Scripted {
        fn info(&self) -> &DeploymentInfo {
            &self.info
        }

        async fn chat(
            &self,
            _: ChatRequest,
            _: &CallContext,
        ) -> Result<ChatResponse, ProviderError> {
            self.calls.fetch_add(1, Ordering::SeqCst);
            let next = {
                let mut script = self.script.lock().expect("not poisoned");
                if script.is_empty() {
                    None
                } else {
                    script.remove(0)
                }
            };
            match next {
                Some(ErrorKind::RateLimited) => {
                    Err(ProviderError::new(ErrorKind::RateLimited, "slow down")
                        .with_retry(RetryAdvice::After(std::time::Duration::from_secs(2))))
                }
                Some(kind) => Err(ProviderError::new(kind, "scripted failure")),
                None => Ok(ChatResponse {
                    id: self.info.id.to_string(),
                    model: String::new(),
                    created: 0,
                    choices: Vec::new(),
                    usage: None,
                    extra: Default::default(),
                }),
            }
        }

        async fn chat_stream(
            &self,
            _: ChatRequest,
            _: &CallContext,
        ) -> Result<EventStream, ProviderError> {
            Err(ProviderError::unsupported("streaming"))
        }

        async fn list_models(&self, _: &CallContext) -> Result<Vec<UpstreamModel>, ProviderError> {
            Ok(Vec::new())
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
            scripts in proptest::collection::vec(proptest::collection::vec(0..FAILURES.len(), 0..4), 8),
            policies in policies(),
            needs in needs(),
            fallback_on_content_filter in any::<bool>(),
        ) {
            let scripted = Mutex::new(Vec::<Arc<Scripted>>::new());
            let route = build(&catalog, Strategy::Priority, |provider, id, capabilities| {
                let index: usize = id[1..].parse().expect("d<index>");
                let deployment = Arc::new(Scripted {
                    info: DeploymentInfo {
                        id: DeploymentId::new(id),
                        provider: Arc::from(PROVIDERS[provider]),
                        upstream_model: Arc::from(id),
                        capabilities,
                    },
                    script: Mutex::new(scripts[index].iter().map(|f| FAILURES[*f]).collect()),
                    calls: AtomicU32::new(0),
                });
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
                let _ = runtime.block_on(execute(&planned.candidates, &health, &settings, |deployment| async move {
                    deployment.chat(ChatRequest::default(), &CallContext::default()).await
                }));
            }
            for (deployment, route_deployment) in scripted.lock().expect("not poisoned").iter().zip(&route.deployments) {
                let calls = deployment.calls.load(Ordering::SeqCst);
                if policies.forbids(route_deployment).is_some() {
                    prop_assert_eq!(calls, 0, "{} was called", deployment.info.id);
                }
                prop_assert!(calls <= 3, "{} called {} times in three rounds", deployment.info.id, calls);
            }
        }
    }
}
