use super::*;

/// The adapter types a row may name.
const PROVIDERS: [&str; 11] = [
    "openai",
    "azure",
    "anthropic",
    "gemini",
    "bedrock",
    "mistral",
    "xai",
    "deepseek",
    "groq",
    "together",
    "fireworks",
];

#[test]
fn builtin_catalog_is_valid() {
    let catalog = Catalog::parse(BUILTIN).expect("the shipped catalog parses and checks");
    assert_eq!(catalog.version, 1);
    assert_eq!(
        catalog.checked.len(),
        10,
        "checked is a date: {}",
        catalog.checked
    );
    for model in &catalog.models {
        assert!(
            PROVIDERS.contains(&model.provider.as_str()),
            "{}: unknown provider {}",
            model.id,
            model.provider
        );
        for region in &model.regions {
            assert!(
                region_jurisdiction(region).is_some(),
                "{}/{}: region {region} has no known country",
                model.provider,
                model.id
            );
        }
    }
}

#[test]
fn builtin_catalog_covers_the_major_vendors() {
    let catalog = builtin();
    for vendor in [
        "OpenAI",
        "Anthropic",
        "Google",
        "Mistral AI",
        "Meta",
        "DeepSeek",
        "xAI",
        "Amazon",
        "Cohere",
    ] {
        assert!(
            catalog.models.iter().any(|model| model.vendor == vendor),
            "no {vendor} models in the catalog"
        );
    }
    for (vendor, platforms) in [("Meta", ["bedrock", "groq", "together"])] {
        for platform in platforms {
            assert!(
                catalog
                    .models
                    .iter()
                    .any(|m| m.vendor == vendor && m.provider == platform),
                "no {vendor} models on {platform}"
            );
        }
    }
}

const SAMPLE: &str = r#"
version = 1
checked = "2026-11-22"

[[model]]
id = "large"
provider = "mistral"
vendor = "Mistral AI"
name = "Large"
kind = "chat"
jurisdiction = "FR"
context = 128000
max_output = 8192
input = ["text", "image"]
output = ["text"]
tools = true
price = { input = 2.0, output = 6.0 }
source = "https://example.com/mistral"

[[model]]
id = "llama"
provider = "bedrock"
vendor = "Meta"
name = "Llama"
kind = "chat"
jurisdiction = "US"
regions = ["us-east-1", "eu-central-1", "eu-west-2"]
context = 128000
max_output = 2048
input = ["text"]
output = ["text"]
price = { input = 0.72, output = 0.72 }
source = "https://example.com/llama"

[[model]]
id = "embed"
provider = "openai"
vendor = "OpenAI"
name = "Embed"
kind = "embedding"
jurisdiction = "US"
context = 8191
input = ["text"]
output = ["embedding"]
dimensions = 1536
price = { input = 0.02 }
source = "https://example.com/embed"
"#;

fn ids<'a>(catalog: &'a Catalog, filter: &'a Filter) -> Vec<&'a str> {
    catalog.filter(filter).map(|m| m.id.as_str()).collect()
}

#[test]
fn jurisdiction_matches_the_vendor_home_or_a_hosting_region() {
    let catalog = Catalog::parse(SAMPLE).expect("sample parses");
    let eu = Filter {
        jurisdiction: Jurisdiction::parse("eu"),
        ..Filter::default()
    };
    assert_eq!(ids(&catalog, &eu), ["large", "llama"]);
    let llama = catalog.find("bedrock", "llama").expect("present");
    // London is in Europe but not in the EU.
    assert_eq!(
        regions_within(llama, &Jurisdiction::parse("EU").expect("EU")),
        ["eu-central-1"]
    );
    let gb = Filter {
        jurisdiction: Jurisdiction::parse("GB"),
        ..Filter::default()
    };
    assert_eq!(ids(&catalog, &gb), ["llama"]);
    let us = Filter {
        jurisdiction: Jurisdiction::parse("US"),
        ..Filter::default()
    };
    assert_eq!(ids(&catalog, &us), ["llama", "embed"]);
}

#[test]
fn capabilities_and_provider_narrow_the_rows() {
    let catalog = Catalog::parse(SAMPLE).expect("sample parses");
    let tools = Filter {
        capabilities: vec!["tools".parse().expect("a capability")],
        ..Filter::default()
    };
    assert_eq!(ids(&catalog, &tools), ["large"]);
    let vision_chat = Filter {
        capabilities: vec![Capability::Vision, Capability::Chat],
        ..Filter::default()
    };
    assert_eq!(ids(&catalog, &vision_chat), ["large"]);
    let embeddings = Filter {
        capabilities: vec!["embedding".parse().expect("a capability")],
        ..Filter::default()
    };
    assert_eq!(ids(&catalog, &embeddings), ["embed"]);
    let bedrock = Filter {
        provider: Some("Bedrock".into()),
        ..Filter::default()
    };
    assert_eq!(ids(&catalog, &bedrock), ["llama"]);
    assert!("teleportation".parse::<Capability>().is_err());
}

#[test]
fn regions_map_to_their_countries() {
    for (region, country) in [
        ("us-east-1", "US"),
        ("us-gov-west-1", "US"),
        ("eastus2", "US"),
        ("westcentralus", "US"),
        ("us-central1", "US"),
        ("eu-west-3", "FR"),
        ("swedencentral", "SE"),
        ("europe-west4", "NL"),
        ("uksouth", "GB"),
        ("ap-northeast-1", "JP"),
    ] {
        assert_eq!(
            region_jurisdiction(region).map(|j| j.to_string()),
            Some(country.to_owned()),
            "{region}"
        );
    }
    assert_eq!(region_jurisdiction("atlantis-1"), None);
    assert_eq!(
        region_jurisdiction("australiaeast")
            .expect("known")
            .as_str(),
        "AU"
    );
}

#[test]
fn broken_rows_are_refused_with_their_name() {
    let broken = [
        (
            SAMPLE.replace("https://example.com/llama", "example.com"),
            "bedrock/llama",
        ),
        (
            SAMPLE.replace(
                "price = { input = 0.72, output = 0.72 }",
                "price = { input = 0.72 }",
            ),
            "output price",
        ),
        (SAMPLE.replace("dimensions = 1536", ""), "dimensions"),
        (
            SAMPLE.replace("jurisdiction = \"FR\"", "jurisdiction = \"France\""),
            "not a jurisdiction",
        ),
        (
            SAMPLE.replace("tools = true", "tools = true\ncolour = \"red\""),
            "colour",
        ),
        (
            SAMPLE.replace(
                "tools = true",
                "tools = true\ninference_profile = \"global\"",
            ),
            "inference_profile belongs to Bedrock",
        ),
        (
            SAMPLE.replace(
                "id = \"embed\"\nprovider = \"openai\"",
                "id = \"large\"\nprovider = \"mistral\"",
            ),
            "appears twice",
        ),
    ];
    for (text, expected) in broken {
        let error = Catalog::parse(&text).expect_err(expected).to_string();
        assert!(error.contains(expected), "{error}");
    }
}

#[test]
fn rows_serialize_for_the_api() {
    let catalog = Catalog::parse(SAMPLE).expect("sample parses");
    let embed =
        serde_json::to_value(catalog.find("openai", "embed").expect("present")).expect("json");
    assert_eq!(embed["price"], serde_json::json!({"input": 0.02}));
    assert_eq!(embed["kind"], "embedding");
    assert!(embed.get("regions").is_none());
}

#[test]
fn filters_parse_from_text_and_name_what_is_wrong() {
    let catalog = Catalog::parse(SAMPLE).expect("sample parses");
    let filter = Filter::parse(
        &catalog,
        Some("Bedrock"),
        Some("eu"),
        ["tools, vision", "chat"],
    )
    .expect("valid");
    assert_eq!(filter.provider.as_deref(), Some("bedrock"));
    assert_eq!(filter.jurisdiction, Jurisdiction::parse("EU"));
    assert_eq!(
        filter.capabilities,
        [Capability::Tools, Capability::Vision, Capability::Chat]
    );
    let cases = [
        (
            Some("nope"),
            None,
            vec![],
            "provider",
            "bedrock, mistral, openai",
        ),
        (None, Some("Europe"), vec![], "jurisdiction", "two-letter"),
        (None, None, vec!["telepathy"], "capability", "telepathy"),
    ];
    for (provider, place, capabilities, param, text) in cases {
        let error = Filter::parse(&catalog, provider, place, capabilities).expect_err(param);
        assert_eq!(error.param, param);
        assert!(error.message.contains(text), "{}", error.message);
    }
}

#[test]
fn inference_profiles_prefix_the_id_by_geography() {
    let catalog = Catalog::parse(&SAMPLE.replace(
        "price = { input = 0.72, output = 0.72 }",
        "price = { input = 0.72, output = 0.72 }\ninference_profile = \"geography\"",
    ))
    .expect("valid");
    let llama = catalog.find("bedrock", "llama").expect("present");
    for (region, id) in [
        (Some("us-east-1"), "us.llama"),
        (Some("eu-central-1"), "eu.llama"),
        (Some("ap-northeast-1"), "apac.llama"),
        (Some("us-gov-west-1"), "us-gov.llama"),
        (Some("me-central-1"), "llama"),
        (None, "llama"),
    ] {
        assert_eq!(llama.invocation_id(region), id, "{region:?}");
    }
    let global = CatalogModel {
        inference_profile: Some(InferenceProfile::Global),
        ..llama.clone()
    };
    assert_eq!(global.invocation_id(Some("eu-west-1")), "global.llama");
    let mistral = catalog.find("mistral", "large").expect("present");
    assert_eq!(mistral.invocation_id(Some("us-east-1")), "large");
}
