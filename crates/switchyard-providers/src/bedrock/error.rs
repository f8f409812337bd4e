//! Bedrock's failures as [`ProviderError`]s. Most follow from the HTTP status through
//! [`http_error::from_status`]; the error code in `x-amzn-ErrorType` refines the few a
//! status cannot tell apart (a bad signature from a denied permission, a used-up quota
//! from a busy moment).

use http::HeaderMap;
use switchyard_protocols::bedrock::{self, StreamError};
use switchyard_types::{ErrorKind, ProviderError, RetryAdvice};

use crate::http_error::{self, UpstreamErrorDetail};

/// The header every Bedrock response carries; error messages quote it, so AWS support
/// can find the call.
pub(super) const REQUEST_ID: &str = "x-amzn-requestid";

/// The error for a non-success `status` with `body`.
pub(super) fn from_response(
    provider: &str,
    status: u16,
    headers: &HeaderMap,
    body: &[u8],
    secrets: &[&str],
) -> ProviderError {
    let error_type = headers
        .get("x-amzn-errortype")
        .and_then(|value| value.to_str().ok());
    let detail = bedrock::read_error(error_type, body);
    let code = detail.code;
    let message = match (detail.message, request_id(headers)) {
        (Some(message), Some(id)) => Some(format!("{message} (request id {id})")),
        (message, _) => message,
    };
    let error = http_error::from_status(
        provider,
        status,
        headers,
        UpstreamErrorDetail {
            message,
            param: None,
            code: code.clone(),
        },
        secrets,
    );
    match code.as_deref().and_then(refine) {
        Some((kind, retry)) => {
            let mut refined = ProviderError::new(kind, error.message)
                .with_status(status)
                .with_code(code);
            if let Some(retry) = retry {
                refined = refined.with_retry(retry);
            } else if refined.retry.is_retryable() && matches!(error.retry, RetryAdvice::After(_)) {
                refined = refined.with_retry(error.retry);
            }
            refined
        }
        None => error,
    }
}

/// The kind (and, where the kind's default is wrong, the retry advice) of the codes a
/// status alone misreads.
fn refine(code: &str) -> Option<(ErrorKind, Option<RetryAdvice>)> {
    Some(match code {
        // AWS's authentication layer answers these with 403, like a denied permission.
        "UnrecognizedClientException"
        | "InvalidSignatureException"
        | "IncompleteSignatureException"
        | "ExpiredTokenException"
        | "MissingAuthenticationTokenException" => (ErrorKind::Authentication, None),
        // A 400 for a used-up quota: waiting a few seconds does not bring it back.
        "ServiceQuotaExceededException" => (ErrorKind::RateLimited, Some(RetryAdvice::No)),
        // 424: the model itself failed on this request; another deployment may not.
        "ModelErrorException" => (ErrorKind::Upstream, Some(RetryAdvice::No)),
        "ThrottlingException" | "ModelNotReadyException" => (ErrorKind::RateLimited, None),
        "ServiceUnavailableException" => (ErrorKind::Overloaded, None),
        "ModelTimeoutException" => (ErrorKind::Timeout, None),
        _ => return None,
    })
}

/// An exception (or unusable stop reason) that ended a stream after its HTTP 200.
pub(super) fn from_stream_error(
    provider: &str,
    error: StreamError,
    secrets: &[&str],
) -> ProviderError {
    ProviderError::new(
        error.kind,
        crate::scrub::scrub(
            &format!(
                "upstream `{provider}` failed mid-stream: {}: {}",
                error.code, error.message
            ),
            secrets,
        ),
    )
    .with_code(Some(error.code))
}

pub(super) fn request_id(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(REQUEST_ID)
        .and_then(|value| value.to_str().ok())
        .filter(|id| !id.is_empty())
}

/// For [`crate::upstream::Upstream::read_body`]: a 200 body that is not an answer but
/// carries an error message.
pub(super) fn read_error_body(body: &[u8]) -> Option<UpstreamErrorDetail> {
    let body: bedrock::ErrorBody = serde_json::from_slice(body).ok()?;
    Some(UpstreamErrorDetail {
        message: Some(body.text()?.to_owned()),
        param: None,
        code: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error(status: u16, error_type: &str, body: &str) -> ProviderError {
        let mut headers = HeaderMap::new();
        headers.insert(
            "x-amzn-errortype",
            http::HeaderValue::from_str(&format!(
                "{error_type}:http://internal.amazon.com/coral/com.amazon.bedrock/"
            ))
            .expect("valid"),
        );
        headers.insert(REQUEST_ID, http::HeaderValue::from_static("req-123"));
        from_response("bedrock", status, &headers, body.as_bytes(), &[])
    }

    #[test]
    fn codes_refine_what_the_status_says() {
        let cases = [
            (400, "ValidationException", ErrorKind::InvalidRequest, false),
            (
                403,
                "AccessDeniedException",
                ErrorKind::PermissionDenied,
                false,
            ),
            (
                403,
                "UnrecognizedClientException",
                ErrorKind::Authentication,
                false,
            ),
            (
                403,
                "InvalidSignatureException",
                ErrorKind::Authentication,
                false,
            ),
            (404, "ResourceNotFoundException", ErrorKind::NotFound, false),
            (408, "ModelTimeoutException", ErrorKind::Timeout, true),
            (424, "ModelErrorException", ErrorKind::Upstream, false),
            (429, "ThrottlingException", ErrorKind::RateLimited, true),
            (429, "ModelNotReadyException", ErrorKind::RateLimited, true),
            (
                400,
                "ServiceQuotaExceededException",
                ErrorKind::RateLimited,
                false,
            ),
            (500, "InternalServerException", ErrorKind::Upstream, true),
            (
                503,
                "ServiceUnavailableException",
                ErrorKind::Overloaded,
                true,
            ),
        ];
        for (status, code, kind, retryable) in cases {
            let error = error(status, code, r#"{"message":"m"}"#);
            assert_eq!(error.kind, kind, "{code}");
            assert_eq!(error.retry.is_retryable(), retryable, "{code}");
            assert_eq!(error.status, Some(status), "{code}");
            assert_eq!(error.code.as_deref(), Some(code));
        }
    }

    #[test]
    fn the_message_quotes_the_request_id_and_reads_either_spelling() {
        let error = error(
            403,
            "AccessDeniedException",
            r#"{"Message":"User: arn:x is not authorized"}"#,
        );
        assert_eq!(
            error.message,
            "upstream `bedrock` answered 403: User: arn:x is not authorized (request id req-123)"
        );
    }
}
