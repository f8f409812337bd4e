use std::sync::Arc;

use switchyard_catalog::{Jurisdiction, Price};
use switchyard_types::{
    Capabilities, ChatRequest, ContentBlock, DeploymentId, ImageSource, Message, Prompt, Provider,
    ProviderError, ResponseFormat, Role, TextCompletion, Tool,
};

use super::*;
use crate::deployment::{Deployment, Profile, Retention};
use crate::policy::{InvalidPolicy, Place, Policy};
use crate::strategy::Strategy;
use crate::testing::{self, Described};

fn deployment(id: &str, capabilities: Capabilities) -> Arc<dyn Provider> {
    on("test", id, capabilities)
}

fn on(provider: &str, id: &str, capabilities: Capabilities) -> Arc<dyn Provider> {
    Arc::new(Described(testing::info(provider, id, capabilities)))
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
        tasks: None,
        hedge: None,
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
            embeddings: false,
            language: None,
            task: None,
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

#[path = "plan_tests/strategies.rs"]
mod strategies;

#[path = "plan_tests/properties.rs"]
mod properties;

#[path = "plan_tests/dispatch.rs"]
mod dispatch;

#[test]
fn capability_names_are_the_ones_policies_are_read_with() {
    for capability in Capability::ALL {
        let read: Capability =
            serde_json::from_value(serde_json::json!(capability.name())).expect("a known name");
        assert_eq!(read, capability);
        assert_eq!(Capability::parse(capability.name()), Some(capability));
    }
}
