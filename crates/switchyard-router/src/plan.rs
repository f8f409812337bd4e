//! Planning: which of a route's deployments may serve one request, in order, and why
//! each of the others may not. Pure and synchronous, so every rule is tested without
//! a network, and a request no deployment may serve is refused before anything is
//! sent, with the reason for each deployment.
//!
//! The rules, in the order they are checked:
//!
//! 1. the [`Policies`] the request is under (operator, key, request; all must hold);
//! 2. the deployment's capabilities against what the request needs ([`Needs`]);
//! 3. its context window against the request's estimated size;
//! 4. its circuit breaker: an open one keeps it out until its cooldown ends.
//!
//! The route's [`Strategy`](crate::Strategy) then orders the rest; the first is chosen and the others
//! are its fallbacks. Under the `semantic` strategy the deployment of the prompt's task
//! (found before planning, see [`crate::task`]) goes first; a route's language rule,
//! when the prompt's language has one, puts its deployment first over any strategy.

use std::fmt;
use std::time::Duration;

use switchyard_types::{Capabilities, ChatRequest, ContentBlock, DeploymentInfo, ResponseFormat};

use crate::catalog::Route;
use crate::deployment::Deployment;
use crate::health::{Circuit, Health};
use crate::language;
use crate::policy::{Capability, Policies, PolicySource};
use crate::strategy::{self, Scored, Size, Strategy};
use crate::task::TaskMatch;
use crate::tokens;

/// The share of the estimated input a deployment must hold for it to stay a candidate.
/// The estimate counts with OpenAI's tokenizer; a model's own may count ~10% fewer, and
/// a request that is refused for its length still falls back to a larger window.
const ESTIMATE_MARGIN: f64 = 0.9;

/// Output tokens assumed when estimating a request's cost and it sets no limit.
const ASSUMED_OUTPUT_TOKENS: u64 = 512;

/// What a request needs of the deployment that serves it, read off the request once.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct Needs {
    /// The estimated tokens of its longest sequence (the conversation, or a text
    /// completion's longest prompt).
    pub input_tokens: u64,
    /// The output limit it sets, which must fit beside the input.
    pub max_output_tokens: Option<u64>,
    /// A raw prompt continued without a chat template, rather than a conversation.
    pub text_completion: bool,
    pub streaming: bool,
    pub tools: bool,
    /// An image anywhere in the conversation.
    pub vision: bool,
    /// Output constrained to JSON (a schema or any object).
    pub json_output: bool,
    /// Vectors of its inputs rather than a conversation (see [`Needs::embedding`]).
    pub embeddings: bool,
    /// The prompt's language (ISO 639-3), detected only for routes with a language
    /// rule (see [`Needs::with_language`]).
    pub language: Option<&'static str>,
    /// The task the prompt resembles most, found only for routes with the `semantic`
    /// strategy (see [`crate::task::Tasks::classify`]).
    pub task: Option<TaskMatch>,
}

impl Needs {
    pub fn of(request: &ChatRequest) -> Needs {
        let has_image = |blocks: &[ContentBlock]| {
            blocks.iter().any(|block| match block {
                ContentBlock::Image { .. } => true,
                ContentBlock::ToolResult { content, .. } => content
                    .iter()
                    .any(|inner| matches!(inner, ContentBlock::Image { .. })),
                _ => false,
            })
        };
        Needs {
            input_tokens: tokens::estimate_sequence_tokens(request),
            max_output_tokens: request.sampling.max_tokens.map(u64::from),
            text_completion: request.completion.is_some(),
            streaming: request.stream,
            tools: !request.tools.is_empty(),
            vision: request
                .messages
                .iter()
                .any(|message| has_image(&message.content)),
            json_output: matches!(
                request.response_format,
                Some(ResponseFormat::JsonSchema { .. } | ResponseFormat::JsonObject)
            ),
            language: None,
            task: None,
            embeddings: false,
        }
    }

    /// What an embedding request needs: a deployment that embeds. Its inputs are
    /// embedded one by one and each is truncated to the model's window where the model
    /// does that, so the window rule does not apply.
    pub fn embedding() -> Needs {
        Needs {
            embeddings: true,
            ..Needs::default()
        }
    }

    /// These needs, with the prompt's language detected when `route` has a language
    /// rule (detection is skipped for the others).
    #[must_use]
    pub fn with_language(mut self, route: &Route, request: &ChatRequest) -> Needs {
        if !route.languages.is_empty() {
            self.language = language::detect(request);
        }
        self
    }

    /// The tokens the request needs to fit: its input, discounted by the estimate's
    /// margin, and its output limit.
    fn needed_tokens(&self) -> u64 {
        (self.input_tokens as f64 * ESTIMATE_MARGIN) as u64 + self.max_output_tokens.unwrap_or(0)
    }

    /// The context rule: a deployment whose window is known and too small.
    fn overflows(&self, deployment: &Deployment) -> Option<Reason> {
        let window = deployment.profile.context_window?;
        let needed = self.input_tokens + self.max_output_tokens.unwrap_or(0);
        (self.needed_tokens() > window).then_some(Reason::ContextTooSmall { window, needed })
    }

    /// The first need `capabilities` do not meet.
    fn unmet_by(&self, capabilities: &Capabilities) -> Option<Capability> {
        let requirements = [
            (
                self.text_completion,
                capabilities.completions,
                Capability::TextCompletions,
            ),
            (
                !self.text_completion && !self.embeddings,
                capabilities.chat,
                Capability::Chat,
            ),
            (
                self.embeddings,
                capabilities.embeddings,
                Capability::Embeddings,
            ),
            (
                self.streaming,
                capabilities.streaming,
                Capability::Streaming,
            ),
            (self.tools, capabilities.tools, Capability::Tools),
            (self.vision, capabilities.vision, Capability::Vision),
            (
                self.json_output,
                capabilities.json_schema,
                Capability::JsonOutput,
            ),
        ];
        requirements
            .into_iter()
            .find(|(needed, offered, _)| *needed && !*offered)
            .map(|(_, _, capability)| capability)
    }
}

/// Why a deployment may not serve a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reason {
    /// A policy keeps the request off it, by this rule.
    Policy { source: PolicySource, rule: String },
    /// It cannot do something the request needs.
    Lacks(Capability),
    /// The request (its estimated input and its output limit) does not fit.
    ContextTooSmall { window: u64, needed: u64 },
    /// Its circuit breaker is open after recent failures.
    CircuitOpen { retry_in: Duration },
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reason::Policy { source, rule } => {
                write!(f, "is ruled out by {} policy: {rule}", source.as_str())
            }
            Reason::Lacks(capability) => write!(f, "does not support {}", capability.as_str()),
            Reason::ContextTooSmall { window, needed } => write!(
                f,
                "has a context window of {window} tokens, and this request needs about {needed}"
            ),
            Reason::CircuitOpen { retry_in } => write!(
                f,
                "is failing: its circuit breaker is open for {:.1} s more",
                retry_in.as_secs_f64()
            ),
        }
    }
}

/// A deployment left out of a plan, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Exclusion {
    pub deployment: DeploymentInfo,
    pub reason: Reason,
}

/// The deployments that may serve a request, in the order to try them, and those that
/// may not.
#[derive(Debug, Clone)]
pub struct Plan {
    pub candidates: Vec<Deployment>,
    pub excluded: Vec<Exclusion>,
    /// Why the first candidate was chosen, for the `x-switchyard-route-reason` header.
    pub reason: String,
}

/// No deployment of the route may serve the request.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}", self.describe())]
pub struct NoCandidate {
    pub model: String,
    pub excluded: Vec<Exclusion>,
}

impl NoCandidate {
    fn describe(&self) -> String {
        let reasons: Vec<String> = self
            .excluded
            .iter()
            .map(|exclusion| {
                format!(
                    "`{}` ({}) {}",
                    exclusion.deployment.id, exclusion.deployment.provider, exclusion.reason
                )
            })
            .collect();
        match reasons.as_slice() {
            [] => format!("the model `{}` has no deployments", self.model),
            _ => format!(
                "no deployment of the model `{}` can serve this request: {}",
                self.model,
                reasons.join("; ")
            ),
        }
    }

    /// Whether every deployment is out because the request does not fit its window.
    pub fn too_long(&self) -> bool {
        !self.excluded.is_empty()
            && self
                .excluded
                .iter()
                .all(|exclusion| matches!(exclusion.reason, Reason::ContextTooSmall { .. }))
    }

    /// When every deployment is out only because its breaker is open, the request is
    /// not at fault: it may be tried again once the first breaker lets a probe through,
    /// after this long.
    pub fn unavailable_for(&self) -> Option<Duration> {
        self.excluded
            .iter()
            .map(|exclusion| match exclusion.reason {
                Reason::CircuitOpen { retry_in } => Some(retry_in),
                _ => None,
            })
            .collect::<Option<Vec<Duration>>>()?
            .into_iter()
            .min()
    }
}

/// The conditions a plan is made under: the deployments' health, and the randomness
/// the `weighted` strategy draws from (seeded in tests).
pub struct Conditions<'a> {
    pub health: &'a Health,
    pub rng: &'a mut fastrand::Rng,
}

/// Keeps the route's deployments that every policy allows, that meet `needs` and that
/// are not failing, ordered by the route's strategy.
pub fn plan(
    route: &Route,
    needs: &Needs,
    policies: &Policies,
    conditions: Conditions<'_>,
) -> Result<Plan, NoCandidate> {
    let mut eligible = Vec::new();
    let mut excluded = Vec::new();
    for deployment in &route.deployments {
        let info = deployment.info();
        let observed = conditions.health.observe(&info.id);
        let reason = policies
            .forbids(deployment)
            .map(|(source, rule)| Reason::Policy { source, rule })
            .or_else(|| needs.unmet_by(&info.capabilities).map(Reason::Lacks))
            .or_else(|| needs.overflows(deployment))
            .or(match observed.circuit {
                Circuit::Open { retry_in } => Some(Reason::CircuitOpen { retry_in }),
                Circuit::Closed | Circuit::HalfOpen => None,
            });
        match reason {
            None => eligible.push(Scored {
                deployment: deployment.clone(),
                observed,
            }),
            Some(reason) => excluded.push(Exclusion {
                deployment: info.clone(),
                reason,
            }),
        }
    }
    if eligible.is_empty() {
        return Err(NoCandidate {
            model: route.name.clone(),
            excluded,
        });
    }
    let size = Size {
        input_tokens: needs.input_tokens,
        output_tokens: needs.max_output_tokens.unwrap_or(ASSUMED_OUTPUT_TOKENS),
        streaming: needs.streaming,
    };
    let (mut candidates, mut reason) =
        strategy::order(route.strategy, eligible, size, conditions.rng);
    if route.strategy == Strategy::Semantic
        && let Some(task) = &needs.task
    {
        let name = &task.task;
        let similarity = task.similarity;
        reason = if put_first(&mut candidates, &task.deployment) {
            format!(
                "semantic: the prompt is nearest to the `{name}` task (similarity {similarity:.2}), \
                 served by `{}`",
                task.deployment
            )
        } else {
            format!(
                "semantic: the prompt is nearest to the `{name}` task (similarity {similarity:.2}), \
                 but `{}` may not serve it; `{}` is first in order",
                task.deployment,
                candidates[0].info().id
            )
        };
    }
    // The language rule overrides the strategy's first pick; the rest keep their order.
    if let Some(code) = needs.language
        && let Some(target) = route.languages.get(code)
        && put_first(&mut candidates, target)
    {
        reason = format!(
            "language: a {} prompt goes to `{target}`",
            language::name(code)
        );
    }
    Ok(Plan {
        candidates,
        excluded,
        reason,
    })
}

/// Moves the candidate `id` to the front, the others keeping their order; false when
/// it is not a candidate.
fn put_first(candidates: &mut Vec<Deployment>, id: &str) -> bool {
    match candidates
        .iter()
        .position(|candidate| candidate.info().id.as_str() == id)
    {
        Some(position) => {
            let chosen = candidates.remove(position);
            candidates.insert(0, chosen);
            true
        }
        None => false,
    }
}

#[cfg(test)]
#[path = "plan_tests.rs"]
mod tests;
