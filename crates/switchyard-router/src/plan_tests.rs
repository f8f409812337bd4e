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
    Arc::new(Described(DeploymentInfo {
        id: DeploymentId::new(id),
        provider: Arc::from("test"),
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
    let plain = plan(&route, &Needs::default()).expect("a plan");
    assert_eq!(ids(&plain), ["small", "big", "other"]);
    assert!(plain.excluded.is_empty());

    let with_tools = plan(
        &route,
        &Needs {
            tools: true,
            ..Needs::default()
        },
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
    )
    .expect("a plan");
    assert_eq!(ids(&images), ["chat-only"]);
    assert_eq!(
        images.excluded[0].reason.to_string(),
        "does not support image input"
    );
}
