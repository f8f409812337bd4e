use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use pretty_assertions::assert_eq;
use secrecy::ExposeSecret;
use switchyard_providers::openai::Timeouts;
use switchyard_router::Strategy;

use super::*;

mod families;
mod from_env;
mod governance;
mod local;
mod routing;

// === helpers ===

/// An environment holding only `vars`; tests never touch the process environment.
fn env(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> + use<> {
    let vars: Vec<(String, String)> = vars
        .iter()
        .map(|(name, value)| (name.to_string(), value.to_string()))
        .collect();
    move |name| {
        vars.iter()
            .find(|(var, _)| var == name)
            .map(|(_, value)| value.clone())
    }
}

fn load(text: &str, vars: &[(&str, &str)]) -> Config {
    match Config::from_toml_str_with(text, "switchyard.toml", env(vars)) {
        Ok(config) => config,
        Err(errors) => panic!("expected a valid config, got:\n{errors}"),
    }
}

fn errors(text: &str, vars: &[(&str, &str)]) -> Vec<String> {
    match Config::from_toml_str_with(text, "switchyard.toml", env(vars)) {
        Ok(_) => panic!("expected errors, the config was valid"),
        Err(errors) => errors.errors.iter().map(ToString::to_string).collect(),
    }
}

/// A deployment's settings in comparable form (secrets exposed, headers as text).
#[derive(Debug, PartialEq)]
struct Summary {
    name: String,
    provider: String,
    base_url: String,
    api_key: Option<String>,
    upstream_model: String,
    headers: Vec<(String, String)>,
    timeouts: Timeouts,
    max_concurrency: Option<usize>,
    embeddings: bool,
}

fn summary(deployment: &DeploymentConfig) -> Summary {
    let DeploymentKind::OpenAiCompat(config) = &deployment.kind else {
        panic!("{} is not an OpenAI-compatible deployment", deployment.name);
    };
    Summary {
        name: deployment.name.clone(),
        provider: config.provider.clone(),
        base_url: config.base_url.clone(),
        api_key: config
            .api_key
            .as_ref()
            .map(|key| key.expose_secret().to_owned()),
        upstream_model: config.upstream_model.clone(),
        headers: config
            .headers
            .iter()
            .map(|(name, value)| {
                let value = value.to_str().expect("test header values are ASCII");
                (name.to_string(), value.to_owned())
            })
            .collect(),
        timeouts: config.timeouts,
        max_concurrency: config.max_concurrency,
        embeddings: config.embeddings,
    }
}

/// A file in a fresh directory under the system temp dir, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(test: &str) -> TempDir {
        let dir =
            std::env::temp_dir().join(format!("switchyard-config-{test}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("create a temp dir");
        TempDir(dir)
    }

    fn write(&self, name: &str, contents: &str) -> PathBuf {
        let path = self.0.join(name);
        std::fs::write(&path, contents).expect("write a temp file");
        path
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

// === valid files ===

#[test]
fn full_file_validates_into_the_expected_config() {
    let text = r#"
[server]
listen = "0.0.0.0:9000"
max_body_bytes = 1048576
master_keys = ["env:TEST_FULL_MASTER", "env:TEST_FULL_MASTER_2"]
log_format = "json"
shutdown_grace = "5s"

[providers.openai]
type = "openai"
base_url = "https://api.openai.com/v1/"
api_key = "env:TEST_FULL_OPENAI"
headers = { "OpenAI-Organization" = "org-1", "X-Shared" = "provider" }
timeouts = { connect = "5s", total = "10m" }

[providers."vllm.local"]
type = "openai"
base_url = "http://127.0.0.1:8000/v1"

[deployments.b-second]
provider = "openai"
model = "gpt-4o"
max_concurrency = 8
timeouts = { first_byte = "30s" }
headers = { "x-shared" = "deployment", "X-Extra" = "1" }

[deployments.a-first]
provider = "vllm.local"
model = "meta-llama/Llama-3.1-8B-Instruct"
embeddings = true

[models.gpt-4o]
deployments = ["b-second", "a-first"]
description = "GPT-4o, then local"

[models."llama-3.1"]
deployments = ["a-first"]
"#;
    let config = load(
        text,
        &[
            ("TEST_FULL_MASTER", "master-1"),
            ("TEST_FULL_MASTER_2", "master-2"),
            ("TEST_FULL_OPENAI", "sk-test"),
        ],
    );

    assert_eq!(config.source, None);
    let server = &config.server;
    assert_eq!(
        server.listen,
        Some("0.0.0.0:9000".parse().expect("an address"))
    );
    assert_eq!(server.max_body_bytes, 1_048_576);
    let master_keys: Vec<&str> = server
        .master_keys
        .iter()
        .map(|key| key.expose_secret())
        .collect();
    assert_eq!(master_keys, ["master-1", "master-2"]);
    assert_eq!(server.log_format, LogFormat::Json);
    assert_eq!(server.shutdown_grace, Duration::from_secs(5));

    let deployments: Vec<Summary> = config.deployments.iter().map(summary).collect();
    assert_eq!(
        deployments,
        [
            // File order, not name order.
            Summary {
                name: "b-second".into(),
                provider: "openai".into(),
                base_url: "https://api.openai.com/v1".into(),
                api_key: Some("sk-test".into()),
                upstream_model: "gpt-4o".into(),
                headers: vec![
                    ("openai-organization".into(), "org-1".into()),
                    ("x-shared".into(), "deployment".into()),
                    ("x-extra".into(), "1".into()),
                ],
                timeouts: Timeouts {
                    connect: Duration::from_secs(5),
                    first_byte: Duration::from_secs(30),
                    total: Duration::from_secs(600),
                    idle: Timeouts::default().idle,
                },
                max_concurrency: Some(8),
                embeddings: false,
            },
            Summary {
                name: "a-first".into(),
                provider: "vllm.local".into(),
                base_url: "http://127.0.0.1:8000/v1".into(),
                api_key: None,
                upstream_model: "meta-llama/Llama-3.1-8B-Instruct".into(),
                headers: vec![],
                timeouts: Timeouts::default(),
                max_concurrency: None,
                embeddings: true,
            },
        ]
    );

    assert_eq!(
        config.models,
        [
            ModelConfig {
                name: "gpt-4o".into(),
                deployments: vec!["b-second".into(), "a-first".into()],
                description: Some("GPT-4o, then local".into()),
                strategy: Strategy::Priority,
                weights: BTreeMap::new(),
                quality: BTreeMap::new(),
                languages: BTreeMap::new(),
                hedge: None,
                tasks: None,
            },
            ModelConfig {
                name: "llama-3.1".into(),
                deployments: vec!["a-first".into()],
                description: None,
                strategy: Strategy::Priority,
                weights: BTreeMap::new(),
                quality: BTreeMap::new(),
                languages: BTreeMap::new(),
                hedge: None,
                tasks: None,
            },
        ]
    );
    assert_eq!(config.unused_deployments(), Vec::<&str>::new());
}

#[test]
fn an_empty_file_gives_the_defaults() {
    let config = load("", &[]);
    let default = Config::default();
    assert_eq!(format!("{config:?}"), format!("{default:?}"));

    let server = &config.server;
    assert_eq!(server.listen, None);
    assert_eq!(server.max_body_bytes, 4 * 1024 * 1024);
    assert!(server.master_keys.is_empty());
    assert_eq!(server.log_format, LogFormat::Pretty);
    assert_eq!(server.shutdown_grace, Duration::from_secs(30));
    assert!(config.deployments.is_empty());
    assert!(config.models.is_empty());
}

#[test]
fn unused_providers_and_deployments_are_not_errors() {
    let text = r#"
[providers.unused]
type = "openai"
base_url = "http://localhost:1234/v1"

[providers.used]
type = "openai"
base_url = "http://localhost:1235/v1"

[deployments.spare]
provider = "used"
model = "m"
"#;
    let config = load(text, &[]);
    assert_eq!(config.unused_deployments(), ["spare"]);
}

#[test]
fn the_example_file_is_valid() {
    let config = load(
        example_config(),
        &[
            ("OPENAI_API_KEY", "sk-example"),
            ("ANTHROPIC_API_KEY", "sk-ant-example"),
            ("AZURE_OPENAI_API_KEY", "azure-example"),
            ("GEMINI_API_KEY", "gm-example"),
            ("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE"),
            ("AWS_SECRET_ACCESS_KEY", "aws-secret-example"),
            ("SWITCHYARD_MASTER_KEY", "master-example"),
        ],
    );
    let models: Vec<&str> = config
        .models
        .iter()
        .map(|model| model.name.as_str())
        .collect();
    assert_eq!(
        models,
        [
            "gpt-4o",
            "llama-3.1",
            "smollm2",
            "claude",
            "gemini-flash",
            "text-embedding-3-small",
            "assistant"
        ]
    );
    assert_eq!(config.deployments.len(), 10);
    assert_eq!(config.unused_deployments(), Vec::<&str>::new());
}

#[test]
fn every_example_field_has_a_comment() {
    // The example is the config reference: each `key = value` line follows a comment
    // line, or sits in an entry whose keys were explained in an earlier entry.
    let mut explained = std::collections::BTreeSet::new();
    let mut previous_is_comment = false;
    for line in example_config().lines() {
        let line = line.trim();
        if let Some((key, _)) = line.split_once(" = ")
            && !line.starts_with('#')
        {
            assert!(
                previous_is_comment || explained.contains(key),
                "`{key}` in the example has no comment"
            );
            explained.insert(key.to_owned());
        }
        previous_is_comment = line.starts_with('#');
    }
}

// === errors ===

#[test]
fn every_mistake_is_reported_at_once() {
    let text = r#"
[server]
listen = "localhost:8080"
max_body_bytes = "big"
log_format = "jsno"
shutdown_grace = "30"
color = true

[provider.x]
type = "openai"

[providers.openai]
type = "opneai"
base_ur = "https://api.openai.com/v1"
api_key = 42
timeouts = { connect = "10", frist_byte = "1s", total = 5 }

[providers.azure]
type = "vertex"
base_url = "ftp://example.com"
headers = { "bad header" = "x" }

[providers.ok]
type = "openai"
base_url = "http://localhost:1234/v1"

[deployments.azure-eus]
provider = "ok"
model = ""
max_concurrency = 0

[deployments.gpt4o]
provider = "opena"
modle = "gpt-4o"

[models.gpt4]
deployments = ["gpt4o", "azure-eu", "gpt4o"]

[models.empty]
deployments = []

[models.nothing]
description = 5
"#;
    assert_eq!(
        errors(text, &[]),
        [
            "switchyard.toml:3:10: server.listen: invalid listen address `localhost:8080`; expected an IP address and a port, such as `127.0.0.1:8080`",
            "switchyard.toml:4:18: server.max_body_bytes: expected an integer, found a string",
            "switchyard.toml:5:14: server.log_format: unknown log format `jsno`; did you mean `json`?",
            "switchyard.toml:6:18: server.shutdown_grace: invalid duration `30`: time unit needed, for example 30sec or 30ms",
            "switchyard.toml:7:1: server.color: unknown field `color`; expected one of `listen`, `max_body_bytes`, `master_keys`, `log_format`, `shutdown_grace`, `store`, `response_retention`, `allowed_hosts`, `allow_unauthenticated`, `passthrough_fields`, `max_concurrent_requests`, `public_metrics`",
            "switchyard.toml:9:2: provider: unknown section `provider`; did you mean `providers`?",
            "switchyard.toml:13:8: providers.openai.type: unsupported provider type `opneai`; did you mean `openai`?",
            "switchyard.toml:14:1: providers.openai.base_ur: unknown field `base_ur`; did you mean `base_url`?",
            "switchyard.toml:15:11: providers.openai.api_key: expected a string, found an integer",
            "switchyard.toml:16:24: providers.openai.timeouts.connect: invalid duration `10`: time unit needed, for example 10sec or 10ms",
            "switchyard.toml:16:30: providers.openai.timeouts.frist_byte: unknown field `frist_byte`; did you mean `first_byte`?",
            "switchyard.toml:16:57: providers.openai.timeouts.total: expected a string, found an integer",
            "switchyard.toml:19:8: providers.azure.type: unsupported provider type `vertex`; expected one of `openai`, `anthropic`, `azure`, `azure-foundry`, `mistral`, `gemini`, `bedrock`, `xai`, `deepseek`, `groq`, `together`, `fireworks`, `local`",
            "switchyard.toml:20:12: providers.azure.base_url: unsupported URL scheme `ftp`; expected `http` or `https`",
            "switchyard.toml:21:13: providers.azure.headers.\"bad header\": invalid header name `bad header`",
            "switchyard.toml:29:9: deployments.azure-eus.model: the upstream model id must not be empty",
            "switchyard.toml:30:19: deployments.azure-eus.max_concurrency: must be at least 1",
            "switchyard.toml:32:14: deployments.gpt4o: missing field `model`",
            "switchyard.toml:33:12: deployments.gpt4o.provider: unknown provider `opena`; did you mean `openai`?",
            "switchyard.toml:34:1: deployments.gpt4o.modle: unknown field `modle`; did you mean `model`?",
            "switchyard.toml:37:25: models.gpt4.deployments[1]: unknown deployment `azure-eu`; did you mean `azure-eus`?",
            "switchyard.toml:37:37: models.gpt4.deployments[2]: deployment `gpt4o` is listed twice",
            "switchyard.toml:40:15: models.empty.deployments: must name at least one deployment",
            "switchyard.toml:42:9: models.nothing: missing field `deployments`",
            "switchyard.toml:43:15: models.nothing.description: expected a string, found an integer",
        ]
    );
}

#[test]
fn a_syntax_error_is_reported_alone_with_its_position() {
    let text = "[server]\nlisten = \"127.0.0.1:8080\nlog_format = 5\n\n[models.x]\nbogus = 1\n";
    assert_eq!(
        errors(text, &[]),
        ["switchyard.toml:2:25: syntax error: invalid basic string, expected `\"`"]
    );
}

#[test]
fn sections_of_the_wrong_shape_are_reported() {
    let text = r#"
server = 5
models = ["gpt-4o"]

[[deployments]]
provider = "x"
"#;
    assert_eq!(
        errors(text, &[]),
        [
            "switchyard.toml:2:10: server: expected a table, found an integer",
            "switchyard.toml:3:10: models: expected a table, found an array",
            "switchyard.toml:5:1: deployments: expected a table, found an array",
        ]
    );
}

#[test]
fn a_field_of_the_wrong_type_is_not_also_missing() {
    let text = r#"
[providers.p]
type = "openai"
base_url = "http://localhost/v1"

[deployments.d]
provider = ["p"]
model = "m"

[models.m]
deployments = "d"
"#;
    assert_eq!(
        errors(text, &[]),
        [
            "switchyard.toml:7:12: deployments.d.provider: expected a string, found an array",
            "switchyard.toml:11:15: models.m.deployments: expected an array, found a string",
        ]
    );
}

#[test]
fn references_to_a_broken_entry_are_not_reported_again() {
    let text = r#"
[providers.p]
type = "openai"
base_url = "not a url"

[deployments]
d = "not a table"

[deployments.e]
provider = "p"
model = "m"

[models.m]
deployments = ["d", "e"]
"#;
    assert_eq!(
        errors(text, &[]),
        [
            "switchyard.toml:4:12: providers.p.base_url: invalid URL: relative URL without a base",
            "switchyard.toml:7:5: deployments.d: expected a table, found a string",
        ]
    );
}

#[test]
fn missing_required_fields_point_at_the_entry() {
    let text = "[providers.p]\n\n[deployments.d]\n\n[models.\"gpt-4.1\"]\n";
    assert_eq!(
        errors(text, &[]),
        [
            "switchyard.toml:1:12: providers.p: missing field `type`",
            "switchyard.toml:3:14: deployments.d: missing field `provider`",
            "switchyard.toml:3:14: deployments.d: missing field `model`",
            "switchyard.toml:5:9: models.\"gpt-4.1\": missing field `deployments`",
        ]
    );
}

#[test]
fn names_are_checked() {
    let text = r#"
[providers."bad name"]
type = "openai"
base_url = "http://localhost/v1"

[deployments.""]
provider = "bad name"
model = "m"

[models.""]
deployments = [""]
"#;
    assert_eq!(
        errors(text, &[]),
        [
            "switchyard.toml:2:12: providers.\"bad name\": a provider name must be non-empty and use only ASCII letters, digits, `.`, `_` and `-`",
            "switchyard.toml:6:14: deployments.\"\": a deployment name must not be empty",
            "switchyard.toml:10:9: models.\"\": a model name must not be empty",
        ]
    );
}

#[test]
fn small_limits_and_zero_timeouts_are_rejected() {
    let text = r#"
[server]
max_body_bytes = 1000
shutdown_grace = "0s"

[providers.p]
type = "openai"
base_url = "http://localhost/v1"
timeouts = { idle = "0s" }
headers = { "X-A" = "1", "x-a" = "2" }
"#;
    assert_eq!(
        errors(text, &[]),
        [
            "switchyard.toml:3:18: server.max_body_bytes: must be at least 1024 bytes",
            "switchyard.toml:9:21: providers.p.timeouts.idle: must be longer than zero",
            "switchyard.toml:10:26: providers.p.headers.x-a: header `x-a` is set twice; header names ignore case",
        ]
    );
}

// === secrets ===

const ONE_PROVIDER: &str = r#"
[providers.p]
type = "openai"
base_url = "http://localhost/v1"
api_key = "API_KEY_REF"
"#;

fn with_key(reference: &str) -> String {
    ONE_PROVIDER.replace("API_KEY_REF", reference)
}

fn provider_key(config: &Config) -> Option<String> {
    config
        .deployments
        .first()
        .and_then(|deployment| summary(deployment).api_key)
}

#[test]
fn env_secrets_resolve_through_the_lookup() {
    let text =
        with_key("env:TEST_ENV_SECRET_KEY") + "[deployments.d]\nprovider = \"p\"\nmodel = \"m\"\n";
    let config = load(&text, &[("TEST_ENV_SECRET_KEY", "sk-from-env")]);
    assert_eq!(provider_key(&config).as_deref(), Some("sk-from-env"));

    assert_eq!(
        errors(&text, &[]),
        [
            "switchyard.toml:5:11: providers.p.api_key: environment variable `TEST_ENV_SECRET_KEY` is not set"
        ]
    );
    assert_eq!(
        errors(&text, &[("TEST_ENV_SECRET_KEY", "")]),
        [
            "switchyard.toml:5:11: providers.p.api_key: environment variable `TEST_ENV_SECRET_KEY` is empty"
        ]
    );
}

#[test]
fn file_secrets_are_read_and_trimmed() {
    let dir = TempDir::new("file-secret");
    let key = dir.write("key", "sk-from-file\r\n\n");
    let text = with_key(&format!("file:{}", key.display()))
        + "[deployments.d]\nprovider = \"p\"\nmodel = \"m\"\n";
    let config = load(&text, &[]);
    assert_eq!(provider_key(&config).as_deref(), Some("sk-from-file"));

    let missing = dir.0.join("missing");
    let got = errors(&with_key(&format!("file:{}", missing.display())), &[]);
    let prefix = format!(
        "switchyard.toml:5:11: providers.p.api_key: cannot read secret file `{}`: ",
        missing.display()
    );
    assert_eq!(got.len(), 1);
    assert!(got[0].starts_with(&prefix), "{got:?}");

    dir.write("empty", "\n");
    let empty = dir.0.join("empty");
    assert_eq!(
        errors(&with_key(&format!("file:{}", empty.display())), &[]),
        [format!(
            "switchyard.toml:5:11: providers.p.api_key: secret file `{}` is empty",
            empty.display()
        )]
    );
}

#[test]
fn load_reads_relative_file_secrets_from_the_config_directory() {
    let dir = TempDir::new("load");
    dir.write("master.key", "master-from-file\n");
    let path = dir.write(
        "switchyard.toml",
        "[server]\nmaster_keys = [\"file:master.key\"]\n",
    );
    let config = match Config::load(&path) {
        Ok(config) => config,
        Err(errors) => panic!("{errors}"),
    };
    assert_eq!(config.source.as_deref(), Some(path.as_path()));
    let keys: Vec<&str> = config
        .server
        .master_keys
        .iter()
        .map(|key| key.expose_secret())
        .collect();
    assert_eq!(keys, ["master-from-file"]);

    let missing = dir.0.join("nope.toml");
    let Err(errors) = Config::load(&missing) else {
        panic!("a missing file should not load");
    };
    let message = errors.to_string();
    let prefix = format!("{}: cannot read the config file: ", missing.display());
    assert!(message.starts_with(&prefix), "{message}");
}

#[test]
fn literal_secrets_are_rejected_without_being_repeated() {
    let text = r#"
[server]
master_keys = ["sk-live-master-literal", "env:"]

[providers.p]
type = "openai"
base_url = "http://localhost/v1"
api_key = "sk-live-provider-literal"

[providers.q]
type = "openai"
base_url = "http://localhost/v1"
api_key = "file:"
"#;
    let got = errors(text, &[]);
    assert_eq!(
        got,
        [
            "switchyard.toml:3:16: server.master_keys[0]: expected a secret reference, `env:NAME` or `file:PATH`; secrets may not be written in the config file",
            "switchyard.toml:3:42: server.master_keys[1]: `env:` needs an environment variable name",
            "switchyard.toml:8:11: providers.p.api_key: expected a secret reference, `env:NAME` or `file:PATH`; secrets may not be written in the config file",
            "switchyard.toml:13:11: providers.q.api_key: `file:` needs a path",
        ]
    );
    assert!(!got.concat().contains("sk-live"));
}

#[test]
fn secrets_in_the_wrong_place_are_not_repeated() {
    // A key written where an array or a table belongs.
    let text = r#"
[server]
master_keys = "sk-live-misplaced"

[providers.p]
type = "openai"
base_url = "http://localhost/v1"
headers = "sk-live-header"
"#;
    let got = errors(text, &[]);
    assert_eq!(
        got,
        [
            "switchyard.toml:3:15: server.master_keys: expected an array, found a string",
            "switchyard.toml:8:11: providers.p.headers: expected a table, found a string",
        ]
    );
}

#[test]
fn secrets_stay_out_of_debug_output() {
    let text = with_key("env:TEST_DEBUG_KEY")
        + "headers = { Authorization = \"Bearer sk-live-header\" }\n"
        + "[deployments.d]\nprovider = \"p\"\nmodel = \"m\"\n"
        + "[server]\nmaster_keys = [\"env:TEST_DEBUG_MASTER\"]\n";
    let config = load(
        &text,
        &[
            ("TEST_DEBUG_KEY", "sk-live-provider"),
            ("TEST_DEBUG_MASTER", "sk-live-master"),
        ],
    );
    let debug = format!("{config:?} {config:#?}");
    assert!(!debug.contains("sk-live"), "{debug}");
    assert!(debug.contains("REDACTED"), "{debug}");
}

#[test]
fn secret_refs_parse() {
    assert_eq!(SecretRef::parse("env:A"), Ok(SecretRef::Env("A".into())));
    assert_eq!(
        SecretRef::parse("file:/run/secrets/x"),
        Ok(SecretRef::File("/run/secrets/x".into()))
    );
    assert_eq!(SecretRef::parse("sk-123"), Err(SecretRefError::Literal));
    assert_eq!(SecretRef::parse("ENV:A"), Err(SecretRefError::Literal));
    assert_eq!(
        SecretRef::File("k".into()).relative_to(std::path::Path::new("/etc/sy")),
        SecretRef::File("/etc/sy/k".into())
    );
}
