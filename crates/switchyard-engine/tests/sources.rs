//! Model sources end to end: built-in variants, files and directories on disk, and the
//! Hugging Face hub — downloads from a mock hub on loopback, which serves the real
//! built-in model files, and lookups in a hand-made hub cache layout.
//!
//! The built-in models are pulled into `$SWITCHYARD_TEST_HOME` first, as for the
//! engine tests.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use sha2::{Digest, Sha256};
use switchyard_engine::embed::SentenceEncoder;
use switchyard_engine::hub::{HubError, HubOptions};
use switchyard_engine::llama::{TextModel, TextModelOptions};
use switchyard_engine::pull::{PullOptions, Quiet};
use switchyard_engine::resolve::{ResolveError, Resolver};
use switchyard_engine::source::ModelSource;
use switchyard_engine::{ModelKind, ModelStore, builtin};
use switchyard_testkit::{HubRepo, MockHub};

fn home() -> PathBuf {
    std::env::var_os("SWITCHYARD_TEST_HOME")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(std::env::var_os("HOME").expect("HOME is set"))
                .join(".cache/switchyard/home")
        })
}

/// The installed directory of a built-in model, pulling it if needed.
fn installed(name: &str) -> PathBuf {
    let store = ModelStore::under(&home());
    let model = builtin(name).expect("a built-in model");
    switchyard_engine::pull::ensure(&store, model, &PullOptions::default(), &Quiet).unwrap_or_else(
        |error| {
            panic!(
                "these tests need {name}, which could not be pulled into {}: {error}",
                store.root().display()
            )
        },
    );
    store.model_dir(model.name)
}

fn smollm2_q4_1() -> PathBuf {
    installed("smollm2-135m-instruct").join("smollm2-135m-instruct.q4_1.gguf")
}

fn resolver(hub_cache: &Path, endpoint: Option<String>, offline: bool) -> Resolver {
    Resolver {
        store: ModelStore::under(&home()),
        hub: HubOptions {
            cache_dir: hub_cache.to_owned(),
            endpoint,
            token: None,
        },
        offline,
        pull: PullOptions::default(),
    }
}

fn source(text: &str) -> ModelSource {
    text.parse().expect("a valid source")
}

fn sha256(path: &Path) -> String {
    let bytes = std::fs::read(path).expect("readable");
    Sha256::digest(&bytes)
        .iter()
        .map(|byte| format!("{byte:02x}"))
        .collect()
}

fn encoder_repo(id: &str) -> HubRepo {
    let dir = installed("all-minilm-l6-v2");
    ["config.json", "tokenizer.json", "model.safetensors"]
        .into_iter()
        .fold(HubRepo::new(id), |repo, file| {
            repo.file(file, std::fs::read(dir.join(file)).expect("readable"))
        })
}

#[tokio::test]
async fn a_hub_gguf_is_downloaded_checked_cached_and_answers() {
    let original = smollm2_q4_1();
    let hub = MockHub::builder()
        .repo(
            HubRepo::new("HuggingFaceTB/SmolLM2-135M-Instruct-GGUF").file(
                "quantized/smollm2-135m-instruct-q4_1.gguf",
                std::fs::read(&original).expect("readable"),
            ),
        )
        .start()
        .await;
    let cache = tempfile::tempdir().expect("a temporary directory");
    let reference = source(
        "hf:HuggingFaceTB/SmolLM2-135M-Instruct-GGUF/quantized/smollm2-135m-instruct-q4_1.gguf",
    );

    let online = resolver(cache.path(), Some(hub.endpoint()), false);
    let resolved = online
        .resolve(&reference, Arc::new(Quiet))
        .await
        .expect("downloads from the mock hub");
    assert_eq!(
        resolved.kind,
        ModelKind::Chat,
        "the GGUF carries a chat template"
    );
    assert_eq!(resolved.architecture.as_deref(), Some("llama"));
    assert_eq!(
        resolved.bytes,
        std::fs::metadata(&original).expect("exists").len()
    );
    assert_eq!(sha256(&resolved.path), sha256(&original));
    assert!(
        resolved.path.starts_with(
            cache
                .path()
                .join("models--HuggingFaceTB--SmolLM2-135M-Instruct-GGUF/snapshots")
        ),
        "stored in the hub's cache layout: {}",
        resolved.path.display()
    );
    let requests = hub.requests();
    assert_eq!(
        requests[0].range.as_deref(),
        Some("bytes=0-0"),
        "the size is probed first"
    );

    // Cached: found again offline, without asking the hub.
    let offline = resolver(cache.path(), None, true);
    let again = offline
        .resolve(&reference, Arc::new(Quiet))
        .await
        .expect("found in the cache");
    assert_eq!(again.path, resolved.path);
    assert_eq!(hub.requests().len(), requests.len());

    // And it is a working model.
    let model = TextModel::load(
        "hub-smollm2",
        resolved.kind,
        &resolved.path,
        TextModelOptions::default(),
    )
    .expect("the downloaded model loads");
    assert_eq!(model.architecture(), "llama");
}

#[tokio::test]
async fn a_hub_encoder_repository_embeds_like_the_builtin_one() {
    let hub = MockHub::builder()
        .repo(encoder_repo("sentence-transformers/all-MiniLM-L6-v2"))
        .token("hf_test_token")
        .start()
        .await;
    let cache = tempfile::tempdir().expect("a temporary directory");
    let mut online = resolver(cache.path(), Some(hub.endpoint()), false);
    online.hub.token = Some("hf_test_token".to_owned());
    let resolved = online
        .resolve(
            &source("hf:sentence-transformers/all-MiniLM-L6-v2"),
            Arc::new(Quiet),
        )
        .await
        .expect("downloads the three files");
    assert_eq!(resolved.kind, ModelKind::Embedding);
    assert_eq!(resolved.architecture.as_deref(), Some("bert"));
    assert!(
        hub.requests()
            .iter()
            .all(|request| request.authorization.as_deref() == Some("Bearer hf_test_token")),
        "the token goes with every request"
    );

    let from_hub = SentenceEncoder::load(&resolved.path).expect("loads from the snapshot");
    let builtin = SentenceEncoder::load(&installed("all-minilm-l6-v2")).expect("loads");
    let text = vec!["The river runs to the sea.".to_owned()];
    let (a, _) = from_hub.encode(&text).expect("embeds");
    let (b, _) = builtin.encode(&text).expect("embeds");
    assert_eq!(a[0].len(), 384);
    assert_eq!(a, b, "same weights, same vector");
}

#[tokio::test]
async fn a_gated_repository_without_a_token_is_a_clear_error() {
    let hub = MockHub::builder()
        .repo(encoder_repo("org/gated-encoder"))
        .token("hf_needed")
        .start()
        .await;
    let cache = tempfile::tempdir().expect("a temporary directory");
    let error = resolver(cache.path(), Some(hub.endpoint()), false)
        .resolve(&source("hf:org/gated-encoder"), Arc::new(Quiet))
        .await
        .expect_err("no token");
    let message = error.to_string();
    assert!(
        message.contains("hf:org/gated-encoder") && message.contains("401"),
        "{message}"
    );
}

#[tokio::test]
async fn a_download_that_does_not_match_its_checksum_is_refused_and_not_cached() {
    let content = vec![7u8; 64 * 1024];
    let wrong = "0".repeat(64);
    let hub = MockHub::builder()
        .repo(HubRepo::new("org/broken").file("model.gguf", content))
        .wrong_etag("org/broken/model.gguf", &wrong)
        .start()
        .await;
    let cache = tempfile::tempdir().expect("a temporary directory");
    let reference = source("hf:org/broken/model.gguf");
    let error = resolver(cache.path(), Some(hub.endpoint()), false)
        .resolve(&reference, Arc::new(Quiet))
        .await
        .expect_err("the checksum does not match");
    assert!(
        matches!(error, ResolveError::Hub(HubError::Checksum { ref expected, .. }) if *expected == wrong),
        "{error}"
    );
    let offline = resolver(cache.path(), None, true)
        .resolve(&reference, Arc::new(Quiet))
        .await
        .expect_err("nothing was cached");
    assert!(
        matches!(offline, ResolveError::Hub(HubError::NotCached { .. })),
        "{offline}"
    );
    assert!(offline.to_string().contains("--offline"), "{offline}");
}

#[tokio::test]
async fn a_hand_made_hub_cache_layout_is_found_offline() {
    // The layout the hub's Python tools write: refs name commits, snapshots link blobs.
    let cache = tempfile::tempdir().expect("a temporary directory");
    let repo = cache.path().join("models--acme--tiny-chat");
    let commit = "0123456789abcdef0123456789abcdef01234567";
    let original = smollm2_q4_1();
    let blob = repo.join("blobs").join(sha256(&original));
    std::fs::create_dir_all(blob.parent().expect("has a parent")).expect("mkdir");
    std::os::unix::fs::symlink(&original, &blob).expect("blob link");
    let snapshot = repo.join("snapshots").join(commit);
    std::fs::create_dir_all(&snapshot).expect("mkdir");
    std::os::unix::fs::symlink(&blob, snapshot.join("tiny.gguf")).expect("pointer link");
    std::fs::create_dir_all(repo.join("refs")).expect("mkdir");
    std::fs::write(repo.join("refs/main"), commit).expect("ref");
    std::fs::create_dir_all(repo.join("refs/release")).expect("mkdir");
    std::fs::write(repo.join("refs/release/v1"), commit).expect("nested ref");

    let offline = resolver(cache.path(), None, true);
    let resolved = offline
        .resolve(&source("hf:acme/tiny-chat/tiny.gguf"), Arc::new(Quiet))
        .await
        .expect("found in the cache");
    assert_eq!(resolved.path, snapshot.join("tiny.gguf"));
    assert_eq!(resolved.kind, ModelKind::Chat);
    let pinned = offline
        .resolve(
            &source(&format!("hf:acme/tiny-chat@{commit}/tiny.gguf")),
            Arc::new(Quiet),
        )
        .await
        .expect("a commit pin finds its snapshot");
    assert_eq!(pinned.path, resolved.path);

    let listed = switchyard_engine::hub::cached_models(&offline.hub);
    assert_eq!(listed.len(), 1, "{listed:?}");
    assert_eq!(listed[0].reference, "hf:acme/tiny-chat/tiny.gguf");
}

#[tokio::test]
async fn paths_on_disk() {
    let resolver = resolver(Path::new("/nonexistent"), None, true);
    let gguf = resolver
        .resolve(&ModelSource::Path(smollm2_q4_1()), Arc::new(Quiet))
        .await
        .expect("a GGUF file");
    assert_eq!(
        (gguf.kind, gguf.architecture.as_deref()),
        (ModelKind::Chat, Some("llama"))
    );
    let gemma = installed("gemma-3-270m").join("gemma-3-270m.q4_k_m.gguf");
    let base = resolver
        .resolve(&ModelSource::Path(gemma), Arc::new(Quiet))
        .await
        .expect("a GGUF file");
    assert_eq!(
        base.kind,
        ModelKind::Completion,
        "no chat template: a base model"
    );

    let encoder = resolver
        .resolve(
            &ModelSource::Path(installed("all-minilm-l6-v2")),
            Arc::new(Quiet),
        )
        .await
        .expect("an encoder directory");
    assert_eq!(encoder.kind, ModelKind::Embedding);

    let scratch = tempfile::tempdir().expect("a temporary directory");
    let not_gguf = scratch.path().join("notes.gguf");
    std::fs::write(&not_gguf, "just text").expect("write");
    let missing_files = scratch.path().join("half-encoder");
    std::fs::create_dir(&missing_files).expect("mkdir");
    std::fs::write(missing_files.join("config.json"), "{}").expect("write");
    for (path, expected) in [
        (not_gguf, "not a GGUF file"),
        (missing_files, "missing: tokenizer.json, model.safetensors"),
        (scratch.path().join("absent.gguf"), "no such file"),
    ] {
        let error = resolver
            .resolve(&ModelSource::Path(path), Arc::new(Quiet))
            .await
            .expect_err("not a model");
        assert!(error.to_string().contains(expected), "{error}");
    }
}

#[tokio::test]
async fn a_builtin_variant_resolves_to_its_own_file() {
    installed("smollm2-135m-instruct");
    installed("all-minilm-l6-v2");
    let resolver = resolver(Path::new("/nonexistent"), None, true);
    let q4 = resolver
        .resolve(&source("smollm2:q4_1"), Arc::new(Quiet))
        .await
        .expect("installed");
    assert_eq!(q4.path, smollm2_q4_1());
    let f16 = resolver
        .resolve(&source("smollm2"), Arc::new(Quiet))
        .await
        .expect("installed");
    assert!(f16.path.ends_with("smollm2-135m-instruct.f16.gguf"));
    assert!(f16.bytes > q4.bytes);
    let minilm = resolver
        .resolve(&source("minilm"), Arc::new(Quiet))
        .await
        .expect("installed");
    assert!(
        minilm.bytes > 80_000_000,
        "the whole encoder: {}",
        minilm.bytes
    );
}
