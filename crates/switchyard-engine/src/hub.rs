//! Models from the Hugging Face hub, through the `hf-hub` crate, into the hub's own
//! cache layout (`models--OWNER--REPO/{blobs,snapshots,refs}`), so files the Python
//! tools already downloaded are reused and ours are shared with them.
//!
//! Large (LFS) files carry their SHA-256 as the hub's ETag, which is also the blob's
//! file name in the cache; every such file is checked against it after download.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use hf_hub::api::tokio::{ApiBuilder, ApiError};
use hf_hub::{Cache, Repo, RepoType};

use crate::pull::{PullProgress, sha256_of};
use crate::source::HubRef;

/// The files a sentence-encoder repository is served from.
pub const ENCODER_FILES: [&str; 3] = ["config.json", "tokenizer.json", "model.safetensors"];

/// Where the hub is and where its files are kept.
#[derive(Clone)]
pub struct HubOptions {
    /// The hub cache (`…/huggingface/hub`).
    pub cache_dir: PathBuf,
    /// The hub's address; `None` is hf-hub's default (the public hub).
    pub endpoint: Option<String>,
    /// An access token for gated or private repositories.
    pub token: Option<String>,
}

impl std::fmt::Debug for HubOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HubOptions")
            .field("cache_dir", &self.cache_dir)
            .field("endpoint", &self.endpoint)
            .field("token", &self.token.as_ref().map(|_| "<redacted>"))
            .finish()
    }
}

impl HubOptions {
    /// The settings the hub's own tools read. Its home is `HF_HOME`, else
    /// `$XDG_CACHE_HOME/huggingface`, else `~/.cache/huggingface`; the cache is
    /// `HF_HUB_CACHE`, else `<home>/hub`; the token is `HF_TOKEN`, else the file
    /// `<home>/token` that `huggingface-cli login` writes; the address is `HF_ENDPOINT`.
    pub fn from_env() -> Self {
        let var = |name: &str| std::env::var(name).ok().filter(|value| !value.is_empty());
        let hf_home = var("HF_HOME").map(PathBuf::from).unwrap_or_else(|| {
            var("XDG_CACHE_HOME")
                .map(PathBuf::from)
                .unwrap_or_else(|| {
                    PathBuf::from(var("HOME").unwrap_or_else(|| ".".to_owned())).join(".cache")
                })
                .join("huggingface")
        });
        let token = var("HF_TOKEN").or_else(|| {
            std::fs::read_to_string(hf_home.join("token"))
                .ok()
                .map(|token| token.trim().to_owned())
                .filter(|token| !token.is_empty())
        });
        HubOptions {
            cache_dir: var("HF_HUB_CACHE").map_or_else(|| hf_home.join("hub"), PathBuf::from),
            endpoint: var("HF_ENDPOINT"),
            token,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum HubError {
    #[error("{reference} is not in the hub cache ({cache}) and downloads are off (--offline)")]
    NotCached { reference: String, cache: PathBuf },
    #[error("cannot download {file} of {reference}: {message}")]
    Download {
        reference: String,
        file: String,
        message: String,
    },
    #[error(
        "{file} of {reference}: SHA-256 is {actual}, but the hub announced {expected}; the download is corrupt"
    )]
    Checksum {
        reference: String,
        file: String,
        expected: String,
        actual: String,
    },
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// The hub files of `reference`: the GGUF file, or the encoder repository's snapshot
/// directory. Cached files are used as they are; missing ones are downloaded unless
/// `offline`.
pub async fn fetch(
    reference: &HubRef,
    options: &HubOptions,
    offline: bool,
    progress: Arc<dyn PullProgress>,
) -> Result<PathBuf, HubError> {
    let files: Vec<&str> = match &reference.file {
        Some(file) => vec![file.as_str()],
        None => ENCODER_FILES.to_vec(),
    };
    if let Some(found) = cached(reference, options, &files) {
        return Ok(found);
    }
    if offline {
        return Err(HubError::NotCached {
            reference: reference.to_string(),
            cache: options.cache_dir.clone(),
        });
    }
    let api = ApiBuilder::from_cache(Cache::new(options.cache_dir.clone()))
        .with_progress(false)
        .with_token(options.token.clone());
    let api = match &options.endpoint {
        Some(endpoint) => api.with_endpoint(endpoint.trim_end_matches('/').to_owned()),
        None => api,
    }
    .build()
    .map_err(|error| download_error(reference, files[0], &error))?;
    // The first file fixes the commit; the others are fetched at that commit, so a
    // branch that moves mid-download cannot mix two versions in one snapshot.
    let mut revision = reference.revision.clone();
    let mut paths = Vec::new();
    for file in &files {
        let repo = Repo::with_revision(reference.repo.clone(), RepoType::Model, revision.clone());
        let reporter = HubProgress::new(progress.clone(), reference.to_string());
        let path = api
            .repo(repo)
            .download_with_progress(file, reporter)
            .await
            .map_err(|error| download_error(reference, file, &error))?;
        let (checked, name, to_check, reporter) = (
            reference.clone(),
            (*file).to_owned(),
            path.clone(),
            progress.clone(),
        );
        tokio::task::spawn_blocking(move || verify(&checked, &name, &to_check, reporter.as_ref()))
            .await
            .map_err(|error| HubError::Io {
                path: path.clone(),
                source: std::io::Error::other(error),
            })??;
        if let Some(commit) = snapshot_commit(&path, file) {
            revision = commit;
        }
        paths.push(path);
    }
    // hf-hub records the ref of the revision it downloaded at; the branch name the
    // caller used must point at the same commit for the cache lookup to find it.
    if revision != reference.revision {
        let repo = Repo::with_revision(
            reference.repo.clone(),
            RepoType::Model,
            reference.revision.clone(),
        );
        Cache::new(options.cache_dir.clone())
            .repo(repo)
            .create_ref(&revision)
            .map_err(|source| HubError::Io {
                path: options.cache_dir.clone(),
                source,
            })?;
    }
    Ok(match &reference.file {
        Some(_) => paths.swap_remove(0),
        None => snapshot_dir(&paths[0], files[0]),
    })
}

/// A model in the hub cache: a GGUF file, or an encoder repository's snapshot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CachedModel {
    /// The reference that serves it (`hf:OWNER/REPO/FILE.gguf`, pinned to its commit
    /// unless a branch or tag points there).
    pub reference: String,
    pub path: PathBuf,
}

/// Every model in the hub cache, sorted by reference.
pub fn cached_models(options: &HubOptions) -> Vec<CachedModel> {
    let mut found = Vec::new();
    let Ok(repos) = std::fs::read_dir(&options.cache_dir) else {
        return found;
    };
    for repo in repos.flatten() {
        let folder = repo.file_name().to_string_lossy().into_owned();
        let Some(id) = folder.strip_prefix("models--") else {
            continue;
        };
        let id = id.replacen("--", "/", 1);
        let refs = read_refs(&repo.path().join("refs"));
        let Ok(snapshots) = std::fs::read_dir(repo.path().join("snapshots")) else {
            continue;
        };
        for snapshot in snapshots.flatten() {
            let commit = snapshot.file_name().to_string_lossy().into_owned();
            let revision = refs
                .iter()
                .filter(|(_, target)| *target == commit)
                .map(|(name, _)| name.as_str())
                .min_by_key(|name| (*name != crate::source::DEFAULT_REVISION, *name))
                .unwrap_or(&commit);
            let at = if revision == crate::source::DEFAULT_REVISION {
                String::new()
            } else {
                format!("@{revision}")
            };
            let dir = snapshot.path();
            if ENCODER_FILES.iter().all(|file| dir.join(file).exists()) {
                found.push(CachedModel {
                    reference: format!("hf:{id}{at}"),
                    path: dir.clone(),
                });
            }
            for file in gguf_files(&dir, &dir) {
                found.push(CachedModel {
                    reference: format!("hf:{id}{at}/{}", file.0),
                    path: file.1,
                });
            }
        }
    }
    found.sort_by(|a, b| a.reference.cmp(&b.reference));
    found
}

/// `refs/NAME` files (branch and tag names, which may contain `/`) → commit.
fn read_refs(dir: &Path) -> Vec<(String, String)> {
    let mut refs = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(current) = pending.pop() {
        let Ok(entries) = std::fs::read_dir(&current) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                pending.push(path);
            } else if let (Ok(name), Ok(commit)) =
                (path.strip_prefix(dir), std::fs::read_to_string(&path))
            {
                refs.push((
                    name.to_string_lossy().into_owned(),
                    commit.trim().to_owned(),
                ));
            }
        }
    }
    refs
}

/// GGUF files under `dir`, as (path relative to `root` with `/`, full path).
fn gguf_files(root: &Path, dir: &Path) -> Vec<(String, PathBuf)> {
    let mut files = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return files;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            files.extend(gguf_files(root, &path));
        } else if path.extension().is_some_and(|ext| ext == "gguf")
            && let Ok(relative) = path.strip_prefix(root)
        {
            let relative: Vec<String> = relative
                .components()
                .map(|part| part.as_os_str().to_string_lossy().into_owned())
                .collect();
            files.push((relative.join("/"), path));
        }
    }
    files
}

/// The cached copy of `files` of `reference`, if all are there.
fn cached(reference: &HubRef, options: &HubOptions, files: &[&str]) -> Option<PathBuf> {
    let repo = Cache::new(options.cache_dir.clone()).repo(Repo::with_revision(
        reference.repo.clone(),
        RepoType::Model,
        reference.revision.clone(),
    ));
    // A revision that is a commit names its snapshot directly; hf-hub only follows refs.
    let is_commit = is_hex_digest(&reference.revision, 40);
    let snapshot = options
        .cache_dir
        .join(Repo::model(reference.repo.clone()).folder_name())
        .join("snapshots")
        .join(&reference.revision);
    let paths: Vec<PathBuf> = files
        .iter()
        .map(|file| {
            repo.get(file).or_else(|| {
                let path = snapshot.join(file);
                (is_commit && path.exists()).then_some(path)
            })
        })
        .collect::<Option<_>>()?;
    Some(match &reference.file {
        Some(_) => paths.into_iter().next()?,
        None => snapshot_dir(&paths[0], files[0]),
    })
}

/// `…/snapshots/COMMIT/sub/file` → `…/snapshots/COMMIT`.
fn snapshot_dir(path: &Path, file: &str) -> PathBuf {
    let mut dir = path.to_path_buf();
    for _ in Path::new(file).components() {
        dir.pop();
    }
    dir
}

fn snapshot_commit(path: &Path, file: &str) -> Option<String> {
    snapshot_dir(path, file)
        .file_name()
        .map(|name| name.to_string_lossy().into_owned())
}

/// Checks a downloaded file against its blob name when that is a SHA-256 (LFS files);
/// small files kept in git are named by their git hash and are not checked here.
fn verify(
    reference: &HubRef,
    file: &str,
    path: &Path,
    progress: &dyn PullProgress,
) -> Result<(), HubError> {
    let blob = std::fs::canonicalize(path).map_err(|source| HubError::Io {
        path: path.to_owned(),
        source,
    })?;
    let Some(expected) = blob
        .file_name()
        .and_then(|name| name.to_str())
        .filter(|name| is_hex_digest(name, 64))
        .map(str::to_ascii_lowercase)
    else {
        return Ok(());
    };
    progress.step(&reference.to_string(), &format!("checking {file}"));
    let actual = sha256_of(&blob, progress).map_err(|source| HubError::Io {
        path: blob.clone(),
        source,
    })?;
    if actual != expected {
        // A corrupt blob must not be found by the next cache lookup.
        let _ = std::fs::remove_file(path);
        let _ = std::fs::remove_file(&blob);
        return Err(HubError::Checksum {
            reference: reference.to_string(),
            file: file.to_owned(),
            expected,
            actual,
        });
    }
    Ok(())
}

/// Whether `text` is `digits` hex digits: a git commit (40) or a SHA-256 (64).
fn is_hex_digest(text: &str, digits: usize) -> bool {
    text.len() == digits && text.bytes().all(|b| b.is_ascii_hexdigit())
}

fn download_error(reference: &HubRef, file: &str, error: &ApiError) -> HubError {
    HubError::Download {
        reference: reference.to_string(),
        file: file.to_owned(),
        message: error.to_string(),
    }
}

/// hf-hub's progress callbacks, forwarded to a [`PullProgress`]. Clones share counts:
/// hf-hub hands one to each chunk it downloads.
#[derive(Clone)]
struct HubProgress {
    inner: Arc<dyn PullProgress>,
    model: String,
    done: Arc<AtomicU64>,
    total: Arc<AtomicU64>,
}

impl HubProgress {
    fn new(inner: Arc<dyn PullProgress>, model: String) -> Self {
        HubProgress {
            inner,
            model,
            done: Arc::new(AtomicU64::new(0)),
            total: Arc::new(AtomicU64::new(0)),
        }
    }
}

impl hf_hub::api::tokio::Progress for HubProgress {
    async fn init(&mut self, size: usize, filename: &str) {
        self.total.store(size as u64, Ordering::Relaxed);
        self.inner
            .step(&self.model, &format!("downloading {filename}"));
    }

    async fn update(&mut self, size: usize) {
        let done = self.done.fetch_add(size as u64, Ordering::Relaxed) + size as u64;
        self.inner.bytes(done, self.total.load(Ordering::Relaxed));
    }

    async fn finish(&mut self) {}
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snapshot_dir_strips_the_file_path() {
        let path = Path::new("/c/models--o--r/snapshots/abc/sub/x.gguf");
        assert_eq!(
            snapshot_dir(path, "sub/x.gguf"),
            Path::new("/c/models--o--r/snapshots/abc")
        );
        assert_eq!(snapshot_commit(path, "sub/x.gguf").as_deref(), Some("abc"));
    }

    #[test]
    fn debug_output_hides_the_token() {
        let options = HubOptions {
            cache_dir: "/c".into(),
            endpoint: None,
            token: Some("hf_secret".into()),
        };
        assert!(!format!("{options:?}").contains("hf_secret"));
    }
}
