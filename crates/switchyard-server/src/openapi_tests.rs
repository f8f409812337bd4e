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
        ("post", "/v1/embeddings"),
        ("get", "/v1/models"),
        ("get", "/v1/models/{id}"),
        ("get", "/healthz"),
        ("get", "/readyz"),
        ("get", "/metrics"),
        ("get", "/openapi.json"),
    ]
    .into_iter()
    .map(|(method, path)| (method.to_owned(), path.to_owned()))
    .collect();
    assert_eq!(documented, expected);
}

#[tokio::test]
async fn every_documented_operation_is_routed() {
    for (method, path) in operations(&document()) {
        let uri = path.replace("{id}", "org/some-model");
        let method = Method::from_bytes(method.to_uppercase().as_bytes()).expect("method");
        let response = crate::app(state())
            .oneshot(
                Request::builder()
                    .method(method.clone())
                    .uri(&uri)
                    .body(Body::from("{}"))
                    .expect("request"),
            )
            .await
            .expect("infallible");
        let status = response.status();
        let body = axum::body::to_bytes(response.into_body(), 1 << 20)
            .await
            .expect("body");
        let code = serde_json::from_slice::<Value>(&body)
            .ok()
            .and_then(|body| body["error"]["code"].as_str().map(str::to_owned));
        assert!(
            !matches!(code.as_deref(), Some("unknown_url" | "method_not_allowed")),
            "{method} {uri} is documented but not routed ({status})"
        );
    }
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
