//! Bedrock's errors: HTTP error bodies with the code in `x-amzn-ErrorType`, and the
//! exception frames that end a stream whose HTTP status already said 200.

use switchyard_types::ErrorKind;

use super::wire::ErrorBody;

/// What an error said: its code (`ThrottlingException`) and message.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ErrorDetail {
    pub code: Option<String>,
    pub message: Option<String>,
}

/// Reads an HTTP error: the code is the `x-amzn-ErrorType` header up to its first `:`
/// (`ValidationException:http://internal.amazon.com/coral/…`), else the body's `__type`
/// or `code`; the message is `message`, else `Message`. A body that is not JSON is the
/// message itself, as botocore takes it.
pub fn read_error(error_type_header: Option<&str>, body: &[u8]) -> ErrorDetail {
    let parsed = serde_json::from_slice::<ErrorBody>(body).ok();
    let header_code = error_type_header.and_then(clean_code);
    let body_code = parsed
        .as_ref()
        .and_then(|body| body.error_type.as_deref().or(body.code.as_deref()))
        .and_then(clean_code);
    let message = match &parsed {
        Some(body) => body.text().map(str::to_owned),
        None => Some(String::from_utf8_lossy(body).trim().to_owned()).filter(|m| !m.is_empty()),
    };
    ErrorDetail {
        code: header_code.or(body_code),
        message,
    }
}

/// `Code:namespace` or `namespace#Code` → `Code` (botocore:
/// `code.split(':', 1)[0].rsplit('#', 1)[-1]`).
fn clean_code(raw: &str) -> Option<String> {
    let before_colon = raw.split(':').next().unwrap_or(raw);
    let code = before_colon
        .rsplit('#')
        .next()
        .unwrap_or(before_colon)
        .trim();
    (!code.is_empty()).then(|| code.to_owned())
}

/// What a stream exception means, and the HTTP status the service model gives it
/// (the stream's own status was 200).
pub fn exception_kind(exception_type: &str) -> (ErrorKind, u16) {
    match exception_type {
        "throttlingException" => (ErrorKind::RateLimited, 429),
        "serviceUnavailableException" => (ErrorKind::Overloaded, 503),
        "validationException" => (ErrorKind::InvalidRequest, 400),
        "modelTimeoutException" => (ErrorKind::Timeout, 408),
        // The model failed while generating; another try may well succeed.
        "modelStreamErrorException" => (ErrorKind::Upstream, 424),
        // `internalServerException` and types added after this was written.
        _ => (ErrorKind::Upstream, 500),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_code_comes_from_the_header_before_its_namespace() {
        let detail = read_error(
            Some("ThrottlingException:http://internal.amazon.com/coral/com.amazon.bedrock/"),
            br#"{"message":"Too many tokens, please wait before trying again."}"#,
        );
        assert_eq!(detail.code.as_deref(), Some("ThrottlingException"));
        assert_eq!(
            detail.message.as_deref(),
            Some("Too many tokens, please wait before trying again.")
        );
    }

    #[test]
    fn the_body_fills_in_what_the_header_lacks() {
        let detail = read_error(
            None,
            br#"{"__type":"com.amazon.coral.service#UnrecognizedClientException","Message":"bad token"}"#,
        );
        assert_eq!(detail.code.as_deref(), Some("UnrecognizedClientException"));
        assert_eq!(detail.message.as_deref(), Some("bad token"));
    }

    #[test]
    fn a_body_that_is_not_json_is_the_message() {
        let detail = read_error(None, b"<html>Bad Gateway</html>\n");
        assert_eq!(detail.code, None);
        assert_eq!(detail.message.as_deref(), Some("<html>Bad Gateway</html>"));
        assert_eq!(read_error(Some(""), b"").message, None);
    }
}
