//! `[governance]`: the backend, the store-failure rule, the default output allowance,
//! budget alerts.

use secrecy::ExposeSecret;
use switchyard_store::{PgTarget, RedisTarget};

use super::super::raw::RawGovernance;
use super::super::suggest;
use super::super::{DistributedBackend, GovernanceBackend, GovernanceConfig};
use super::Context;
use serde_spanned::Spanned;

pub(super) fn governance(
    raw: Option<&RawGovernance>,
    cx: &mut Context<'_, '_>,
) -> GovernanceConfig {
    let mut config = GovernanceConfig::default();
    let Some(raw) = raw else {
        return config;
    };
    config.backend = backend(raw, cx);
    if let Some(rule) = &raw.on_store_error {
        match rule.get_ref().as_str() {
            "deny" => config.allow_on_store_error = false,
            "allow" => config.allow_on_store_error = true,
            other => cx.error(
                rule.span(),
                "governance.on_store_error",
                suggest::unknown("rule", other, &["deny", "allow"], "rules"),
            ),
        }
    }
    if let Some(tokens) = &raw.default_output_tokens {
        match u64::try_from(*tokens.get_ref()) {
            Ok(tokens) if (1..=10_000_000).contains(&tokens) => {
                config.default_output_tokens = tokens;
            }
            _ => cx.error(
                tokens.span(),
                "governance.default_output_tokens",
                "must be between 1 and 10000000",
            ),
        }
    }
    if let Some(webhook) = &raw.alert_webhook {
        // Often a URL with a token in it (Slack's): it may be a secret reference.
        let resolved = if super::is_secret_reference(webhook.get_ref()) {
            cx.secret(webhook, "governance.alert_webhook")
                .map(|secret| {
                    toml::Spanned::new(
                        webhook.span(),
                        secrecy::ExposeSecret::expose_secret(&secret).to_owned(),
                    )
                })
        } else {
            Some(webhook.clone())
        };
        if let Some(url) = resolved {
            config.alert_webhook = super::provider::base_url(&url, "governance.alert_webhook", cx);
        }
    }
    if let Some(thresholds) = &raw.alert_at {
        let mut percents = Vec::new();
        for threshold in thresholds.get_ref() {
            match u32::try_from(*threshold.get_ref()) {
                Ok(percent) if (1..=1000).contains(&percent) => percents.push(percent),
                _ => cx.error(
                    threshold.span(),
                    "governance.alert_at",
                    "each threshold is a percentage of the budget, from 1 to 1000",
                ),
            }
        }
        percents.sort_unstable();
        percents.dedup();
        config.alert_at = percents;
    }
    config
}

/// The default prefix of the distributed limiter's Redis keys.
const REDIS_PREFIX: &str = "switchyard:";

fn backend(raw: &RawGovernance, cx: &mut Context<'_, '_>) -> GovernanceBackend {
    let distributed = match raw
        .backend
        .as_ref()
        .map(|name| (name, name.get_ref().as_str()))
    {
        None | Some((_, "embedded")) => false,
        Some((_, "distributed")) => true,
        Some((name, other)) => {
            cx.error(
                name.span(),
                "governance.backend",
                suggest::unknown("backend", other, &["embedded", "distributed"], "backends"),
            );
            return GovernanceBackend::Embedded;
        }
    };
    let settings = [
        (
            "postgres_url",
            raw.postgres_url.as_ref().map(|url| url.span()),
        ),
        ("redis_url", raw.redis_url.as_ref().map(|url| url.span())),
        (
            "redis_prefix",
            raw.redis_prefix.as_ref().map(|prefix| prefix.span()),
        ),
        (
            "postgres_max_connections",
            raw.postgres_max_connections.as_ref().map(|max| max.span()),
        ),
    ];
    if !distributed {
        for (name, span) in settings {
            if let Some(span) = span {
                cx.error(
                    span,
                    &format!("governance.{name}"),
                    "is a setting of the distributed backend: add `backend = \"distributed\"`",
                );
            }
        }
        return GovernanceBackend::Embedded;
    }
    let postgres =
        required_url(raw.postgres_url.as_ref(), "postgres_url", raw, cx).and_then(|(url, span)| {
            PgTarget::parse(url.expose_secret())
                .map_err(|error| cx.error(span, "governance.postgres_url", error.to_string()))
                .ok()
        });
    let redis =
        required_url(raw.redis_url.as_ref(), "redis_url", raw, cx).and_then(|(url, span)| {
            RedisTarget::parse(url.expose_secret())
                .map_err(|error| cx.error(span, "governance.redis_url", error.to_string()))
                .ok()
        });
    let postgres_max_connections = match &raw.postgres_max_connections {
        None => 16,
        Some(max) => match u32::try_from(*max.get_ref()) {
            Ok(max) if (1..=1000).contains(&max) => max,
            _ => {
                cx.error(
                    max.span(),
                    "governance.postgres_max_connections",
                    "must be between 1 and 1000",
                );
                16
            }
        },
    };
    let redis_prefix = raw.redis_prefix.as_ref().map_or_else(
        || REDIS_PREFIX.to_owned(),
        |prefix| prefix.get_ref().clone(),
    );
    match (postgres, redis) {
        (Some(postgres), Some(redis)) => {
            GovernanceBackend::Distributed(Box::new(DistributedBackend {
                postgres,
                postgres_max_connections,
                redis,
                redis_prefix,
            }))
        }
        _ => GovernanceBackend::Embedded,
    }
}

/// A URL the distributed backend needs, resolved from its secret reference (URLs carry
/// passwords, so they are never written in the file).
fn required_url(
    value: Option<&Spanned<String>>,
    name: &str,
    raw: &RawGovernance,
    cx: &mut Context<'_, '_>,
) -> Option<(secrecy::SecretString, std::ops::Range<usize>)> {
    let path = format!("governance.{name}");
    let Some(value) = value else {
        let span = raw.backend.as_ref().map_or(0..0, |backend| backend.span());
        cx.error(
            span,
            &path,
            format!(
                "the distributed backend needs `{name}`, a secret reference such as \
                 `env:SWITCHYARD_{}`",
                name.to_uppercase()
            ),
        );
        return None;
    };
    Some((cx.secret(value, &path)?, value.span()))
}
