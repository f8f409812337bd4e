//! Who is calling: SigV4 signatures (through the official `aws-sigv4` crate) or a
//! Bedrock API key, and the request URLs they are computed over.
//!
//! The model id is a path label: percent-encoded once in the URL that is sent
//! (`…-v1%3A0/converse`). SigV4's canonical URI encodes that path once more
//! (`…-v1%253A0…`), which `aws-sigv4`'s default settings do. The URL string is built
//! once and the same string is signed and sent, so the two cannot disagree.

use std::time::SystemTime;

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{
    SignableBody, SignableRequest, SigningParams, SigningSettings, sign,
};
use aws_sigv4::sign::v4;
use http::HeaderMap;
use secrecy::{ExposeSecret, SecretString};
use switchyard_types::{ErrorKind, ProviderError};

use super::config::BedrockCredentials;
use crate::upstream::secret_header;

/// The SigV4 signing name of the Bedrock Runtime: `bedrock`, not `bedrock-runtime`.
pub const SIGNING_NAME: &str = "bedrock";

/// The content type every request sends, and signs.
pub(super) const CONTENT_TYPE: &str = "application/json";

#[derive(Debug)]
pub(super) enum Auth {
    SigV4 {
        credentials: Credentials,
        region: String,
    },
    Bearer(SecretString),
}

impl Auth {
    pub(super) fn new(credentials: &BedrockCredentials, region: &str) -> Self {
        match credentials {
            BedrockCredentials::AccessKey {
                access_key_id,
                secret_access_key,
                session_token,
            } => Auth::SigV4 {
                credentials: Credentials::new(
                    access_key_id.clone(),
                    secret_access_key.expose_secret().to_owned(),
                    session_token
                        .as_ref()
                        .map(|token| token.expose_secret().to_owned()),
                    None,
                    "switchyard",
                ),
                region: region.to_owned(),
            },
            BedrockCredentials::ApiKey(key) => Auth::Bearer(key.clone()),
        }
    }

    /// Adds the credentials for a `POST` of `body` to `url`, signed as of now: a
    /// signature is never reused, retries included.
    pub(super) fn authorize(
        &self,
        url: &str,
        body: &[u8],
        headers: &mut HeaderMap,
    ) -> Result<(), ProviderError> {
        self.authorize_at(url, body, headers, SystemTime::now())
    }

    pub(super) fn authorize_at(
        &self,
        url: &str,
        body: &[u8],
        headers: &mut HeaderMap,
        time: SystemTime,
    ) -> Result<(), ProviderError> {
        match self {
            Auth::Bearer(key) => {
                let value = secret_header(&format!("Bearer {}", key.expose_secret()))
                    .ok_or_else(|| internal("the Bedrock API key is not a valid header value"))?;
                headers.insert(http::header::AUTHORIZATION, value);
                Ok(())
            }
            Auth::SigV4 {
                credentials,
                region,
            } => {
                let identity = credentials.clone().into();
                let params: SigningParams = v4::SigningParams::builder()
                    .identity(&identity)
                    .region(region)
                    .name(SIGNING_NAME)
                    .time(time)
                    .settings(SigningSettings::default())
                    .build()
                    .map_err(|error| internal(&format!("cannot sign the request: {error}")))?
                    .into();
                // Only the content type is signed beside what SigV4 adds (`host`,
                // `x-amz-date`, `x-amz-security-token`): a proxy may change the rest.
                let signable = SignableRequest::new(
                    "POST",
                    url,
                    [("content-type", CONTENT_TYPE)].into_iter(),
                    SignableBody::Bytes(body),
                )
                .map_err(|error| internal(&format!("cannot sign the request: {error}")))?;
                let (instructions, _signature) = sign(signable, &params)
                    .map_err(|error| internal(&format!("cannot sign the request: {error}")))?
                    .into_parts();
                let (signing_headers, _query) = instructions.into_parts();
                for header in signing_headers {
                    let mut value = http::HeaderValue::from_str(header.value())
                        .map_err(|_| internal("a signing header is not a valid header value"))?;
                    // A signature reveals no secret, but it is a credential for a few
                    // minutes: logs and debug output should not show it either.
                    value.set_sensitive(header.sensitive() || header.name() == "authorization");
                    headers.insert(header.name(), value);
                }
                Ok(())
            }
        }
    }
}

/// Never carries a credential: the messages above name no values.
fn internal(message: &str) -> ProviderError {
    ProviderError::new(ErrorKind::Internal, message.to_owned())
}

/// Percent-encodes a path label as botocore does: everything but `A-Z a-z 0-9 - . _ ~`
/// (so `:` is `%3A` and `/` is `%2F`).
pub fn encode_label(label: &str) -> String {
    let mut encoded = String::with_capacity(label.len());
    for byte in label.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            encoded.push(byte as char);
        } else {
            encoded.push_str(&format!("%{byte:02X}"));
        }
    }
    encoded
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels_keep_only_unreserved_characters() {
        assert_eq!(
            encode_label("us.anthropic.claude-sonnet-4-20250514-v1:0"),
            "us.anthropic.claude-sonnet-4-20250514-v1%3A0"
        );
        assert_eq!(
            encode_label(
                "arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/abcdef123456"
            ),
            "arn%3Aaws%3Abedrock%3Aus-east-1%3A123456789012%3Aapplication-inference-profile%2Fabcdef123456"
        );
        assert_eq!(encode_label("a b~é"), "a%20b~%C3%A9");
    }

    /// `fixtures/bedrock/sigv4_converse_example.json`, worked with the public AWS
    /// test-suite credentials.
    #[test]
    fn the_signature_matches_the_worked_example() {
        let auth = Auth::new(
            &BedrockCredentials::AccessKey {
                access_key_id: "AKIDEXAMPLE".into(),
                secret_access_key: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY".into(),
                session_token: None,
            },
            "us-east-1",
        );
        let url = format!(
            "https://bedrock-runtime.us-east-1.amazonaws.com/model/{}/converse",
            encode_label("us.anthropic.claude-sonnet-4-20250514-v1:0")
        );
        let body = br#"{"messages":[{"role":"user","content":[{"text":"Hello"}]}]}"#;
        // 2026-01-15T12:00:00Z.
        let time = SystemTime::UNIX_EPOCH + std::time::Duration::from_secs(1_768_478_400);
        let mut headers = HeaderMap::new();
        auth.authorize_at(&url, body, &mut headers, time)
            .expect("signs");
        assert_eq!(headers["x-amz-date"], "20260115T120000Z");
        assert_eq!(
            headers["authorization"],
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20260115/us-east-1/bedrock/aws4_request, \
             SignedHeaders=content-type;host;x-amz-date, \
             Signature=f86eca80fd3fa1c2c50632486dd2640ec68e385cfd9482bf3c492a656275b28b"
        );
        assert!(headers["authorization"].is_sensitive());
        assert!(!headers.contains_key("x-amz-security-token"));
    }

    #[test]
    fn temporary_credentials_sign_their_session_token() {
        let auth = Auth::new(
            &BedrockCredentials::AccessKey {
                access_key_id: "AKIDEXAMPLE".into(),
                secret_access_key: "secret-secret-secret".into(),
                session_token: Some("session-token-value".into()),
            },
            "eu-west-1",
        );
        let mut headers = HeaderMap::new();
        auth.authorize(
            "https://bedrock-runtime.eu-west-1.amazonaws.com/model/m/converse",
            b"{}",
            &mut headers,
        )
        .expect("signs");
        assert_eq!(headers["x-amz-security-token"], "session-token-value");
        assert!(headers["x-amz-security-token"].is_sensitive());
        let authorization = headers["authorization"].to_str().expect("ASCII");
        assert!(
            authorization
                .contains("SignedHeaders=content-type;host;x-amz-date;x-amz-security-token"),
            "{authorization}"
        );
        assert!(authorization.contains("/eu-west-1/bedrock/aws4_request"));
    }
}
