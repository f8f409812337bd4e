//! A mock Hugging Face hub: the file-resolution endpoint model downloaders use,
//! `GET /{owner}/{repo}/resolve/{revision}/{path}`, as the hub answers it:
//!
//! - `X-Repo-Commit`: the commit the revision resolves to;
//! - `ETag`: for large (LFS) files the SHA-256 of the content (quoted), as the hub does;
//!   for small files kept in git, a git-style 40-hex hash;
//! - `Range: bytes=a-b` answered with `206` and `Content-Range: bytes a-b/size`
//!   (downloaders probe the size with `bytes=0-0`);
//! - `404` with `X-Error-Code: EntryNotFound` or `RevisionNotFound`, and `401` with
//!   `X-Error-Code: GatedRepo` when a token is required and missing.
//!
//! Files are served from memory; every request is recorded.

use std::collections::HashMap;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use bytes::Bytes;
use sha2::{Digest, Sha256};
use tokio::net::TcpListener;

/// Files at or above this size are "LFS" files: their ETag is their SHA-256.
const LFS_THRESHOLD: usize = 10 * 1024;

/// One repository the mock hub serves.
#[derive(Debug, Clone)]
pub struct HubRepo {
    /// `owner/name`.
    pub id: String,
    /// The commit every revision of it resolves to (40 hex digits).
    pub commit: String,
    /// Branch and tag names that resolve to `commit` (besides the commit itself).
    pub revisions: Vec<String>,
    /// Path in the repository → content.
    pub files: HashMap<String, Bytes>,
}

impl HubRepo {
    /// A repository with a `main` branch and a commit derived from its id.
    pub fn new(id: &str) -> HubRepo {
        HubRepo {
            id: id.to_owned(),
            commit: hex(&Sha256::digest(id.as_bytes()))[..40].to_owned(),
            revisions: vec!["main".to_owned()],
            files: HashMap::new(),
        }
    }

    pub fn file(mut self, path: &str, content: impl Into<Bytes>) -> HubRepo {
        self.files.insert(path.to_owned(), content.into());
        self
    }
}

/// What the mock hub saw.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HubRequest {
    pub path: String,
    pub range: Option<String>,
    pub authorization: Option<String>,
}

struct Shared {
    repos: Vec<HubRepo>,
    token: Option<String>,
    /// Path → an ETag to announce instead of the true one (to test corrupt downloads).
    wrong_etags: HashMap<String, String>,
    requests: Mutex<Vec<HubRequest>>,
}

/// The running mock; the server stops when this is dropped.
pub struct MockHub {
    addr: SocketAddr,
    shared: Arc<Shared>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for MockHub {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Builds a [`MockHub`].
#[derive(Default)]
pub struct MockHubBuilder {
    repos: Vec<HubRepo>,
    token: Option<String>,
    wrong_etags: HashMap<String, String>,
}

impl MockHubBuilder {
    pub fn repo(mut self, repo: HubRepo) -> Self {
        self.repos.push(repo);
        self
    }

    /// Requires `Authorization: Bearer <token>` on every request.
    pub fn token(mut self, token: &str) -> Self {
        self.token = Some(token.to_owned());
        self
    }

    /// Announces `etag` for the file at `repo_path` (`owner/name/file`), whatever its
    /// content: a hub that sends bytes not matching their checksum.
    pub fn wrong_etag(mut self, repo_path: &str, etag: &str) -> Self {
        self.wrong_etags
            .insert(repo_path.to_owned(), etag.to_owned());
        self
    }

    pub async fn start(self) -> MockHub {
        let listener = TcpListener::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, 0)))
            .await
            .expect("binding a loopback port for the mock hub");
        let addr = listener.local_addr().expect("the mock hub's address");
        let shared = Arc::new(Shared {
            repos: self.repos,
            token: self.token,
            wrong_etags: self.wrong_etags,
            requests: Mutex::new(Vec::new()),
        });
        let router = Router::new()
            .route("/{owner}/{name}/resolve/{revision}/{*path}", get(resolve))
            .with_state(shared.clone());
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, router).await;
        });
        MockHub { addr, shared, task }
    }
}

impl MockHub {
    pub fn builder() -> MockHubBuilder {
        MockHubBuilder::default()
    }

    /// The endpoint to give a downloader (`HF_ENDPOINT`).
    pub fn endpoint(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn requests(&self) -> Vec<HubRequest> {
        self.shared
            .requests
            .lock()
            .expect("the request log is never poisoned")
            .clone()
    }
}

async fn resolve(
    State(shared): State<Arc<Shared>>,
    Path((owner, name, revision, path)): Path<(String, String, String, String)>,
    headers: HeaderMap,
) -> Response {
    let header_text = |name| {
        headers
            .get(name)
            .and_then(|value: &HeaderValue| value.to_str().ok())
            .map(str::to_owned)
    };
    let range = header_text(header::RANGE);
    let authorization = header_text(header::AUTHORIZATION);
    shared
        .requests
        .lock()
        .expect("the request log is never poisoned")
        .push(HubRequest {
            path: format!("{owner}/{name}/resolve/{revision}/{path}"),
            range: range.clone(),
            authorization: authorization.clone(),
        });
    if let Some(token) = &shared.token
        && authorization.as_deref() != Some(format!("Bearer {token}").as_str())
    {
        return error(
            StatusCode::UNAUTHORIZED,
            "GatedRepo",
            "Access to this repository is restricted.",
        );
    }
    let id = format!("{owner}/{name}");
    let Some(repo) = shared.repos.iter().find(|repo| repo.id == id) else {
        return error(
            StatusCode::UNAUTHORIZED,
            "RepoNotFound",
            "Repository not found.",
        );
    };
    if revision != repo.commit && !repo.revisions.contains(&revision) {
        return error(StatusCode::NOT_FOUND, "RevisionNotFound", "Invalid rev id.");
    }
    let Some(content) = repo.files.get(&path) else {
        return error(StatusCode::NOT_FOUND, "EntryNotFound", "Entry not found.");
    };
    let etag = match shared.wrong_etags.get(&format!("{id}/{path}")) {
        Some(etag) => etag.clone(),
        None if content.len() >= LFS_THRESHOLD => hex(&Sha256::digest(content)),
        None => hex(&Sha256::digest(content))[..40].to_owned(),
    };
    let size = content.len();
    let (status, body, content_range) = match range.as_deref().and_then(|r| parse_range(r, size)) {
        Some((start, end)) => (
            StatusCode::PARTIAL_CONTENT,
            content.slice(start..=end),
            Some(format!("bytes {start}-{end}/{size}")),
        ),
        None => (StatusCode::OK, content.clone(), None),
    };
    let mut response = (status, Body::from(body)).into_response();
    let response_headers = response.headers_mut();
    let mut set = |name: &'static str, value: String| {
        if let Ok(value) = HeaderValue::from_str(&value) {
            response_headers.insert(name, value);
        }
    };
    set("x-repo-commit", repo.commit.clone());
    set("etag", format!("\"{etag}\""));
    set("accept-ranges", "bytes".to_owned());
    if let Some(content_range) = content_range {
        set("content-range", content_range);
    }
    response
}

/// `bytes=a-b` (b clamped to the last byte) or `bytes=a-`; `None` when unsatisfiable.
fn parse_range(range: &str, size: usize) -> Option<(usize, usize)> {
    let spec = range.strip_prefix("bytes=")?;
    let (start, end) = spec.split_once('-')?;
    let start: usize = start.parse().ok()?;
    let last = size.checked_sub(1)?;
    let end = if end.is_empty() {
        last
    } else {
        end.parse::<usize>().ok()?.min(last)
    };
    (start <= end).then_some((start, end))
}

fn error(status: StatusCode, code: &'static str, message: &'static str) -> Response {
    let mut response =
        (status, axum::Json(serde_json::json!({ "error": message }))).into_response();
    response
        .headers_mut()
        .insert("x-error-code", HeaderValue::from_static(code));
    response
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|byte| format!("{byte:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::parse_range;

    #[test]
    fn ranges() {
        assert_eq!(parse_range("bytes=0-0", 10), Some((0, 0)));
        assert_eq!(parse_range("bytes=2-100", 10), Some((2, 9)));
        assert_eq!(parse_range("bytes=4-", 10), Some((4, 9)));
        assert_eq!(parse_range("bytes=11-12", 10), None);
        assert_eq!(parse_range("bytes=0-0", 0), None);
    }
}
