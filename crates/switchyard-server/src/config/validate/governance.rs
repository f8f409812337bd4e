//! `[governance]`: the store-failure rule, the default output allowance, budget alerts.

use super::super::GovernanceConfig;
use super::super::raw::RawGovernance;
use super::super::suggest;
use super::Context;

pub(super) fn governance(
    raw: Option<&RawGovernance>,
    cx: &mut Context<'_, '_>,
) -> GovernanceConfig {
    let mut config = GovernanceConfig::default();
    let Some(raw) = raw else {
        return config;
    };
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
        config.alert_webhook = super::provider::base_url(webhook, "governance.alert_webhook", cx);
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
