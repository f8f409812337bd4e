//! `GET /v1/catalog`: the built-in catalog of hosted models, filtered over HTTP.

use serde_json::Value;

use crate::harness::TestServer;

fn ids(list: &Value) -> Vec<(&str, &str)> {
    list["data"]
        .as_array()
        .expect("a data array")
        .iter()
        .map(|row| {
            (
                row["provider"].as_str().expect("provider"),
                row["id"].as_str().expect("id"),
            )
        })
        .collect()
}

#[tokio::test]
async fn serves_the_whole_catalog_with_its_date() {
    let server = TestServer::start().await;
    let list = server.get_json("/v1/catalog").await;
    assert_eq!(list["object"], "list");
    assert_eq!(list["checked"], switchyard_catalog::builtin().checked);
    assert_eq!(ids(&list).len(), switchyard_catalog::builtin().models.len());
    let row = &list["data"][0];
    for field in [
        "id",
        "provider",
        "vendor",
        "context",
        "price",
        "source",
        "jurisdiction",
    ] {
        assert!(row.get(field).is_some(), "{field} in {row}");
    }
}

#[tokio::test]
async fn filters_by_jurisdiction_capability_and_provider() {
    let server = TestServer::start().await;
    let list = server
        .get_json("/v1/catalog?jurisdiction=eu&capability=tools,chat")
        .await;
    let rows = list["data"].as_array().expect("rows");
    assert!(!rows.is_empty(), "EU models with tools exist");
    for row in rows {
        assert_eq!(row["tools"], true, "{row}");
        assert_eq!(row["kind"], "chat", "{row}");
    }
    assert!(
        ids(&list)
            .iter()
            .any(|(provider, _)| *provider == "mistral"),
        "Mistral is based in the EU: {:?}",
        ids(&list)
    );
    let bedrock = server.get_json("/v1/catalog?provider=bedrock").await;
    assert!(
        ids(&bedrock)
            .iter()
            .all(|(provider, _)| *provider == "bedrock")
    );
    let embeddings = server.get_json("/v1/catalog?capability=embeddings").await;
    for row in embeddings["data"].as_array().expect("rows") {
        assert!(row["dimensions"].as_u64().is_some(), "{row}");
    }
}

#[tokio::test]
async fn a_bad_filter_is_a_400_naming_it() {
    let server = TestServer::start().await;
    for (query, param) in [
        ("capability=telepathy", "capability"),
        ("jurisdiction=Europe", "jurisdiction"),
        ("provider=nowhere", "provider"),
    ] {
        let response = server
            .get(&format!("/v1/catalog?{query}"))
            .send()
            .await
            .expect("answers");
        assert_eq!(response.status(), 400, "{query}");
        let body: Value = response.json().await.expect("JSON");
        assert_eq!(body["error"]["param"], param, "{body}");
        assert_eq!(body["error"]["type"], "invalid_request_error");
    }
}

#[tokio::test]
async fn needs_the_master_key_like_the_rest_of_the_api() {
    let server = TestServer::start_with_auth().await;
    let response = server.get("/v1/catalog").send().await.expect("answers");
    assert_eq!(response.status(), 401);
}
