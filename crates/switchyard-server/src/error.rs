//! [`ApiError`]: every failure a caller can see, with one stable code table.
//!
//! Errors are encoded per ingress protocol; this module encodes OpenAI's
//! `{"error":{"message","type","param","code"}}`. Building the response has no side
//! effects: the error is stored in the response extensions and logged once by the
//! request's accounting, never at construction.

use std::sync::Arc;
use std::time::Duration;

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::json;
use switchyard_protocols::DecodeError;
use switchyard_router::{RouteError, UnknownModel};
use switchyard_types::{ErrorKind, ProviderError};

macro_rules! error_codes {
    ($($variant:ident => ($status:ident, $kind:literal, $code:literal);)*) => {
        /// A stable error code: its HTTP status, OpenAI `type` and `code`.
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum Code { $($variant,)* }

        impl Code {
            pub fn status(self) -> StatusCode {
                match self { $(Code::$variant => StatusCode::$status,)* }
            }

            /// OpenAI's error `type`.
            pub fn kind(self) -> &'static str {
                match self { $(Code::$variant => $kind,)* }
            }

            /// OpenAI's error `code`, and our metrics label.
            pub fn as_str(self) -> &'static str {
                match self { $(Code::$variant => $code,)* }
            }
        }
    };
}

error_codes! {
    InvalidJson => (BAD_REQUEST, "invalid_request_error", "invalid_json");
    InvalidValue => (BAD_REQUEST, "invalid_request_error", "invalid_value");
    ContextLengthExceeded => (BAD_REQUEST, "invalid_request_error", "context_length_exceeded");
    ContentFilter => (BAD_REQUEST, "invalid_request_error", "content_filter");
    Unsupported => (BAD_REQUEST, "invalid_request_error", "unsupported_parameter");
    NoEligibleDeployment => (BAD_REQUEST, "invalid_request_error", "no_eligible_deployment");
    InvalidApiKey => (UNAUTHORIZED, "invalid_request_error", "invalid_api_key");
    PermissionDenied => (FORBIDDEN, "invalid_request_error", "permission_denied");
    NotFound => (NOT_FOUND, "invalid_request_error", "not_found");
    Conflict => (CONFLICT, "invalid_request_error", "conflict");
    ModelNotFound => (NOT_FOUND, "invalid_request_error", "model_not_found");
    ResponseNotFound => (NOT_FOUND, "invalid_request_error", "response_not_found");
    PreviousResponseNotFound => (BAD_REQUEST, "invalid_request_error", "previous_response_not_found");
    RouteNotFound => (NOT_FOUND, "invalid_request_error", "unknown_url");
    MethodNotAllowed => (METHOD_NOT_ALLOWED, "invalid_request_error", "method_not_allowed");
    PayloadTooLarge => (PAYLOAD_TOO_LARGE, "invalid_request_error", "request_too_large");
    UnsupportedMediaType => (UNSUPPORTED_MEDIA_TYPE, "invalid_request_error", "unsupported_media_type");
    RateLimited => (TOO_MANY_REQUESTS, "rate_limit_error", "rate_limit_exceeded");
    InsufficientQuota => (TOO_MANY_REQUESTS, "insufficient_quota", "insufficient_quota");
    GovernanceUnavailable => (SERVICE_UNAVAILABLE, "server_error", "governance_unavailable");
    Internal => (INTERNAL_SERVER_ERROR, "server_error", "internal_error");
    StoreFailed => (INTERNAL_SERVER_ERROR, "server_error", "store_error");
    Upstream => (BAD_GATEWAY, "server_error", "upstream_error");
    Overloaded => (SERVICE_UNAVAILABLE, "server_error", "overloaded");
    NotReady => (SERVICE_UNAVAILABLE, "server_error", "not_ready");
    UpstreamTimeout => (GATEWAY_TIMEOUT, "server_error", "upstream_timeout");
}

#[derive(Debug, Clone)]
pub struct ApiError {
    pub code: Code,
    pub message: String,
    pub param: Option<String>,
    /// The upstream's own code when it gave one, shown instead of ours.
    pub upstream_code: Option<String>,
    pub retry_after: Option<Duration>,
    /// More headers for the response (the rate-limit state of a refused request);
    /// boxed, since most errors have none.
    pub headers: Option<Box<axum::http::HeaderMap>>,
}

impl ApiError {
    pub fn new(code: Code, message: impl Into<String>) -> Self {
        ApiError {
            code,
            message: message.into(),
            param: None,
            upstream_code: None,
            retry_after: None,
            headers: None,
        }
    }

    pub fn with_param(mut self, param: impl Into<String>) -> Self {
        self.param = Some(param.into());
        self
    }

    pub fn status(&self) -> StatusCode {
        self.code.status()
    }

    /// The body in OpenAI's shape.
    pub fn to_openai_json(&self) -> serde_json::Value {
        json!({
            "error": {
                "message": self.message,
                "type": self.code.kind(),
                "param": self.param,
                "code": self.upstream_code.as_deref().unwrap_or(self.code.as_str()),
            }
        })
    }
}

impl From<DecodeError> for ApiError {
    fn from(error: DecodeError) -> Self {
        let code =
            if error.param.is_none() && error.message.starts_with("the body is not valid JSON") {
                Code::InvalidJson
            } else {
                Code::InvalidValue
            };
        ApiError {
            param: error.param,
            ..ApiError::new(code, error.message)
        }
    }
}

impl From<switchyard_store::StoreError> for ApiError {
    fn from(error: switchyard_store::StoreError) -> Self {
        tracing::error!(error = %error, "The store failed.");
        ApiError::new(Code::StoreFailed, "the store failed; see the server log")
    }
}

impl From<switchyard_governance::GovernanceError> for ApiError {
    fn from(error: switchyard_governance::GovernanceError) -> Self {
        use switchyard_governance::GovernanceError as E;
        match error {
            E::NotFound(message) => ApiError::new(Code::NotFound, message),
            E::Conflict(message) => ApiError::new(Code::Conflict, message),
            E::Invalid(message) => ApiError::new(Code::InvalidValue, message),
            other => {
                tracing::error!(error = %other, "Governance failed.");
                let mut error = ApiError::new(
                    Code::GovernanceUnavailable,
                    "keys, limits and budgets cannot be checked right now; see the server log",
                );
                error.retry_after = Some(Duration::from_secs(1));
                error
            }
        }
    }
}

impl From<UnknownModel> for ApiError {
    fn from(error: UnknownModel) -> Self {
        ApiError::new(Code::ModelNotFound, error.to_string()).with_param("model")
    }
}

impl From<ProviderError> for ApiError {
    fn from(error: ProviderError) -> Self {
        let code = match error.kind {
            ErrorKind::InvalidRequest => Code::InvalidValue,
            ErrorKind::ContextLengthExceeded => Code::ContextLengthExceeded,
            ErrorKind::ContentFilter => Code::ContentFilter,
            ErrorKind::Unsupported => Code::Unsupported,
            ErrorKind::RateLimited => Code::RateLimited,
            ErrorKind::Overloaded => Code::Overloaded,
            ErrorKind::Timeout => Code::UpstreamTimeout,
            // Our credentials or our configuration are wrong, not the caller's request:
            // the gateway failed, so the caller sees a 502.
            ErrorKind::Authentication
            | ErrorKind::PermissionDenied
            | ErrorKind::NotFound
            | ErrorKind::Connection
            | ErrorKind::Upstream => Code::Upstream,
            ErrorKind::Internal => Code::Internal,
        };
        let retry_after = match error.retry {
            switchyard_types::RetryAdvice::After(delay) => Some(delay),
            _ => None,
        };
        // The upstream's code is only meaningful where the caller's request is at fault.
        let upstream_code = match code {
            Code::InvalidValue | Code::ContextLengthExceeded => error.code,
            _ => None,
        };
        ApiError {
            code,
            message: error.message,
            param: error.param,
            upstream_code,
            retry_after,
            headers: None,
        }
    }
}

impl From<RouteError> for ApiError {
    fn from(error: RouteError) -> Self {
        ApiError::from(error.error)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = (self.status(), Json(self.to_openai_json())).into_response();
        if let Some(headers) = &self.headers {
            response.headers_mut().extend((**headers).clone());
        }
        if let Some(delay) = self.retry_after {
            // Whole seconds, rounded up, so a client never retries too early.
            let seconds = delay.as_secs() + u64::from(delay.subsec_nanos() > 0);
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response.extensions_mut().insert(Arc::new(self));
        response
    }
}
