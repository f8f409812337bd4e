//! Who is calling: a master key, a virtual key, or nobody on an open server.
//!
//! A key may come in any header an SDK uses: `Authorization: Bearer` (OpenAI),
//! `api-key` (Azure OpenAI) or `x-api-key` (Anthropic). Master keys are compared in
//! constant time; virtual keys (`sy-…`) are looked up by their SHA-256. With no master
//! keys configured, the model API is open, and a virtual key presented to it still
//! applies (its limits, budgets and policy).
//!
//! The admin API (`/admin/*`) takes master keys only, and is closed on a server that
//! has none.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::HeaderMap;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use subtle::ConstantTimeEq;
use switchyard_governance::{Principal, secret};

use crate::error::{ApiError, Code};
use crate::state::AppState;

/// The caller of a request, put in its extensions by [`authenticate`] and read through
/// [`crate::context::RequestContext`].
#[derive(Debug, Clone)]
pub enum Caller {
    /// A master key (named by its fingerprint), or anyone on an open server (`None`):
    /// held to no key's limits.
    Operator { fingerprint: Option<Arc<str>> },
    /// A virtual key, with its team and organisation.
    Key(Arc<Principal>),
}

impl Default for Caller {
    fn default() -> Self {
        Caller::Operator { fingerprint: None }
    }
}

impl Caller {
    /// Whose what this caller stores is: its key's organisation, or the operator.
    pub fn owner(&self) -> switchyard_store::Owner {
        match self {
            Caller::Key(principal) => {
                switchyard_store::Owner::org(&principal.key.org, &principal.key.id)
            }
            Caller::Operator { .. } => switchyard_store::Owner::operator(),
        }
    }

    pub fn principal(&self) -> Option<&Principal> {
        match self {
            Caller::Key(principal) => Some(principal),
            Caller::Operator { .. } => None,
        }
    }
}

/// The key the caller presented, from whichever header carries one.
pub fn presented_key(headers: &HeaderMap) -> Option<&str> {
    if let Some(bearer) = headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| {
            value
                .strip_prefix("Bearer ")
                .or_else(|| value.strip_prefix("bearer "))
        })
    {
        return Some(bearer.trim());
    }
    ["api-key", "x-api-key"].into_iter().find_map(|name| {
        headers
            .get(name)
            .and_then(|value| value.to_str().ok())
            .map(str::trim)
    })
}

/// The master key `presented` matches, compared against every key without stopping
/// early, so timing says nothing about which key (or how much of one) matched. The
/// SHA-256 digests are compared, not the keys: they have one length, so neither does
/// the key's length show.
/// The master keys' digests are computed once, with the state
/// ([`AppState::master_key_digests`]); only the presented key is hashed per request.
fn matching_master<'k>(digests: &'k [String], presented: &str) -> Option<&'k str> {
    let presented = secret::hash(presented);
    digests.iter().fold(None, |found, digest| {
        let equal = bool::from(digest.as_bytes().ct_eq(presented.as_bytes()));
        if equal { Some(digest.as_str()) } else { found }
    })
}

/// Whether `headers` carry one of the server's master keys.
pub fn has_master_key(state: &AppState, headers: &HeaderMap) -> bool {
    presented_key(headers)
        .is_some_and(|presented| matching_master(state.master_key_digests(), presented).is_some())
}

/// `master:` and 8 hex digits of the key's SHA-256: names an admin in the audit log
/// without revealing anything usable.
fn fingerprint(digest: &str) -> Arc<str> {
    Arc::from(format!("master:{}", &digest[..8]))
}

const NO_KEY: &str =
    "no API key provided; send it as `Authorization: Bearer KEY`, `api-key` or `x-api-key`";

/// Resolves the caller of a model API request, or refuses it.
pub async fn authenticate(
    State(state): State<AppState>,
    mut request: Request,
    next: Next,
) -> Response {
    if state.settings().master_keys.is_empty()
        && let Err(refused) = crate::guard::check_open_request(state.settings(), &request)
    {
        return refused.into_response();
    }
    match caller(&state, request.headers()).await {
        Ok(caller) => {
            request.extensions_mut().insert(caller);
            next.run(request).await
        }
        Err(error) => error.into_response(),
    }
}

async fn caller(state: &AppState, headers: &HeaderMap) -> Result<Caller, ApiError> {
    let masters = &state.settings().master_keys;
    let Some(presented) = presented_key(headers) else {
        return if masters.is_empty() {
            Ok(Caller::default())
        } else {
            Err(ApiError::new(Code::InvalidApiKey, NO_KEY))
        };
    };
    if let Some(master) = matching_master(state.master_key_digests(), presented) {
        return Ok(Caller::Operator {
            fingerprint: Some(fingerprint(master)),
        });
    }
    if secret::looks_like_secret(presented) {
        let principal = state.governance().authenticate(presented).await?;
        let Some(principal) = principal else {
            return Err(ApiError::new(
                Code::InvalidApiKey,
                "the API key provided is not valid",
            ));
        };
        let now = switchyard_governance::period::now_millis();
        if let Some(reason) = principal.key.unusable_at(now) {
            return Err(ApiError::new(
                Code::InvalidApiKey,
                format!("the API key `{}` has been {reason}", principal.key.id),
            ));
        }
        return Ok(Caller::Key(Arc::new(principal)));
    }
    if masters.is_empty() {
        // An open server: SDKs insist on sending some key; any other string is fine.
        return Ok(Caller::default());
    }
    Err(ApiError::new(
        Code::InvalidApiKey,
        "the API key provided is not valid",
    ))
}

/// Lets only master keys through to the admin API, and puts the admin's fingerprint in
/// the request for the audit log.
pub async fn require_admin(
    State(state): State<AppState>,
    mut request: Request,
    next: Next,
) -> Response {
    let masters = &state.settings().master_keys;
    if masters.is_empty() {
        return ApiError::new(
            Code::PermissionDenied,
            "the admin API needs a master key: set `server.master_keys` in the config",
        )
        .into_response();
    }
    let Some(presented) = presented_key(request.headers()) else {
        return ApiError::new(Code::InvalidApiKey, NO_KEY).into_response();
    };
    let Some(master) = matching_master(state.master_key_digests(), presented) else {
        let refusal = if secret::looks_like_secret(presented) {
            ApiError::new(
                Code::PermissionDenied,
                "the admin API takes a master key, not a virtual key",
            )
        } else {
            ApiError::new(Code::InvalidApiKey, "the API key provided is not valid")
        };
        return refusal.into_response();
    };
    request.extensions_mut().insert(Caller::Operator {
        fingerprint: Some(fingerprint(master)),
    });
    next.run(request).await
}
