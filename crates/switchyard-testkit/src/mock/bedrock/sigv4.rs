//! An independent SigV4 check, written from AWS's "Create a signed AWS API request"
//! steps with plain SHA-256 and HMAC: the mock recomputes a request's signature and
//! compares, so the adapter's use of `aws-sigv4` is held to the algorithm rather than to
//! itself.

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

/// The parts of an `Authorization: AWS4-HMAC-SHA256 …` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authorization {
    pub access_key_id: String,
    /// `YYYYMMDD`.
    pub date: String,
    pub region: String,
    pub service: String,
    /// Lower-case, in the header's order (which SigV4 requires sorted).
    pub signed_headers: Vec<String>,
    pub signature: String,
}

/// Parses the header, or says what is wrong with it (AWS's `IncompleteSignature` cases).
pub fn parse_authorization(value: &str) -> Result<Authorization, String> {
    let rest = value
        .strip_prefix("AWS4-HMAC-SHA256 ")
        .ok_or("the algorithm is not AWS4-HMAC-SHA256")?;
    let mut credential = None;
    let mut signed_headers = None;
    let mut signature = None;
    for part in rest.split(',').map(str::trim) {
        if let Some(value) = part.strip_prefix("Credential=") {
            credential = Some(value);
        } else if let Some(value) = part.strip_prefix("SignedHeaders=") {
            signed_headers = Some(value);
        } else if let Some(value) = part.strip_prefix("Signature=") {
            signature = Some(value);
        }
    }
    let credential = credential.ok_or("Authorization header requires 'Credential' parameter")?;
    let signed_headers =
        signed_headers.ok_or("Authorization header requires 'SignedHeaders' parameter")?;
    let signature = signature.ok_or("Authorization header requires 'Signature' parameter")?;
    let scope: Vec<&str> = credential.split('/').collect();
    let [access_key_id, date, region, service, terminator] = scope[..] else {
        return Err(format!("malformed credential scope `{credential}`"));
    };
    if terminator != "aws4_request" {
        return Err(format!("the credential scope ends in `{terminator}`"));
    }
    Ok(Authorization {
        access_key_id: access_key_id.to_owned(),
        date: date.to_owned(),
        region: region.to_owned(),
        service: service.to_owned(),
        signed_headers: signed_headers.split(';').map(str::to_owned).collect(),
        signature: signature.to_owned(),
    })
}

/// A request as it arrived, for recomputing its signature.
#[derive(Debug, Clone, Copy)]
pub struct SignedRequest<'a> {
    pub method: &'a str,
    /// The path exactly as sent, still percent-encoded (`…-v1%3A0/converse`).
    pub raw_path: &'a str,
    /// The query as sent, without `?`.
    pub raw_query: &'a str,
    /// Lower-case names; repeated headers once per value.
    pub headers: &'a [(String, String)],
    pub body: &'a [u8],
}

/// The canonical request: the path as sent, percent-encoded once more (so `%3A` is
/// `%253A`: every AWS service but S3 does this), sorted query, the signed headers with
/// trimmed values, and the body's SHA-256.
pub fn canonical_request(request: &SignedRequest<'_>, signed_headers: &[String]) -> String {
    let path = if request.raw_path.is_empty() {
        "/".to_owned()
    } else {
        uri_encode(request.raw_path, false)
    };
    let mut query: Vec<(String, String)> = request
        .raw_query
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            (
                uri_encode(&percent_decode(key), true),
                uri_encode(&percent_decode(value), true),
            )
        })
        .collect();
    query.sort();
    let query: Vec<String> = query
        .into_iter()
        .map(|(key, value)| format!("{key}={value}"))
        .collect();
    let mut headers = String::new();
    for name in signed_headers {
        let values: Vec<String> = request
            .headers
            .iter()
            .filter(|(key, _)| key == name)
            .map(|(_, value)| value.split_whitespace().collect::<Vec<_>>().join(" "))
            .collect();
        headers.push_str(&format!("{name}:{}\n", values.join(",")));
    }
    let payload = request
        .headers
        .iter()
        .find(|(key, _)| key == "x-amz-content-sha256")
        .map_or_else(
            || hex(&Sha256::digest(request.body)),
            |(_, value)| value.clone(),
        );
    format!(
        "{}\n{path}\n{}\n{headers}\n{}\n{payload}",
        request.method,
        query.join("&"),
        signed_headers.join(";")
    )
}

/// The signature `secret` gives `canonical_request` at `amz_date` (`YYYYMMDDTHHMMSSZ`)
/// in the scope of `authorization`.
pub fn signature(
    secret: &str,
    authorization: &Authorization,
    amz_date: &str,
    canonical_request: &str,
) -> String {
    let scope = format!(
        "{}/{}/{}/aws4_request",
        authorization.date, authorization.region, authorization.service
    );
    let string_to_sign = format!(
        "AWS4-HMAC-SHA256\n{amz_date}\n{scope}\n{}",
        hex(&Sha256::digest(canonical_request.as_bytes()))
    );
    let key = hmac(
        format!("AWS4{secret}").as_bytes(),
        authorization.date.as_bytes(),
    );
    let key = hmac(&key, authorization.region.as_bytes());
    let key = hmac(&key, authorization.service.as_bytes());
    let key = hmac(&key, b"aws4_request");
    hex(&hmac(&key, string_to_sign.as_bytes()))
}

fn hmac(key: &[u8], data: &[u8]) -> Vec<u8> {
    // HMAC takes a key of any length, so this cannot fail.
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(key) else {
        return Vec::new();
    };
    mac.update(data);
    mac.finalize().into_bytes().to_vec()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

/// AWS's URI encoding: everything but `A-Z a-z 0-9 - . _ ~` (and `/`, in a path).
pub fn uri_encode(text: &str, encode_slash: bool) -> String {
    let mut encoded = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric()
            || matches!(byte, b'-' | b'.' | b'_' | b'~')
            || (byte == b'/' && !encode_slash)
        {
            encoded.push(byte as char);
        } else {
            encoded.push_str(&format!("%{byte:02X}"));
        }
    }
    encoded
}

/// Decodes `%XX` escapes; anything malformed is kept as it was.
pub fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut at = 0;
    while at < bytes.len() {
        let escape = bytes
            .get(at + 1..at + 3)
            .filter(|_| bytes[at] == b'%')
            .and_then(|digits| std::str::from_utf8(digits).ok())
            .and_then(|digits| u8::from_str_radix(digits, 16).ok());
        match escape {
            Some(byte) => {
                out.push(byte);
                at += 3;
            }
            None => {
                out.push(bytes[at]);
                at += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use serde_json::Value;

    use super::*;

    /// The worked example in the protocol crate's fixtures, computed by a script outside
    /// this repository; it reproduces two vectors of AWS's own SigV4 test suite.
    #[test]
    fn reproduces_the_worked_converse_example() {
        let path = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../switchyard-protocols/tests/fixtures/bedrock/sigv4_converse_example.json"
        );
        let example: Value =
            serde_json::from_slice(&std::fs::read(path).expect("the fixture")).expect("JSON");
        let expected = &example["expected"];
        let authorization = parse_authorization(
            expected["headers_added"]["authorization"]
                .as_str()
                .expect("a string"),
        )
        .expect("parses");
        let headers = vec![
            ("content-type".to_owned(), "application/json".to_owned()),
            (
                "host".to_owned(),
                "bedrock-runtime.us-east-1.amazonaws.com".to_owned(),
            ),
            ("x-amz-date".to_owned(), "20260115T120000Z".to_owned()),
        ];
        let body = example["request"]["body"].as_str().expect("a string");
        let request = SignedRequest {
            method: "POST",
            raw_path: "/model/us.anthropic.claude-sonnet-4-20250514-v1%3A0/converse",
            raw_query: "",
            headers: &headers,
            body: body.as_bytes(),
        };
        let canonical = canonical_request(&request, &authorization.signed_headers);
        assert_eq!(
            canonical,
            expected["canonical_request"].as_str().expect("a string")
        );
        let secret = example["credentials"]["secret_access_key"]
            .as_str()
            .expect("a string");
        assert_eq!(
            signature(secret, &authorization, "20260115T120000Z", &canonical),
            expected["signature"].as_str().expect("a string")
        );
        assert_eq!(authorization.service, "bedrock");
    }

    #[test]
    fn malformed_headers_say_what_is_missing() {
        assert!(parse_authorization("Bearer x").is_err());
        assert!(
            parse_authorization(
                "AWS4-HMAC-SHA256 Credential=A/20260101/us-east-1/bedrock/aws4_request"
            )
            .is_err_and(|error| error.contains("SignedHeaders"))
        );
        assert_eq!(percent_decode("a%3Ab%zz%4"), "a:b%zz%4");
    }
}
