//! Routing policies: rules on where a request may go, set by the operator (config), the
//! caller's key, and the request itself (`x-switchyard-policy` or the `switchyard` body
//! field). Every layer must hold, so the strictest wins: a deployment any layer
//! forbids is never tried.
//!
//! A rule about something a deployment's profile does not know (its vendor's home, its
//! hosting location, its retention or price) rules it out: a policy fails closed.

use std::fmt;

use serde::{Deserialize, Serialize};
use switchyard_catalog::{Jurisdiction, region_jurisdiction};
use switchyard_types::Capabilities;

use crate::deployment::Deployment;

/// Rules on where a request may go; each rule that is set must hold.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Policy {
    /// The providers (by configured name) the request may go to; empty allows any.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub allow_providers: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub deny_providers: Vec<String>,
    /// The deployments (by configured name) the request may go to; empty allows any.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub allow_deployments: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub deny_deployments: Vec<String>,
    /// The upstream models (by the id the upstream knows) the request may go to.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub allow_models: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub deny_models: Vec<String>,
    /// The model vendor's home must lie within one of these (`EU`, `FR`, `US`…).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub jurisdictions: Vec<Jurisdiction>,
    /// The deployment must process requests within one of these. A cloud region name
    /// (`eu-west-3`, `westeurope`) stands for its country.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub hosted_in: Vec<Place>,
    /// The most days the deployment's operator may keep the data; 0 allows only
    /// zero-retention deployments.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_retention_days: Option<u32>,
    /// The most an input token may cost, in US dollars per million.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_input_price: Option<f64>,
    /// The most an output token may cost, in US dollars per million.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_output_price: Option<f64>,
    /// What every candidate must be able to do, whether or not this request needs it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub require: Vec<Capability>,
}

/// A place a policy names: a jurisdiction, or a cloud region standing for its country.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Place(pub Jurisdiction);

impl Place {
    /// `FR`, `EU`, or a cloud region name (`eu-west-3`, `westeurope`) for its country.
    pub fn parse(text: &str) -> Option<Place> {
        Jurisdiction::parse(text)
            .or_else(|| region_jurisdiction(text))
            .map(Place)
    }
}

impl<'de> Deserialize<'de> for Place {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        Place::parse(&text).ok_or_else(|| {
            serde::de::Error::custom(format!(
                "{text:?} is neither a jurisdiction (a two-letter country code or EU) nor a \
                 known cloud region"
            ))
        })
    }
}

/// Something a deployment can or cannot do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Capability {
    Chat,
    #[serde(rename = "completions")]
    TextCompletions,
    Streaming,
    Tools,
    Vision,
    #[serde(rename = "json_schema")]
    JsonOutput,
    Embeddings,
}

impl Capability {
    pub const ALL: [Capability; 7] = [
        Capability::Chat,
        Capability::TextCompletions,
        Capability::Streaming,
        Capability::Tools,
        Capability::Vision,
        Capability::JsonOutput,
        Capability::Embeddings,
    ];

    /// The name a policy's `require` uses, as serde reads it.
    pub fn name(self) -> &'static str {
        match self {
            Capability::Chat => "chat",
            Capability::TextCompletions => "completions",
            Capability::Streaming => "streaming",
            Capability::Tools => "tools",
            Capability::Vision => "vision",
            Capability::JsonOutput => "json_schema",
            Capability::Embeddings => "embeddings",
        }
    }

    pub fn parse(name: &str) -> Option<Capability> {
        Capability::ALL
            .into_iter()
            .find(|capability| capability.name() == name)
    }

    /// The capability in prose, for reasons.
    pub fn as_str(self) -> &'static str {
        match self {
            Capability::Chat => "chat",
            Capability::TextCompletions => "text completions",
            Capability::Streaming => "streaming",
            Capability::Tools => "tools",
            Capability::Vision => "image input",
            Capability::JsonOutput => "JSON output",
            Capability::Embeddings => "embeddings",
        }
    }

    pub fn of(self, capabilities: &Capabilities) -> bool {
        match self {
            Capability::Chat => capabilities.chat,
            Capability::TextCompletions => capabilities.completions,
            Capability::Streaming => capabilities.streaming,
            Capability::Tools => capabilities.tools,
            Capability::Vision => capabilities.vision,
            Capability::JsonOutput => capabilities.json_schema,
            Capability::Embeddings => capabilities.embeddings,
        }
    }
}

/// A policy that cannot be applied as written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct InvalidPolicy(String);

impl Policy {
    /// Checks what the types cannot: prices are finite and not negative.
    pub fn check(&self) -> Result<(), InvalidPolicy> {
        for (field, price) in [
            ("max_input_price", self.max_input_price),
            ("max_output_price", self.max_output_price),
        ] {
            if let Some(price) = price
                && !(price.is_finite() && price >= 0.0)
            {
                return Err(InvalidPolicy(format!(
                    "`{field}` must be a price of at least 0, not {price}"
                )));
            }
        }
        Ok(())
    }

    /// Whether no rule is set.
    pub fn is_empty(&self) -> bool {
        *self == Policy::default()
    }

    /// The rule that keeps the request off `deployment`, if one does.
    pub fn forbids(&self, deployment: &Deployment) -> Option<String> {
        let info = deployment.info();
        let profile = &deployment.profile;
        let provider = info.provider.as_ref();
        let id = info.id.as_str();
        let model = info.upstream_model.as_ref();
        let listed = |names: &[String], name: &str| names.iter().any(|listed| listed == name);
        let lists = [
            (
                "provider",
                provider,
                &self.allow_providers,
                &self.deny_providers,
            ),
            (
                "deployment",
                id,
                &self.allow_deployments,
                &self.deny_deployments,
            ),
            ("model", model, &self.allow_models, &self.deny_models),
        ];
        for (what, name, allowed, denied) in lists {
            if listed(denied, name) {
                return Some(format!("{what} `{name}` is denied"));
            }
            if !allowed.is_empty() && !listed(allowed, name) {
                return Some(format!("{what} `{name}` is not among the allowed {what}s"));
            }
        }
        if !self.jurisdictions.is_empty() {
            let wanted = Places(self.jurisdictions.iter());
            match &profile.jurisdiction {
                None => {
                    return Some(format!(
                        "its vendor's home is unknown, and must be in {wanted}"
                    ));
                }
                Some(home) if !self.jurisdictions.iter().any(|j| j.covers(home)) => {
                    return Some(format!("its vendor is based in {home}, outside {wanted}"));
                }
                Some(_) => {}
            }
        }
        if !self.hosted_in.is_empty() {
            let wanted = Places(self.hosted_in.iter().map(|place| &place.0));
            let region = profile
                .region
                .as_deref()
                .map_or(String::new(), |region| format!(" ({region})"));
            match &profile.hosted_in {
                None => {
                    return Some(format!(
                        "where it processes requests is unknown{region}, and must be in {wanted}"
                    ));
                }
                Some(place) if !self.hosted_in.iter().any(|p| p.0.covers(place)) => {
                    return Some(format!("it is hosted in {place}{region}, outside {wanted}"));
                }
                Some(_) => {}
            }
        }
        if let Some(most) = self.max_retention_days {
            match profile.retention.days() {
                None => return Some("its data retention is unknown".to_owned()),
                Some(days) if days > most => {
                    return Some(format!(
                        "it keeps data {days} days, more than the {most} allowed"
                    ));
                }
                Some(_) => {}
            }
        }
        let prices = [
            (
                "input",
                self.max_input_price,
                profile.price.map(|p| p.input),
            ),
            (
                "output",
                self.max_output_price,
                profile.price.and_then(|p| p.output),
            ),
        ];
        for (side, most, price) in prices {
            let Some(most) = most else { continue };
            match price {
                None => return Some(format!("its {side} price is unknown")),
                Some(price) if price > most => {
                    return Some(format!(
                        "its {side} costs ${price}/M tokens, more than the ${most}/M allowed"
                    ));
                }
                Some(_) => {}
            }
        }
        self.require
            .iter()
            .find(|capability| !capability.of(&info.capabilities))
            .map(|capability| format!("it lacks {}, which is required", capability.as_str()))
    }
}

/// A list of places, as prose: `EU`, `FR or DE`.
struct Places<'a, I: Iterator<Item = &'a Jurisdiction> + Clone>(I);

impl<'a, I: Iterator<Item = &'a Jurisdiction> + Clone> fmt::Display for Places<'a, I> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = self.0.clone().map(Jurisdiction::as_str).collect();
        f.write_str(&names.join(" or "))
    }
}

/// Who set a policy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PolicySource {
    /// The operator, in the config's `[routing.policy]`.
    Config,
    /// The caller's key.
    Key,
    /// The request (`x-switchyard-policy`, or the body's `switchyard.policy`).
    Request,
}

impl PolicySource {
    pub fn as_str(self) -> &'static str {
        match self {
            PolicySource::Config => "the operator's",
            PolicySource::Key => "the key's",
            PolicySource::Request => "the request's",
        }
    }
}

/// The policies one request is under, each with who set it.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Policies {
    layers: Vec<(PolicySource, Policy)>,
}

impl Policies {
    /// Adds `policy` as one more layer; an empty policy adds nothing.
    pub fn add(&mut self, source: PolicySource, policy: Policy) {
        if !policy.is_empty() {
            self.layers.push((source, policy));
        }
    }

    #[must_use]
    pub fn with(mut self, source: PolicySource, policy: Policy) -> Self {
        self.add(source, policy);
        self
    }

    /// The first layer that keeps the request off `deployment`, and its rule.
    pub fn forbids(&self, deployment: &Deployment) -> Option<(PolicySource, String)> {
        self.layers
            .iter()
            .find_map(|(source, policy)| Some((*source, policy.forbids(deployment)?)))
    }
}
