//! A config from vendor key variables alone.

use pretty_assertions::assert_eq;
use secrecy::ExposeSecret;

use switchyard_providers::openai::{Dialect, Host};

use super::super::*;

fn from(vars: &[(&str, &str)]) -> (Config, Vec<&'static str>) {
    let vars: Vec<(String, String)> = vars
        .iter()
        .map(|(name, value)| ((*name).to_owned(), (*value).to_owned()))
        .collect();
    vendors_from_env(switchyard_catalog::builtin(), move |name| {
        vars.iter()
            .find(|(var, _)| var == name)
            .map(|(_, value)| value.clone())
    })
    .unwrap_or_else(|errors| panic!("the generated config is invalid:\n{errors}"))
}

fn deployments_of<'a>(config: &'a Config, model: &str) -> Vec<&'a str> {
    config
        .models
        .iter()
        .find(|m| m.name == model)
        .unwrap_or_else(|| panic!("no model {model}"))
        .deployments
        .iter()
        .map(String::as_str)
        .collect()
}

#[test]
fn no_key_no_vendors() {
    let (config, vendors) = from(&[("HOME", "/root"), ("OPENAI_API_KEY", "  ")]);
    assert!(vendors.is_empty());
    assert!(config.models.is_empty() && config.deployments.is_empty());
}

#[test]
fn each_key_brings_its_vendors_catalog_models() {
    let (config, vendors) = from(&[
        ("OPENAI_API_KEY", "sk-1"),
        ("ANTHROPIC_API_KEY", "sk-ant-1"),
        ("GEMINI_API_KEY", "gm-1"),
    ]);
    assert_eq!(vendors, ["openai", "anthropic", "gemini"]);
    let catalog = switchyard_catalog::builtin();
    for provider in vendors {
        for row in catalog.models.iter().filter(|m| m.provider == provider) {
            let name = format!("{provider}/{}", row.id);
            assert!(
                deployments_of(&config, &row.id).contains(&name.as_str()),
                "{name}"
            );
        }
    }
    let gpt = config
        .deployments
        .iter()
        .find(|d| d.name == "openai/gpt-4o")
        .expect("GPT-4o on OpenAI");
    let DeploymentKind::OpenAiCompat(settings) = &gpt.kind else {
        panic!("OpenAI's protocol")
    };
    assert_eq!(settings.base_url, "https://api.openai.com/v1");
    assert_eq!(
        settings.api_key.as_ref().map(|key| key.expose_secret()),
        Some("sk-1")
    );
    let embedder = config
        .deployments
        .iter()
        .find(|d| d.name == "openai/text-embedding-3-small")
        .expect("an embedding model");
    assert!(matches!(&embedder.kind, DeploymentKind::OpenAiCompat(s) if s.embeddings));
}

#[test]
fn a_model_on_several_platforms_falls_back_from_its_makers_own() {
    let (config, vendors) = from(&[
        ("AZURE_OPENAI_API_KEY", "az-1"),
        ("AZURE_OPENAI_ENDPOINT", "https://example.openai.azure.com"),
        ("OPENAI_API_KEY", "sk-1"),
    ]);
    assert_eq!(vendors, ["openai", "azure"]);
    assert_eq!(
        deployments_of(&config, "gpt-4o"),
        ["openai/gpt-4o", "azure/gpt-4o"]
    );
}

#[test]
fn azure_needs_its_endpoint_too() {
    let (_, vendors) = from(&[("AZURE_OPENAI_API_KEY", "az-1")]);
    assert!(vendors.is_empty());
}

#[test]
fn openai_compatible_hosts_get_their_own_rules_and_urls() {
    let (config, vendors) = from(&[("GROQ_API_KEY", "gsk-1"), ("DEEPSEEK_API_KEY", "ds-1")]);
    assert_eq!(vendors, ["deepseek", "groq"]);
    for deployment in &config.deployments {
        let DeploymentKind::OpenAiCompat(settings) = &deployment.kind else {
            panic!("{} speaks OpenAI's protocol", deployment.name)
        };
        let (host, url) = if deployment.name.starts_with("groq/") {
            (Host::Groq, "https://api.groq.com/openai/v1")
        } else {
            (Host::DeepSeek, "https://api.deepseek.com/v1")
        };
        assert_eq!(
            settings.dialect,
            Dialect::Hosted(host),
            "{}",
            deployment.name
        );
        assert_eq!(settings.base_url, url);
    }
}

#[test]
fn aws_credentials_and_a_region_bring_bedrocks_models_in_that_region() {
    let (config, vendors) = from(&[
        ("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE"),
        ("AWS_SECRET_ACCESS_KEY", "secret"),
        ("AWS_REGION", "eu-central-1"),
    ]);
    assert_eq!(vendors, ["bedrock"]);
    let catalog = switchyard_catalog::builtin();
    for deployment in &config.deployments {
        let DeploymentKind::Bedrock(settings) = &deployment.kind else {
            panic!("{} is on Bedrock", deployment.name)
        };
        assert_eq!(settings.region, "eu-central-1");
        let row = catalog
            .models
            .iter()
            .find(|row| row.invocation_id(Some("eu-central-1")) == settings.upstream_model)
            .expect("a catalog row");
        assert!(
            row.regions.is_empty() || row.regions.iter().any(|r| r == "eu-central-1"),
            "{} is not hosted in Frankfurt",
            row.id
        );
    }
    assert!(!config.deployments.is_empty());
    let (_, vendors) = from(&[
        ("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE"),
        ("AWS_REGION", "us-east-1"),
    ]);
    assert!(vendors.is_empty(), "a key id alone is not a credential");
    let (config, vendors) = from(&[
        ("AWS_BEARER_TOKEN_BEDROCK", "key"),
        ("AWS_DEFAULT_REGION", "us-east-1"),
    ]);
    assert_eq!(vendors, ["bedrock"]);
    // Models Bedrock serves only through an inference profile keep their public name
    // and are called by the profile's id.
    let upstream = |public: &str| {
        let model = config
            .models
            .iter()
            .find(|m| m.name == public)
            .expect(public);
        let deployment = config
            .deployments
            .iter()
            .find(|d| d.name == model.deployments[0])
            .expect("deployment");
        let DeploymentKind::Bedrock(settings) = &deployment.kind else {
            panic!("{} is on Bedrock", deployment.name)
        };
        settings.upstream_model.clone()
    };
    assert_eq!(
        upstream("meta.llama4-scout-17b-instruct-v1:0"),
        "us.meta.llama4-scout-17b-instruct-v1:0"
    );
    assert_eq!(
        upstream("anthropic.claude-sonnet-5"),
        "global.anthropic.claude-sonnet-5"
    );
    assert_eq!(upstream("amazon.nova-micro-v1:0"), "amazon.nova-micro-v1:0");
}
