//! A model's tasks for the `semantic` strategy: `embedder`, `min_similarity` and
//! `[models.<name>.tasks.<task>]`.

use switchyard_router::task::{DEFAULT_CLASSIFY_TIMEOUT, DEFAULT_MIN_SIMILARITY};
use switchyard_router::{Strategy, Task};

use super::super::raw::{self, RawModel};
use super::super::{TasksConfig, diagnostic};
use super::{Context, Entry, References, ZeroDuration};

/// The model's tasks when its strategy is `semantic`; every mistake reported, and
/// task fields under another strategy are one (they would silently do nothing).
pub(super) fn tasks(
    raw: &RawModel,
    entry: &Entry,
    strategy: Strategy,
    deployments: &[String],
    references: &References<'_>,
    cx: &mut Context<'_, '_>,
) -> Option<TasksConfig> {
    if strategy != Strategy::Semantic {
        let stray = [
            ("embedder", raw.embedder.as_ref().map(toml::Spanned::span)),
            (
                "min_similarity",
                raw.min_similarity.as_ref().map(toml::Spanned::span),
            ),
            (
                "task_timeout",
                raw.task_timeout.as_ref().map(toml::Spanned::span),
            ),
            (
                "tasks",
                raw.tasks
                    .as_ref()
                    .and_then(|tasks| tasks.keys().next().map(toml::Spanned::span)),
            ),
        ];
        for (field, span) in stray {
            if let Some(span) = span {
                cx.error(
                    span,
                    &entry.field(field),
                    format!(
                        "`{field}` is read only under strategy = \"semantic\", and this model's \
                         strategy is \"{strategy}\""
                    ),
                );
            }
        }
        return None;
    }
    let embedder = cx.require(raw.embedder.as_ref(), entry, "embedder");
    let embedder = embedder
        .filter(|name| cx.reference(name, &entry.field("embedder"), "deployment", references))
        .map(|name| name.get_ref().clone());
    let min_similarity = match &raw.min_similarity {
        None => DEFAULT_MIN_SIMILARITY,
        Some(value) if (-1.0..=1.0).contains(value.get_ref()) => *value.get_ref() as f32,
        Some(value) => {
            cx.error(
                value.span(),
                &entry.field("min_similarity"),
                "must be a cosine similarity between -1 and 1",
            );
            DEFAULT_MIN_SIMILARITY
        }
    };
    let timeout = raw
        .task_timeout
        .as_ref()
        .and_then(|value| cx.duration(value, &entry.field("task_timeout"), ZeroDuration::Rejected))
        .unwrap_or(DEFAULT_CLASSIFY_TIMEOUT);
    let mut tasks = Vec::new();
    for (name, task) in raw.tasks.iter().flat_map(raw::in_file_order) {
        let path = diagnostic::join(&entry.field("tasks"), name.get_ref());
        let task_entry = Entry {
            keys: [
                entry.keys.as_slice(),
                &["tasks".to_owned(), name.get_ref().clone()],
            ]
            .concat(),
            path: path.clone(),
            span: name.span(),
        };
        let deployment = cx
            .require(
                task.get_ref().deployment.as_ref(),
                &task_entry,
                "deployment",
            )
            .filter(|deployment| {
                let listed = deployments.iter().any(|d| d == deployment.get_ref());
                if !listed {
                    cx.error(
                        deployment.span(),
                        &diagnostic::join(&path, "deployment"),
                        format!(
                            "`{}` is not one of this model's deployments",
                            deployment.get_ref()
                        ),
                    );
                }
                listed
            });
        let examples = cx.require(task.get_ref().examples.as_ref(), &task_entry, "examples");
        let mut texts = Vec::new();
        if let Some(examples) = examples {
            if examples.get_ref().is_empty() {
                cx.error(
                    examples.span(),
                    &diagnostic::join(&path, "examples"),
                    "needs at least one example prompt",
                );
            }
            for (position, example) in examples.get_ref().iter().enumerate() {
                if example.get_ref().trim().is_empty() {
                    cx.error(
                        example.span(),
                        &diagnostic::index(&diagnostic::join(&path, "examples"), position),
                        "an example must not be empty",
                    );
                }
                texts.push(example.get_ref().clone());
            }
        }
        if let Some(deployment) = deployment {
            tasks.push(Task {
                name: name.get_ref().clone(),
                deployment: deployment.get_ref().clone(),
                examples: texts,
            });
        }
    }
    if raw.tasks.as_ref().is_none_or(|tasks| tasks.is_empty()) {
        cx.error(
            entry.span.clone(),
            &entry.field("tasks"),
            "strategy = \"semantic\" needs at least one task: \
             [models.<name>.tasks.<task>] with a `deployment` and `examples`",
        );
    }
    Some(TasksConfig {
        embedder: embedder?,
        min_similarity,
        timeout,
        tasks,
    })
}
