//! A config from the environment alone: each hosted vendor whose standard key
//! variable is set brings its catalog models.
//!
//! `switchyard serve` without a file serves the built-in local models; with
//! `OPENAI_API_KEY` set it also offers OpenAI's models from the built-in catalog, with
//! `ANTHROPIC_API_KEY` Anthropic's, and so on; with AWS credentials and a region,
//! Bedrock's models hosted in that region. A model several platforms host (GPT-4o
//! on OpenAI and on Azure) is one public name whose deployments fall back in order,
//! the vendor's own platform first.
//!
//! The config is written as TOML and read back through [`Config::from_toml_str_with`],
//! so it meets every rule a hand-written file meets, and keys stay `env:` references.

use std::collections::BTreeMap;

use switchyard_catalog::{Catalog, CatalogModel, ModelKind};
use toml::{Table, Value};

use super::{Config, ConfigErrors};

/// One vendor platform reachable with a key from the environment.
struct Vendor {
    /// The catalog's provider name, also the provider's name and `type` in the config.
    provider: &'static str,
    /// The variable holding the key, as the vendor's own SDKs read it.
    key: &'static str,
    /// Other variables that must be set as well, each becoming a provider field.
    fields: &'static [(&'static str, &'static str)],
    /// The API root, where the provider type has no default.
    base_url: Option<&'static str>,
    /// The variable the vendor's SDKs read a different API root from (a proxy, a
    /// regional endpoint, a test double).
    base_url_var: Option<&'static str>,
}

impl Vendor {
    /// A vendor reached with one key variable at the provider type's default URL.
    const fn keyed(provider: &'static str, key: &'static str) -> Vendor {
        Vendor {
            provider,
            key,
            fields: &[],
            base_url: None,
            base_url_var: None,
        }
    }
}

const VENDORS: [Vendor; 10] = [
    Vendor {
        base_url: Some("https://api.openai.com/v1"),
        base_url_var: Some("OPENAI_BASE_URL"),
        ..Vendor::keyed("openai", "OPENAI_API_KEY")
    },
    Vendor {
        base_url_var: Some("ANTHROPIC_BASE_URL"),
        ..Vendor::keyed("anthropic", "ANTHROPIC_API_KEY")
    },
    Vendor {
        base_url_var: Some("GOOGLE_GEMINI_BASE_URL"),
        ..Vendor::keyed("gemini", "GEMINI_API_KEY")
    },
    Vendor::keyed("mistral", "MISTRAL_API_KEY"),
    Vendor::keyed("xai", "XAI_API_KEY"),
    Vendor::keyed("deepseek", "DEEPSEEK_API_KEY"),
    Vendor::keyed("groq", "GROQ_API_KEY"),
    Vendor::keyed("together", "TOGETHER_API_KEY"),
    Vendor::keyed("fireworks", "FIREWORKS_API_KEY"),
    // Azure deployments are named by their owner; these assume each is named after
    // its model, Azure's own default.
    Vendor {
        fields: &[("base_url", "AZURE_OPENAI_ENDPOINT")],
        ..Vendor::keyed("azure", "AZURE_OPENAI_API_KEY")
    },
];

/// A platform to offer: its provider table and, for a regional one, its region.
struct Platform {
    name: &'static str,
    provider: Table,
    region: Option<String>,
}

/// The vendors whose key variables `lookup` finds, with the config that offers their
/// catalog models; an empty config when none is set.
pub fn vendors_from_env(
    catalog: &Catalog,
    lookup: impl Fn(&str) -> Option<String>,
) -> Result<(Config, Vec<&'static str>), ConfigErrors> {
    let value = |name: &str| lookup(name).filter(|value| !value.trim().is_empty());
    let mut platforms: Vec<Platform> = VENDORS
        .iter()
        .filter(|vendor| {
            value(vendor.key).is_some() && vendor.fields.iter().all(|(_, var)| value(var).is_some())
        })
        .map(|vendor| Platform {
            name: vendor.provider,
            provider: provider_table(vendor, &value),
            region: None,
        })
        .collect();
    platforms.extend(bedrock(&value));
    if platforms.is_empty() {
        return Ok((Config::default(), Vec::new()));
    }
    let text = config_text(catalog, &platforms);
    let config = Config::from_toml_str_with(&text, "the environment", lookup)?;
    Ok((config, platforms.iter().map(|p| p.name).collect()))
}

fn provider_table(vendor: &Vendor, value: &impl Fn(&str) -> Option<String>) -> Table {
    let mut provider = Table::new();
    provider.insert("type".into(), vendor.provider.into());
    provider.insert("api_key".into(), format!("env:{}", vendor.key).into());
    let base_url = vendor
        .base_url_var
        .and_then(value)
        .or(vendor.base_url.map(str::to_owned));
    if let Some(base_url) = base_url {
        provider.insert("base_url".into(), base_url.into());
    }
    for (field, var) in vendor.fields {
        provider.insert((*field).into(), value(var).unwrap_or_default().into());
    }
    provider
}

/// Bedrock, with AWS's own variables: a region (`AWS_REGION`, else
/// `AWS_DEFAULT_REGION`) and access keys, or a Bedrock API key.
fn bedrock(value: &impl Fn(&str) -> Option<String>) -> Option<Platform> {
    let region = value("AWS_REGION").or_else(|| value("AWS_DEFAULT_REGION"))?;
    let mut provider = Table::new();
    provider.insert("type".into(), "bedrock".into());
    provider.insert("region".into(), region.clone().into());
    if value("AWS_ACCESS_KEY_ID").is_some() && value("AWS_SECRET_ACCESS_KEY").is_some() {
        provider.insert("access_key_id".into(), "env:AWS_ACCESS_KEY_ID".into());
        provider.insert(
            "secret_access_key".into(),
            "env:AWS_SECRET_ACCESS_KEY".into(),
        );
        if value("AWS_SESSION_TOKEN").is_some() {
            provider.insert("session_token".into(), "env:AWS_SESSION_TOKEN".into());
        }
    } else if value(switchyard_providers::bedrock::API_KEY_ENV).is_some() {
        let key = format!("env:{}", switchyard_providers::bedrock::API_KEY_ENV);
        provider.insert("api_key".into(), key.into());
    } else {
        return None;
    }
    Some(Platform {
        name: "bedrock",
        provider,
        region: Some(region),
    })
}

fn config_text(catalog: &Catalog, platforms: &[Platform]) -> String {
    let mut providers = Table::new();
    let mut deployments = Table::new();
    // Public name → (vendor's own platform first, deployment names).
    let mut models: BTreeMap<&str, Vec<(bool, String)>> = BTreeMap::new();
    for platform in platforms {
        providers.insert(platform.name.into(), platform.provider.clone().into());
        // A regional platform offers the models it hosts in its region (rows that list
        // no regions are assumed everywhere).
        let hosted_here = |model: &&CatalogModel| {
            platform.region.as_ref().is_none_or(|region| {
                model.regions.is_empty() || model.regions.iter().any(|r| r == region)
            })
        };
        for model in catalog
            .models
            .iter()
            .filter(|m| m.provider == platform.name)
            .filter(hosted_here)
        {
            let name = format!("{}/{}", platform.name, model.id);
            let region = platform.region.as_deref();
            deployments.insert(
                name.clone(),
                deployment(platform.name, model, region).into(),
            );
            models
                .entry(model.id.as_str())
                .or_default()
                .push((!is_home_platform(model), name));
        }
    }
    let models: Table = models
        .into_iter()
        .map(|(name, mut hosts)| {
            hosts.sort();
            let deployments: Vec<Value> = hosts.into_iter().map(|(_, d)| d.into()).collect();
            let mut model = Table::new();
            model.insert("deployments".into(), deployments.into());
            (name.to_owned(), model.into())
        })
        .collect();
    let mut root = Table::new();
    root.insert("providers".into(), providers.into());
    root.insert("deployments".into(), deployments.into());
    root.insert("models".into(), models.into());
    root.to_string()
}

fn deployment(provider: &str, model: &CatalogModel, region: Option<&str>) -> Table {
    let mut deployment = Table::new();
    deployment.insert("provider".into(), provider.into());
    deployment.insert("model".into(), model.invocation_id(region).into());
    if model.kind == ModelKind::Embedding {
        deployment.insert("embeddings".into(), true.into());
    }
    deployment
}

/// Whether the row is the model on its maker's own platform (GPT-4o on OpenAI rather
/// than on Azure), which goes first among a name's deployments.
fn is_home_platform(model: &CatalogModel) -> bool {
    let home = match model.vendor.as_str() {
        "OpenAI" => "openai",
        "Anthropic" => "anthropic",
        "Google" => "gemini",
        "Mistral AI" => "mistral",
        "xAI" => "xai",
        "DeepSeek" => "deepseek",
        _ => return false,
    };
    model.provider == home
}
