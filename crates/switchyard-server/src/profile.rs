//! What routing policies know about each configured deployment: its catalog row (the
//! vendor's home, prices, context window) under what its config says (region,
//! retention, overrides), and what is known of its platform (Bedrock keeps nothing;
//! an inference profile processes requests within its geography).

use switchyard_catalog::{
    CatalogModel, InferenceProfile, Jurisdiction, Price, geography, region_jurisdiction,
};
use switchyard_providers::openai::Dialect;
use switchyard_router::{Profile, Retention};
use switchyard_types::Provider;

use crate::config::{DeploymentConfig, DeploymentKind, ProfileOverrides, RoutingConfig};

/// The profile of `deployment`, served by `provider`.
pub fn of(
    deployment: &DeploymentConfig,
    provider: &dyn Provider,
    routing: &RoutingConfig,
) -> Profile {
    let base = match &deployment.kind {
        DeploymentKind::Local(_) => self_hosted(provider, routing),
        DeploymentKind::Bedrock(bedrock) => {
            bedrock_profile(&bedrock.upstream_model, &bedrock.region)
        }
        kind => {
            let row = platform(kind).and_then(|platform| {
                switchyard_catalog::builtin().find(platform, &provider.info().upstream_model)
            });
            row.map(from_row).unwrap_or_default()
        }
    };
    apply(base, &deployment.profile)
}

/// A model this process runs: nothing leaves the server, nothing is kept, nothing is
/// billed; it is hosted where the server is.
pub fn self_hosted(provider: &dyn Provider, routing: &RoutingConfig) -> Profile {
    Profile {
        jurisdiction: None,
        hosted_in: routing.hosted_in.clone(),
        region: None,
        retention: Retention::Zero,
        price: Some(Price::default()),
        context_window: provider.context_window(),
    }
}

/// The catalog's name for the platform a deployment is on, where it has rows for it.
fn platform(kind: &DeploymentKind) -> Option<&'static str> {
    Some(match kind {
        DeploymentKind::OpenAiCompat(config) => match &config.dialect {
            Dialect::OpenAi => "openai",
            Dialect::Azure { .. } => "azure",
            Dialect::Mistral => "mistral",
            Dialect::Hosted(host) => host.name(),
            Dialect::AzureFoundry { .. } => return None,
        },
        DeploymentKind::Anthropic(_) => "anthropic",
        DeploymentKind::Gemini(_) => "gemini",
        DeploymentKind::Bedrock(_) => "bedrock",
        DeploymentKind::Local(_) => return None,
    })
}

fn from_row(row: &CatalogModel) -> Profile {
    Profile {
        jurisdiction: Some(row.jurisdiction.clone()),
        hosted_in: None,
        region: None,
        retention: Retention::Unknown,
        price: Some(row.price),
        context_window: Some(row.context),
    }
}

/// Bedrock stores no prompts or answers. A model called in the region itself runs
/// there; through a geography's inference profile (`eu.…`) it runs anywhere within it;
/// through `global.…`, anywhere.
fn bedrock_profile(upstream_model: &str, region: &str) -> Profile {
    let (prefix, id) = match upstream_model.split_once('.') {
        Some((prefix, id)) if ["us", "eu", "apac", "us-gov", "global"].contains(&prefix) => {
            (Some(prefix), id)
        }
        _ => (None, upstream_model),
    };
    let row = switchyard_catalog::builtin().find("bedrock", id);
    let mut profile = row.map(from_row).unwrap_or_default();
    profile.retention = Retention::Zero;
    profile.region = Some(region.to_owned());
    let through_profile = match prefix {
        Some(prefix) => Some(prefix),
        None => row.and_then(|row| match row.inference_profile? {
            InferenceProfile::Global => Some("global"),
            InferenceProfile::Geography => geography(region),
        }),
    };
    profile.hosted_in = match through_profile {
        None => region_jurisdiction(region),
        Some("us" | "us-gov") => Jurisdiction::parse("US"),
        Some("eu") => Jurisdiction::parse("EU"),
        // APAC spans several countries, and `global` any: neither is one place.
        Some(_) => None,
    };
    profile
}

/// The config's word over the catalog's.
fn apply(mut profile: Profile, overrides: &ProfileOverrides) -> Profile {
    let ProfileOverrides {
        jurisdiction,
        hosted_in,
        region,
        retention,
        price,
        context_window,
    } = overrides.clone();
    profile.jurisdiction = jurisdiction.or(profile.jurisdiction);
    profile.hosted_in = hosted_in.or(profile.hosted_in);
    profile.region = region.or(profile.region);
    profile.retention = retention.unwrap_or(profile.retention);
    profile.price = price.or(profile.price);
    profile.context_window = context_window.or(profile.context_window);
    profile
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bedrock_runs_where_its_profile_or_region_says() {
        let in_region = bedrock_profile("amazon.nova-pro-v1:0", "eu-west-3");
        assert_eq!(in_region.hosted_in, Jurisdiction::parse("FR"));
        assert_eq!(in_region.retention, Retention::Zero);
        let geography = bedrock_profile("eu.anthropic.claude-sonnet-4-20250514-v1:0", "eu-west-3");
        assert_eq!(geography.hosted_in, Jurisdiction::parse("EU"));
        let global = bedrock_profile(
            "global.anthropic.claude-sonnet-4-20250514-v1:0",
            "eu-west-3",
        );
        assert_eq!(global.hosted_in, None);
    }

    #[test]
    fn the_config_overrides_the_catalog() {
        let base = Profile {
            jurisdiction: Jurisdiction::parse("US"),
            context_window: Some(128_000),
            ..Profile::default()
        };
        let overridden = apply(
            base,
            &ProfileOverrides {
                hosted_in: Jurisdiction::parse("SE"),
                retention: Some(Retention::Zero),
                ..ProfileOverrides::default()
            },
        );
        assert_eq!(overridden.jurisdiction, Jurisdiction::parse("US"));
        assert_eq!(overridden.hosted_in, Jurisdiction::parse("SE"));
        assert_eq!(overridden.retention, Retention::Zero);
        assert_eq!(overridden.context_window, Some(128_000));
    }
}
