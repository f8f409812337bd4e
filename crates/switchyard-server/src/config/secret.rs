//! Secret references: the config file names where a secret lives, never the secret.
//!
//! `env:NAME` reads an environment variable and `file:PATH` a file (its trailing
//! newlines trimmed, as `echo` and most secret mounts add one). Anything else is refused
//! as a literal secret, and the refusal does not repeat the value. Resolution takes the
//! environment as a lookup function so tests can inject one without touching the
//! process environment.

use std::path::{Path, PathBuf};

use secrecy::SecretString;

/// Where a secret lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SecretRef {
    /// `env:NAME`: the environment variable `NAME`.
    Env(String),
    /// `file:PATH`: the contents of a file, without trailing newlines.
    File(PathBuf),
}

/// Why a string is not a secret reference.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SecretRefError {
    #[error(
        "expected a secret reference, `env:NAME` or `file:PATH`; secrets may not be written in the config file"
    )]
    Literal,
    #[error("`env:` needs an environment variable name")]
    EmptyEnvName,
    #[error("`file:` needs a path")]
    EmptyPath,
}

/// Why a secret reference could not be resolved.
#[derive(Debug, thiserror::Error)]
pub enum SecretError {
    #[error("environment variable `{name}` is not set")]
    EnvUnset { name: String },
    #[error("environment variable `{name}` is empty")]
    EnvEmpty { name: String },
    #[error("cannot read secret file `{}`", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("secret file `{}` is not valid UTF-8", path.display())]
    NotUtf8 { path: PathBuf },
    #[error("secret file `{}` is empty", path.display())]
    FileEmpty { path: PathBuf },
}

impl SecretRef {
    /// Parses `env:NAME` or `file:PATH`.
    ///
    /// # Errors
    ///
    /// Anything else, which would be a secret written in the file, and an empty name or
    /// path.
    pub fn parse(text: &str) -> Result<SecretRef, SecretRefError> {
        if let Some(name) = text.strip_prefix("env:") {
            if name.is_empty() {
                return Err(SecretRefError::EmptyEnvName);
            }
            Ok(SecretRef::Env(name.to_owned()))
        } else if let Some(path) = text.strip_prefix("file:") {
            if path.is_empty() {
                return Err(SecretRefError::EmptyPath);
            }
            Ok(SecretRef::File(PathBuf::from(path)))
        } else {
            Err(SecretRefError::Literal)
        }
    }

    /// Resolves relative `file:` paths against `base` (the config file's directory).
    #[must_use]
    pub fn relative_to(self, base: &Path) -> SecretRef {
        match self {
            SecretRef::File(path) if path.is_relative() => SecretRef::File(base.join(path)),
            other => other,
        }
    }

    /// Reads the secret, looking environment variables up with `lookup`.
    ///
    /// # Errors
    ///
    /// An unset or empty variable; an unreadable, non-UTF-8 or empty file.
    pub fn resolve_with(
        &self,
        lookup: impl Fn(&str) -> Option<String>,
    ) -> Result<SecretString, SecretError> {
        match self {
            SecretRef::Env(name) => match lookup(name) {
                None => Err(SecretError::EnvUnset { name: name.clone() }),
                Some(value) if value.is_empty() => {
                    Err(SecretError::EnvEmpty { name: name.clone() })
                }
                Some(value) => Ok(SecretString::from(value)),
            },
            SecretRef::File(path) => {
                let bytes = std::fs::read(path).map_err(|source| SecretError::Read {
                    path: path.clone(),
                    source,
                })?;
                let mut text = String::from_utf8(bytes)
                    .map_err(|_| SecretError::NotUtf8 { path: path.clone() })?;
                let trimmed_len = text.trim_end_matches(['\n', '\r']).len();
                text.truncate(trimmed_len);
                if text.is_empty() {
                    return Err(SecretError::FileEmpty { path: path.clone() });
                }
                Ok(SecretString::from(text))
            }
        }
    }

    /// Reads the secret from the process environment or the file system.
    ///
    /// # Errors
    ///
    /// As for [`SecretRef::resolve_with`].
    pub fn resolve(&self) -> Result<SecretString, SecretError> {
        self.resolve_with(env_lookup)
    }
}

impl std::str::FromStr for SecretRef {
    type Err = SecretRefError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        SecretRef::parse(text)
    }
}

/// Looks a variable up in the process environment; a value that is not Unicode counts
/// as unset.
pub(crate) fn env_lookup(name: &str) -> Option<String> {
    std::env::var(name).ok()
}
