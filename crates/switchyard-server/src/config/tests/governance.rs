//! `[governance]`: its settings, the distributed backend's URLs, and their mistakes.

use pretty_assertions::assert_eq;

use super::*;

#[test]
fn governance_settings_are_read_and_their_mistakes_reported() {
    let config = load(
        r#"
[governance]
on_store_error = "allow"
default_output_tokens = 512
alert_webhook = "https://hooks.example.com/switchyard"
alert_at = [100, 50, 80, 50]
"#,
        &[],
    );
    assert_eq!(
        config.governance,
        GovernanceConfig {
            backend: GovernanceBackend::Embedded,
            allow_on_store_error: true,
            default_output_tokens: 512,
            alert_webhook: Some("https://hooks.example.com/switchyard".to_owned()),
            alert_at: vec![50, 80, 100],
        }
    );
    assert_eq!(load("", &[]).governance, GovernanceConfig::default());
    let problems = errors(
        r#"
[governance]
on_store_error = "ignore"
default_output_tokens = 0
alert_webhook = "ftp://hooks.example.com"
alert_at = [0]
"#,
        &[],
    );
    assert_eq!(problems.len(), 4, "{problems:#?}");
    assert!(
        problems[0].contains("governance.on_store_error"),
        "{problems:#?}"
    );
    assert!(problems[0].contains("deny"), "{problems:#?}");
    assert!(
        problems[1].contains("between 1 and 10000000"),
        "{problems:#?}"
    );
    assert!(
        problems[2].contains("unsupported URL scheme"),
        "{problems:#?}"
    );
    assert!(problems[3].contains("percentage"), "{problems:#?}");
}

#[test]
fn the_distributed_backend_reads_its_urls_from_secrets_and_shows_no_password() {
    let config = load(
        r#"
[governance]
backend = "distributed"
postgres_url = "env:PG_URL"
redis_url = "env:REDIS_URL"
redis_prefix = "prod:"
postgres_max_connections = 32
"#,
        &[
            (
                "PG_URL",
                "postgres://gateway:hunter2@db.internal:5433/switchyard",
            ),
            ("REDIS_URL", "redis://:hunter3@cache.internal:6380/2"),
        ],
    );
    let GovernanceBackend::Distributed(backend) = &config.governance.backend else {
        panic!("expected the distributed backend: {:?}", config.governance);
    };
    let DistributedBackend {
        postgres,
        postgres_max_connections,
        redis,
        redis_prefix,
    } = backend.as_ref();
    assert_eq!(
        postgres.location(),
        "postgres://db.internal:5433/switchyard"
    );
    assert_eq!(redis.location(), "cache.internal:6380");
    assert_eq!(
        (*postgres_max_connections, redis_prefix.as_str()),
        (32, "prod:")
    );
    let shown = format!("{config:?}");
    assert!(
        !shown.contains("hunter2") && !shown.contains("hunter3"),
        "{shown}"
    );
}

#[test]
fn distributed_settings_need_the_distributed_backend_and_its_urls() {
    let problems = errors(
        r#"
[governance]
postgres_url = "env:PG_URL"
"#,
        &[("PG_URL", "postgres://localhost/db")],
    );
    assert_eq!(problems.len(), 1, "{problems:#?}");
    assert!(
        problems[0].contains("governance.postgres_url") && problems[0].contains("distributed"),
        "{problems:#?}"
    );

    let problems = errors(
        r#"
[governance]
backend = "distributed"
redis_url = "redis://:hunter2@cache:6379"
"#,
        &[],
    );
    assert_eq!(problems.len(), 2, "{problems:#?}");
    assert!(
        problems[0].contains("governance.postgres_url") && problems[0].contains("env:"),
        "{problems:#?}"
    );
    assert!(
        problems[1].contains("governance.redis_url") && problems[1].contains("secret reference"),
        "{problems:#?}"
    );
    assert!(!problems[1].contains("hunter2"), "{problems:#?}");

    let problems = errors(
        r#"
[governance]
backend = "distributed"
postgres_url = "env:PG_URL"
redis_url = "env:REDIS_URL"
"#,
        &[
            ("PG_URL", "mysql://gateway:hunter2@db/x"),
            ("REDIS_URL", "http://cache"),
        ],
    );
    assert_eq!(problems.len(), 2, "{problems:#?}");
    assert!(
        problems[0].contains("governance.postgres_url"),
        "{problems:#?}"
    );
    assert!(
        problems[1].contains("governance.redis_url"),
        "{problems:#?}"
    );
    assert!(!problems.concat().contains("hunter2"), "{problems:#?}");

    let problems = errors("[governance]\nbackend = \"distributd\"\n", &[]);
    assert!(problems[0].contains("distributed"), "{problems:#?}");
}

#[test]
fn a_webhook_and_a_header_may_be_secret_references() {
    let text = r#"
[providers.proxy]
type = "openai"
base_url = "http://127.0.0.1:9/v1"
headers = { x-proxy-token = "env:PROXY_TOKEN", x-team = "research" }

[deployments.d]
provider = "proxy"
model = "m"

[models.m]
deployments = ["d"]

[governance]
alert_webhook = "env:WEBHOOK"
"#;
    let config = Config::from_toml_str_with(text, "switchyard.toml", |name| match name {
        "PROXY_TOKEN" => Some("secret-token".to_owned()),
        "WEBHOOK" => Some("https://hooks.example.com/T000/B000/XXXX".to_owned()),
        _ => None,
    })
    .expect("valid");
    assert_eq!(
        config.governance.alert_webhook.as_deref(),
        Some("https://hooks.example.com/T000/B000/XXXX")
    );
    let debug = format!("{:?}", config.deployments);
    assert!(!debug.contains("secret-token"), "{debug}");
}
