//! Model sources: the ways a user names weights for the engine to serve.
//!
//! - a built-in model by name or alias, optionally one of its variants:
//!   `smollm2`, `smollm2-135m-instruct:q4_1`;
//! - a file or directory on this machine: `/models/qwen2.5-0.5b.gguf`, `./minilm` (a
//!   directory holding `model.safetensors`, `config.json` and `tokenizer.json`), or
//!   `file:PATH` for a path that looks like neither;
//! - the Hugging Face hub: `hf:OWNER/REPO/FILE.gguf` for one GGUF file, `hf:OWNER/REPO`
//!   for a sentence-encoder repository, with `@REVISION` after the repository to pin a
//!   branch, tag or commit (`hf:OWNER/REPO@v1.0/FILE.gguf`).
//!
//! Parsing touches nothing; [`crate::resolve`] finds (and, where allowed, fetches) the
//! files.

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

use crate::catalog::{BUILTIN, BuiltinModel, builtin};

/// Where a model's weights come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ModelSource {
    /// A model Switchyard ships, installed by `switchyard pull` into the model store.
    Builtin {
        model: &'static BuiltinModel,
        /// A variant tag (`q4_1`) to serve instead of the default file.
        variant: Option<String>,
    },
    /// A GGUF file or a sentence-encoder directory on this machine.
    Path(PathBuf),
    /// A file or repository on the Hugging Face hub.
    Hub(HubRef),
}

/// A GGUF file, or a whole sentence-encoder repository, on the Hugging Face hub.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HubRef {
    /// `OWNER/REPO`.
    pub repo: String,
    /// A branch, tag or commit; `main` unless given.
    pub revision: String,
    /// The GGUF file's path in the repository; `None` for an encoder repository.
    pub file: Option<String>,
}

/// Hub revision used when a reference names none.
pub const DEFAULT_REVISION: &str = "main";

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SourceError {
    #[error("a model source cannot be empty")]
    Empty,
    #[error(
        "`{0}` is not a built-in model; built in: {builtin}. Other models are named by a path \
         (`/models/x.gguf`, `file:x.gguf`) or a hub reference (`hf:owner/repo/file.gguf`)",
        builtin = builtin_names()
    )]
    UnknownBuiltin(String),
    #[error("`{model}` has no variant `{variant}`; it has: {known}")]
    UnknownVariant {
        model: &'static str,
        variant: String,
        known: String,
    },
    #[error(
        "`{0}` is not a hub reference: write hf:OWNER/REPO/FILE.gguf, or hf:OWNER/REPO for a \
         sentence-encoder repository (with @REVISION after REPO to pin one)"
    )]
    BadHubRef(String),
    #[error("`{0}`: a hub file must be a .gguf (encoder repositories are named without a file)")]
    HubFileNotGguf(String),
}

fn builtin_names() -> String {
    BUILTIN
        .iter()
        .map(|model| model.name)
        .collect::<Vec<_>>()
        .join(", ")
}

impl FromStr for ModelSource {
    type Err = SourceError;

    fn from_str(text: &str) -> Result<Self, SourceError> {
        let text = text.trim();
        if text.is_empty() {
            return Err(SourceError::Empty);
        }
        if let Some(reference) = text.strip_prefix("hf:") {
            return HubRef::parse(reference)
                .map(ModelSource::Hub)
                .ok_or_else(|| SourceError::BadHubRef(text.to_owned()))
                .and_then(|hub| match &hub {
                    ModelSource::Hub(HubRef {
                        file: Some(file), ..
                    }) if !file.ends_with(".gguf") => {
                        Err(SourceError::HubFileNotGguf(text.to_owned()))
                    }
                    _ => Ok(hub),
                });
        }
        if let Some(path) = text.strip_prefix("file:") {
            return Ok(ModelSource::Path(expand_home(path)));
        }
        if looks_like_path(text) {
            return Ok(ModelSource::Path(expand_home(text)));
        }
        let (name, variant) = match text.split_once(':') {
            Some((name, variant)) => (name, Some(variant)),
            None => (text, None),
        };
        let model = builtin(name).ok_or_else(|| SourceError::UnknownBuiltin(text.to_owned()))?;
        if let Some(variant) = variant
            && !model.variants().any(|known| known == variant)
        {
            let known: Vec<&str> = model.variants().collect();
            return Err(SourceError::UnknownVariant {
                model: model.name,
                variant: variant.to_owned(),
                known: if known.is_empty() {
                    "none".to_owned()
                } else {
                    known.join(", ")
                },
            });
        }
        Ok(ModelSource::Builtin {
            model,
            variant: variant.map(str::to_owned),
        })
    }
}

impl fmt::Display for ModelSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ModelSource::Builtin {
                model,
                variant: Some(variant),
            } => write!(f, "{}:{variant}", model.name),
            ModelSource::Builtin {
                model,
                variant: None,
            } => f.write_str(model.name),
            ModelSource::Path(path) => write!(f, "file:{}", path.display()),
            ModelSource::Hub(hub) => hub.fmt(f),
        }
    }
}

impl HubRef {
    /// Parses `OWNER/REPO[@REVISION][/FILE]` (the part after `hf:`).
    fn parse(reference: &str) -> Option<HubRef> {
        let (owner, rest) = reference.split_once('/')?;
        let (repo_part, file) = match rest.split_once('/') {
            Some((repo, file)) => (repo, Some(file)),
            None => (rest, None),
        };
        let (name, revision) = match repo_part.split_once('@') {
            Some((name, revision)) => (name, Some(revision)),
            None => (repo_part, None),
        };
        let valid_segment = |segment: &str| {
            !segment.is_empty()
                && segment != "."
                && segment != ".."
                && segment
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        };
        if !valid_segment(owner) || !valid_segment(name) {
            return None;
        }
        if revision.is_some_and(|revision| revision.is_empty() || revision.contains(['/', ' '])) {
            return None;
        }
        if let Some(file) = file
            && (file.is_empty() || file.split('/').any(|segment| !valid_segment(segment)))
        {
            return None;
        }
        Some(HubRef {
            repo: format!("{owner}/{name}"),
            revision: revision.unwrap_or(DEFAULT_REVISION).to_owned(),
            file: file.map(str::to_owned),
        })
    }
}

impl fmt::Display for HubRef {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "hf:{}", self.repo)?;
        if self.revision != DEFAULT_REVISION {
            write!(f, "@{}", self.revision)?;
        }
        if let Some(file) = &self.file {
            write!(f, "/{file}")?;
        }
        Ok(())
    }
}

fn looks_like_path(text: &str) -> bool {
    text.starts_with('/')
        || text.starts_with("./")
        || text.starts_with("../")
        || text.starts_with("~/")
        || text == "."
        || text.ends_with(".gguf")
}

fn expand_home(path: &str) -> PathBuf {
    match path.strip_prefix("~/") {
        Some(rest) => std::env::var_os("HOME").map_or_else(
            || PathBuf::from(path),
            |home| PathBuf::from(home).join(rest),
        ),
        None => PathBuf::from(path),
    }
}

#[cfg(test)]
mod tests {
    use pretty_assertions::assert_eq;

    use super::*;

    fn parse(text: &str) -> Result<ModelSource, SourceError> {
        text.parse()
    }

    #[test]
    fn builtin_names_aliases_and_variants() {
        let Ok(ModelSource::Builtin { model, variant }) = parse("smollm2") else {
            panic!("an alias names a built-in model");
        };
        assert_eq!((model.name, variant), ("smollm2-135m-instruct", None));
        let Ok(source) = parse("smollm2-135m-instruct:q4_1") else {
            panic!("q4_1 is a variant of SmolLM2");
        };
        assert_eq!(source.to_string(), "smollm2-135m-instruct:q4_1");
        assert!(matches!(
            parse("smollm2:q8_0"),
            Err(SourceError::UnknownVariant { known, .. }) if known == "q4_1"
        ));
        let error = parse("llama3").expect_err("not built in");
        assert!(
            error.to_string().contains("hf:owner/repo/file.gguf"),
            "{error}"
        );
    }

    #[test]
    fn paths() {
        assert_eq!(
            parse("/models/x.gguf"),
            Ok(ModelSource::Path("/models/x.gguf".into()))
        );
        assert_eq!(parse("./minilm"), Ok(ModelSource::Path("./minilm".into())));
        assert_eq!(
            parse("qwen.gguf"),
            Ok(ModelSource::Path("qwen.gguf".into()))
        );
        assert_eq!(
            parse("file:my model"),
            Ok(ModelSource::Path("my model".into()))
        );
    }

    #[test]
    fn hub_references() {
        assert_eq!(
            parse("hf:owner/repo/sub/model-Q4_K_M.gguf"),
            Ok(ModelSource::Hub(HubRef {
                repo: "owner/repo".into(),
                revision: "main".into(),
                file: Some("sub/model-Q4_K_M.gguf".into()),
            }))
        );
        let pinned = parse("hf:owner/repo@v1.0").expect("an encoder repository");
        assert_eq!(
            pinned,
            ModelSource::Hub(HubRef {
                repo: "owner/repo".into(),
                revision: "v1.0".into(),
                file: None,
            })
        );
        assert_eq!(pinned.to_string(), "hf:owner/repo@v1.0");
        for bad in [
            "hf:",
            "hf:owner",
            "hf:/repo",
            "hf:owner/../x.gguf",
            "hf:o/r@/f.gguf",
        ] {
            assert!(
                matches!(parse(bad), Err(SourceError::BadHubRef(_))),
                "{bad} should be refused"
            );
        }
        assert!(matches!(
            parse("hf:owner/repo/model.safetensors"),
            Err(SourceError::HubFileNotGguf(_))
        ));
    }
}
