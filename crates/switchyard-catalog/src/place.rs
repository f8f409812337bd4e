//! Where models come from and where they run: jurisdictions and cloud regions.
//!
//! A jurisdiction is an ISO 3166-1 alpha-2 country code, or `EU` for the European
//! Union's member states together. Cloud regions are mapped to the country their data
//! centres are in, so "keep my data in the EU" can be checked against a deployment's
//! region as well as against the vendor's home.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize};

/// A country (ISO 3166-1 alpha-2) or `EU`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(transparent)]
pub struct Jurisdiction(String);

/// The European Union's member states.
const EU_MEMBERS: [&str; 27] = [
    "AT", "BE", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU", "IE", "IT",
    "LT", "LU", "LV", "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK",
];

impl Jurisdiction {
    /// Parses `US`, `fr`, `EU`…: two ASCII letters, case-insensitive.
    pub fn parse(code: &str) -> Option<Jurisdiction> {
        let code = code.trim();
        (code.len() == 2 && code.bytes().all(|b| b.is_ascii_alphabetic()))
            .then(|| Jurisdiction(code.to_ascii_uppercase()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether `country` lies within this jurisdiction (`EU` holds its member states).
    pub fn covers(&self, country: &Jurisdiction) -> bool {
        self == country || (self.0 == "EU" && EU_MEMBERS.contains(&country.as_str()))
    }
}

impl fmt::Display for Jurisdiction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl<'de> Deserialize<'de> for Jurisdiction {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let code = String::deserialize(deserializer)?;
        Jurisdiction::parse(&code).ok_or_else(|| {
            serde::de::Error::custom(format!(
                "{code:?} is not a jurisdiction: expected a two-letter country code or EU"
            ))
        })
    }
}

/// The country a cloud region's data centres are in, for AWS, Azure and Google Cloud
/// region names; `None` for names it does not know.
pub fn region_jurisdiction(region: &str) -> Option<Jurisdiction> {
    let region = region.trim().to_ascii_lowercase();
    let country = exact_region(&region).or_else(|| region_by_prefix(&region))?;
    Jurisdiction::parse(country)
}

/// Regions whose country the name alone does not give away.
fn exact_region(region: &str) -> Option<&'static str> {
    Some(match region {
        // AWS Europe
        "eu-central-1" => "DE",
        "eu-central-2" => "CH",
        "eu-west-1" => "IE",
        "eu-west-2" => "GB",
        "eu-west-3" => "FR",
        "eu-north-1" => "SE",
        "eu-south-1" => "IT",
        "eu-south-2" => "ES",
        // AWS elsewhere
        "ap-northeast-1" => "JP",
        "ap-northeast-2" => "KR",
        "ap-northeast-3" => "JP",
        "ap-south-1" | "ap-south-2" => "IN",
        "ap-southeast-1" => "SG",
        "ap-southeast-2" | "ap-southeast-4" => "AU",
        "ap-southeast-3" => "ID",
        "ap-east-1" => "HK",
        "ca-central-1" | "ca-west-1" => "CA",
        "sa-east-1" => "BR",
        "me-central-1" => "AE",
        "il-central-1" => "IL",
        // Azure
        "westeurope" => "NL",
        "northeurope" => "IE",
        "swedencentral" | "swedensouth" => "SE",
        "francecentral" | "francesouth" => "FR",
        "germanywestcentral" | "germanynorth" => "DE",
        "italynorth" => "IT",
        "polandcentral" => "PL",
        "spaincentral" => "ES",
        "norwayeast" | "norwaywest" => "NO",
        "switzerlandnorth" | "switzerlandwest" => "CH",
        "uksouth" | "ukwest" => "GB",
        "japaneast" | "japanwest" => "JP",
        "australiaeast" | "australiasoutheast" => "AU",
        "canadaeast" | "canadacentral" => "CA",
        "koreacentral" => "KR",
        "southindia" | "centralindia" | "westindia" => "IN",
        "brazilsouth" => "BR",
        "southafricanorth" => "ZA",
        "uaenorth" => "AE",
        "southeastasia" => "SG",
        "eastasia" => "HK",
        // Google Cloud Europe
        "europe-west1" => "BE",
        "europe-west2" => "GB",
        "europe-west3" => "DE",
        "europe-west4" => "NL",
        "europe-west6" => "CH",
        "europe-west8" => "IT",
        "europe-west9" => "FR",
        "europe-west10" => "DE",
        "europe-west12" => "IT",
        "europe-north1" => "FI",
        "europe-central2" => "PL",
        "europe-southwest1" => "ES",
        "asia-northeast1" => "JP",
        "australia-southeast1" => "AU",
        _ => return None,
    })
}

/// The United States' regions, which follow a pattern: AWS `us-east-1` and
/// `us-gov-west-1`, Google Cloud `us-central1`, Azure `eastus2`, `westcentralus` and
/// `usgovvirginia`.
fn region_by_prefix(region: &str) -> Option<&'static str> {
    let azure_us = !region.contains('-')
        && region
            .trim_end_matches(|c: char| c.is_ascii_digit())
            .ends_with("us");
    (region.starts_with("us") || azure_us).then_some("US")
}
