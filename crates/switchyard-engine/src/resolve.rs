//! From a [`ModelSource`] to files on disk: the model store for built-in models (pulled
//! when missing), the disk itself for paths, the hub cache for hub references
//! (downloaded when missing). Downloads happen only when the resolver is not offline.

use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::catalog::{BuiltinModel, ModelKind};
use crate::hub::{ENCODER_FILES, HubError, HubOptions};
use crate::pull::{PullError, PullOptions, PullProgress};
use crate::source::ModelSource;
use crate::store::ModelStore;

/// A model's files, found and ready to load.
#[derive(Debug, Clone, PartialEq)]
pub struct ResolvedModel {
    /// The source, as [`ModelSource`] writes it.
    pub source: String,
    pub kind: ModelKind,
    /// The GGUF file, or the directory of a sentence encoder.
    pub path: PathBuf,
    /// `llama`, `gemma3`, `bert`…
    pub architecture: Option<String>,
    /// Size of the weights on disk.
    pub bytes: u64,
    pub description: String,
}

#[derive(Debug, thiserror::Error)]
pub enum ResolveError {
    #[error(
        "{model} is not installed and downloads are off (--offline); run `switchyard pull {model}`"
    )]
    NotInstalled { model: String },
    #[error(transparent)]
    Pull(#[from] PullError),
    #[error(transparent)]
    Hub(#[from] HubError),
    #[error("{path}: no such file or directory")]
    Missing { path: PathBuf },
    #[error("{path}: {reason}")]
    NotAModel { path: PathBuf, reason: String },
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// Finds models' files; see the module docs.
#[derive(Debug, Clone)]
pub struct Resolver {
    pub store: ModelStore,
    pub hub: HubOptions,
    /// Never download: only what is installed or cached is found.
    pub offline: bool,
    pub pull: PullOptions,
}

impl Resolver {
    pub async fn resolve(
        &self,
        source: &ModelSource,
        progress: Arc<dyn PullProgress>,
    ) -> Result<ResolvedModel, ResolveError> {
        match source {
            ModelSource::Builtin { model, variant } => {
                self.builtin(source, model, variant.as_deref(), progress)
                    .await
            }
            ModelSource::Path(path) => inspect(path, source),
            ModelSource::Hub(reference) => {
                let path = crate::hub::fetch(reference, &self.hub, self.offline, progress).await?;
                inspect(&path, source)
            }
        }
    }

    /// A built-in model from the store, pulled first when missing (unless offline).
    async fn builtin(
        &self,
        source: &ModelSource,
        model: &'static BuiltinModel,
        variant: Option<&str>,
        progress: Arc<dyn PullProgress>,
    ) -> Result<ResolvedModel, ResolveError> {
        let manifest = if self.offline {
            self.store
                .manifest(model.name)
                .map_err(|error| self.store_error(error))?
                .ok_or_else(|| ResolveError::NotInstalled {
                    model: model.name.to_owned(),
                })?
        } else {
            // `ensure` returns an installed manifest at once and pulls a missing one.
            let (store, options) = (self.store.clone(), self.pull.clone());
            tokio::task::spawn_blocking(move || {
                crate::pull::ensure(&store, model, &options, progress.as_ref())
            })
            .await
            .map_err(|error| self.store_error(std::io::Error::other(error)))??
        };
        let file = match variant {
            Some(tag) => manifest
                .variants
                .iter()
                .find(|known| known.tag == tag)
                .map(|known| known.file.clone())
                // Installed before the variant existed: pull again to get it.
                .ok_or_else(|| ResolveError::NotInstalled {
                    model: format!("{}:{tag}", model.name),
                })?,
            None => manifest.entry.clone(),
        };
        let dir = self.store.model_dir(model.name);
        // A GGUF is one file (of several variants); an encoder is all of them.
        let bytes = match model.kind {
            ModelKind::Embedding => manifest.total_bytes(),
            _ => manifest
                .files
                .iter()
                .find(|installed| installed.name == file)
                .map_or_else(|| manifest.total_bytes(), |installed| installed.bytes),
        };
        Ok(ResolvedModel {
            source: source.to_string(),
            kind: model.kind,
            path: if model.kind == ModelKind::Embedding {
                dir
            } else {
                dir.join(file)
            },
            architecture: manifest.architecture,
            bytes,
            description: model.description.to_owned(),
        })
    }

    fn store_error(&self, source: std::io::Error) -> ResolveError {
        ResolveError::Io {
            path: self.store.root().to_owned(),
            source,
        }
    }
}

/// What the file or directory at `path` holds: a GGUF model (chat when it carries a
/// chat template, else a base model), or a BERT sentence encoder directory.
pub fn inspect(path: &Path, source: &ModelSource) -> Result<ResolvedModel, ResolveError> {
    let metadata = std::fs::metadata(path).map_err(|error| match error.kind() {
        std::io::ErrorKind::NotFound => ResolveError::Missing {
            path: path.to_owned(),
        },
        _ => ResolveError::Io {
            path: path.to_owned(),
            source: error,
        },
    })?;
    if metadata.is_dir() {
        return inspect_encoder(path, source);
    }
    let not_a_model = |reason: &str| ResolveError::NotAModel {
        path: path.to_owned(),
        reason: reason.to_owned(),
    };
    let mut magic = [0; 4];
    std::fs::File::open(path)
        .and_then(|mut file| file.read_exact(&mut magic))
        .map_err(|_| not_a_model("not a GGUF file (too short)"))?;
    if &magic != b"GGUF" {
        return Err(not_a_model(
            "not a GGUF file; models on disk are GGUF files or sentence-encoder directories (model.safetensors, config.json, tokenizer.json)",
        ));
    }
    let gguf = crate::gguf::GgufMetadata::open(path)
        .ok_or_else(|| not_a_model("a GGUF file whose metadata cannot be read"))?;
    let architecture = gguf.architecture();
    let has_template = gguf.string("tokenizer.chat_template").is_some();
    let name = gguf.string("general.name");
    let kind = if has_template {
        ModelKind::Chat
    } else {
        ModelKind::Completion
    };
    Ok(ResolvedModel {
        source: source.to_string(),
        kind,
        path: path.to_owned(),
        description: format!(
            "{} ({}, GGUF{})",
            name.as_deref().unwrap_or("a local model"),
            architecture.as_deref().unwrap_or("unknown architecture"),
            if has_template {
                ""
            } else {
                ", no chat template"
            }
        ),
        architecture,
        bytes: metadata.len(),
    })
}

fn inspect_encoder(dir: &Path, source: &ModelSource) -> Result<ResolvedModel, ResolveError> {
    let missing: Vec<&str> = ENCODER_FILES
        .iter()
        .copied()
        .filter(|file| !dir.join(file).is_file())
        .collect();
    if !missing.is_empty() {
        return Err(ResolveError::NotAModel {
            path: dir.to_owned(),
            reason: format!(
                "a sentence-encoder directory needs {}; missing: {}",
                ENCODER_FILES.join(", "),
                missing.join(", ")
            ),
        });
    }
    let config_path = dir.join("config.json");
    let config: serde_json::Value = std::fs::read(&config_path)
        .ok()
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .ok_or_else(|| ResolveError::NotAModel {
            path: config_path.clone(),
            reason: "not a JSON model config".to_owned(),
        })?;
    let model_type = config["model_type"].as_str().unwrap_or("unknown");
    if model_type != "bert" {
        return Err(ResolveError::NotAModel {
            path: config_path,
            reason: format!(
                "model_type `{model_type}`: the embedding engine runs BERT encoders (MiniLM, BGE, E5)"
            ),
        });
    }
    let weights = dir.join("model.safetensors");
    let bytes = std::fs::metadata(&weights)
        .map_err(|source| ResolveError::Io {
            path: weights,
            source,
        })?
        .len();
    Ok(ResolvedModel {
        source: source.to_string(),
        kind: ModelKind::Embedding,
        path: dir.to_owned(),
        architecture: Some(model_type.to_owned()),
        bytes,
        description: format!(
            "{} (BERT sentence encoder)",
            config["_name_or_path"]
                .as_str()
                .unwrap_or("a local encoder")
        ),
    })
}
