//! [`JsonBody`]: the raw bytes of a request body, with oversize and unreadable bodies
//! turned into protocol-shaped errors instead of axum's plain-text rejections.
//!
//! Decoding is left to the protocol module, which names the offending field.

use axum::body::Bytes;
use axum::extract::{FromRequest, Request};
use axum::http::StatusCode;

use crate::error::{ApiError, Code};

pub struct JsonBody(pub Bytes);

impl<S: Send + Sync> FromRequest<S> for JsonBody {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, ApiError> {
        match Bytes::from_request(request, state).await {
            Ok(bytes) => Ok(JsonBody(bytes)),
            Err(rejection) if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                Err(ApiError::new(
                    Code::PayloadTooLarge,
                    "the request body is larger than this server accepts (`server.max_body_bytes`)",
                ))
            }
            Err(rejection) => Err(ApiError::new(
                Code::InvalidJson,
                format!("cannot read the request body: {}", rejection.body_text()),
            )),
        }
    }
}
