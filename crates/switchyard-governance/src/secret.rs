//! Key secrets: made from the operating system's CSPRNG, stored only as SHA-256.
//!
//! A secret is `sy-` and 43 base62 characters (256 bits). With that much entropy a
//! slow password hash would add nothing, and a plain SHA-256 lets a request find its
//! key with one indexed equality.

use sha2::{Digest, Sha256};

pub const PREFIX: &str = "sy-";

/// 43 characters of 62 symbols carry 256.1 bits.
const LENGTH: usize = 43;

const ALPHABET: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// A fresh secret, and the hash it is stored under.
pub fn generate() -> Result<(String, String), getrandom::Error> {
    let mut secret = String::with_capacity(PREFIX.len() + LENGTH);
    secret.push_str(PREFIX);
    let mut bytes = [0u8; 64];
    while secret.len() < PREFIX.len() + LENGTH {
        getrandom::fill(&mut bytes)?;
        // Bytes of 248 and above are dropped so that every symbol is equally likely
        // (248 = 4 × 62).
        for byte in bytes.iter().filter(|byte| **byte < 248) {
            if secret.len() == PREFIX.len() + LENGTH {
                break;
            }
            secret.push(char::from(ALPHABET[usize::from(byte % 62)]));
        }
    }
    let hash = hash(&secret);
    Ok((secret, hash))
}

/// A public id: `prefix_` and 16 random hex digits.
pub fn public_id(prefix: &str) -> Result<String, getrandom::Error> {
    let mut bytes = [0u8; 8];
    getrandom::fill(&mut bytes)?;
    Ok(format!("{prefix}_{:016x}", u64::from_be_bytes(bytes)))
}

/// Lower-case hex SHA-256 of `secret`.
pub fn hash(secret: &str) -> String {
    let digest = Sha256::digest(secret.as_bytes());
    let mut hex = String::with_capacity(64);
    for byte in digest {
        hex.push(char::from(b"0123456789abcdef"[usize::from(byte >> 4)]));
        hex.push(char::from(b"0123456789abcdef"[usize::from(byte & 15)]));
    }
    hex
}

/// Whether `presented` has the shape of a key secret (and so is worth a lookup).
pub fn looks_like_secret(presented: &str) -> bool {
    presented.len() == PREFIX.len() + LENGTH
        && presented.starts_with(PREFIX)
        && presented[PREFIX.len()..]
            .bytes()
            .all(|byte| byte.is_ascii_alphanumeric())
}

/// The last four characters, kept to tell keys apart.
pub fn last4(secret: &str) -> String {
    secret[secret.len().saturating_sub(4)..].to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_long_distinct_and_hash_to_their_stored_form() {
        let (first, first_hash) = generate().expect("entropy");
        let (second, _) = generate().expect("entropy");
        assert_ne!(first, second);
        assert!(looks_like_secret(&first), "{first}");
        assert_eq!(first.len(), 46);
        assert_eq!(hash(&first), first_hash);
        assert_eq!(first_hash.len(), 64);
        assert!(!looks_like_secret("sk-not-ours"));
        assert!(!looks_like_secret(&first[..45]));
        assert_eq!(last4("sy-abcdef"), "cdef");
    }

    #[test]
    fn the_hash_is_sha256() {
        assert_eq!(
            hash("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn every_symbol_turns_up() {
        let mut seen = std::collections::HashSet::new();
        for _ in 0..200 {
            seen.extend(generate().expect("entropy").0.bytes().skip(PREFIX.len()));
        }
        assert_eq!(seen.len(), 62);
    }
}
