//! Task routing: a route with the `semantic` strategy sends a prompt first to the
//! deployment of the task it most resembles. Each task is described by example
//! prompts ("Write a Python function that…", "Translate into German…"); they and the
//! prompt are embedded by a sentence encoder (the local MiniLM, usually), and the task
//! of the nearest example wins when it is similar enough.
//!
//! The examples are embedded once, at start-up ([`Tasks::prepare`]) or on first use;
//! a prompt then costs one embedding of its first [`SAMPLE_CHARS`] characters and a
//! dot product per example. Nearest-example (rather than nearest-centroid) matching
//! lets a task be described by unlike examples — "fix this stack trace" and "write a
//! SQL query" are both code — without their average meaning neither.
//!
//! Classifying is the only async step of routing, so it happens before [`plan`]
//! (crate::plan) and hands it a [`TaskMatch`] in the request's needs.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;
use switchyard_types::{CallContext, ChatRequest, EmbedInput, EmbedRequest, Extra, Provider};

use crate::prompt;

/// How much of the prompt is embedded: its start says what it is about, and MiniLM
/// reads at most 256 word pieces anyway.
pub const SAMPLE_CHARS: usize = 1000;

/// How similar (cosine) a prompt must be to a task's nearest example, unless the
/// route says otherwise. On the labelled prompts of `bench/routing/semantic.json`,
/// MiniLM puts most prompts of a task between 0.2 and 0.6 from its nearest example, and
/// prompts of no task mostly below 0.25 (`examples/semantic_routing.rs` sweeps it).
/// Static vectors distilled from MiniLM score everything higher; 0.65 suits them.
pub const DEFAULT_MIN_SIMILARITY: f32 = 0.25;

/// How long a prompt's embedding may take before the route goes by priority instead:
/// routing should cost milliseconds, and a busy encoder must not hold requests up.
pub const DEFAULT_CLASSIFY_TIMEOUT: Duration = Duration::from_millis(250);

/// One task a route recognises: the deployment its prompts go to first, and examples
/// of such prompts.
#[derive(Debug, Clone, PartialEq)]
pub struct Task {
    pub name: String,
    pub deployment: String,
    pub examples: Vec<String>,
}

/// The task a prompt is nearest to, and how near.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TaskMatch {
    pub task: String,
    /// The deployment the task's prompts go to first.
    pub deployment: String,
    /// Cosine similarity of the prompt to the task's nearest example, in [-1, 1].
    pub similarity: f32,
}

/// The prompt's task could not be found; the route goes by priority.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum TaskError {
    #[error("the embedding deployment failed: {0}")]
    Embedder(String),
    #[error("the prompt was not embedded within {} ms", .0.as_millis())]
    TimedOut(Duration),
}

/// A route's tasks, with the encoder that embeds them.
pub struct Tasks {
    embedder: Arc<dyn Provider>,
    tasks: Vec<Task>,
    min_similarity: f32,
    classify_timeout: Duration,
    /// Every example's unit vector, embedded once.
    prototypes: tokio::sync::OnceCell<Vec<Prototype>>,
}

struct Prototype {
    /// Index into `Tasks::tasks`.
    task: usize,
    vector: Vec<f32>,
}

impl fmt::Debug for Tasks {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Tasks")
            .field("embedder", &self.embedder.info().id)
            .field("tasks", &self.tasks)
            .field("min_similarity", &self.min_similarity)
            .field("prepared", &self.prototypes.initialized())
            .finish()
    }
}

impl Tasks {
    /// Tasks embedded by `embedder`; a prompt less similar than `min_similarity` to
    /// every example has no task.
    pub fn new(embedder: Arc<dyn Provider>, tasks: Vec<Task>, min_similarity: f32) -> Self {
        Tasks {
            embedder,
            tasks,
            min_similarity,
            classify_timeout: DEFAULT_CLASSIFY_TIMEOUT,
            prototypes: tokio::sync::OnceCell::new(),
        }
    }

    #[must_use]
    pub fn with_classify_timeout(mut self, timeout: Duration) -> Self {
        self.classify_timeout = timeout;
        self
    }

    pub fn embedder(&self) -> &Arc<dyn Provider> {
        &self.embedder
    }

    /// Embeds every example, once; later calls return at once. Returns how many
    /// examples there are. A failure is returned and tried again on the next call.
    pub async fn prepare(&self, cx: &CallContext) -> Result<usize, TaskError> {
        let prototypes = self
            .prototypes
            .get_or_try_init(|| async {
                let (owners, texts): (Vec<usize>, Vec<String>) = self
                    .tasks
                    .iter()
                    .enumerate()
                    .flat_map(|(index, task)| {
                        task.examples.iter().map(move |text| (index, text.clone()))
                    })
                    .unzip();
                let vectors = self.embed(texts, cx).await?;
                Ok::<_, TaskError>(
                    owners
                        .into_iter()
                        .zip(vectors)
                        .map(|(task, vector)| Prototype { task, vector })
                        .collect(),
                )
            })
            .await?;
        Ok(prototypes.len())
    }

    /// The task `request`'s prompt is nearest to, if any is similar enough; `None`
    /// also when the prompt has no text. Prepares the examples first if needed.
    pub async fn classify(
        &self,
        request: &ChatRequest,
        cx: &CallContext,
    ) -> Result<Option<TaskMatch>, TaskError> {
        let Some(text) = prompt::latest_text(request, SAMPLE_CHARS) else {
            return Ok(None);
        };
        let timeout = self.classify_timeout;
        tokio::time::timeout(timeout, async {
            self.prepare(cx).await?;
            let vector = self.embed(vec![text], cx).await?.pop().unwrap_or_default();
            Ok(self.nearest(&vector))
        })
        .await
        .map_err(|_| TaskError::TimedOut(timeout))?
    }

    /// The nearest example's task to a unit `vector`, if it is similar enough.
    pub fn nearest(&self, vector: &[f32]) -> Option<TaskMatch> {
        let prototypes = self.prototypes.get()?;
        let (prototype, similarity) = prototypes
            .iter()
            .map(|prototype| (prototype, dot(&prototype.vector, vector)))
            .max_by(|a, b| a.1.total_cmp(&b.1))?;
        let task = &self.tasks[prototype.task];
        (similarity >= self.min_similarity).then(|| TaskMatch {
            task: task.name.clone(),
            deployment: task.deployment.clone(),
            similarity,
        })
    }

    /// Unit vectors for `texts`, in order.
    async fn embed(
        &self,
        texts: Vec<String>,
        cx: &CallContext,
    ) -> Result<Vec<Vec<f32>>, TaskError> {
        let count = texts.len();
        let request = EmbedRequest {
            model: self.embedder.info().upstream_model.to_string(),
            input: EmbedInput::Texts(texts),
            dimensions: None,
            user: None,
            extra: Extra::default(),
        };
        let response = self
            .embedder
            .embed(request, cx)
            .await
            .map_err(|error| TaskError::Embedder(error.to_string()))?;
        if response.embeddings.len() != count {
            return Err(TaskError::Embedder(format!(
                "{} vectors came back for {count} texts",
                response.embeddings.len()
            )));
        }
        Ok(response.embeddings.into_iter().map(unit).collect())
    }
}

/// `vector` scaled to length 1 (most encoders already normalise; not all do).
fn unit(mut vector: Vec<f32>) -> Vec<f32> {
    let norm = dot(&vector, &vector).sqrt();
    if norm > 0.0 {
        vector.iter_mut().for_each(|x| *x /= norm);
    }
    vector
}

/// The dot product; vectors of different lengths (another encoder's) compare as far
/// apart as possible.
fn dot(a: &[f32], b: &[f32]) -> f32 {
    if a.len() != b.len() {
        return -1.0;
    }
    a.iter().zip(b).map(|(x, y)| x * y).sum()
}

#[cfg(test)]
#[path = "task_tests.rs"]
mod tests;
