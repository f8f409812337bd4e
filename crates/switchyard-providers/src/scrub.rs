//! Keeps secrets out of error messages that echo upstream text.
//!
//! Upstreams quote the key they rejected ("Incorrect API key provided: sk-abc..."), and
//! a proxy in front of them may quote a header. Messages pass through [`scrub`] before
//! they reach a log line or a caller.

/// Replaces every occurrence of the known `secrets`, and anything shaped like a vendor
/// API key (`sk-…`, `xai-…`, `gsk_…`, `AIza…`, `AKIA…`, `sy-…` followed by 16+ key
/// characters), with `***`.
pub fn scrub(message: &str, secrets: &[&str]) -> String {
    let mut scrubbed = message.to_owned();
    for secret in secrets.iter().filter(|secret| secret.len() >= 8) {
        scrubbed = scrubbed.replace(secret, "***");
    }
    scrub_key_shapes(&scrubbed)
}

/// Vendor key shapes: OpenAI and most OpenAI-compatible hosts, xAI, Groq, Google
/// (`AIza…`), AWS access key ids (`AKIA…`, `ASIA…`) and Switchyard's own virtual keys.
const KEY_PREFIXES: [&str; 9] = [
    "sk-", "sk_", "xai-", "gsk_", "pk-", "AIza", "AKIA", "ASIA", "sy-",
];
const MIN_KEY_BODY: usize = 16;

fn is_key_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '-' || c == '_'
}

fn scrub_key_shapes(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    let mut rest = message;
    'scan: while !rest.is_empty() {
        for prefix in KEY_PREFIXES {
            // A key starts at a word boundary: the previous char is not a key char.
            let at_boundary = !out.chars().next_back().is_some_and(is_key_char);
            if at_boundary && rest.starts_with(prefix) {
                let body_len = rest[prefix.len()..]
                    .chars()
                    .take_while(|c| is_key_char(*c))
                    .map(char::len_utf8)
                    .sum::<usize>();
                if body_len >= MIN_KEY_BODY {
                    out.push_str(prefix);
                    out.push_str("***");
                    rest = &rest[prefix.len() + body_len..];
                    continue 'scan;
                }
            }
        }
        let mut chars = rest.chars();
        if let Some(c) = chars.next() {
            out.push(c);
        }
        rest = chars.as_str();
    }
    out
}

#[cfg(test)]
mod tests {
    use super::scrub;

    #[test]
    fn removes_known_secrets_and_key_shapes() {
        assert_eq!(
            scrub(
                "Incorrect API key provided: sk-proj-abcdefghijklmnop1234.",
                &[]
            ),
            "Incorrect API key provided: sk-***."
        );
        assert_eq!(
            scrub("token hunter2hunter2 rejected", &["hunter2hunter2"]),
            "token *** rejected"
        );
        assert_eq!(
            scrub("ask-me-anything is fine", &[]),
            "ask-me-anything is fine"
        );
        assert_eq!(scrub("sk-short", &[]), "sk-short");
        assert_eq!(scrub("ünïcödé sk-", &["ab"]), "ünïcödé sk-");
        for (key, shape) in [
            ("AIzaSyA1234567890abcdefghijklmnopqrstu", "AIza***"),
            ("AKIAIOSFODNN7EXAMPLE", "AKIA***"),
            ("sy-0123456789abcdefghijABCDEFGHIJ0123456789abc", "sy-***"),
        ] {
            assert_eq!(
                scrub(&format!("bad key {key}!"), &[]),
                format!("bad key {shape}!")
            );
        }
    }
}
