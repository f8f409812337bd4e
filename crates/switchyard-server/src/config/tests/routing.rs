//! `[routing]`, and the routing fields of deployments and models.

use std::time::Duration;

use pretty_assertions::assert_eq;
use switchyard_catalog::Jurisdiction;
use switchyard_router::{Capability, HedgeAfter, Place, Retention, Strategy};

use super::{errors, load};

const DEPLOYMENTS: &str = r#"
[providers.openai]
type = "openai"
base_url = "http://127.0.0.1:9/v1"

[deployments.a]
provider = "openai"
model = "gpt-4o"
region = "westeurope"
retention_days = 0
price = { input = 1.5, output = 6 }
context_window = 64000
health_check = "30s"

[deployments.b]
provider = "openai"
model = "own-model"
hosted_in = "FR"
jurisdiction = "FR"
"#;

#[test]
fn routing_settings_policy_and_profiles_are_read() {
    let text = format!(
        r#"{DEPLOYMENTS}
[models.m]
deployments = ["a", "b"]
strategy = "quality-per-cost"
weights = {{ a = 3 }}
quality = {{ a = 0.9, b = 0.7 }}
languages = {{ French = "b", deu = "b" }}
hedge = "p95"

[routing]
retries = 2
backoff = "100ms"
deadline = "30s"
fallback_on_content_filter = true
hosted_in = "eu-central-1"

[routing.breaker]
failures = 3
cooldown = "10s"

[routing.policy]
deny_providers = ["other"]
jurisdictions = ["EU", "US"]
hosted_in = ["EU", "swedencentral"]
max_retention_days = 30
max_output_price = 20
require = ["tools", "json_schema"]
"#
    );
    let config = load(&text, &[]);
    let routing = &config.routing;
    assert_eq!(routing.retry.retries, 2);
    assert_eq!(routing.retry.backoff_base, Duration::from_millis(100));
    assert_eq!(routing.retry.deadline, Some(Duration::from_secs(30)));
    assert_eq!(routing.retry.attempt_timeout, None);
    assert!(routing.retry.fallback_on_content_filter);
    assert_eq!(routing.hosted_in, Jurisdiction::parse("DE"));
    assert_eq!(routing.breaker.consecutive_failures, 3);
    assert_eq!(routing.breaker.cooldown, Duration::from_secs(10));
    let policy = &routing.policy;
    assert_eq!(policy.deny_providers, ["other"]);
    assert_eq!(policy.jurisdictions.len(), 2);
    assert_eq!(
        policy.hosted_in,
        [
            Place(Jurisdiction::parse("EU").expect("EU")),
            Place(Jurisdiction::parse("SE").expect("SE"))
        ]
    );
    assert_eq!(policy.max_retention_days, Some(30));
    assert_eq!(policy.max_output_price, Some(20.0));
    assert_eq!(policy.require, [Capability::Tools, Capability::JsonOutput]);

    assert_eq!(
        config.deployments[0].health_check,
        Some(Duration::from_secs(30))
    );
    assert_eq!(config.deployments[1].health_check, None);
    let a = &config.deployments[0].profile;
    assert_eq!(
        a.hosted_in,
        Jurisdiction::parse("NL"),
        "westeurope is in the Netherlands"
    );
    assert_eq!(a.region.as_deref(), Some("westeurope"));
    assert_eq!(a.retention, Some(Retention::Zero));
    assert_eq!(
        a.price.map(|price| (price.input, price.output)),
        Some((1.5, Some(6.0)))
    );
    assert_eq!(a.context_window, Some(64_000));
    let b = &config.deployments[1].profile;
    assert_eq!(b.hosted_in, Jurisdiction::parse("FR"));
    assert_eq!(b.jurisdiction, Jurisdiction::parse("FR"));

    let model = &config.models[0];
    assert_eq!(model.strategy, Strategy::QualityPerCost);
    assert_eq!(model.weights.get("a"), Some(&3));
    assert_eq!(model.quality.get("b"), Some(&0.7));
    assert_eq!(model.hedge, Some(HedgeAfter::Percentile(0.95)));
    assert_eq!(
        model
            .languages
            .iter()
            .map(|(code, to)| (*code, to.as_str()))
            .collect::<Vec<_>>(),
        [("deu", "b"), ("fra", "b")]
    );
}

#[test]
fn routing_mistakes_are_reported_where_they_are_written() {
    let text = format!(
        r#"{DEPLOYMENTS}
[deployments.c]
provider = "openai"
model = "x"
region = "moon-base-1"
retention_days = -1
price = {{ output = 1 }}
health_check = "never"

[models.m]
deployments = ["a", "b"]
strategy = "fastest"
weights = {{ z = 1 }}
languages = {{ klingon = "a", fra = "zz" }}
hedge = "p100"

[models.solo]
deployments = ["a"]
hedge = "1s"

[routing]
retries = 50
backoff = "soon"

[routing.breaker]
error_rate = 1.5

[routing.policy]
jurisdictions = ["Europe"]
hosted_in = ["atlantis"]
max_input_price = -2
require = ["telepathy"]
"#
    );
    let found = errors(&text, &[]);
    let expected = [
        "deployments.c.region: the country of region `moon-base-1` is not known; add `hosted_in` with its country code",
        "deployments.c.retention_days: must be a number of days, 0 or more",
        "deployments.c.price: missing field `input`",
        "deployments.c.health_check: invalid duration `never`",
        "models.m.strategy: unknown strategy `fastest`",
        "models.m.weights.z: `z` is not one of this model's deployments",
        "models.m.languages.klingon: unknown language `klingon`",
        "models.m.languages.fra: `zz` is not one of this model's deployments",
        "models.m.hedge: `p100` is not a percentile between p0 and p100",
        "models.solo.hedge: hedging needs a second deployment",
        "routing.retries: must be between 0 and 10",
        "routing.backoff: invalid duration `soon`",
        "routing.breaker.error_rate: must be a share above 0 and at most 1",
        "routing.policy.jurisdictions[0]: `Europe` is not a jurisdiction",
        "routing.policy.hosted_in[0]: `atlantis` is neither a jurisdiction",
        "routing.policy.max_input_price: must be a price of at least 0",
        "routing.policy.require[0]: unknown capability `telepathy`",
    ];
    for message in expected {
        assert!(
            found.iter().any(|error| error.contains(message)),
            "missing {message:?} in {found:#?}"
        );
    }
}

const SEMANTIC: &str = r#"
[deployments.embedder]
provider = "openai"
model = "text-embedding-3-small"
embeddings = true
"#;

#[test]
fn semantic_tasks_are_read_in_file_order() {
    let text = format!(
        r#"{DEPLOYMENTS}{SEMANTIC}
[models.m]
deployments = ["a", "b"]
strategy = "semantic"
embedder = "embedder"
min_similarity = 0.45
task_timeout = "2s"

[models.m.tasks.translation]
deployment = "b"
examples = ["Translate this into German.", "How do you say hello in Japanese?"]

[models.m.tasks.code]
deployment = "a"
examples = ["Write a Python function that sorts a list."]
"#
    );
    let config = load(&text, &[]);
    let tasks = config.models[0].tasks.as_ref().expect("tasks");
    assert_eq!(tasks.embedder, "embedder");
    assert_eq!(tasks.min_similarity, 0.45);
    assert_eq!(tasks.timeout, Duration::from_secs(2));
    let read: Vec<(&str, &str, usize)> = tasks
        .tasks
        .iter()
        .map(|task| {
            (
                task.name.as_str(),
                task.deployment.as_str(),
                task.examples.len(),
            )
        })
        .collect();
    assert_eq!(read, [("translation", "b", 2), ("code", "a", 1)]);
}

#[test]
fn semantic_mistakes_are_reported_where_they_are_written() {
    let text = format!(
        r#"{DEPLOYMENTS}{SEMANTIC}
[models.m]
deployments = ["a", "b"]
strategy = "semantic"
embedder = "nobody"
min_similarity = 2

[models.m.tasks.code]
deployment = "c"
examples = []

[models.m.tasks.maths]
examples = ["", "Solve x + 1 = 2."]

[models.bare]
deployments = ["a"]
strategy = "semantic"

[models.stray]
deployments = ["a"]
embedder = "embedder"

[models.stray.tasks.code]
deployment = "a"
examples = ["Write a function."]
"#
    );
    let found = errors(&text, &[]);
    let expected = [
        "models.m.embedder: unknown deployment `nobody`",
        "models.m.min_similarity: must be a cosine similarity between -1 and 1",
        "models.m.tasks.code.deployment: `c` is not one of this model's deployments",
        "models.m.tasks.code.examples: needs at least one example prompt",
        "models.m.tasks.maths: missing field `deployment`",
        "models.m.tasks.maths.examples[0]: an example must not be empty",
        "models.bare: missing field `embedder`",
        "models.bare.tasks: strategy = \"semantic\" needs at least one task",
        "models.stray.embedder: `embedder` is read only under strategy = \"semantic\"",
        "models.stray.tasks: `tasks` is read only under strategy = \"semantic\"",
    ];
    for message in expected {
        assert!(
            found.iter().any(|error| error.contains(message)),
            "missing {message:?} in {found:#?}"
        );
    }
}
