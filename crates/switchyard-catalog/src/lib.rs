//! The built-in catalog of hosted models.
//!
//! One row per model *as one platform offers it* (Llama 3.3 70B on Bedrock and on Groq
//! are two rows): context window, output limit, modalities, tool / JSON-schema /
//! reasoning support, prices per million tokens, the vendor's home jurisdiction and the
//! regions a platform lets you pin. The rows live in `data/models.toml`, dated, each
//! with the page it was checked against, and are compiled into the binary.
//!
//! The catalog answers `switchyard models --catalog` and `GET /v1/catalog`, and offers a
//! vendor's models when only its standard API-key variable is set.

mod filter;
mod model;
mod place;

use std::sync::LazyLock;

use serde::Deserialize;

pub use filter::{
    Capability, Filter, FilterError, ParseCapabilityError, regions_within, serves_within,
};
pub use model::{CatalogModel, InferenceProfile, Modality, ModelKind, Price, geography};
pub use place::{Jurisdiction, region_jurisdiction};

/// The catalog's rows as shipped.
const BUILTIN: &str = include_str!("../data/models.toml");

/// A set of catalog rows and the date they were checked.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Catalog {
    /// The data file's schema version.
    pub version: u32,
    /// The day every row was last compared with its source (ISO 8601).
    pub checked: String,
    #[serde(rename = "model")]
    pub models: Vec<CatalogModel>,
}

/// A data file that does not parse or breaks one of the catalog's rules.
#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    #[error("the catalog does not parse: {0}")]
    Parse(#[from] toml::de::Error),
    #[error("catalog row {provider}/{id}: {problem}")]
    Row {
        provider: String,
        id: String,
        problem: String,
    },
}

/// The catalog compiled into this binary.
pub fn builtin() -> &'static Catalog {
    static CATALOG: LazyLock<Catalog> = LazyLock::new(|| {
        // The file is part of the source tree and `builtin_catalog_is_valid` checks it,
        // so a failure here is a build defect, not an input error.
        Catalog::parse(BUILTIN).unwrap_or_else(|error| panic!("built-in catalog: {error}"))
    });
    &CATALOG
}

impl Catalog {
    /// Parses a catalog file and checks its rows.
    pub fn parse(text: &str) -> Result<Catalog, CatalogError> {
        let catalog: Catalog = toml::from_str(text)?;
        catalog.check()?;
        Ok(catalog)
    }

    /// The rows `filter` lets through, in file order.
    pub fn filter<'a>(&'a self, filter: &'a Filter) -> impl Iterator<Item = &'a CatalogModel> {
        self.models.iter().filter(|model| filter.matches(model))
    }

    /// The row for `id` on `provider`.
    pub fn find(&self, provider: &str, id: &str) -> Option<&CatalogModel> {
        self.models
            .iter()
            .find(|model| model.provider == provider && model.id == id)
    }

    /// The platforms the catalog has rows for, sorted.
    pub fn providers(&self) -> Vec<&str> {
        let mut providers: Vec<&str> = self.models.iter().map(|m| m.provider.as_str()).collect();
        providers.sort_unstable();
        providers.dedup();
        providers
    }

    fn check(&self) -> Result<(), CatalogError> {
        let mut seen = std::collections::HashSet::new();
        for model in &self.models {
            let fail = |problem: String| CatalogError::Row {
                provider: model.provider.clone(),
                id: model.id.clone(),
                problem,
            };
            if !seen.insert((model.provider.as_str(), model.id.as_str())) {
                return Err(fail("appears twice".into()));
            }
            model.check().map_err(fail)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
