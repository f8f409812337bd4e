//! Deployments on `type = "local"` providers: their engine settings, and the fields
//! of the other provider family reported where they are written.

use pretty_assertions::assert_eq;

use super::super::*;
use super::{errors, load};

#[test]
fn local_deployments_carry_their_source_and_engine_settings() {
    let config = load(
        r#"
[providers.cpu]
type = "local"

[deployments.small]
provider = "cpu"
model = "hf:acme/tiny/tiny-q4_k_m.gguf"
kind = "completion"
threads = 1
context_tokens = 2048
max_sequences = 4
queue_limit = 0

[deployments.embed]
provider = "cpu"
model = "./models/minilm"

[deployments.fast-embed]
provider = "cpu"
model = "minilm"
kind = "static-embedding"

[models.tiny]
deployments = ["small"]

[models.minilm]
deployments = ["embed", "fast-embed"]
"#,
        &[],
    );
    let locals: Vec<&LocalDeployment> = config
        .deployments
        .iter()
        .map(|deployment| match &deployment.kind {
            DeploymentKind::Local(local) => local,
            _ => panic!("{} should be local", deployment.name),
        })
        .collect();
    assert_eq!(
        locals,
        [
            &LocalDeployment {
                provider: "cpu".into(),
                source: "hf:acme/tiny/tiny-q4_k_m.gguf".into(),
                kind: Some(LocalKind::Completion),
                threads: Some(1),
                context_tokens: Some(2048),
                max_sequences: Some(4),
                queue_limit: Some(0),
            },
            &LocalDeployment {
                provider: "cpu".into(),
                source: "./models/minilm".into(),
                kind: None,
                threads: None,
                context_tokens: None,
                max_sequences: None,
                queue_limit: None,
            },
            &LocalDeployment {
                provider: "cpu".into(),
                source: "minilm".into(),
                kind: Some(LocalKind::StaticEmbedding),
                threads: None,
                context_tokens: None,
                max_sequences: None,
                queue_limit: None,
            },
        ]
    );
}

#[test]
fn fields_of_the_other_provider_family_are_reported() {
    let text = r#"
[providers.cpu]
type = "local"

[providers.odd]
type = "local"
base_url = "http://127.0.0.1:1"

[providers.remote]
type = "openai"
base_url = "http://127.0.0.1:2/v1"

[deployments.a]
provider = "cpu"
model = "smollm2"
max_concurrency = 4
kind = "chatty"
max_sequences = 0

[deployments.b]
provider = "remote"
model = "gpt-4o"
threads = 2
"#;
    assert_eq!(
        errors(text, &[]),
        [
            "switchyard.toml:7:12: providers.odd.base_url: not used by `local` providers: the engine runs in this process",
            "switchyard.toml:16:19: deployments.a.max_concurrency: not used by local deployments; `max_sequences` and `queue_limit` bound them",
            "switchyard.toml:17:8: deployments.a.kind: unknown kind `chatty`; did you mean `chat`?",
            "switchyard.toml:18:17: deployments.a.max_sequences: must be between 1 and 256",
            "switchyard.toml:23:11: deployments.b.threads: only for deployments on a `local` provider",
        ]
    );
}
