//! One catalog row.

use serde::{Deserialize, Serialize};

use crate::place::Jurisdiction;

/// One model as one platform offers it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CatalogModel {
    /// The model id the platform's API takes.
    pub id: String,
    /// The adapter type that reaches it (`openai`, `anthropic`, `bedrock`, …).
    pub provider: String,
    /// Who made the model.
    pub vendor: String,
    pub name: String,
    pub kind: ModelKind,
    /// The model vendor's home jurisdiction: an ISO 3166-1 alpha-2 country code.
    #[schema(value_type = String, example = "US")]
    pub jurisdiction: Jurisdiction,
    /// Hosting regions the platform lets callers pin, by the cloud's region names.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub regions: Vec<String>,
    /// Context window, in tokens.
    pub context: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_output: Option<u64>,
    pub input: Vec<Modality>,
    pub output: Vec<Modality>,
    #[serde(default)]
    pub tools: bool,
    #[serde(default)]
    pub json_schema: bool,
    #[serde(default)]
    pub reasoning: bool,
    /// An embedding model's vector length (the largest, where several are offered).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dimensions: Option<u32>,
    pub price: Price,
    /// Bedrock serves the model on demand only through a cross-region inference
    /// profile; [`CatalogModel::invocation_id`] gives the id to call.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inference_profile: Option<InferenceProfile>,
    /// The page the row was checked against.
    pub source: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ModelKind {
    Chat,
    Embedding,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Modality {
    Text,
    Image,
    Audio,
    Video,
    Pdf,
    Embedding,
}

/// Which Bedrock inference profile a model is called through.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum InferenceProfile {
    /// The profile of the caller's geography (`us.`, `eu.`, `apac.`…), which keeps
    /// requests inside it.
    Geography,
    /// `global.`: any commercial region may serve the request.
    Global,
}

/// US dollars per million tokens.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Price {
    pub input: f64,
    /// Absent for embedding models, which produce no tokens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output: Option<f64>,
    /// Input read from the vendor's prompt cache.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cached_input: Option<f64>,
    /// Input written to the prompt cache, where that costs extra (Anthropic).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_write: Option<f64>,
    /// Reasoning tokens, only where they are billed apart from output.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reasoning: Option<f64>,
}

impl CatalogModel {
    /// Whether the model takes images.
    pub fn vision(&self) -> bool {
        self.input.contains(&Modality::Image)
    }

    /// The id to call the model by from `region`: its own id, or the inference
    /// profile's (`us.meta.llama4-scout-17b-instruct-v1:0`) where the platform serves
    /// it only through one. A region outside every known geography keeps the plain id,
    /// and the platform's answer will say why.
    pub fn invocation_id(&self, region: Option<&str>) -> String {
        let prefix = match self.inference_profile {
            None => None,
            Some(InferenceProfile::Global) => Some("global"),
            Some(InferenceProfile::Geography) => region.and_then(geography),
        };
        match prefix {
            Some(prefix) => format!("{prefix}.{}", self.id),
            None => self.id.clone(),
        }
    }

    /// The row's rules, beyond what its types say.
    pub(crate) fn check(&self) -> Result<(), String> {
        if self.id.trim().is_empty() || self.name.trim().is_empty() {
            return Err("id and name must not be empty".into());
        }
        if !self.source.starts_with("https://") {
            return Err(format!(
                "source must be an https URL, not {:?}",
                self.source
            ));
        }
        if self.context == 0 {
            return Err("context must be positive".into());
        }
        if self.inference_profile.is_some() && self.provider != "bedrock" {
            return Err("inference_profile belongs to Bedrock rows".into());
        }
        let prices = [
            Some(self.price.input),
            self.price.output,
            self.price.cached_input,
            self.price.cache_write,
            self.price.reasoning,
        ];
        if prices
            .into_iter()
            .flatten()
            .any(|p| !p.is_finite() || p < 0.0)
        {
            return Err("prices must be finite and not negative".into());
        }
        match self.kind {
            ModelKind::Chat => {
                if self.price.output.is_none() {
                    return Err("a chat model needs an output price".into());
                }
                if self.max_output.is_none() {
                    return Err("a chat model needs max_output".into());
                }
                if self.dimensions.is_some() {
                    return Err("dimensions belong to embedding models".into());
                }
            }
            ModelKind::Embedding => {
                if self.dimensions.is_none() {
                    return Err("an embedding model needs dimensions".into());
                }
                if self.output != [Modality::Embedding] {
                    return Err("an embedding model's output is [\"embedding\"]".into());
                }
            }
        }
        if self.input.is_empty() || self.output.is_empty() {
            return Err("input and output modalities must not be empty".into());
        }
        Ok(())
    }
}

/// The inference-profile geography (`us`, `us-gov`, `eu`, `apac`) of an AWS region, by
/// its name's prefix.
pub fn geography(region: &str) -> Option<&'static str> {
    const GEOGRAPHIES: [(&str, &str); 4] = [
        ("us-gov-", "us-gov"),
        ("us-", "us"),
        ("eu-", "eu"),
        ("ap-", "apac"),
    ];
    GEOGRAPHIES
        .iter()
        .find(|(prefix, _)| region.starts_with(prefix))
        .map(|(_, geography)| *geography)
}
