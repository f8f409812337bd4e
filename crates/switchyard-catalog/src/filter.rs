//! Choosing catalog rows: by platform, jurisdiction and capability.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::Catalog;
use crate::model::{CatalogModel, Modality, ModelKind};
use crate::place::{Jurisdiction, region_jurisdiction};

/// What a caller may need from a model.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Capability {
    Chat,
    Tools,
    JsonSchema,
    Vision,
    Audio,
    Reasoning,
    Embeddings,
}

impl Capability {
    pub const ALL: [Capability; 7] = [
        Capability::Chat,
        Capability::Tools,
        Capability::JsonSchema,
        Capability::Vision,
        Capability::Audio,
        Capability::Reasoning,
        Capability::Embeddings,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Capability::Chat => "chat",
            Capability::Tools => "tools",
            Capability::JsonSchema => "json_schema",
            Capability::Vision => "vision",
            Capability::Audio => "audio",
            Capability::Reasoning => "reasoning",
            Capability::Embeddings => "embeddings",
        }
    }

    /// Whether `model` has this capability.
    pub fn of(self, model: &CatalogModel) -> bool {
        match self {
            Capability::Chat => model.kind == ModelKind::Chat,
            Capability::Tools => model.tools,
            Capability::JsonSchema => model.json_schema,
            Capability::Vision => model.vision(),
            Capability::Audio => model.input.contains(&Modality::Audio),
            Capability::Reasoning => model.reasoning,
            Capability::Embeddings => model.kind == ModelKind::Embedding,
        }
    }
}

impl fmt::Display for Capability {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown capability {0:?}; expected one of chat, tools, json_schema, vision, audio, reasoning, embeddings"
)]
pub struct ParseCapabilityError(String);

impl FromStr for Capability {
    type Err = ParseCapabilityError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let wanted = text.trim().to_ascii_lowercase().replace('-', "_");
        let alias = match wanted.as_str() {
            "json" | "structured_output" => "json_schema",
            "images" | "image" => "vision",
            "embedding" => "embeddings",
            "tool_calls" | "function_calling" => "tools",
            other => other,
        };
        Capability::ALL
            .into_iter()
            .find(|capability| capability.as_str() == alias)
            .ok_or_else(|| ParseCapabilityError(text.to_owned()))
    }
}

/// Which rows to show; every condition that is set must hold.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Filter {
    /// The platform's adapter type (`openai`, `bedrock`, …).
    pub provider: Option<String>,
    /// The vendor's home, or one of the hosting regions, lies within it.
    pub jurisdiction: Option<Jurisdiction>,
    pub capabilities: Vec<Capability>,
}

/// A filter value that is not valid, with the parameter it was given for.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct FilterError {
    /// `provider`, `jurisdiction` or `capability`.
    pub param: &'static str,
    pub message: String,
}

impl Filter {
    /// A filter from text, as the command line and the HTTP API take it: a provider
    /// the catalog knows, a jurisdiction code, capabilities by name.
    pub fn parse<'a>(
        catalog: &Catalog,
        provider: Option<&str>,
        jurisdiction: Option<&str>,
        capabilities: impl IntoIterator<Item = &'a str>,
    ) -> Result<Filter, FilterError> {
        let provider = match provider.map(str::trim).filter(|p| !p.is_empty()) {
            None => None,
            Some(wanted) => {
                let known = catalog.providers();
                if !known.iter().any(|known| known.eq_ignore_ascii_case(wanted)) {
                    return Err(FilterError {
                        param: "provider",
                        message: format!(
                            "unknown provider `{wanted}`; the catalog has {}",
                            known.join(", ")
                        ),
                    });
                }
                Some(wanted.to_ascii_lowercase())
            }
        };
        let jurisdiction = match jurisdiction.map(str::trim).filter(|j| !j.is_empty()) {
            None => None,
            Some(code) => Some(Jurisdiction::parse(code).ok_or_else(|| FilterError {
                param: "jurisdiction",
                message: format!(
                    "`{code}` is not a jurisdiction; expected a two-letter country code \
                     (US, FR, DE…) or EU"
                ),
            })?),
        };
        let capabilities = capabilities
            .into_iter()
            .flat_map(|list| list.split(','))
            .map(str::trim)
            .filter(|name| !name.is_empty())
            .map(|name| {
                name.parse()
                    .map_err(|error: ParseCapabilityError| FilterError {
                        param: "capability",
                        message: error.to_string(),
                    })
            })
            .collect::<Result<_, _>>()?;
        Ok(Filter {
            provider,
            jurisdiction,
            capabilities,
        })
    }

    pub fn matches(&self, model: &CatalogModel) -> bool {
        let provider = self
            .provider
            .as_ref()
            .is_none_or(|provider| provider.eq_ignore_ascii_case(&model.provider));
        let place = self
            .jurisdiction
            .as_ref()
            .is_none_or(|place| serves_within(model, place));
        let capable = self.capabilities.iter().all(|c| c.of(model));
        provider && place && capable
    }
}

/// Whether the model's vendor is based in `place`, or the platform hosts it in a region
/// there.
pub fn serves_within(model: &CatalogModel, place: &Jurisdiction) -> bool {
    place.covers(&model.jurisdiction) || !regions_within(model, place).is_empty()
}

/// The model's hosting regions that lie in `place`.
pub fn regions_within<'a>(model: &'a CatalogModel, place: &Jurisdiction) -> Vec<&'a str> {
    model
        .regions
        .iter()
        .filter(|region| region_jurisdiction(region).is_some_and(|country| place.covers(&country)))
        .map(String::as_str)
        .collect()
}
