//! [`PriceBook`]: what each deployment charges, and where that price came from, for
//! budget reservations and the ledger.

use std::collections::HashMap;
use std::sync::Arc;

use switchyard_catalog::Price;
use switchyard_governance::MicroUsd;
use switchyard_governance::model::cost_micro_usd;
use switchyard_router::Deployment;
use switchyard_types::{DeploymentId, Usage};

/// A deployment's price and its source: `catalog:<date checked>`, `config`, `local`,
/// or `unknown` (no price: it costs nothing in budgets and the ledger says so).
#[derive(Debug, Clone)]
pub struct Priced {
    pub price: Option<Price>,
    pub version: Arc<str>,
}

impl Priced {
    fn unknown() -> Priced {
        Priced {
            price: None,
            version: Arc::from("unknown"),
        }
    }

    /// The most `input` prompt tokens and `output` answer tokens can cost here.
    pub fn max_cost(&self, input: u64, output: u64) -> MicroUsd {
        let Some(price) = &self.price else { return 0 };
        cost_micro_usd(input, price.input)
            .saturating_add(cost_micro_usd(output, price.output.unwrap_or(0.0)))
    }

    /// What `usage` cost. Cached prompt tokens are part of `input_tokens` and are
    /// charged at the cache price where there is one.
    pub fn cost(&self, usage: &Usage) -> MicroUsd {
        let Some(price) = &self.price else { return 0 };
        let cached = usage
            .cached_input_tokens
            .unwrap_or(0)
            .min(usage.input_tokens);
        let fresh = usage.input_tokens - cached;
        cost_micro_usd(fresh, price.input)
            .saturating_add(cost_micro_usd(
                cached,
                price.cached_input.unwrap_or(price.input),
            ))
            .saturating_add(cost_micro_usd(
                usage.output_tokens,
                price.output.unwrap_or(0.0),
            ))
    }
}

#[derive(Debug, Default)]
pub struct PriceBook {
    prices: HashMap<DeploymentId, Priced>,
}

impl PriceBook {
    /// Prices from each deployment's profile, with the source named by `version_of`. A
    /// deployment several routes share is one entry.
    pub fn new<'a>(
        deployments: impl IntoIterator<Item = &'a Deployment>,
        version_of: impl Fn(&Deployment) -> Arc<str>,
    ) -> PriceBook {
        let prices = deployments
            .into_iter()
            .map(|deployment| {
                let priced = match deployment.profile.price {
                    Some(price) => Priced {
                        price: Some(price),
                        version: version_of(deployment),
                    },
                    None => Priced::unknown(),
                };
                (deployment.info().id.clone(), priced)
            })
            .collect();
        PriceBook { prices }
    }

    pub fn priced(&self, deployment: &DeploymentId) -> Priced {
        self.prices
            .get(deployment)
            .cloned()
            .unwrap_or_else(Priced::unknown)
    }

    /// The reservation for a request that may land on any of `candidates`: its cost
    /// at the dearest.
    pub fn max_cost(&self, candidates: &[Deployment], input: u64, output: u64) -> MicroUsd {
        candidates
            .iter()
            .map(|deployment| self.priced(&deployment.info().id).max_cost(input, output))
            .max()
            .unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn priced(input: f64, output: f64, cached: Option<f64>) -> Priced {
        Priced {
            price: Some(Price {
                input,
                output: Some(output),
                cached_input: cached,
                ..Price::default()
            }),
            version: Arc::from("config"),
        }
    }

    #[test]
    fn usage_costs_its_tokens_at_their_prices() {
        let usage = Usage {
            input_tokens: 1_000,
            output_tokens: 200,
            cached_input_tokens: Some(400),
            ..Usage::default()
        };
        // 600 × 2.5 + 400 × 1.25 + 200 × 10 micro-dollars.
        assert_eq!(priced(2.5, 10.0, Some(1.25)).cost(&usage), 4_000);
        assert_eq!(priced(2.5, 10.0, None).cost(&usage), 4_500);
        assert_eq!(priced(2.5, 10.0, None).max_cost(1_000, 500), 7_500);
        assert_eq!(Priced::unknown().cost(&usage), 0);
    }
}
