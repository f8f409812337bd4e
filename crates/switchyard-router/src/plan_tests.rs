use std::sync::Arc;

use switchyard_types::{
    CallContext, Capabilities, ChatRequest, ChatResponse, ContentBlock, DeploymentId,
    DeploymentInfo, EventStream, ImageSource, Message, Prompt, ProviderError, ResponseFormat, Role,
    TextCompletion, Tool, UpstreamModel,
};

use super::*;

/// A deployment that is never called: planning only reads what it can do.
#[derive(Debug)]
struct Described(DeploymentInfo);

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

fn deployment(id: &str, capabilities: Capabilities) -> Arc<dyn Provider> {
    on("test", id, capabilities)
}

fn on(provider: &str, id: &str, capabilities: Capabilities) -> Arc<dyn Provider> {
    Arc::new(Described(DeploymentInfo {
        id: DeploymentId::new(id),
        provider: Arc::from(provider),
        upstream_model: Arc::from(id),
        capabilities,
    }))
}

fn route(deployments: Vec<Arc<dyn Provider>>) -> Route {
    Route {
        name: "m".into(),
        description: None,
        deployments,
    }
}

fn hosted() -> Capabilities {
    Capabilities {
        completions: true,
        ..Capabilities::default()
    }
}

fn text_only() -> Capabilities {
    Capabilities {
        vision: false,
        tools: false,
        json_schema: false,
        ..Capabilities::default()
    }
}

fn ids(plan: &Plan) -> Vec<String> {
    plan.candidates
        .iter()
        .map(|candidate| candidate.info().id.to_string())
        .collect()
}

#[test]
fn needs_are_read_off_the_request() {
    let mut request = ChatRequest {
        messages: vec![Message {
            role: Role::User,
            content: vec![
                ContentBlock::text("what is this?"),
                ContentBlock::Image {
                    source: ImageSource::Url {
                        url: "https://example.com/a.png".into(),
                    },
                    detail: None,
                    extra: Default::default(),
                },
            ],
            name: None,
            content_is_text: false,
            extra: Default::default(),
        }],
        stream: true,
        ..ChatRequest::default()
    };
    request.tools.push(Tool {
        name: "f".into(),
        description: None,
        parameters: None,
        strict: None,
        extra: Default::default(),
    });
    request.response_format = Some(ResponseFormat::JsonObject);
    assert_eq!(
        Needs::of(&request),
        Needs {
            text_completion: false,
            streaming: true,
            tools: true,
            vision: true,
            json_output: true
        }
    );
    let completion = ChatRequest {
        completion: Some(TextCompletion {
            prompt: Prompt::Texts(vec!["x".into()]),
            echo: false,
        }),
        ..ChatRequest::default()
    };
    assert!(Needs::of(&completion).text_completion);
}

#[test]
fn deployments_that_cannot_serve_the_request_are_left_out_with_their_reason_in_order() {
    let route = route(vec![
        deployment("small", text_only()),
        deployment("big", hosted()),
        deployment("other", hosted()),
    ]);
    let plain = plan(&route, &Needs::default(), &Policy::default()).expect("a plan");
    assert_eq!(ids(&plain), ["small", "big", "other"]);
    assert!(plain.excluded.is_empty());

    let with_tools = plan(
        &route,
        &Needs {
            tools: true,
            ..Needs::default()
        },
        &Policy::default(),
    )
    .expect("a plan");
    assert_eq!(ids(&with_tools), ["big", "other"]);
    assert_eq!(with_tools.excluded.len(), 1);
    assert_eq!(with_tools.excluded[0].deployment.id.as_str(), "small");
    assert_eq!(
        with_tools.excluded[0].reason,
        Reason::Lacks(Capability::Tools)
    );
}

#[test]
fn a_request_no_deployment_can_serve_is_refused_naming_each_and_why() {
    let route = route(vec![
        deployment("small", text_only()),
        deployment("chat-only", Capabilities::default()),
    ]);
    let refused = plan(
        &route,
        &Needs {
            text_completion: true,
            ..Needs::default()
        },
        &Policy::default(),
    )
    .expect_err("nothing serves text completions");
    assert_eq!(
        refused.to_string(),
        "no deployment of the model `m` can serve this request: `small` (test) does not support \
         text completions; `chat-only` (test) does not support text completions"
    );
    let images = plan(
        &route,
        &Needs {
            vision: true,
            ..Needs::default()
        },
        &Policy::default(),
    )
    .expect("a plan");
    assert_eq!(ids(&images), ["chat-only"]);
    assert_eq!(
        images.excluded[0].reason.to_string(),
        "does not support image input"
    );
}

#[test]
fn the_policy_rules_come_first_and_name_the_rule() {
    let route = route(vec![
        on("anthropic", "sonnet", hosted()),
        on("openai", "gpt", hosted()),
        on("local", "small", text_only()),
    ]);
    let policy: Policy =
        serde_json::from_str(r#"{"deny_providers": ["anthropic"]}"#).expect("a policy");
    let planned = plan(&route, &Needs::default(), &policy).expect("a plan");
    assert_eq!(ids(&planned), ["gpt", "small"]);
    assert_eq!(
        planned.excluded[0].reason.to_string(),
        "is ruled out by the policy: provider `anthropic` is denied"
    );
    let only_local = Policy {
        allow_providers: vec!["local".into()],
        ..Policy::default()
    };
    let refused = plan(
        &route,
        &Needs {
            tools: true,
            ..Needs::default()
        },
        &only_local,
    )
    .expect_err("the only allowed deployment lacks tools");
    let reasons: Vec<String> = refused
        .excluded
        .iter()
        .map(|e| e.reason.to_string())
        .collect();
    assert_eq!(
        reasons,
        [
            "is ruled out by the policy: provider `anthropic` is not among the allowed providers",
            "is ruled out by the policy: provider `openai` is not among the allowed providers",
            "does not support tools",
        ]
    );
    let unknown = serde_json::from_str::<Policy>(r#"{"jurisdiction": "EU"}"#);
    assert!(
        unknown.is_err(),
        "an unknown rule is refused, never ignored"
    );
}

mod properties {
    use proptest::prelude::*;

    use super::*;

    const PROVIDERS: [&str; 4] = ["openai", "anthropic", "gemini", "local"];

    fn capabilities() -> impl Strategy<Value = Capabilities> {
        proptest::array::uniform7(any::<bool>()).prop_map(|flags| Capabilities {
            chat: flags[0],
            streaming: flags[1],
            tools: flags[2],
            vision: flags[3],
            json_schema: flags[4],
            embeddings: flags[5],
            completions: flags[6],
        })
    }

    fn deployments() -> impl Strategy<Value = Vec<(usize, Capabilities)>> {
        proptest::collection::vec((0..PROVIDERS.len(), capabilities()), 0..8)
    }

    fn names(indices: Vec<usize>, prefix: &str) -> Vec<String> {
        indices
            .into_iter()
            .map(|index| format!("{prefix}{index}"))
            .collect()
    }

    fn policy() -> impl Strategy<Value = Policy> {
        let providers = proptest::collection::vec(0..PROVIDERS.len(), 0..3).prop_map(|indices| {
            indices
                .into_iter()
                .map(|index| PROVIDERS[index].to_owned())
                .collect()
        });
        let deployments = proptest::collection::vec(0..8usize, 0..3);
        (
            providers.clone(),
            providers,
            deployments.clone(),
            deployments,
        )
            .prop_map(|(allow_providers, deny_providers, allow, deny)| Policy {
                allow_providers,
                deny_providers,
                allow_deployments: names(allow, "d"),
                deny_deployments: names(deny, "d"),
            })
    }

    fn needs() -> impl Strategy<Value = Needs> {
        proptest::array::uniform5(any::<bool>()).prop_map(|flags| Needs {
            text_completion: flags[0],
            streaming: flags[1],
            tools: flags[2],
            vision: flags[3],
            json_output: flags[4],
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2048))]

        /// Every deployment is either a candidate that the policy allows and that can
        /// serve the request, or excluded with a reason; the candidates keep the
        /// route's order; no candidates means a refusal naming every deployment.
        #[test]
        fn a_plan_never_offers_what_the_policy_forbids_or_the_deployment_cannot_do(
            deployments in deployments(),
            policy in policy(),
            needs in needs(),
        ) {
            let route = route(
                deployments
                    .iter()
                    .enumerate()
                    .map(|(index, (provider, can))| on(PROVIDERS[*provider], &format!("d{index}"), can.clone()))
                    .collect(),
            );
            match plan(&route, &needs, &policy) {
                Ok(planned) => {
                    prop_assert!(!planned.candidates.is_empty());
                    for candidate in &planned.candidates {
                        let info = candidate.info();
                        prop_assert_eq!(policy.forbids(info), None);
                        prop_assert_eq!(needs.unmet_by(&info.capabilities), None);
                    }
                    let order: Vec<usize> = planned
                        .candidates
                        .iter()
                        .map(|candidate| candidate.info().id.as_str()[1..].parse().unwrap_or(usize::MAX))
                        .collect();
                    prop_assert!(order.windows(2).all(|pair| pair[0] < pair[1]));
                    prop_assert_eq!(planned.candidates.len() + planned.excluded.len(), deployments.len());
                }
                Err(refused) => {
                    prop_assert_eq!(refused.excluded.len(), deployments.len());
                    for exclusion in &refused.excluded {
                        let allowed = policy.forbids(&exclusion.deployment).is_none();
                        let capable = needs.unmet_by(&exclusion.deployment.capabilities).is_none();
                        prop_assert!(!(allowed && capable), "{:?} was refused", exclusion);
                    }
                }
            }
        }
    }
}

/// The promise end to end: whatever the deployments answer, `execute` on a plan calls
/// only deployments the policy allows, on the first attempt and every fallback.
mod dispatch {
    use std::sync::atomic::{AtomicU32, Ordering};

    use proptest::prelude::*;
    use switchyard_types::ErrorKind;

    use super::*;
    use crate::execute;

    /// A deployment that answers with a scripted failure (or success) and counts calls.
    #[derive(Debug)]
    struct Scripted {
        info: DeploymentInfo,
        failure: Option<ErrorKind>,
        calls: AtomicU32,
    }

    #[async_trait::async_trait]
    impl Provider for Scripted {
        fn info(&self) -> &DeploymentInfo {
            &self.info
        }

        async fn chat(
            &self,
            _: ChatRequest,
            _: &CallContext,
        ) -> Result<ChatResponse, ProviderError> {
            self.calls.fetch_add(1, Ordering::SeqCst);
            match self.failure {
                Some(kind) => Err(ProviderError::new(kind, "scripted failure")),
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

    const FAILURES: [Option<ErrorKind>; 6] = [
        None,
        Some(ErrorKind::RateLimited),
        Some(ErrorKind::Overloaded),
        Some(ErrorKind::Upstream),
        Some(ErrorKind::Timeout),
        Some(ErrorKind::InvalidRequest),
    ];

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(1024))]

        #[test]
        fn no_attempt_or_fallback_reaches_a_deployment_the_policy_forbids(
            deployments in proptest::collection::vec((0..4usize, 0..FAILURES.len()), 1..8),
            denied in proptest::collection::vec(0..4usize, 0..3),
        ) {
            const PROVIDERS: [&str; 4] = ["openai", "anthropic", "gemini", "local"];
            let scripted: Vec<Arc<Scripted>> = deployments
                .iter()
                .enumerate()
                .map(|(index, (provider, failure))| Arc::new(Scripted {
                    info: DeploymentInfo {
                        id: DeploymentId::new(format!("d{index}")),
                        provider: Arc::from(PROVIDERS[*provider]),
                        upstream_model: Arc::from("m"),
                        capabilities: Capabilities::default(),
                    },
                    failure: FAILURES[*failure],
                    calls: AtomicU32::new(0),
                }))
                .collect();
            let route = route(scripted.iter().map(|s| s.clone() as Arc<dyn Provider>).collect());
            let policy = Policy {
                deny_providers: denied.iter().map(|index| PROVIDERS[*index].to_owned()).collect(),
                ..Policy::default()
            };
            if let Ok(planned) = plan(&route, &Needs::default(), &policy) {
                let runtime = tokio::runtime::Builder::new_current_thread()
                    .build()
                    .expect("a runtime");
                let _ = runtime.block_on(execute(&planned.candidates, |deployment| async move {
                    deployment.chat(ChatRequest::default(), &CallContext::default()).await
                }));
            }
            for deployment in &scripted {
                if policy.forbids(&deployment.info).is_some() {
                    prop_assert_eq!(deployment.calls.load(Ordering::SeqCst), 0, "{} was called", deployment.info.id);
                }
            }
        }
    }
}
