//! What a routing decision costs on this CPU: reading a request's needs (its token
//! estimate, and its language where the route has a language rule) and planning it
//! over eight deployments under three policy layers, with the `cheapest` strategy.
//!
//! `cargo run --release -p switchyard-router --example decision_cost`

use std::sync::Arc;
use std::time::{Duration, Instant};

use switchyard_catalog::{Jurisdiction, Price};
use switchyard_router::{
    Conditions, Deployment, Health, Needs, Policies, Policy, PolicySource, Profile, Retention,
    Route, Strategy, plan,
};
use switchyard_types::{
    CallContext, Capabilities, ChatRequest, ChatResponse, DeploymentId, DeploymentInfo,
    EventStream, Message, ProviderError, Role, UpstreamModel,
};

#[derive(Debug)]
struct Described(DeploymentInfo);

#[async_trait::async_trait]
impl switchyard_types::Provider for Described {
    fn info(&self) -> &DeploymentInfo {
        &self.0
    }
    async fn chat(&self, _: ChatRequest, _: &CallContext) -> Result<ChatResponse, ProviderError> {
        unreachable!("never called")
    }
    async fn chat_stream(
        &self,
        _: ChatRequest,
        _: &CallContext,
    ) -> Result<EventStream, ProviderError> {
        unreachable!("never called")
    }
    async fn list_models(&self, _: &CallContext) -> Result<Vec<UpstreamModel>, ProviderError> {
        Ok(Vec::new())
    }
}

fn route() -> Route {
    let places = ["US", "FR", "DE", "SE"];
    let deployments = (0..8)
        .map(|index| {
            let provider = Arc::new(Described(DeploymentInfo {
                id: DeploymentId::new(format!("d{index}")),
                provider: Arc::from(["openai", "mistral", "anthropic", "gemini"][index % 4]),
                upstream_model: Arc::from(format!("model-{index}")),
                capabilities: Capabilities::default(),
            }));
            Deployment::with_profile(
                provider,
                Profile {
                    jurisdiction: Jurisdiction::parse(places[index % 4]),
                    hosted_in: Jurisdiction::parse(places[(index + 1) % 4]),
                    region: None,
                    retention: Retention::Days(30),
                    price: Some(Price {
                        input: 0.5 + index as f64,
                        output: Some(2.0 + index as f64),
                        ..Price::default()
                    }),
                    context_window: Some(128_000),
                },
            )
        })
        .collect();
    let mut route = Route {
        strategy: Strategy::Cheapest,
        deployments,
        ..Route::new("bench", Vec::new())
    };
    route.languages.insert("fra", "d1".to_owned());
    route
}

fn request(text: &str) -> ChatRequest {
    ChatRequest {
        messages: vec![
            Message::text(Role::System, "You are a helpful assistant."),
            Message::text(Role::User, text),
        ],
        ..ChatRequest::default()
    }
}

fn main() {
    let route = route();
    let health = Health::default();
    let policy = |json: &str| serde_json::from_str::<Policy>(json).expect("a policy");
    let policies = Policies::default()
        .with(
            PolicySource::Config,
            policy(r#"{"hosted_in": ["EU", "US"]}"#),
        )
        .with(PolicySource::Key, policy(r#"{"max_retention_days": 30}"#))
        .with(
            PolicySource::Request,
            policy(r#"{"deny_providers": ["gemini"]}"#),
        );
    let mut rng = fastrand::Rng::with_seed(1);
    let cases = [
        (
            "short English prompt",
            request("What is the capital of France? Answer in one word."),
        ),
        (
            "short French prompt",
            request("Quelle est la capitale de la France ? Répondez en un mot, s'il vous plaît."),
        ),
        (
            "8k-token prompt",
            request(
                &"The quick brown fox jumps over the lazy dog near the river bank. ".repeat(600),
            ),
        ),
    ];
    println!(
        "{:<22} {:>10} {:>10} {:>10}",
        "request", "p50 µs", "p99 µs", "max µs"
    );
    for (name, request) in &cases {
        let mut samples: Vec<Duration> = (0..2000)
            .map(|_| {
                let started = Instant::now();
                let needs = Needs::of(request).with_language(&route, request);
                let planned = plan(
                    &route,
                    &needs,
                    &policies,
                    Conditions {
                        health: &health,
                        rng: &mut rng,
                    },
                )
                .expect("a plan");
                std::hint::black_box(planned);
                started.elapsed()
            })
            .collect();
        samples.sort_unstable();
        let at = |quantile: f64| samples[((samples.len() - 1) as f64 * quantile) as usize];
        println!(
            "{name:<22} {:>10.1} {:>10.1} {:>10.1}",
            at(0.5).as_secs_f64() * 1e6,
            at(0.99).as_secs_f64() * 1e6,
            at(1.0).as_secs_f64() * 1e6
        );
    }
}
