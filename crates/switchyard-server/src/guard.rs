//! What keeps an open server (one without master keys) from serving web pages.
//!
//! A server without master keys answers anyone who can reach it, and spends the
//! operator's vendor keys for them. Listening on loopback keeps other computers out,
//! but not the operator's own browser: any page it visits can send a "simple" cross-site
//! `POST` (a `text/plain` body needs no preflight), and a DNS-rebinding page can even read
//! the answers. So, on an open server only:
//!
//! - a body must be declared JSON (`Content-Type: application/json`), which a page cannot
//!   send cross-site without a CORS preflight this server never grants: 415 otherwise;
//! - a request carrying an `Origin` must come from the server's own origin: 403 otherwise;
//! - `Host` must name the server itself (a loopback name or address, the address it
//!   listens on, or one of `server.allowed_hosts`), which a rebinding page cannot: 403.
//!
//! A server with master keys needs none of this: a page does not have the key.

use std::net::IpAddr;

use axum::extract::Request;
use axum::http::{HeaderMap, Method, header};

use crate::error::{ApiError, Code};
use crate::state::Settings;

/// Refuses what only a web page would send to an open server. Called by
/// [`crate::auth::authenticate`] when the server has no master keys, so the refusal
/// is in the caller's protocol like any other authentication error.
pub fn check_open_request(settings: &Settings, request: &Request) -> Result<(), ApiError> {
    let hosts = AllowedHosts {
        listen: settings.listen,
        configured: &settings.allowed_hosts,
    };
    check(request.method(), request.headers(), request.uri(), &hosts)
}

/// The names a request's `Host` may give.
pub struct AllowedHosts<'a> {
    /// The address the server listens on, when known.
    pub listen: Option<IpAddr>,
    /// `server.allowed_hosts`, lower-case, each with or without a port.
    pub configured: &'a [String],
}

impl AllowedHosts<'_> {
    /// Whether `authority` (`host` or `host:port`) names this server.
    pub fn allows(&self, authority: &str) -> bool {
        let authority = authority.trim().to_ascii_lowercase();
        let host = host_of(&authority);
        if host == "localhost" || host.ends_with(".localhost") {
            return true;
        }
        if let Ok(ip) = host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<IpAddr>()
        {
            // A rebinding page needs a name: an address literal in `Host` is this
            // machine only when it is one it listens on.
            return ip.is_loopback()
                || self
                    .listen
                    .is_some_and(|listen| listen.is_unspecified() || listen == ip);
        }
        self.configured
            .iter()
            .any(|allowed| *allowed == authority || host_of(allowed) == host)
    }
}

/// The host part of `host[:port]` (an IPv6 literal keeps its brackets).
fn host_of(authority: &str) -> &str {
    if authority.starts_with('[') {
        return authority
            .find(']')
            .map_or(authority, |end| &authority[..=end]);
    }
    match authority.rsplit_once(':') {
        Some((host, port)) if port.bytes().all(|byte| byte.is_ascii_digit()) => host,
        _ => authority,
    }
}

fn check(
    method: &Method,
    headers: &HeaderMap,
    uri: &axum::http::Uri,
    hosts: &AllowedHosts<'_>,
) -> Result<(), ApiError> {
    let host = headers
        .get(header::HOST)
        .and_then(|value| value.to_str().ok())
        .or_else(|| uri.authority().map(|authority| authority.as_str()));
    if let Some(host) = host
        && !hosts.allows(host)
    {
        return Err(ApiError::new(
            Code::PermissionDenied,
            format!(
                "this server has no master keys and answers only requests addressed to itself; \
                 `Host: {host}` is not one of its names (add it to `server.allowed_hosts`)"
            ),
        ));
    }
    if let Some(origin) = headers.get(header::ORIGIN) {
        let same = origin
            .to_str()
            .ok()
            .and_then(|origin| origin.split_once("://"))
            .zip(host)
            .is_some_and(|((_, authority), host)| authority.eq_ignore_ascii_case(host));
        if !same {
            return Err(ApiError::new(
                Code::PermissionDenied,
                "this server has no master keys, so it refuses requests from web pages of other \
                 origins; configure `server.master_keys` to call it from a browser",
            ));
        }
    }
    let has_body = matches!(*method, Method::POST | Method::PUT | Method::PATCH);
    if has_body && !is_json(headers) {
        return Err(ApiError::new(
            Code::UnsupportedMediaType,
            "this server has no master keys, so it accepts only JSON bodies: \
             send `Content-Type: application/json`",
        ));
    }
    Ok(())
}

/// `application/json`, or a `+json` type, with any parameters.
fn is_json(headers: &HeaderMap) -> bool {
    let Some(value) = headers
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
    else {
        return false;
    };
    let essence = value
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    essence == "application/json"
        || (essence.starts_with("application/") && essence.ends_with("+json"))
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    fn headers(pairs: &[(&'static str, &str)]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for (name, value) in pairs {
            headers.insert(*name, HeaderValue::from_str(value).expect("a header value"));
        }
        headers
    }

    const LOOPBACK: AllowedHosts<'static> = AllowedHosts {
        listen: Some(IpAddr::V4(std::net::Ipv4Addr::LOCALHOST)),
        configured: &[],
    };

    fn post(pairs: &[(&'static str, &str)]) -> Result<(), ApiError> {
        check(
            &Method::POST,
            &headers(pairs),
            &"/v1/chat/completions".parse().expect("uri"),
            &LOOPBACK,
        )
    }

    #[test]
    fn a_local_json_request_passes() {
        assert!(
            post(&[
                ("host", "127.0.0.1:8080"),
                ("content-type", "application/json")
            ])
            .is_ok()
        );
        assert!(
            post(&[
                ("host", "localhost:8080"),
                ("content-type", "application/json; charset=utf-8")
            ])
            .is_ok()
        );
        assert!(post(&[("host", "[::1]:8080"), ("content-type", "application/json")]).is_ok());
        assert!(
            post(&[
                ("host", "127.0.0.1:8080"),
                ("origin", "http://127.0.0.1:8080"),
                ("content-type", "application/json"),
            ])
            .is_ok()
        );
    }

    #[test]
    fn a_cross_site_simple_request_is_refused() {
        let error =
            post(&[("host", "127.0.0.1:8080"), ("content-type", "text/plain")]).expect_err("415");
        assert_eq!(error.code, Code::UnsupportedMediaType);
        assert!(
            post(&[("host", "127.0.0.1:8080")]).is_err(),
            "no content type at all"
        );
        let error = post(&[
            ("host", "127.0.0.1:8080"),
            ("origin", "https://evil.example"),
            ("content-type", "application/json"),
        ])
        .expect_err("foreign origin");
        assert_eq!(error.code, Code::PermissionDenied);
        assert!(
            post(&[
                ("host", "127.0.0.1:8080"),
                ("origin", "null"),
                ("content-type", "application/json")
            ])
            .is_err()
        );
    }

    #[test]
    fn a_rebound_host_is_refused_unless_allowed() {
        let error = post(&[
            ("host", "attacker.example:8080"),
            ("content-type", "application/json"),
        ])
        .expect_err("rebinding");
        assert_eq!(error.code, Code::PermissionDenied);
        assert!(
            post(&[
                ("host", "10.1.2.3:8080"),
                ("content-type", "application/json")
            ])
            .is_err()
        );
        let configured = ["gateway.internal".to_owned()];
        let allowed = AllowedHosts {
            listen: Some(IpAddr::V4(std::net::Ipv4Addr::LOCALHOST)),
            configured: &configured,
        };
        assert!(allowed.allows("gateway.internal:8080"));
        assert!(allowed.allows("GATEWAY.internal"));
        assert!(!allowed.allows("gateway.internal.attacker.example"));
    }

    #[test]
    fn a_get_needs_no_content_type() {
        let result = check(
            &Method::GET,
            &headers(&[("host", "127.0.0.1:8080")]),
            &"/v1/models".parse().expect("uri"),
            &LOOPBACK,
        );
        assert!(result.is_ok());
    }
}
