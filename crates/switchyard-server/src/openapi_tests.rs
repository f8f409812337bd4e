use std::collections::BTreeSet;

use axum::body::Body;
use axum::http::{Method, Request};
use pretty_assertions::assert_eq;
use serde_json::Value;
use switchyard_router::Catalog;
use tower::ServiceExt;

use super::*;
use crate::state::Settings;

fn state() -> AppState {
    AppState::new(Catalog::default(), Settings::default())
}

fn document() -> Value {
    finish_document(api_router(&state()).into_openapi())
}

fn operations(document: &Value) -> BTreeSet<(String, String)> {
    document["paths"]
        .as_object()
        .expect("paths")
        .iter()
        .flat_map(|(path, item)| {
            item.as_object()
                .expect("path item")
                .keys()
                .filter(|key| ["get", "post", "put", "delete", "patch"].contains(&key.as_str()))
                .map(move |method| (method.clone(), path.clone()))
        })
        .collect()
}

fn refs<'a>(value: &'a Value, found: &mut Vec<&'a str>) {
    match value {
        Value::Object(map) => {
            if let Some(Value::String(target)) = map.get("$ref") {
                found.push(target);
            }
            map.values().for_each(|value| refs(value, found));
        }
        Value::Array(items) => items.iter().for_each(|value| refs(value, found)),
        _ => {}
    }
}

#[test]
fn is_openapi_3_1_and_every_reference_resolves() {
    let document = document();
    assert!(
        document["openapi"]
            .as_str()
            .expect("version")
            .starts_with("3.1"),
        "{}",
        document["openapi"]
    );
    let mut found = Vec::new();
    refs(&document, &mut found);
    assert!(!found.is_empty());
    for target in found {
        let name = target
            .strip_prefix("#/components/schemas/")
            .unwrap_or_else(|| panic!("unexpected reference `{target}`"));
        assert!(
            document["components"]["schemas"].get(name).is_some(),
            "`{target}` does not resolve"
        );
    }
}

#[test]
fn documents_exactly_the_routes_the_app_serves() {
    let documented = operations(&document());
    let expected: BTreeSet<(String, String)> = [
        ("post", "/v1/chat/completions"),
        ("post", "/v1/completions"),
        ("post", "/v1/route/explain"),
        ("get", "/v1/route/health"),
        ("post", "/v1/responses"),
        ("get", "/v1/responses/{id}"),
        ("delete", "/v1/responses/{id}"),
        ("get", "/v1/responses/{id}/input_items"),
        ("post", "/v1/embeddings"),
        ("post", "/v1/messages"),
        ("post", "/v1/messages/count_tokens"),
        ("post", "/openai/deployments/{deployment}/chat/completions"),
        ("post", "/openai/deployments/{deployment}/completions"),
        ("post", "/openai/deployments/{deployment}/embeddings"),
        ("post", "/openai/v1/chat/completions"),
        ("post", "/openai/v1/completions"),
        ("post", "/openai/v1/responses"),
        ("get", "/openai/v1/responses/{id}"),
        ("delete", "/openai/v1/responses/{id}"),
        ("get", "/openai/v1/responses/{id}/input_items"),
        ("post", "/openai/v1/embeddings"),
        ("get", "/openai/v1/models"),
        ("get", "/v1/models"),
        ("get", "/v1/models/{id}"),
        ("get", "/v1/catalog"),
        ("get", "/healthz"),
        ("get", "/readyz"),
        ("get", "/metrics"),
        ("get", "/openapi.json"),
        ("post", "/admin/keys"),
        ("get", "/admin/keys"),
        ("get", "/admin/keys/{id}"),
        ("patch", "/admin/keys/{id}"),
        ("post", "/admin/keys/{id}/revoke"),
        ("post", "/admin/keys/{id}/rotate"),
        ("get", "/admin/orgs"),
        ("put", "/admin/orgs/{org}"),
        ("put", "/admin/orgs/{org}/teams/{team}"),
        ("get", "/admin/audit"),
        ("get", "/admin/usage"),
    ]
    .into_iter()
    .map(|(method, path)| (method.to_owned(), path.to_owned()))
    .collect();
    assert_eq!(documented, expected);
}

/// The paths the app routes, read from the router itself. axum has no API that lists
/// routes, but a router's `Debug` output names every path it matches; only the main path
/// router counts, as the fallback router holds axum's own catch-all paths. A route added
/// with a plain `.route(..)` (so without documentation) shows up here.
fn routed_paths(app: &axum::Router) -> BTreeSet<String> {
    let debug = format!("{app:?}");
    let (main, _fallback) = debug
        .split_once("fallback_router")
        .expect("axum's `Router` debug output names its fallback router");
    let paths: BTreeSet<String> = main
        .split('"')
        .filter(|segment| segment.starts_with('/'))
        .map(|path| path.replace("{*", "{"))
        .collect();
    assert!(
        paths.contains("/healthz"),
        "axum's `Router` debug output changed; update `routed_paths`: {paths:?}"
    );
    paths
}

/// A concrete URI for a documented path; model ids may contain `/`.
fn sample_uri(path: &str) -> String {
    if path.contains("/models/") {
        path.replace("{id}", "org/some-model")
    } else {
        path.replace("{id}", "some-id")
    }
}

/// Whether the app routes `method` on `path`: anything but the fallbacks' answers.
async fn is_routed(method: &Method, path: &str) -> bool {
    let response = crate::app(state())
        .oneshot(
            Request::builder()
                .method(method.clone())
                .uri(sample_uri(path))
                .body(Body::from("{}"))
                .expect("request"),
        )
        .await
        .expect("infallible");
    let body = axum::body::to_bytes(response.into_body(), 1 << 22)
        .await
        .expect("body");
    let code = serde_json::from_slice::<Value>(&body)
        .ok()
        .and_then(|body| body["error"]["code"].as_str().map(str::to_owned));
    !matches!(code.as_deref(), Some("unknown_url" | "method_not_allowed"))
}

#[tokio::test]
async fn the_app_routes_exactly_the_documented_operations() {
    let documented = operations(&document());
    let documented_paths: BTreeSet<String> =
        documented.iter().map(|(_, path)| path.clone()).collect();
    assert_eq!(
        routed_paths(&crate::app(state())),
        documented_paths,
        "every routed path is documented and every documented path is routed"
    );
    let mut routed = BTreeSet::new();
    for path in &documented_paths {
        for method in [
            Method::GET,
            Method::POST,
            Method::PUT,
            Method::PATCH,
            Method::DELETE,
        ] {
            if is_routed(&method, path).await {
                routed.insert((method.as_str().to_lowercase(), path.clone()));
            }
        }
    }
    assert_eq!(routed, documented);
}

#[test]
fn model_routes_document_auth_and_error_bodies() {
    let document = document();
    for (method, path) in operations(&document) {
        let operation = &document["paths"][&path][&method];
        let security = operation["security"].as_array();
        if path.starts_with("/admin/") {
            // Master keys only, and always: the admin API is never open.
            assert_eq!(
                security.map(Vec::as_slice),
                Some([serde_json::json!({"bearer": []})].as_slice()),
                "{method} {path}"
            );
            continue;
        }
        if !path.starts_with("/v1/") && !path.starts_with("/openai/") {
            assert!(security.is_none(), "{method} {path} is open");
            continue;
        }
        // `{}` first: a key is needed only when master keys are configured.
        let schemes: Vec<String> = security
            .unwrap_or_else(|| panic!("{method} {path} has no security"))
            .iter()
            .map(|requirement| {
                requirement
                    .as_object()
                    .expect("requirement")
                    .keys()
                    .cloned()
                    .collect::<Vec<_>>()
                    .join("+")
            })
            .collect();
        assert_eq!(
            schemes,
            ["", "bearer", "api_key", "x_api_key"],
            "{method} {path}"
        );
        let responses = operation["responses"].as_object().expect("responses");
        for status in ["401", "500"] {
            assert!(
                responses.contains_key(status),
                "{method} {path}: no {status}"
            );
        }
        // Anthropic's routes answer in Anthropic's error shape, every other in OpenAI's.
        let error_schema = if path.starts_with("/v1/messages") {
            "#/components/schemas/AnthropicError"
        } else {
            "#/components/schemas/ErrorBody"
        };
        for (status, response) in responses.iter().filter(|(status, _)| *status != "200") {
            assert_eq!(
                response["content"]["application/json"]["schema"]["$ref"], error_schema,
                "{method} {path} {status}"
            );
            assert!(response["headers"]["x-request-id"].is_object());
        }
    }
    let schemes = &document["components"]["securitySchemes"];
    assert_eq!(schemes["bearer"]["scheme"], "bearer");
    assert_eq!(schemes["api_key"]["name"], "api-key");
    assert_eq!(schemes["x_api_key"]["name"], "x-api-key");
}

#[test]
fn request_schemas_come_from_the_wire_types() {
    let document = document();
    let schemas = &document["components"]["schemas"];
    let request = &schemas["ChatCompletionRequest"];
    let required: BTreeSet<&str> = request["required"]
        .as_array()
        .expect("required fields")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert_eq!(required, BTreeSet::from(["model", "messages"]));
    assert!(request["properties"]["stream_options"].is_object());
    // Vendor fields pass through, so the schema admits properties it does not name.
    assert!(request["additionalProperties"].is_object() || request["additionalProperties"] == true);
    let body = &document["paths"]["/v1/chat/completions"]["post"]["requestBody"];
    assert_eq!(
        body["content"]["application/json"]["schema"]["$ref"],
        "#/components/schemas/ChatCompletionRequest"
    );
    for status in ["400", "404", "502", "504"] {
        assert_eq!(
            document["paths"]["/v1/chat/completions"]["post"]["responses"][status]["content"]["application/json"]
                ["schema"]["$ref"],
            "#/components/schemas/ErrorBody",
            "status {status}"
        );
    }
}

#[tokio::test]
async fn the_server_serves_the_document() {
    let response = crate::app(state())
        .oneshot(
            Request::get("/openapi.json")
                .body(Body::empty())
                .expect("request"),
        )
        .await
        .expect("infallible");
    let body = axum::body::to_bytes(response.into_body(), 1 << 22)
        .await
        .expect("body");
    let served: Value = serde_json::from_slice(&body).expect("JSON");
    assert_eq!(served, document());
}

#[test]
fn model_calls_document_what_served_them_and_why() {
    let document = document();
    let ok_headers =
        |path: &str| document["paths"][path]["post"]["responses"]["200"]["headers"].clone();
    let routed = [
        "/v1/chat/completions",
        "/v1/completions",
        "/v1/responses",
        "/v1/messages",
        "/openai/deployments/{deployment}/chat/completions",
        "/openai/v1/responses",
    ];
    for path in routed {
        let headers = ok_headers(path);
        for name in [
            "x-request-id",
            "x-switchyard-model",
            "x-switchyard-deployment",
            "x-switchyard-provider",
            "x-switchyard-attempts",
            "x-switchyard-route-reason",
        ] {
            assert!(headers[name].is_object(), "{path}: no {name}");
        }
    }
    let embeddings = ok_headers("/v1/embeddings");
    assert!(embeddings["x-switchyard-deployment"].is_object());
    assert!(embeddings.get("x-switchyard-route-reason").is_none());
    let count = ok_headers("/v1/messages/count_tokens");
    assert!(count["x-switchyard-token-count"].is_object());
    assert!(count.get("x-switchyard-attempts").is_none());
}
