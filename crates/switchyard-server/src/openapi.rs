//! `GET /openapi.json`.

use axum::Json;

pub async fn serve() -> Json<serde_json::Value> {
    Json(serde_json::json!({}))
}
