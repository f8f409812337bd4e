//! A deployment as the router sees it: the provider that calls it, and the facts
//! routing rules are checked against (where it runs, what it keeps, what it costs, how
//! much it holds).

use std::sync::Arc;

use serde::Serialize;
use switchyard_catalog::{Jurisdiction, Price};
use switchyard_types::{DeploymentInfo, Provider};

/// One deployment of a route.
#[derive(Debug, Clone)]
pub struct Deployment {
    pub provider: Arc<dyn Provider>,
    pub profile: Arc<Profile>,
    /// Its share of the route's traffic under the `weighted` strategy.
    pub weight: u32,
    /// Its score on the route's task, from evals (higher is better), for the
    /// `quality-per-cost` strategy.
    pub quality: Option<f64>,
}

impl Deployment {
    /// A deployment with weight 1, no quality score, and a profile that knows only what
    /// the provider itself reports (its context window, for a local model).
    pub fn new(provider: Arc<dyn Provider>) -> Self {
        let profile = Profile {
            context_window: provider.context_window(),
            ..Profile::default()
        };
        Deployment::with_profile(provider, profile)
    }

    pub fn with_profile(provider: Arc<dyn Provider>, profile: Profile) -> Self {
        Deployment {
            provider,
            profile: Arc::new(profile),
            weight: 1,
            quality: None,
        }
    }

    pub fn info(&self) -> &DeploymentInfo {
        self.provider.info()
    }
}

/// What routing rules need to know about a deployment beyond its capabilities.
/// Hosted deployments take it from their catalog row and the config; anything unknown
/// stays `None`, and a rule about it then rules the deployment out (fail closed).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Profile {
    /// The model vendor's home.
    pub jurisdiction: Option<Jurisdiction>,
    /// Where requests are processed: a country or `EU`; `None` when not pinned (a
    /// global endpoint) or not known.
    pub hosted_in: Option<Jurisdiction>,
    /// The cloud region it is pinned to, as the cloud names it.
    pub region: Option<String>,
    pub retention: Retention,
    /// US dollars per million tokens.
    pub price: Option<Price>,
    /// Input and output tokens one request may hold together.
    pub context_window: Option<u64>,
}

/// How long the deployment's operator keeps prompts and answers.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Retention {
    /// Nothing is kept once the answer is sent (a local model, Bedrock, a vendor's
    /// zero-data-retention agreement).
    Zero,
    /// Kept this many days (abuse monitoring).
    Days(u32),
    #[default]
    Unknown,
}

impl Retention {
    /// The days data is kept; `None` when unknown.
    pub fn days(self) -> Option<u32> {
        match self {
            Retention::Zero => Some(0),
            Retention::Days(days) => Some(days),
            Retention::Unknown => None,
        }
    }
}

impl Profile {
    /// The estimated cost in US dollars of `input` and `output` tokens; `None` when the
    /// price is unknown.
    pub fn cost(&self, input: u64, output: u64) -> Option<f64> {
        let price = self.price?;
        let output_price = price.output.unwrap_or(0.0);
        Some((input as f64 * price.input + output as f64 * output_price) / 1e6)
    }
}
