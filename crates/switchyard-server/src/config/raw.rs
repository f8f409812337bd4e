//! The file model: `switchyard.toml` as written, before any meaning is checked.
//!
//! Every field is an `Option` of a plain TOML type wrapped in [`Spanned`], so that
//! serde only ever rejects a value of the wrong TOML type; whether a field is required,
//! whether a string is a valid URL, duration or secret reference, and whether a name
//! refers to something are all decided in `validate`, which can point at the value.
//!
//! [`parse`] reports every problem of this phase, not just the first:
//!
//! 1. A syntax error ends parsing; it is the only error reported.
//! 2. Every key is checked against the [`Schema`] read from [`RawConfig`]'s
//!    `Deserialize` impl, so unknown keys anywhere get a suggestion.
//! 3. The document is deserialized. When a value has the wrong type, the error is
//!    recorded, the innermost key holding it is removed, and deserialization runs again,
//!    until it succeeds. Since all fields are optional, removing a key never causes a
//!    new error; validation learns which keys were removed, so it does not also call
//!    them missing.
//!
//! The raw types deliberately do not implement `Debug`: a literal secret written by
//! mistake would otherwise show up in logs.

use std::collections::{BTreeMap, BTreeSet};
use std::ops::Range;

use serde::Deserialize;
use toml::Spanned;
use toml::de::{DeTable, DeValue};

use super::diagnostic::{self, Diagnostics};
use super::schema::Schema;
use super::suggest;

/// A map keyed by names the user chose, each key with its position.
pub(crate) type Named<T> = BTreeMap<Spanned<String>, Spanned<T>>;

/// The whole file.
#[derive(Default, Deserialize)]
pub(crate) struct RawConfig {
    pub server: Option<Spanned<RawServer>>,
    #[serde(default)]
    pub providers: Named<RawProvider>,
    #[serde(default)]
    pub deployments: Named<RawDeployment>,
    #[serde(default)]
    pub models: Named<RawModel>,
    pub routing: Option<Spanned<RawRouting>>,
    pub governance: Option<Spanned<RawGovernance>>,
}

/// `[governance]`: the backend, what happens when the store fails, request estimates,
/// budget alerts.
#[derive(Deserialize)]
pub(crate) struct RawGovernance {
    pub backend: Option<Spanned<String>>,
    pub postgres_url: Option<Spanned<String>>,
    pub postgres_max_connections: Option<Spanned<i64>>,
    pub redis_url: Option<Spanned<String>>,
    pub redis_prefix: Option<Spanned<String>>,
    pub on_store_error: Option<Spanned<String>>,
    pub default_output_tokens: Option<Spanned<i64>>,
    pub alert_webhook: Option<Spanned<String>>,
    pub alert_at: Option<Spanned<Vec<Spanned<i64>>>>,
}

/// `[routing]`: retries, deadlines, circuit breakers and the operator's policy.
#[derive(Deserialize)]
pub(crate) struct RawRouting {
    pub retries: Option<Spanned<i64>>,
    pub backoff: Option<Spanned<String>>,
    pub backoff_max: Option<Spanned<String>>,
    pub max_retry_after: Option<Spanned<String>>,
    pub attempt_timeout: Option<Spanned<String>>,
    pub deadline: Option<Spanned<String>>,
    pub fallback_on_content_filter: Option<bool>,
    /// Where this server runs: the hosting place of its local models.
    pub hosted_in: Option<Spanned<String>>,
    pub breaker: Option<Spanned<RawBreaker>>,
    pub policy: Option<Spanned<RawPolicy>>,
}

/// `[routing.breaker]`.
#[derive(Deserialize)]
pub(crate) struct RawBreaker {
    pub failures: Option<Spanned<i64>>,
    pub error_rate: Option<Spanned<f64>>,
    pub min_calls: Option<Spanned<i64>>,
    pub window: Option<Spanned<String>>,
    pub cooldown: Option<Spanned<String>>,
}

/// A list of names or codes.
pub(crate) type Names = Option<Spanned<Vec<Spanned<String>>>>;

/// `[routing.policy]`: the operator's routing policy, the rules of the router's
/// `Policy`.
#[derive(Deserialize)]
pub(crate) struct RawPolicy {
    pub allow_providers: Names,
    pub deny_providers: Names,
    pub allow_deployments: Names,
    pub deny_deployments: Names,
    pub allow_models: Names,
    pub deny_models: Names,
    pub jurisdictions: Names,
    pub hosted_in: Names,
    pub max_retention_days: Option<Spanned<i64>>,
    pub max_input_price: Option<Spanned<f64>>,
    pub max_output_price: Option<Spanned<f64>>,
    pub require: Names,
}

/// `price = { input = 2.5, output = 10 }`: US dollars per million tokens.
#[derive(Deserialize)]
pub(crate) struct RawPrice {
    pub input: Option<Spanned<f64>>,
    pub output: Option<Spanned<f64>>,
}

/// `[server]`.
#[derive(Deserialize)]
pub(crate) struct RawServer {
    pub listen: Option<Spanned<String>>,
    pub max_body_bytes: Option<Spanned<i64>>,
    /// Secret references.
    pub master_keys: Option<Spanned<Vec<Spanned<String>>>>,
    pub log_format: Option<Spanned<String>>,
    pub shutdown_grace: Option<Spanned<String>>,
    pub store: Option<Spanned<String>>,
    pub response_retention: Option<Spanned<String>>,
    pub allowed_hosts: Option<Spanned<Vec<Spanned<String>>>>,
    pub allow_unauthenticated: Option<Spanned<bool>>,
    pub passthrough_fields: Option<Spanned<Vec<Spanned<String>>>>,
    pub max_concurrent_requests: Option<Spanned<i64>>,
    pub public_metrics: Option<Spanned<bool>>,
}

/// `[providers.<name>]`: one upstream account or server.
///
/// The fields are those of every provider type so far; `validate` decides per `type`
/// which are required, and should reject those a new type cannot use.
#[derive(Deserialize)]
pub(crate) struct RawProvider {
    #[serde(rename = "type")]
    pub kind: Option<Spanned<String>>,
    pub base_url: Option<Spanned<String>>,
    /// A secret reference.
    pub api_key: Option<Spanned<String>>,
    pub headers: Option<Named<String>>,
    pub timeouts: Option<Spanned<RawTimeouts>>,
    /// Azure OpenAI only: the `api-version` query parameter, or `v1`.
    pub api_version: Option<Spanned<String>>,
    /// Bedrock only: the AWS region of the endpoint and of the signature.
    pub region: Option<Spanned<String>>,
    /// Bedrock only: IAM access keys (secret references), signed with SigV4.
    pub access_key_id: Option<Spanned<String>>,
    pub secret_access_key: Option<Spanned<String>>,
    pub session_token: Option<Spanned<String>>,
}

/// `timeouts = { .. }` of a provider or a deployment; each a humantime duration.
#[derive(Deserialize)]
pub(crate) struct RawTimeouts {
    pub connect: Option<Spanned<String>>,
    pub first_byte: Option<Spanned<String>>,
    pub total: Option<Spanned<String>>,
    pub idle: Option<Spanned<String>>,
}

/// `[deployments.<name>]`: one model on one provider.
#[derive(Deserialize)]
pub(crate) struct RawDeployment {
    pub provider: Option<Spanned<String>>,
    pub model: Option<Spanned<String>>,
    pub max_concurrency: Option<Spanned<i64>>,
    pub timeouts: Option<Spanned<RawTimeouts>>,
    pub embeddings: Option<bool>,
    pub headers: Option<Named<String>>,
    // Anthropic deployments only.
    /// `max_tokens` for requests that set none (Anthropic requires one).
    pub default_max_tokens: Option<Spanned<i64>>,
    /// Leave out parameters the upstream cannot honour instead of answering 400.
    pub drop_unsupported_params: Option<bool>,
    // Local deployments only: how the engine runs the model.
    /// `chat`, `completion` or `embedding`; default: what the files say.
    pub kind: Option<Spanned<String>>,
    pub threads: Option<Spanned<i64>>,
    pub context_tokens: Option<Spanned<i64>>,
    pub max_sequences: Option<Spanned<i64>>,
    pub queue_limit: Option<Spanned<i64>>,
    // What routing policies check, where the catalog does not know or is wrong.
    /// The model vendor's home (a country code or `EU`).
    pub jurisdiction: Option<Spanned<String>>,
    /// The cloud region the deployment is pinned to; gives `hosted_in` when known.
    pub region: Option<Spanned<String>>,
    /// Where requests are processed (a country code or `EU`).
    pub hosted_in: Option<Spanned<String>>,
    /// Days the operator keeps prompts and answers; 0 for zero retention.
    pub retention_days: Option<Spanned<i64>>,
    pub price: Option<Spanned<RawPrice>>,
    pub context_window: Option<Spanned<i64>>,
    /// How often to check that the deployment answers (lists its models).
    pub health_check: Option<Spanned<String>>,
}

/// `[models.<name>]`: a public model name and where it is served.
#[derive(Deserialize)]
pub(crate) struct RawModel {
    pub deployments: Option<Spanned<Vec<Spanned<String>>>>,
    pub description: Option<Spanned<String>>,
    /// How to choose among the deployments: `priority`, `weighted`, …
    pub strategy: Option<Spanned<String>>,
    /// Each deployment's share under `weighted`.
    pub weights: Option<Named<i64>>,
    /// Each deployment's eval score, for `quality-per-cost`.
    pub quality: Option<Named<f64>>,
    /// Languages (ISO 639-3 code or English name) → the deployment their prompts go to.
    pub languages: Option<Named<String>>,
    /// When to hedge a slow first deployment: a percentile (`p95`) or a duration.
    pub hedge: Option<Spanned<String>>,
    /// The embedding deployment that embeds prompts and task examples, for `semantic`.
    pub embedder: Option<Spanned<String>>,
    /// How similar a prompt must be to a task's example to count as that task.
    pub min_similarity: Option<Spanned<f64>>,
    /// How long a prompt's task may take to find before the route goes by priority.
    pub task_timeout: Option<Spanned<String>>,
    /// Task name → its deployment and example prompts, for `semantic`.
    pub tasks: Option<Named<RawTask>>,
}

/// `[models.<name>.tasks.<task>]`: prompts like `examples` go first to `deployment`.
#[derive(Deserialize)]
pub(crate) struct RawTask {
    pub deployment: Option<Spanned<String>>,
    pub examples: Option<Spanned<Vec<Spanned<String>>>>,
}

/// The outcome of [`parse`].
pub(crate) struct Parsed {
    pub config: RawConfig,
    /// Key paths (`["providers", "openai", "timeouts"]`) removed because their value had
    /// the wrong type; already reported.
    pub removed: BTreeSet<Vec<String>>,
}

/// Entries of a [`Named`] map in file order.
pub(crate) fn in_file_order<T>(map: &Named<T>) -> Vec<(&Spanned<String>, &Spanned<T>)> {
    let mut entries: Vec<_> = map.iter().collect();
    entries.sort_by_key(|(key, _)| key.span().start);
    entries
}

/// Parses `text` into the file model, reporting syntax errors, unknown keys and values
/// of the wrong type. `None` only after a syntax error.
pub(crate) fn parse(text: &str, diagnostics: &mut Diagnostics<'_>) -> Option<Parsed> {
    let document = match DeTable::parse(text) {
        Ok(document) => document,
        Err(error) => {
            let span = error.span().unwrap_or(0..0);
            diagnostics.error(span, "", syntax_message(error.message()));
            return None;
        }
    };
    check_keys(
        document.get_ref(),
        &Schema::of::<RawConfig>(),
        "",
        diagnostics,
    );
    Some(deserialize(document, diagnostics))
}

fn syntax_message(message: &str) -> String {
    let message = message.trim_end();
    // toml's messages start with a capital and may span lines; ours are one line.
    let mut message = message.replace('\n', "; ");
    if let Some(first) = message.get(..1) {
        let lower = first.to_lowercase();
        message.replace_range(..1, &lower);
    }
    format!("syntax error: {message}")
}

// === unknown keys ===

fn check_keys(table: &DeTable<'_>, schema: &Schema, path: &str, diagnostics: &mut Diagnostics<'_>) {
    match schema {
        Schema::Struct(fields) => {
            let names = Schema::field_names(fields);
            for (key, value) in entries_in_file_order(table) {
                let key_path = diagnostic::join(path, key.get_ref());
                match fields
                    .iter()
                    .find(|(name, _)| *name == key.get_ref().as_ref())
                {
                    Some((_, field_schema)) => {
                        check_value(value.get_ref(), field_schema, &key_path, diagnostics);
                    }
                    None => {
                        let what = if path.is_empty() { "section" } else { "field" };
                        let plural = if path.is_empty() {
                            "sections"
                        } else {
                            "fields"
                        };
                        let message = suggest::unknown(what, key.get_ref(), &names, plural);
                        diagnostics.error(key.span(), &key_path, message);
                    }
                }
            }
        }
        Schema::Map(values) => {
            for (key, value) in entries_in_file_order(table) {
                let key_path = diagnostic::join(path, key.get_ref());
                check_value(value.get_ref(), values, &key_path, diagnostics);
            }
        }
        Schema::Other => {}
    }
}

/// Checks the keys of a table value; values of other types are deserialization's job.
fn check_value(
    value: &DeValue<'_>,
    schema: &Schema,
    path: &str,
    diagnostics: &mut Diagnostics<'_>,
) {
    if let DeValue::Table(table) = value {
        check_keys(table, schema, path, diagnostics);
    }
}

type Entry<'t, 'i> = (
    &'t Spanned<toml::de::DeString<'i>>,
    &'t Spanned<DeValue<'i>>,
);

fn entries_in_file_order<'t, 'i>(table: &'t DeTable<'i>) -> Vec<Entry<'t, 'i>> {
    let mut entries: Vec<_> = table.iter().collect();
    entries.sort_by_key(|(key, _)| key.span().start);
    entries
}

// === lenient deserialization ===

/// One step from a value to a value inside it.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Step {
    Key(String),
    Index(usize),
}

fn deserialize(mut document: Spanned<DeTable<'_>>, diagnostics: &mut Diagnostics<'_>) -> Parsed {
    let mut removed = BTreeSet::new();
    loop {
        let error = match RawConfig::deserialize(toml::de::Deserializer::from(document.clone())) {
            Ok(config) => return Parsed { config, removed },
            Err(error) => error,
        };
        let span = error.span().unwrap_or(0..0);
        let mut search = Search {
            span: span.clone(),
            steps: Vec::new(),
            exact: None,
            deepest: Vec::new(),
        };
        search.table(document.get_ref());
        // The value the error is about: the outermost one spanning exactly the error
        // (an array of tables spans like its first table), else the innermost around it.
        let mut deepest = search.exact.unwrap_or(search.deepest);
        let found = value_at(document.get_ref(), &deepest);
        diagnostics.error(
            span.clone(),
            &render_path(&deepest),
            describe_error(error.message(), found),
        );
        // Drop the innermost key around the bad value; array elements go with their array.
        while matches!(deepest.last(), Some(Step::Index(_))) {
            deepest.pop();
        }
        let Some(key_path) = remove(document.get_mut(), &deepest) else {
            // Nothing left to remove (the error is not inside any key): give up on the
            // file model; validation then sees an empty file and adds nothing.
            return Parsed {
                config: RawConfig::default(),
                removed,
            };
        };
        removed.insert(key_path);
    }
}

fn contains(outer: &Range<usize>, inner: &Range<usize>) -> bool {
    outer.start <= inner.start && inner.end <= outer.end
}

/// Finds the value an error span is about. Every child is searched, not only those of
/// containing parents, since a `[table]`'s span need not cover keys written under later
/// headers.
struct Search {
    span: Range<usize>,
    steps: Vec<Step>,
    /// The outermost value whose span equals `span`.
    exact: Option<Vec<Step>>,
    /// The innermost value whose span contains `span`.
    deepest: Vec<Step>,
}

impl Search {
    fn table(&mut self, table: &DeTable<'_>) {
        for (key, value) in table {
            self.steps.push(Step::Key(key.get_ref().to_string()));
            self.value(value);
            self.steps.pop();
        }
    }

    fn value(&mut self, value: &Spanned<DeValue<'_>>) {
        let value_span = value.span();
        if value_span == self.span && self.exact.is_none() {
            self.exact = Some(self.steps.clone());
        }
        if contains(&value_span, &self.span) && self.steps.len() > self.deepest.len() {
            self.deepest.clone_from(&self.steps);
        }
        match value.get_ref() {
            DeValue::Table(table) => self.table(table),
            DeValue::Array(array) => {
                for (index, item) in array.iter().enumerate() {
                    self.steps.push(Step::Index(index));
                    self.value(item);
                    self.steps.pop();
                }
            }
            _ => {}
        }
    }
}

fn value_at<'t, 'i>(table: &'t DeTable<'i>, steps: &[Step]) -> Option<&'t DeValue<'i>> {
    let (Step::Key(first), rest) = steps.split_first()? else {
        return None;
    };
    let mut value = table.get(first.as_str())?.get_ref();
    for step in rest {
        value = match (step, value) {
            (Step::Key(key), DeValue::Table(table)) => table.get(key.as_str())?.get_ref(),
            (Step::Index(index), DeValue::Array(array)) => array.get(*index)?.get_ref(),
            _ => return None,
        };
    }
    Some(value)
}

/// Removes the key at `steps` (which ends in a key), returning its key path.
fn remove(table: &mut DeTable<'_>, steps: &[Step]) -> Option<Vec<String>> {
    let (Step::Key(last), parents) = steps.split_last()? else {
        return None;
    };
    let mut current = table;
    for step in parents {
        let next = match step {
            Step::Key(key) => current.get_mut(key.as_str())?.get_mut(),
            Step::Index(_) => return None,
        };
        let DeValue::Table(next) = next else {
            return None;
        };
        current = next;
    }
    current.remove(last.as_str())?;
    Some(
        steps
            .iter()
            .filter_map(|step| match step {
                Step::Key(key) => Some(key.clone()),
                Step::Index(_) => None,
            })
            .collect(),
    )
}

fn render_path(steps: &[Step]) -> String {
    steps.iter().fold(String::new(), |path, step| match step {
        Step::Key(key) => diagnostic::join(&path, key),
        Step::Index(index) => diagnostic::index(&path, *index),
    })
}

/// Rewrites serde's "invalid type: string \"..\", expected u64" as "expected a
/// non-negative integer, found a string": shorter, in TOML's words, and never repeating
/// the value, which may be a secret written in the wrong place.
fn describe_error(message: &str, found: Option<&DeValue<'_>>) -> String {
    for prefix in ["invalid type: ", "invalid value: "] {
        let Some(rest) = message.strip_prefix(prefix) else {
            continue;
        };
        let Some(at) = rest.rfind(", expected ") else {
            continue;
        };
        let expected = toml_words(&rest[at + ", expected ".len()..]);
        return match found {
            Some(value) => format!("expected {expected}, found {}", describe_value(value)),
            None => format!("expected {expected}"),
        };
    }
    message.to_owned()
}

fn toml_words(expected: &str) -> &str {
    match expected {
        "i8" | "i16" | "i32" | "i64" | "i128" | "isize" => "an integer",
        "u8" | "u16" | "u32" | "u64" | "u128" | "usize" => "a non-negative integer",
        "f32" | "f64" => "a float",
        "a sequence" => "an array",
        "a map" => "a table",
        struct_name if struct_name.starts_with("struct ") => "a table",
        other => other,
    }
}

fn describe_value(value: &DeValue<'_>) -> &'static str {
    match value {
        DeValue::String(_) => "a string",
        DeValue::Integer(_) => "an integer",
        DeValue::Float(_) => "a float",
        DeValue::Boolean(_) => "a boolean",
        DeValue::Datetime(_) => "a date-time",
        DeValue::Array(_) => "an array",
        DeValue::Table(_) => "a table",
    }
}

#[cfg(test)]
mod tests {
    use pretty_assertions::assert_eq;

    use super::*;

    #[test]
    fn schema_of_raw_config_is_complete() {
        let Schema::Struct(sections) = Schema::of::<RawConfig>() else {
            panic!("`RawConfig` should introspect as a struct");
        };
        let names = Schema::field_names(&sections);
        assert_eq!(
            names,
            [
                "server",
                "providers",
                "deployments",
                "models",
                "routing",
                "governance"
            ]
        );
        let Some((_, Schema::Struct(routing))) =
            sections.iter().find(|(name, _)| *name == "routing")
        else {
            panic!("`routing` should be a struct");
        };
        let Some((_, Schema::Struct(policy))) = routing.iter().find(|(name, _)| *name == "policy")
        else {
            panic!("`routing.policy` should be a struct");
        };
        assert!(Schema::field_names(policy).contains(&"max_retention_days"));
        let Some((_, Schema::Map(provider))) =
            sections.iter().find(|(name, _)| *name == "providers")
        else {
            panic!("`providers` should be a map");
        };
        let Schema::Struct(fields) = provider.as_ref() else {
            panic!("a provider should be a struct");
        };
        assert_eq!(
            Schema::field_names(fields),
            [
                "type",
                "base_url",
                "api_key",
                "headers",
                "timeouts",
                "api_version",
                "region",
                "access_key_id",
                "secret_access_key",
                "session_token"
            ]
        );
        let Some((_, Schema::Struct(timeouts))) =
            fields.iter().find(|(name, _)| *name == "timeouts")
        else {
            panic!("`timeouts` should be a struct");
        };
        assert_eq!(
            Schema::field_names(timeouts),
            ["connect", "first_byte", "total", "idle"]
        );
    }

    #[test]
    fn type_errors_never_repeat_the_value() {
        let message = r#"invalid type: string "sk-live-123, expected ", expected a sequence"#;
        let found = DeValue::String("sk-live-123".into());
        assert_eq!(
            describe_error(message, Some(&found)),
            "expected an array, found a string"
        );
    }
}
