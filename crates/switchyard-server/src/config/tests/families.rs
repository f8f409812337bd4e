//! Deployments on the `anthropic`, `azure`, `mistral`, `gemini` and `bedrock` provider
//! families.

use pretty_assertions::assert_eq;
use secrecy::ExposeSecret;

use super::super::*;
use super::{errors, load};

#[test]
fn an_anthropic_deployment_gets_anthropics_url_and_a_default_max_tokens() {
    let config = load(
        r#"
[providers.claude]
type = "anthropic"
api_key = "env:ANTHROPIC_API_KEY"
headers = { anthropic-beta = "context-1m-2025-08-07" }

[deployments.sonnet]
provider = "claude"
model = "claude-sonnet-4-5"

[deployments.haiku]
provider = "claude"
model = "claude-haiku-4-5"
default_max_tokens = 512
drop_unsupported_params = true

[models.claude]
deployments = ["sonnet", "haiku"]
"#,
        &[("ANTHROPIC_API_KEY", "sk-ant-123")],
    );
    let settings: Vec<_> = config
        .deployments
        .iter()
        .map(|deployment| match &deployment.kind {
            DeploymentKind::Anthropic(settings) => settings,
            _ => panic!("{} should be on Anthropic", deployment.name),
        })
        .collect();
    let sonnet = settings[0];
    assert_eq!(sonnet.base_url, "https://api.anthropic.com");
    assert_eq!(
        sonnet.api_key.as_ref().map(|key| key.expose_secret()),
        Some("sk-ant-123")
    );
    assert_eq!(sonnet.upstream_model, "claude-sonnet-4-5");
    assert_eq!(sonnet.headers[0].0.as_str(), "anthropic-beta");
    assert_eq!(
        (sonnet.default_max_tokens, sonnet.drop_unsupported_params),
        (4096, false)
    );
    assert_eq!(
        (
            settings[1].default_max_tokens,
            settings[1].drop_unsupported_params
        ),
        (512, true)
    );
}

#[test]
fn fields_of_other_families_are_reported_where_they_are_written() {
    let found = errors(
        r#"
[providers.claude]
type = "anthropic"

[providers.openai]
type = "openai"
base_url = "https://api.openai.com/v1"

[deployments.sonnet]
provider = "claude"
model = "claude-sonnet-4-5"
embeddings = true
threads = 2
default_max_tokens = 0

[deployments.gpt]
provider = "openai"
model = "gpt-4o"
default_max_tokens = 100
"#,
        &[],
    );
    for expected in [
        "deployments.sonnet.embeddings: Anthropic has no embeddings API",
        "deployments.sonnet.threads: only for deployments on a `local` provider",
        "deployments.sonnet.default_max_tokens: must be a positive number of tokens",
        "deployments.gpt.default_max_tokens: only for deployments on an `anthropic` provider",
    ] {
        assert!(
            found.iter().any(|error| error.contains(expected)),
            "missing `{expected}` in {found:#?}"
        );
    }
}

#[test]
fn an_azure_provider_speaks_openai_on_azure_paths_with_its_api_version() {
    let config = load(
        r#"
[providers.azure]
type = "azure"
base_url = "https://example-resource.openai.azure.com"
api_key = "env:AZURE_OPENAI_API_KEY"

[providers.azure-v1]
type = "azure"
base_url = "https://example-resource.openai.azure.com"
api_version = "v1"

[deployments.gpt]
provider = "azure"
model = "my-gpt-4o"

[deployments.gpt-v1]
provider = "azure-v1"
model = "my-gpt-4o"
embeddings = true

[models.gpt]
deployments = ["gpt", "gpt-v1"]
"#,
        &[("AZURE_OPENAI_API_KEY", "azure-key")],
    );
    let dialects: Vec<_> = config
        .deployments
        .iter()
        .map(|deployment| match &deployment.kind {
            DeploymentKind::OpenAiCompat(settings) => settings.dialect.clone(),
            _ => panic!("{} should speak OpenAI", deployment.name),
        })
        .collect();
    assert_eq!(
        dialects,
        [
            switchyard_providers::openai::Dialect::Azure {
                api_version: "2024-10-21".into()
            },
            switchyard_providers::openai::Dialect::Azure {
                api_version: "v1".into()
            },
        ]
    );
    let found = errors(
        r#"
[providers.openai]
type = "openai"
base_url = "https://api.openai.com/v1"
api_version = "2024-10-21"

[providers.azure]
type = "azure"
"#,
        &[],
    );
    for expected in [
        "providers.openai.api_version: only for `azure` and `azure-foundry` providers",
        "providers.azure: missing field `base_url`",
    ] {
        assert!(
            found.iter().any(|error| error.contains(expected)),
            "missing `{expected}` in {found:#?}"
        );
    }
}

#[test]
fn a_mistral_provider_defaults_to_la_plateforme() {
    let config = load(
        r#"
[providers.mistral]
type = "mistral"
api_key = "env:MISTRAL_API_KEY"

[deployments.large]
provider = "mistral"
model = "mistral-large-latest"
drop_unsupported_params = true

[models.mistral]
deployments = ["large"]
"#,
        &[("MISTRAL_API_KEY", "mistral-key")],
    );
    let DeploymentKind::OpenAiCompat(settings) = &config.deployments[0].kind else {
        panic!("Mistral speaks OpenAI's protocol");
    };
    assert_eq!(settings.base_url, "https://api.mistral.ai/v1");
    assert_eq!(
        settings.dialect,
        switchyard_providers::openai::Dialect::Mistral
    );
    assert!(settings.drop_unsupported_params);
}

#[test]
fn a_gemini_provider_serves_chat_and_embeddings_from_googles_url() {
    let config = load(
        r#"
[providers.google]
type = "gemini"
api_key = "env:GEMINI_API_KEY"

[deployments.flash]
provider = "google"
model = "gemini-2.5-flash"
drop_unsupported_params = true

[deployments.embedder]
provider = "google"
model = "gemini-embedding-001"
embeddings = true

[models.flash]
deployments = ["flash"]

[models.embed]
deployments = ["embedder"]
"#,
        &[("GEMINI_API_KEY", "gm-123")],
    );
    let settings: Vec<_> = config
        .deployments
        .iter()
        .map(|deployment| match &deployment.kind {
            DeploymentKind::Gemini(settings) => settings,
            _ => panic!("{} should be on Gemini", deployment.name),
        })
        .collect();
    assert_eq!(
        settings[0].base_url,
        "https://generativelanguage.googleapis.com"
    );
    assert_eq!(
        settings[0].api_key.as_ref().map(|key| key.expose_secret()),
        Some("gm-123")
    );
    assert_eq!(
        (settings[0].embeddings, settings[0].drop_unsupported_params),
        (false, true)
    );
    assert!(settings[1].embeddings);
    let found = errors(
        r#"
[providers.google]
type = "gemini"

[deployments.flash]
provider = "google"
model = "gemini-2.5-flash"
default_max_tokens = 100

[models.flash]
deployments = ["flash"]
"#,
        &[],
    );
    assert!(
        found
            .iter()
            .any(|e| e.contains("deployments.flash.default_max_tokens")
                && e.contains("only for deployments on an `anthropic` provider")),
        "{found:?}"
    );
}

#[test]
fn a_bedrock_provider_signs_with_access_keys_or_sends_an_api_key() {
    let config = load(
        r#"
[providers.aws]
type = "bedrock"
region = "eu-central-1"
access_key_id = "env:AWS_ACCESS_KEY_ID"
secret_access_key = "env:AWS_SECRET_ACCESS_KEY"
session_token = "env:AWS_SESSION_TOKEN"

[providers.aws-key]
type = "bedrock"
region = "us-east-1"
api_key = "env:AWS_BEARER_TOKEN_BEDROCK"

[deployments.claude-eu]
provider = "aws"
model = "eu.anthropic.claude-sonnet-4-20250514-v1:0"

[deployments.titan]
provider = "aws-key"
model = "amazon.titan-embed-text-v2:0"
embeddings = true

[models.claude]
deployments = ["claude-eu"]

[models.titan]
deployments = ["titan"]
"#,
        &[
            ("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE"),
            ("AWS_SECRET_ACCESS_KEY", "secret-example"),
            ("AWS_SESSION_TOKEN", "token-example"),
            ("AWS_BEARER_TOKEN_BEDROCK", "bedrock-key-example"),
        ],
    );
    let settings: Vec<_> = config
        .deployments
        .iter()
        .map(|deployment| match &deployment.kind {
            DeploymentKind::Bedrock(settings) => settings,
            _ => panic!("{} should be on Bedrock", deployment.name),
        })
        .collect();
    assert_eq!(settings[0].region, "eu-central-1");
    assert!(matches!(
        &settings[0].credentials,
        switchyard_providers::bedrock::BedrockCredentials::AccessKey {
            access_key_id,
            session_token: Some(_),
            ..
        } if access_key_id == "AKIDEXAMPLE"
    ));
    assert!(matches!(
        &settings[1].credentials,
        switchyard_providers::bedrock::BedrockCredentials::ApiKey(key)
            if key.expose_secret() == "bedrock-key-example"
    ));
    assert!(settings[1].embeddings);
}

#[test]
fn bedrock_settings_are_checked_where_they_are_written() {
    let found = errors(
        r#"
[providers.aws]
type = "bedrock"
access_key_id = "env:ID"

[providers.openai]
type = "openai"
base_url = "https://api.openai.com/v1"
region = "us-east-1"

[deployments.nova]
provider = "aws"
model = "amazon.nova-pro-v1:0"
embeddings = true

[models.nova]
deployments = ["nova"]
"#,
        &[("ID", "AKIDEXAMPLE")],
    );
    for expected in [
        "providers.aws: missing field `region`",
        "providers.aws: a `bedrock` provider needs either `api_key`",
        "providers.openai.region: only for `bedrock` providers",
    ] {
        assert!(
            found.iter().any(|error| error.contains(expected)),
            "{expected} in {found:#?}"
        );
    }
}

#[test]
fn an_azure_foundry_provider_serves_its_deployments_under_models() {
    let config = load(
        r#"
[providers.foundry]
type = "azure-foundry"
base_url = "https://example.services.ai.azure.com"
api_key = "env:AZURE_AI_API_KEY"

[deployments.mistral-large]
provider = "foundry"
model = "Mistral-Large-2411"

[models.mistral-large]
deployments = ["mistral-large"]
"#,
        &[("AZURE_AI_API_KEY", "az-ai-1")],
    );
    let DeploymentKind::OpenAiCompat(settings) = &config.deployments[0].kind else {
        panic!("OpenAI's protocol");
    };
    assert_eq!(
        settings.dialect,
        switchyard_providers::openai::Dialect::AzureFoundry {
            api_version: "2024-05-01-preview".into()
        }
    );
    assert_eq!(settings.base_url, "https://example.services.ai.azure.com");
}
