//! Classifies HTTP failures into [`ProviderError`]s, by status and body, never by
//! guessing from message text.

use std::time::Duration;

use http::HeaderMap;
use switchyard_types::{ErrorKind, ProviderError, RetryAdvice};

/// What an upstream error body said, already parsed by the adapter's protocol.
#[derive(Debug, Default)]
pub struct UpstreamErrorDetail {
    pub message: Option<String>,
    pub param: Option<String>,
    pub code: Option<String>,
}

/// The error for a non-success `status` from `provider`.
pub fn from_status(
    provider: &str,
    status: u16,
    headers: &HeaderMap,
    detail: UpstreamErrorDetail,
    secrets: &[&str],
) -> ProviderError {
    let kind = match status {
        400 | 413 | 422 if is_context_length(detail.code.as_deref()) => {
            ErrorKind::ContextLengthExceeded
        }
        // Google answers a wrong API key with 400 and this reason.
        400 if detail.code.as_deref() == Some("API_KEY_INVALID") => ErrorKind::Authentication,
        400 | 413 | 422 => ErrorKind::InvalidRequest,
        401 => ErrorKind::Authentication,
        403 => ErrorKind::PermissionDenied,
        404 => ErrorKind::NotFound,
        408 => ErrorKind::Timeout,
        429 => ErrorKind::RateLimited,
        503 | 529 => ErrorKind::Overloaded,
        500..=599 => ErrorKind::Upstream,
        _ => ErrorKind::InvalidRequest,
    };
    let upstream_message = detail
        .message
        .unwrap_or_else(|| format!("HTTP {status} with no readable error body"));
    let message = crate::scrub::scrub(
        &format!("upstream `{provider}` answered {status}: {upstream_message}"),
        secrets,
    );
    let mut error = ProviderError::new(kind, message)
        .with_status(status)
        .with_param(detail.param)
        .with_code(detail.code.clone());
    // A quota that is used up does not come back by waiting a few seconds.
    if kind == ErrorKind::RateLimited && detail.code.as_deref() == Some("insufficient_quota") {
        error = error.with_retry(RetryAdvice::No);
    } else if error.retry.is_retryable()
        && let Some(delay) = retry_after(headers)
    {
        error = error.with_retry(RetryAdvice::After(delay));
    }
    error
}

fn is_context_length(code: Option<&str>) -> bool {
    matches!(
        code,
        Some("context_length_exceeded" | "string_above_max_length")
    )
}

/// The longest wait an upstream's `Retry-After` is taken at: a day. The header comes
/// from the upstream, so an absurd value (`1e20`) is clamped, never trusted.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(24 * 3600);

/// Reads `retry-after-ms` (OpenAI), then `Retry-After` as seconds or an HTTP date,
/// clamped to [`MAX_RETRY_AFTER`].
pub fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let seconds = |seconds: f64| {
        (seconds.is_finite() && seconds >= 0.0).then(|| {
            Duration::try_from_secs_f64(seconds)
                .unwrap_or(MAX_RETRY_AFTER)
                .min(MAX_RETRY_AFTER)
        })
    };
    if let Some(wait) = header_str(headers, "retry-after-ms")
        .and_then(|value| value.trim().parse::<f64>().ok())
        .and_then(|millis| seconds(millis / 1000.0))
    {
        return Some(wait);
    }
    let value = header_str(headers, "retry-after")?.trim();
    if let Ok(parsed) = value.parse::<f64>() {
        return seconds(parsed);
    }
    let when = httpdate::parse_http_date(value).ok()?;
    Some(
        when.duration_since(std::time::SystemTime::now())
            .unwrap_or(Duration::ZERO)
            .min(MAX_RETRY_AFTER),
    )
}

fn header_str<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name).and_then(|value| value.to_str().ok())
}

/// The error for a transport failure (connect, TLS, reset, decode of the body stream).
pub fn from_transport(provider: &str, error: reqwest::Error, secrets: &[&str]) -> ProviderError {
    let kind = if error.is_timeout() {
        ErrorKind::Timeout
    } else if error.is_connect() || error.is_request() || error.is_body() {
        ErrorKind::Connection
    } else {
        ErrorKind::Upstream
    };
    // The URL may carry credentials (`https://user:pass@host`); never print it.
    let error = error.without_url();
    let message = crate::scrub::scrub(
        &format!(
            "cannot reach upstream `{provider}`: {}",
            error_chain(&error)
        ),
        secrets,
    );
    ProviderError::new(kind, message).with_cause(error)
}

/// A deadline passed while waiting on `provider`.
pub fn timeout(provider: &str, what: &str, limit: Duration) -> ProviderError {
    ProviderError::new(
        ErrorKind::Timeout,
        format!(
            "upstream `{provider}` timed out: no {what} within {}",
            humantime::format_duration(limit)
        ),
    )
}

/// `error: cause: cause`, so "error sending request" says why.
fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        let cause_text = cause.to_string();
        if !text.contains(&cause_text) {
            text.push_str(": ");
            text.push_str(&cause_text);
        }
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        pairs
            .iter()
            .map(|(name, value)| {
                (
                    http::HeaderName::from_static(name),
                    value.parse().expect("valid header value"),
                )
            })
            .collect()
    }

    #[test]
    fn classifies_statuses() {
        let cases = [
            (400, None, ErrorKind::InvalidRequest, false),
            (
                400,
                Some("context_length_exceeded"),
                ErrorKind::ContextLengthExceeded,
                false,
            ),
            (401, None, ErrorKind::Authentication, false),
            (404, None, ErrorKind::NotFound, false),
            (429, None, ErrorKind::RateLimited, true),
            (
                429,
                Some("insufficient_quota"),
                ErrorKind::RateLimited,
                false,
            ),
            (500, None, ErrorKind::Upstream, true),
            (503, None, ErrorKind::Overloaded, true),
            (529, None, ErrorKind::Overloaded, true),
        ];
        for (status, code, kind, retryable) in cases {
            let error = from_status(
                "p",
                status,
                &HeaderMap::new(),
                UpstreamErrorDetail {
                    code: code.map(str::to_owned),
                    ..Default::default()
                },
                &[],
            );
            assert_eq!(error.kind, kind, "status {status} code {code:?}");
            assert_eq!(error.retry.is_retryable(), retryable, "status {status}");
            assert_eq!(error.status, Some(status));
        }
    }

    #[test]
    fn honours_retry_after_in_its_three_spellings() {
        assert_eq!(
            retry_after(&headers(&[("retry-after", "7")])),
            Some(Duration::from_secs(7))
        );
        assert_eq!(
            retry_after(&headers(&[("retry-after-ms", "250"), ("retry-after", "7")])),
            Some(Duration::from_millis(250))
        );
        let past = httpdate::fmt_http_date(std::time::UNIX_EPOCH);
        assert_eq!(
            retry_after(&headers(&[("retry-after", &past)])),
            Some(Duration::ZERO)
        );
        assert_eq!(retry_after(&headers(&[("retry-after", "soon")])), None);
        // An absurd wait from the upstream is clamped, never a panic.
        for absurd in ["1e20", "1e300", "18446744073709551616"] {
            assert_eq!(
                retry_after(&headers(&[("retry-after", absurd)])),
                Some(MAX_RETRY_AFTER)
            );
            assert_eq!(
                retry_after(&headers(&[("retry-after-ms", absurd)])),
                Some(MAX_RETRY_AFTER)
            );
        }
        let far = httpdate::fmt_http_date(std::time::UNIX_EPOCH + Duration::from_secs(1 << 36));
        assert_eq!(
            retry_after(&headers(&[("retry-after", &far)])),
            Some(MAX_RETRY_AFTER)
        );
        let error = from_status(
            "p",
            429,
            &headers(&[("retry-after", "3")]),
            UpstreamErrorDetail::default(),
            &[],
        );
        assert_eq!(error.retry, RetryAdvice::After(Duration::from_secs(3)));
    }

    #[test]
    fn scrubs_the_key_from_upstream_messages() {
        let error = from_status(
            "openai",
            401,
            &HeaderMap::new(),
            UpstreamErrorDetail {
                message: Some("Incorrect API key provided: my-secret-key-value".into()),
                ..Default::default()
            },
            &["my-secret-key-value"],
        );
        assert_eq!(
            error.message,
            "upstream `openai` answered 401: Incorrect API key provided: ***"
        );
    }
}
