//! Providers for the router's tests: one that is only described (planning never calls
//! it), one that answers from a script of failures and records when it was called, and
//! an embedder that counts words.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use switchyard_types::{
    CallContext, Capabilities, ChatRequest, ChatResponse, DeploymentId, DeploymentInfo, EmbedInput,
    EmbedRequest, EmbedResponse, ErrorKind, EventStream, Provider, ProviderError, RetryAdvice,
    UpstreamModel,
};
use tokio::time::Instant;

/// The facts of deployment `id` on `provider`, serving a model of the same name.
pub fn info(provider: &str, id: &str, capabilities: Capabilities) -> DeploymentInfo {
    DeploymentInfo {
        id: DeploymentId::new(id),
        provider: Arc::from(provider),
        upstream_model: Arc::from(id),
        capabilities,
    }
}

/// A deployment that is never called: planning only reads what it can do.
#[derive(Debug)]
pub struct Described(pub DeploymentInfo);

#[async_trait::async_trait]
impl Provider for Described {
    fn info(&self) -> &DeploymentInfo {
        &self.0
    }

    async fn chat(&self, _: ChatRequest, _: &CallContext) -> Result<ChatResponse, ProviderError> {
        unreachable!("planning never calls a deployment")
    }

    async fn chat_stream(
        &self,
        _: ChatRequest,
        _: &CallContext,
    ) -> Result<EventStream, ProviderError> {
        unreachable!("planning never calls a deployment")
    }

    async fn list_models(&self, _: &CallContext) -> Result<Vec<UpstreamModel>, ProviderError> {
        Ok(Vec::new())
    }
}

/// One scripted answer: a failure (or success), its retry advice, and how long it takes.
#[derive(Debug, Clone)]
pub struct Step {
    pub failure: Option<ErrorKind>,
    pub retry: Option<RetryAdvice>,
    pub takes: Duration,
}

pub fn fails(kind: ErrorKind) -> Step {
    Step {
        failure: Some(kind),
        retry: None,
        takes: Duration::ZERO,
    }
}

pub fn succeeds() -> Step {
    Step {
        failure: None,
        retry: None,
        takes: Duration::ZERO,
    }
}

/// A provider that answers from a script: each call takes the next step; an empty
/// script succeeds.
#[derive(Debug)]
pub struct Scripted {
    pub info: DeploymentInfo,
    script: Mutex<Vec<Step>>,
    /// When each call was made, from the provider's creation.
    calls: Mutex<Vec<Duration>>,
    epoch: Instant,
}

impl Scripted {
    pub fn new(info: DeploymentInfo, script: Vec<Step>) -> Arc<Scripted> {
        Arc::new(Scripted {
            info,
            script: Mutex::new(script),
            calls: Mutex::new(Vec::new()),
            epoch: Instant::now(),
        })
    }

    pub fn calls(&self) -> usize {
        self.calls.lock().expect("not poisoned").len()
    }

    pub fn called_at(&self) -> Vec<Duration> {
        self.calls.lock().expect("not poisoned").clone()
    }
}

/// Deployment `id` of provider `test`, answering from `script`.
pub fn scripted(id: &str, script: Vec<Step>) -> Arc<Scripted> {
    Scripted::new(info("test", id, Capabilities::default()), script)
}

/// A deployment that always fails with `kind` (or always succeeds).
pub fn always(id: &str, kind: Option<ErrorKind>) -> Arc<Scripted> {
    let step = Step {
        failure: kind,
        ..succeeds()
    };
    scripted(id, vec![step; 16])
}

#[async_trait::async_trait]
impl Provider for Scripted {
    fn info(&self) -> &DeploymentInfo {
        &self.info
    }

    async fn chat(&self, _: ChatRequest, _: &CallContext) -> Result<ChatResponse, ProviderError> {
        self.calls
            .lock()
            .expect("not poisoned")
            .push(self.epoch.elapsed());
        let step = {
            let mut script = self.script.lock().expect("not poisoned");
            if script.is_empty() {
                succeeds()
            } else {
                script.remove(0)
            }
        };
        tokio::time::sleep(step.takes).await;
        match step.failure {
            Some(kind) => {
                let mut error = ProviderError::new(kind, format!("{} failed", self.info.id));
                if let Some(retry) = step.retry {
                    error = error.with_retry(retry);
                }
                Err(error)
            }
            None => Ok(ChatResponse {
                id: self.info.id.to_string(),
                model: String::new(),
                created: 0,
                choices: Vec::new(),
                usage: None,
                extra: Default::default(),
            }),
        }
    }

    async fn chat_stream(
        &self,
        _: ChatRequest,
        _: &CallContext,
    ) -> Result<EventStream, ProviderError> {
        Err(ProviderError::unsupported("streaming"))
    }

    async fn list_models(&self, _: &CallContext) -> Result<Vec<UpstreamModel>, ProviderError> {
        Ok(Vec::new())
    }
}

/// An embedding deployment whose vectors count words (each word hashed to one of 64
/// dimensions), so texts sharing words are similar; it takes `takes` per call and
/// fails while `failing` is set.
#[derive(Debug)]
pub struct WordCounter {
    info: DeploymentInfo,
    pub takes: Duration,
    pub failing: std::sync::atomic::AtomicBool,
    calls: std::sync::atomic::AtomicUsize,
}

impl WordCounter {
    pub fn new(takes: Duration) -> Arc<WordCounter> {
        let capabilities = Capabilities {
            chat: false,
            embeddings: true,
            ..Capabilities::default()
        };
        Arc::new(WordCounter {
            info: info("test", "word-counter", capabilities),
            takes,
            failing: Default::default(),
            calls: Default::default(),
        })
    }

    pub fn calls(&self) -> usize {
        self.calls.load(std::sync::atomic::Ordering::SeqCst)
    }

    pub fn vector(text: &str) -> Vec<f32> {
        let mut vector = vec![0.0; 64];
        for word in text.split(|c: char| !c.is_alphanumeric()) {
            if word.is_empty() {
                continue;
            }
            let hash = word.to_lowercase().bytes().fold(5381u32, |hash, byte| {
                hash.wrapping_mul(33) ^ u32::from(byte)
            });
            vector[hash as usize % 64] += 1.0;
        }
        vector
    }
}

#[async_trait::async_trait]
impl Provider for WordCounter {
    fn info(&self) -> &DeploymentInfo {
        &self.info
    }

    async fn chat(&self, _: ChatRequest, _: &CallContext) -> Result<ChatResponse, ProviderError> {
        Err(ProviderError::unsupported("chat"))
    }

    async fn chat_stream(
        &self,
        _: ChatRequest,
        _: &CallContext,
    ) -> Result<EventStream, ProviderError> {
        Err(ProviderError::unsupported("chat"))
    }

    async fn embed(
        &self,
        request: EmbedRequest,
        _: &CallContext,
    ) -> Result<EmbedResponse, ProviderError> {
        self.calls.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        tokio::time::sleep(self.takes).await;
        if self.failing.load(std::sync::atomic::Ordering::SeqCst) {
            return Err(ProviderError::new(
                ErrorKind::Overloaded,
                "the encoder is down",
            ));
        }
        let EmbedInput::Texts(texts) = request.input else {
            return Err(ProviderError::unsupported("token input"));
        };
        Ok(EmbedResponse {
            model: request.model,
            embeddings: texts.iter().map(|text| WordCounter::vector(text)).collect(),
            usage: Default::default(),
        })
    }

    async fn list_models(&self, _: &CallContext) -> Result<Vec<UpstreamModel>, ProviderError> {
        Ok(Vec::new())
    }
}
