//! Planning: which of a route's deployments may serve one request, in order, and why
//! each of the others may not. Pure and synchronous, so every rule is tested without
//! a network, and a request no deployment may serve is refused before anything is
//! sent, with the reason for each deployment.
//!
//! The rules, in the order they are checked: the caller's [`Policy`] (which providers
//! and deployments it allows), then the deployments' capabilities against what the
//! request needs ([`Needs`]). Health and strategies add rules and orderings to the same
//! plan.

use std::fmt;
use std::sync::Arc;

use switchyard_types::{
    Capabilities, ChatRequest, ContentBlock, DeploymentInfo, Provider, ResponseFormat,
};

use crate::catalog::Route;

/// What a request needs of the deployment that serves it, read off the request once.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct Needs {
    /// A raw prompt continued without a chat template, rather than a conversation.
    pub text_completion: bool,
    pub streaming: bool,
    pub tools: bool,
    /// An image anywhere in the conversation.
    pub vision: bool,
    /// Output constrained to JSON (a schema or any object).
    pub json_output: bool,
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
        }
    }

    /// The first need `capabilities` do not meet.
    fn unmet_by(&self, capabilities: &Capabilities) -> Option<Capability> {
        let requirements = [
            (
                self.text_completion,
                capabilities.completions,
                Capability::TextCompletions,
            ),
            (!self.text_completion, capabilities.chat, Capability::Chat),
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

/// Rules a caller sets on where its request may go; each rule that is set must hold.
/// Sent as JSON in the `x-switchyard-policy` header.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Policy {
    /// The providers (by configured name) the request may go to; empty allows any.
    #[serde(default)]
    pub allow_providers: Vec<String>,
    #[serde(default)]
    pub deny_providers: Vec<String>,
    /// The deployments the request may go to; empty allows any.
    #[serde(default)]
    pub allow_deployments: Vec<String>,
    #[serde(default)]
    pub deny_deployments: Vec<String>,
}

impl Policy {
    /// The rule that keeps the request off `deployment`, if one does.
    pub fn forbids(&self, deployment: &DeploymentInfo) -> Option<String> {
        let provider = deployment.provider.as_ref();
        let id = deployment.id.as_str();
        let listed = |names: &[String], name: &str| names.iter().any(|listed| listed == name);
        if listed(&self.deny_providers, provider) {
            return Some(format!("provider `{provider}` is denied"));
        }
        if !self.allow_providers.is_empty() && !listed(&self.allow_providers, provider) {
            return Some(format!(
                "provider `{provider}` is not among the allowed providers"
            ));
        }
        if listed(&self.deny_deployments, id) {
            return Some(format!("deployment `{id}` is denied"));
        }
        if !self.allow_deployments.is_empty() && !listed(&self.allow_deployments, id) {
            return Some(format!(
                "deployment `{id}` is not among the allowed deployments"
            ));
        }
        None
    }
}

/// Something a deployment can or cannot do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Capability {
    Chat,
    TextCompletions,
    Streaming,
    Tools,
    Vision,
    JsonOutput,
}

impl Capability {
    pub fn as_str(self) -> &'static str {
        match self {
            Capability::Chat => "chat",
            Capability::TextCompletions => "text completions",
            Capability::Streaming => "streaming",
            Capability::Tools => "tools",
            Capability::Vision => "image input",
            Capability::JsonOutput => "JSON output",
        }
    }
}

/// Why a deployment may not serve a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reason {
    /// The caller's policy keeps the request off it, by this rule.
    Policy(String),
    /// It cannot do something the request needs.
    Lacks(Capability),
}

impl fmt::Display for Reason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reason::Policy(rule) => write!(f, "is ruled out by the policy: {rule}"),
            Reason::Lacks(capability) => write!(f, "does not support {}", capability.as_str()),
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
    pub candidates: Vec<Arc<dyn Provider>>,
    pub excluded: Vec<Exclusion>,
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
}

/// Keeps the route's deployments that `policy` allows and that meet `needs`, in the
/// route's order.
pub fn plan(route: &Route, needs: &Needs, policy: &Policy) -> Result<Plan, NoCandidate> {
    let mut candidates = Vec::new();
    let mut excluded = Vec::new();
    for deployment in &route.deployments {
        let info = deployment.info();
        let reason = policy
            .forbids(info)
            .map(Reason::Policy)
            .or_else(|| needs.unmet_by(&info.capabilities).map(Reason::Lacks));
        match reason {
            None => candidates.push(deployment.clone()),
            Some(reason) => excluded.push(Exclusion {
                deployment: info.clone(),
                reason,
            }),
        }
    }
    if candidates.is_empty() {
        return Err(NoCandidate {
            model: route.name.clone(),
            excluded,
        });
    }
    Ok(Plan {
        candidates,
        excluded,
    })
}

#[cfg(test)]
#[path = "plan_tests.rs"]
mod tests;
