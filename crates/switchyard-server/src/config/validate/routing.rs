//! `[routing]`, the routing fields of deployments (what policies check) and of models
//! (strategy, weights, eval scores).

use std::collections::BTreeMap;
use std::time::Duration;

use switchyard_catalog::{Jurisdiction, Price, region_jurisdiction};
use switchyard_router::{
    BreakerSettings, Capability, HedgeAfter, Place, Policy, Retention, Strategy,
};
use toml::Spanned;

use super::super::raw::{self, Names, RawDeployment, RawModel, RawPolicy, RawRouting};
use super::super::{ProfileOverrides, RoutingConfig, diagnostic, suggest};
use super::{Context, Entry, ZeroDuration};

/// `[routing]`; defaults where it is silent.
pub(super) fn routing(raw: Option<&RawRouting>, cx: &mut Context<'_, '_>) -> RoutingConfig {
    let mut config = RoutingConfig::default();
    let Some(raw) = raw else {
        return config;
    };
    let retry = &mut config.retry;
    if let Some(retries) = &raw.retries {
        match u32::try_from(*retries.get_ref()) {
            Ok(retries) if retries <= 10 => retry.retries = retries,
            _ => cx.error(
                retries.span(),
                "routing.retries",
                "must be between 0 and 10",
            ),
        }
    }
    let mut duration = |value: &Option<Spanned<String>>, name: &str, into: &mut Duration| {
        if let Some(value) = value
            && let Some(parsed) = cx.duration(
                value,
                &diagnostic::join("routing", name),
                ZeroDuration::Rejected,
            )
        {
            *into = parsed;
        }
    };
    duration(&raw.backoff, "backoff", &mut retry.backoff_base);
    duration(&raw.backoff_max, "backoff_max", &mut retry.backoff_max);
    duration(
        &raw.max_retry_after,
        "max_retry_after",
        &mut retry.max_retry_after,
    );
    let mut limit = |value: &Option<Spanned<String>>, name: &str| {
        value.as_ref().and_then(|value| {
            cx.duration(
                value,
                &diagnostic::join("routing", name),
                ZeroDuration::Rejected,
            )
        })
    };
    retry.attempt_timeout = limit(&raw.attempt_timeout, "attempt_timeout");
    retry.deadline = limit(&raw.deadline, "deadline");
    retry.fallback_on_content_filter = raw.fallback_on_content_filter.unwrap_or(false);
    config.hosted_in = raw
        .hosted_in
        .as_ref()
        .and_then(|place| self::place(place, "routing.hosted_in", cx))
        .map(|place| place.0);
    if let Some(breaker) = &raw.breaker {
        config.breaker = self::breaker(breaker.get_ref(), cx);
    }
    if let Some(policy) = &raw.policy {
        config.policy = self::policy(policy.get_ref(), "routing.policy", cx);
    }
    config
}

fn breaker(raw: &raw::RawBreaker, cx: &mut Context<'_, '_>) -> BreakerSettings {
    let mut settings = BreakerSettings::default();
    if let Some(failures) = &raw.failures {
        match u32::try_from(*failures.get_ref()) {
            Ok(failures) if failures >= 1 => settings.consecutive_failures = failures,
            _ => cx.error(
                failures.span(),
                "routing.breaker.failures",
                "must be at least 1",
            ),
        }
    }
    if let Some(rate) = &raw.error_rate {
        let rate_value = *rate.get_ref();
        if rate_value > 0.0 && rate_value <= 1.0 {
            settings.error_rate = rate_value;
        } else {
            cx.error(
                rate.span(),
                "routing.breaker.error_rate",
                "must be a share above 0 and at most 1",
            );
        }
    }
    if let Some(calls) = &raw.min_calls {
        match u32::try_from(*calls.get_ref()) {
            Ok(calls) if calls >= 1 => settings.min_calls = calls,
            _ => cx.error(
                calls.span(),
                "routing.breaker.min_calls",
                "must be at least 1",
            ),
        }
    }
    for (value, name, into) in [
        (&raw.window, "window", &mut settings.window),
        (&raw.cooldown, "cooldown", &mut settings.cooldown),
    ] {
        if let Some(value) = value
            && let Some(parsed) = cx.duration(
                value,
                &diagnostic::join("routing.breaker", name),
                ZeroDuration::Rejected,
            )
        {
            *into = parsed;
        }
    }
    settings
}

/// A jurisdiction: a two-letter country code or `EU`.
fn jurisdiction(
    value: &Spanned<String>,
    path: &str,
    cx: &mut Context<'_, '_>,
) -> Option<Jurisdiction> {
    let parsed = Jurisdiction::parse(value.get_ref());
    if parsed.is_none() {
        cx.error(
            value.span(),
            path,
            format!(
                "`{}` is not a jurisdiction: expected a two-letter country code or EU",
                value.get_ref()
            ),
        );
    }
    parsed
}

/// A place: a jurisdiction, or a cloud region standing for its country.
fn place(value: &Spanned<String>, path: &str, cx: &mut Context<'_, '_>) -> Option<Place> {
    let text = value.get_ref();
    let parsed = Place::parse(text);
    if parsed.is_none() {
        cx.error(
            value.span(),
            path,
            format!(
                "`{text}` is neither a jurisdiction (a two-letter country code or EU) nor a \
                 known cloud region"
            ),
        );
    }
    parsed
}

fn strings(names: &Names) -> Vec<String> {
    names.as_ref().map_or_else(Vec::new, |names| {
        names
            .get_ref()
            .iter()
            .map(|name| name.get_ref().clone())
            .collect()
    })
}

/// Each item of `names` through `parse`, reporting the ones that fail at their place.
fn each<T>(
    names: &Names,
    path: &str,
    cx: &mut Context<'_, '_>,
    mut parse: impl FnMut(&Spanned<String>, &str, &mut Context<'_, '_>) -> Option<T>,
) -> Vec<T> {
    let Some(names) = names else {
        return Vec::new();
    };
    names
        .get_ref()
        .iter()
        .enumerate()
        .filter_map(|(position, name)| parse(name, &diagnostic::index(path, position), cx))
        .collect()
}

/// A price in US dollars per million tokens: finite and not negative.
fn price(value: &Spanned<f64>, path: &str, cx: &mut Context<'_, '_>) -> Option<f64> {
    let price = *value.get_ref();
    if price.is_finite() && price >= 0.0 {
        Some(price)
    } else {
        cx.error(
            value.span(),
            path,
            "must be a price of at least 0 (US dollars per million tokens)",
        );
        None
    }
}

fn policy(raw: &RawPolicy, path: &str, cx: &mut Context<'_, '_>) -> Policy {
    let field = |name: &str| diagnostic::join(path, name);
    let names: Vec<&str> = Capability::ALL.iter().map(|c| c.name()).collect();
    Policy {
        allow_providers: strings(&raw.allow_providers),
        deny_providers: strings(&raw.deny_providers),
        allow_deployments: strings(&raw.allow_deployments),
        deny_deployments: strings(&raw.deny_deployments),
        allow_models: strings(&raw.allow_models),
        deny_models: strings(&raw.deny_models),
        jurisdictions: each(
            &raw.jurisdictions,
            &field("jurisdictions"),
            cx,
            jurisdiction,
        ),
        hosted_in: each(&raw.hosted_in, &field("hosted_in"), cx, place),
        max_retention_days: raw.max_retention_days.as_ref().and_then(|days| {
            let parsed = u32::try_from(*days.get_ref()).ok();
            if parsed.is_none() {
                cx.error(
                    days.span(),
                    &field("max_retention_days"),
                    "must be a number of days, 0 or more",
                );
            }
            parsed
        }),
        max_input_price: raw
            .max_input_price
            .as_ref()
            .and_then(|value| price(value, &field("max_input_price"), cx)),
        max_output_price: raw
            .max_output_price
            .as_ref()
            .and_then(|value| price(value, &field("max_output_price"), cx)),
        require: each(&raw.require, &field("require"), cx, |value, path, cx| {
            let found = Capability::parse(value.get_ref());
            if found.is_none() {
                cx.error(
                    value.span(),
                    path,
                    suggest::unknown("capability", value.get_ref(), &names, "capabilities"),
                );
            }
            found
        }),
    }
}

/// What a deployment's own fields say for routing policies.
pub(super) fn profile_overrides(
    raw: &RawDeployment,
    entry: &Entry,
    cx: &mut Context<'_, '_>,
) -> ProfileOverrides {
    let jurisdiction = raw
        .jurisdiction
        .as_ref()
        .and_then(|value| jurisdiction(value, &entry.field("jurisdiction"), cx));
    let explicit_place = raw
        .hosted_in
        .as_ref()
        .and_then(|value| place(value, &entry.field("hosted_in"), cx))
        .map(|place| place.0);
    let region = raw.region.as_ref().map(|region| region.get_ref().clone());
    // A region we cannot place is fine when `hosted_in` says where it is.
    let region_place = raw.region.as_ref().and_then(|region| {
        let placed = region_jurisdiction(region.get_ref());
        if placed.is_none() && explicit_place.is_none() && raw.hosted_in.is_none() {
            cx.error(
                region.span(),
                &entry.field("region"),
                format!(
                    "the country of region `{}` is not known; add `hosted_in` with its \
                     country code",
                    region.get_ref()
                ),
            );
        }
        placed
    });
    let retention =
        raw.retention_days
            .as_ref()
            .and_then(|days| match u32::try_from(*days.get_ref()) {
                Ok(0) => Some(Retention::Zero),
                Ok(days) => Some(Retention::Days(days)),
                Err(_) => {
                    cx.error(
                        days.span(),
                        &entry.field("retention_days"),
                        "must be a number of days, 0 or more",
                    );
                    None
                }
            });
    let price = raw.price.as_ref().and_then(|raw_price| {
        let path = entry.field("price");
        let raw_price = raw_price.get_ref();
        let Some(input) = raw_price.input.as_ref() else {
            cx.error(entry.span.clone(), &path, "missing field `input`");
            return None;
        };
        let input = self::price(input, &diagnostic::join(&path, "input"), cx)?;
        let output = match &raw_price.output {
            Some(output) => Some(self::price(output, &diagnostic::join(&path, "output"), cx)?),
            None => None,
        };
        Some(Price {
            input,
            output,
            ..Price::default()
        })
    });
    let context_window = raw.context_window.as_ref().and_then(|tokens| {
        let parsed = u64::try_from(*tokens.get_ref()).ok().filter(|&t| t >= 1);
        if parsed.is_none() {
            cx.error(
                tokens.span(),
                &entry.field("context_window"),
                "must be a positive number of tokens",
            );
        }
        parsed
    });
    ProfileOverrides {
        jurisdiction,
        hosted_in: explicit_place.or(region_place),
        region,
        retention,
        price,
        context_window,
    }
}

/// How a model chooses among its deployments.
pub(super) struct Choice {
    pub strategy: Strategy,
    pub weights: BTreeMap<String, u32>,
    pub quality: BTreeMap<String, f64>,
    pub languages: BTreeMap<&'static str, String>,
    pub hedge: Option<HedgeAfter>,
}

pub(super) fn choice(
    raw: &RawModel,
    entry: &Entry,
    deployments: &[String],
    cx: &mut Context<'_, '_>,
) -> Choice {
    let strategy = raw.strategy.as_ref().map_or(Strategy::Priority, |name| {
        Strategy::parse(name.get_ref()).unwrap_or_else(|| {
            let names: Vec<&str> = Strategy::ALL.iter().map(|s| s.as_str()).collect();
            cx.error(
                name.span(),
                &entry.field("strategy"),
                suggest::unknown("strategy", name.get_ref(), &names, "strategies"),
            );
            Strategy::Priority
        })
    });
    let listed = |cx: &mut Context<'_, '_>, name: &Spanned<String>, path: &str| {
        let known = deployments.iter().any(|listed| listed == name.get_ref());
        if !known {
            cx.error(
                name.span(),
                path,
                format!(
                    "`{}` is not one of this model's deployments",
                    name.get_ref()
                ),
            );
        }
        known
    };
    let mut weights = BTreeMap::new();
    for (name, weight) in raw.weights.iter().flat_map(raw::in_file_order) {
        let path = diagnostic::join(&entry.field("weights"), name.get_ref());
        if !listed(cx, name, &path) {
            continue;
        }
        match u32::try_from(*weight.get_ref()) {
            Ok(weight) => {
                weights.insert(name.get_ref().clone(), weight);
            }
            Err(_) => cx.error(weight.span(), &path, "must be a weight of 0 or more"),
        }
    }
    let mut quality = BTreeMap::new();
    for (name, score) in raw.quality.iter().flat_map(raw::in_file_order) {
        let path = diagnostic::join(&entry.field("quality"), name.get_ref());
        if !listed(cx, name, &path) {
            continue;
        }
        if score.get_ref().is_finite() && *score.get_ref() >= 0.0 {
            quality.insert(name.get_ref().clone(), *score.get_ref());
        } else {
            cx.error(score.span(), &path, "must be a score of 0 or more");
        }
    }
    let mut languages = BTreeMap::new();
    for (language, deployment) in raw.languages.iter().flat_map(raw::in_file_order) {
        let path = diagnostic::join(&entry.field("languages"), language.get_ref());
        let Some(code) = switchyard_router::language::parse(language.get_ref()) else {
            cx.error(
                language.span(),
                &path,
                format!(
                    "unknown language `{}`; name it by ISO 639-3 code (`fra`, `deu`, `spa`) \
                     or English name (`French`)",
                    language.get_ref()
                ),
            );
            continue;
        };
        if listed(cx, deployment, &path) {
            languages.insert(code, deployment.get_ref().clone());
        }
    }
    if strategy == Strategy::Weighted
        && weights.values().all(|weight| *weight == 0)
        && !weights.is_empty()
    {
        cx.error(
            entry.span.clone(),
            &entry.field("weights"),
            "under `weighted`, at least one deployment needs a weight above 0",
        );
    }
    let hedge = raw.hedge.as_ref().and_then(|hedge| {
        HedgeAfter::parse(hedge.get_ref())
            .map_err(|message| cx.error(hedge.span(), &entry.field("hedge"), message))
            .ok()
    });
    if hedge.is_some() && deployments.len() < 2 {
        cx.error(
            entry.span.clone(),
            &entry.field("hedge"),
            "hedging needs a second deployment to send the hedge to",
        );
    }
    Choice {
        strategy,
        weights,
        quality,
        languages,
        hedge,
    }
}
