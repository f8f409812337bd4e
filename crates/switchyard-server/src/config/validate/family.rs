//! Which deployment fields belong to which provider family: the engine settings of a
//! local deployment, and the fields each family does not use.

use toml::Spanned;

use super::super::raw::RawDeployment;
use super::super::suggest;
use super::super::{LocalDeployment, LocalKind};
use super::{Context, Entry, headers_span};

/// The engine settings of a local deployment (provider and source left empty: the
/// caller sets them).
pub(super) fn local_settings(
    raw: &RawDeployment,
    entry: &Entry,
    cx: &mut Context<'_, '_>,
) -> LocalDeployment {
    let kind = raw.kind.as_ref().and_then(|kind| {
        let parsed = LocalKind::ALL
            .into_iter()
            .find(|known| known.name() == kind.get_ref());
        if parsed.is_none() {
            let names: Vec<&str> = LocalKind::ALL.iter().map(|kind| kind.name()).collect();
            cx.error(
                kind.span(),
                &entry.field("kind"),
                format!(
                    "unknown kind `{}`{}",
                    kind.get_ref(),
                    suggest::hint(kind.get_ref(), &names, "kinds are supported")
                ),
            );
        }
        parsed
    });
    let mut bounded = |field: &str, value: Option<&Spanned<i64>>, min: i64, max: i64| {
        let value = value?;
        let parsed = u32::try_from(*value.get_ref())
            .ok()
            .filter(|parsed| (min..=max).contains(&i64::from(*parsed)));
        if parsed.is_none() {
            cx.error(
                value.span(),
                &entry.field(field),
                format!("must be between {min} and {max}"),
            );
        }
        parsed
    };
    LocalDeployment {
        provider: String::new(),
        source: String::new(),
        kind,
        threads: bounded("threads", raw.threads.as_ref(), 1, 1024),
        context_tokens: bounded("context_tokens", raw.context_tokens.as_ref(), 64, 1 << 20),
        max_sequences: bounded("max_sequences", raw.max_sequences.as_ref(), 1, 256),
        queue_limit: bounded("queue_limit", raw.queue_limit.as_ref(), 0, 1 << 20),
    }
}

type FieldSpans = Vec<(&'static str, std::ops::Range<usize>)>;

/// The fields present that only local deployments use, with where they are written.
pub(super) fn local_only_fields(raw: &RawDeployment) -> FieldSpans {
    [
        ("kind", raw.kind.as_ref().map(Spanned::span)),
        ("threads", raw.threads.as_ref().map(Spanned::span)),
        (
            "context_tokens",
            raw.context_tokens.as_ref().map(Spanned::span),
        ),
        (
            "max_sequences",
            raw.max_sequences.as_ref().map(Spanned::span),
        ),
        ("queue_limit", raw.queue_limit.as_ref().map(Spanned::span)),
    ]
    .into_iter()
    .filter_map(|(field, span)| Some((field, span?)))
    .collect()
}

/// The fields present that only remote deployments use, with where they are written.
pub(super) fn remote_only_fields(raw: &RawDeployment, entry: &Entry) -> FieldSpans {
    [
        (
            "max_concurrency",
            raw.max_concurrency.as_ref().map(Spanned::span),
        ),
        ("timeouts", raw.timeouts.as_ref().map(Spanned::span)),
        ("health_check", raw.health_check.as_ref().map(Spanned::span)),
        ("headers", headers_span(raw.headers.as_ref(), entry)),
        // Plain bools without a span: point at the entry.
        ("embeddings", raw.embeddings.map(|_| entry.span.clone())),
        (
            "drop_unsupported_params",
            raw.drop_unsupported_params.map(|_| entry.span.clone()),
        ),
    ]
    .into_iter()
    .filter_map(|(field, span)| Some((field, span?)))
    .collect()
}

/// The fields present that only Anthropic deployments use, with where they are written.
pub(super) fn anthropic_only_fields(raw: &RawDeployment) -> FieldSpans {
    raw.default_max_tokens
        .as_ref()
        .map(|tokens| ("default_max_tokens", tokens.span()))
        .into_iter()
        .collect()
}
