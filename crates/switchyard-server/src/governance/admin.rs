//! The admin API for keys, organisations, teams and the audit log. Every change is
//! audited with the master key's fingerprint; secrets appear once, in the answer that
//! creates or rotates a key.

use std::time::Duration;

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};
use switchyard_governance::{GroupSettings, Key, KeyFilter, KeySettings, Level, NewKey};
use switchyard_router::Policy;

use crate::auth::Caller;
use crate::body::JsonBody;
use crate::context::RequestContext;
use crate::error::{ApiError, Code};
use crate::state::AppState;

/// The admin's name in the audit log.
fn actor(cx: &RequestContext) -> String {
    match &cx.caller {
        Caller::Operator {
            fingerprint: Some(fingerprint),
        } => fingerprint.to_string(),
        Caller::Operator { fingerprint: None } => "anonymous".to_owned(),
        Caller::Key(principal) => principal.key.id.clone(),
    }
}

/// The body as `T`, or an error naming the field that does not fit.
fn parse<T: serde::de::DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    Ok(switchyard_protocols::decode::from_json(body)?)
}

/// A query string that does not read, in the API's error shape.
pub fn query_error(rejection: axum::extract::rejection::QueryRejection) -> ApiError {
    ApiError::new(Code::InvalidValue, rejection.body_text())
}

/// A key's policy must be one the router reads, checked when it is saved.
fn check_settings(settings: &KeySettings) -> Result<(), ApiError> {
    if let Some(policy) = &settings.policy {
        let policy: Policy = serde_json::from_value(policy.clone()).map_err(|error| {
            ApiError::new(Code::InvalidValue, format!("`policy`: {error}")).with_param("policy")
        })?;
        policy.check().map_err(|error| {
            ApiError::new(Code::InvalidValue, format!("`policy`: {error}")).with_param("policy")
        })?;
    }
    if settings.budgets.iter().any(|budget| budget.micro_usd == 0) {
        return Err(
            ApiError::new(Code::InvalidValue, "a budget must be more than zero")
                .with_param("budgets"),
        );
    }
    Ok(())
}

async fn existing_key(state: &AppState, id: &str) -> Result<Key, ApiError> {
    state
        .governance()
        .keys()
        .key(id)
        .await?
        .ok_or_else(|| ApiError::new(Code::NotFound, format!("there is no key `{id}`")))
}

/// A key as the admin API shows it, with what its budgets have used.
async fn key_view(state: &AppState, key: &Key) -> Value {
    let mut view = serde_json::to_value(key).unwrap_or(Value::Null);
    let level = Level {
        scope: key.scope(),
        limits: key.settings.limits,
        budgets: key.settings.budgets.clone(),
    };
    if let Ok(spend) = state.governance().limiter().spend(&level).await {
        view["spend"] = spend
            .iter()
            .map(|(budget, spent, reserved)| {
                json!({
                    "budget": budget.to_string(),
                    "spent_usd": *spent as f64 / 1e6,
                    "reserved_usd": *reserved as f64 / 1e6,
                })
            })
            .collect();
    }
    view
}

#[utoipa::path(
    post,
    path = "/admin/keys",
    operation_id = "createKey",
    tag = "admin",
    request_body(content = Object, description = "`org`, and optionally `team`, `name`, `models` (public names; none: all), `policy` (a routing policy), `limits` (`rpm`, `tpm`, `max_parallel`), `budgets` (like `\"50usd/month\"`), `expires_at` (Unix milliseconds), `metadata`"),
    responses(
        (status = 201, description = "The key, and its `secret`: shown this once", body = Object),
        crate::openapi::AdminErrors,
    ),
    security(("bearer" = []))
)]
pub async fn create_key(
    State(state): State<AppState>,
    cx: RequestContext,
    body: Result<JsonBody, ApiError>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let new: NewKey = parse(&body?.0)?;
    check_settings(&new.settings)?;
    let (key, secret) = state.governance().create_key(&actor(&cx), new).await?;
    let mut view = key_view(&state, &key).await;
    view["secret"] = Value::String(secret);
    Ok((StatusCode::CREATED, Json(view)))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyQuery {
    org: Option<String>,
    team: Option<String>,
    /// Revoked keys too.
    #[serde(default)]
    revoked: bool,
}

#[utoipa::path(
    get,
    path = "/admin/keys",
    operation_id = "listKeys",
    tag = "admin",
    params(
        ("org" = Option<String>, Query, description = "Only this organisation's keys"),
        ("team" = Option<String>, Query, description = "Only this team's keys"),
        ("revoked" = Option<bool>, Query, description = "Revoked keys too"),
    ),
    responses(
        (status = 200, description = "`data`: the keys, oldest first (never their secrets)", body = Object),
        crate::openapi::AdminErrors,
    ),
    security(("bearer" = []))
)]
pub async fn list_keys(
    State(state): State<AppState>,
    query: Result<Query<KeyQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    let Query(query) = query.map_err(query_error)?;
    let keys = state
        .governance()
        .keys()
        .keys(&KeyFilter {
            org: query.org,
            team: query.team,
            revoked: query.revoked,
        })
        .await?;
    Ok(Json(json!({ "data": keys })))
}

#[utoipa::path(
    get,
    path = "/admin/keys/{id}",
    operation_id = "getKey",
    tag = "admin",
    params(("id" = String, Path, description = "The key's id (`key_…`)")),
    responses(
        (status = 200, description = "The key, with `spend`: each budget's spent and reserved dollars", body = Object),
        crate::openapi::AdminErrors,
    ),
    security(("bearer" = []))
)]
pub async fn get_key(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let key = existing_key(&state, &id).await?;
    Ok(Json(key_view(&state, &key).await))
}

#[utoipa::path(
    patch,
    path = "/admin/keys/{id}",
    operation_id = "updateKey",
    tag = "admin",
    params(("id" = String, Path, description = "The key's id (`key_…`)")),
    request_body(content = Object, description = "The settings to change, as at creation (`name`, `models`, `policy`, `limits`, `budgets`, `expires_at`, `metadata`); the rest stay"),
    responses(
        (status = 200, description = "The key as changed", body = Object),
        crate::openapi::AdminErrors,
    ),
    security(("bearer" = []))
)]
pub async fn update_key(
    State(state): State<AppState>,
    cx: RequestContext,
    Path(id): Path<String>,
    body: Result<JsonBody, ApiError>,
) -> Result<Json<Value>, ApiError> {
    let changes: serde_json::Map<String, Value> = parse(&body?.0)?;
    let key = existing_key(&state, &id).await?;
    let mut settings = serde_json::to_value(&key.settings).unwrap_or_default();
    if let Some(settings) = settings.as_object_mut() {
        settings.extend(changes);
    }
    let settings: KeySettings = parse(settings.to_string().as_bytes())?;
    check_settings(&settings)?;
    let key = state
        .governance()
        .update_key(&actor(&cx), &id, &settings)
        .await?;
    Ok(Json(key_view(&state, &key).await))
}

#[utoipa::path(
    post,
    path = "/admin/keys/{id}/revoke",
    operation_id = "revokeKey",
    tag = "admin",
    params(("id" = String, Path, description = "The key's id (`key_…`)")),
    responses(
        (status = 200, description = "The key, revoked from now on", body = Object),
        crate::openapi::AdminErrors,
    ),
    security(("bearer" = []))
)]
pub async fn revoke_key(
    State(state): State<AppState>,
    cx: RequestContext,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let key = state.governance().revoke_key(&actor(&cx), &id).await?;
    Ok(Json(key_view(&state, &key).await))
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Rotation {
    /// How long the old secret keeps working, in seconds.
    #[serde(default)]
    grace_seconds: u64,
}

#[utoipa::path(
    post,
    path = "/admin/keys/{id}/rotate",
    operation_id = "rotateKey",
    tag = "admin",
    params(("id" = String, Path, description = "The key's id (`key_…`)")),
    request_body(content = Object, description = "Optional `grace_seconds`: how long the old secret keeps working (default 0)"),
    responses(
        (status = 201, description = "The new key (same settings, `rotated_from` the old one) and its `secret`, shown this once", body = Object),
        crate::openapi::AdminErrors,
    ),
    security(("bearer" = []))
)]
pub async fn rotate_key(
    State(state): State<AppState>,
    cx: RequestContext,
    Path(id): Path<String>,
    body: Result<JsonBody, ApiError>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let body = body?.0;
    let rotation: Rotation = if body.iter().all(u8::is_ascii_whitespace) {
        Rotation::default()
    } else {
        parse(&body)?
    };
    let (key, secret) = state
        .governance()
        .rotate_key(
            &actor(&cx),
            &id,
            Duration::from_secs(rotation.grace_seconds),
        )
        .await?;
    let mut view = key_view(&state, &key).await;
    view["secret"] = Value::String(secret);
    Ok((StatusCode::CREATED, Json(view)))
}

#[utoipa::path(
    get,
    path = "/admin/orgs",
    operation_id = "listGroups",
    tag = "admin",
    responses(
        (status = 200, description = "`data`: every organisation and team, with limits and budgets", body = Object),
        crate::openapi::AdminErrors,
    ),
    security(("bearer" = []))
)]
pub async fn list_groups(State(state): State<AppState>) -> Result<Json<Value>, ApiError> {
    let groups = state.governance().keys().groups().await?;
    Ok(Json(json!({ "data": groups })))
}

#[utoipa::path(
    put,
    path = "/admin/orgs/{org}",
    operation_id = "putOrg",
    tag = "admin",
    params(("org" = String, Path, description = "The organisation's name")),
    request_body(content = Object, description = "`limits` (`rpm`, `tpm`, `max_parallel`), `budgets` (like `\"1000usd/month\"`), `metadata`; what is left out is cleared"),
    responses(
        (status = 200, description = "The organisation", body = Object),
        crate::openapi::AdminErrors,
    ),
    security(("bearer" = []))
)]
pub async fn put_org(
    State(state): State<AppState>,
    cx: RequestContext,
    Path(org): Path<String>,
    body: Result<JsonBody, ApiError>,
) -> Result<Json<Value>, ApiError> {
    let settings: GroupSettings = parse(&body?.0)?;
    let group = state
        .governance()
        .put_group(&actor(&cx), &org, None, &settings)
        .await?;
    Ok(Json(serde_json::to_value(group).unwrap_or_default()))
}

#[utoipa::path(
    put,
    path = "/admin/orgs/{org}/teams/{team}",
    operation_id = "putTeam",
    tag = "admin",
    params(
        ("org" = String, Path, description = "The organisation's name"),
        ("team" = String, Path, description = "The team's name"),
    ),
    request_body(content = Object, description = "As for an organisation"),
    responses(
        (status = 200, description = "The team", body = Object),
        crate::openapi::AdminErrors,
    ),
    security(("bearer" = []))
)]
pub async fn put_team(
    State(state): State<AppState>,
    cx: RequestContext,
    Path((org, team)): Path<(String, String)>,
    body: Result<JsonBody, ApiError>,
) -> Result<Json<Value>, ApiError> {
    let settings: GroupSettings = parse(&body?.0)?;
    let group = state
        .governance()
        .put_group(&actor(&cx), &org, Some(&team), &settings)
        .await?;
    Ok(Json(serde_json::to_value(group).unwrap_or_default()))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuditQuery {
    /// Unix milliseconds.
    since: Option<i64>,
    limit: Option<u32>,
}

#[utoipa::path(
    get,
    path = "/admin/audit",
    operation_id = "listAudit",
    tag = "admin",
    params(
        ("since" = Option<i64>, Query, description = "Entries from this time on (Unix milliseconds)"),
        ("limit" = Option<u32>, Query, description = "At most this many (default 100, at most 10000)"),
    ),
    responses(
        (status = 200, description = "`data`: admin actions, oldest first: time, actor, action, target, the record before and after", body = Object),
        crate::openapi::AdminErrors,
    ),
    security(("bearer" = []))
)]
pub async fn list_audit(
    State(state): State<AppState>,
    query: Result<Query<AuditQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<Value>, ApiError> {
    let Query(query) = query.map_err(query_error)?;
    let limit = query.limit.unwrap_or(100).min(10_000);
    let entries = state
        .governance()
        .audit()
        .entries(query.since, limit)
        .await?;
    Ok(Json(json!({ "data": entries })))
}
