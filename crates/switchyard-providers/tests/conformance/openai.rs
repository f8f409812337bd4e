//! The OpenAI-compatible adapter's targets: answers rendered as OpenAI's Chat Completions
//! objects and chunks (API reference, "The chat completion object" and "The chat
//! completion chunk object"), served on OpenAI's paths and on Azure OpenAI's (Azure
//! reference, "Chat completions": `/openai/deployments/{name}/chat/completions?api-version=`
//! and the v1 `/openai/v1/chat/completions`, with an `api-key` header).

use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};
use switchyard_providers::openai::{Dialect, OpenAiCompatConfig, OpenAiCompatProvider};
use switchyard_testkit::{MockOpenAi, RecordedRequest, Route, Script, StreamEnd};
use switchyard_types::{DeploymentId, FinishReason, Provider};

use crate::{Answer, Target, Upstream, halves};

/// Where a host family serves OpenAI's protocol, and how it wants the key.
pub trait Host: Send + Sync + 'static {
    fn dialect() -> Dialect;
    /// OpenAI's API root is `…/v1`; Azure's endpoint is the bare resource URL.
    fn base_url(mock: &MockOpenAi) -> String {
        format!("http://{}", mock.addr())
    }
    fn check_transport(request: &RecordedRequest);
    /// The id a tool call sent with `id` carries on this host's wire.
    fn wire_id(id: &str) -> String {
        id.to_owned()
    }
}

pub struct OpenAiHost;

impl Host for OpenAiHost {
    fn dialect() -> Dialect {
        Dialect::OpenAi
    }

    fn base_url(mock: &MockOpenAi) -> String {
        mock.base_url()
    }

    fn check_transport(request: &RecordedRequest) {
        assert_eq!(request.path, "/v1/chat/completions");
        assert_eq!(
            request.header("authorization"),
            Some("Bearer sk-conformance")
        );
    }
}

/// Mistral La Plateforme: OpenAI's paths, Mistral's ids and field names.
pub struct MistralHost;

impl Host for MistralHost {
    fn dialect() -> Dialect {
        Dialect::Mistral
    }

    fn base_url(mock: &MockOpenAi) -> String {
        mock.base_url()
    }

    fn check_transport(request: &RecordedRequest) {
        assert_eq!(request.path, "/v1/chat/completions");
        assert_eq!(
            request.header("authorization"),
            Some("Bearer sk-conformance")
        );
        let body = &request.body;
        assert!(
            body.get("stream_options").is_none(),
            "Mistral refuses stream_options: {body}"
        );
    }

    fn wire_id(id: &str) -> String {
        switchyard_providers::openai::mistral::tool_call_id(id)
    }
}

/// Azure OpenAI with a dated `api-version`: the deployment in the path.
pub struct AzureHost;

impl Host for AzureHost {
    fn dialect() -> Dialect {
        Dialect::Azure {
            api_version: "2024-10-21".into(),
        }
    }

    fn check_transport(request: &RecordedRequest) {
        assert_eq!(
            request.path,
            "/openai/deployments/mock-gpt/chat/completions?api-version=2024-10-21"
        );
        assert_eq!(request.header("api-key"), Some("sk-conformance"));
        assert_eq!(request.header("authorization"), None);
    }
}

/// Azure AI Foundry's model inference: every deployment under `/models`, picked by
/// `model`.
pub struct AzureFoundryHost;

impl Host for AzureFoundryHost {
    fn dialect() -> Dialect {
        Dialect::AzureFoundry {
            api_version: "2024-05-01-preview".into(),
        }
    }

    fn check_transport(request: &RecordedRequest) {
        assert_eq!(
            request.path,
            "/models/chat/completions?api-version=2024-05-01-preview"
        );
        assert_eq!(request.header("api-key"), Some("sk-conformance"));
        assert_eq!(request.header("extra-parameters"), Some("pass-through"));
        assert_eq!(request.body["model"], "mock-gpt");
        assert!(request.body.get("max_completion_tokens").is_none());
    }
}

/// Azure OpenAI's version-less v1 API.
pub struct AzureV1Host;

impl Host for AzureV1Host {
    fn dialect() -> Dialect {
        Dialect::Azure {
            api_version: "v1".into(),
        }
    }

    fn check_transport(request: &RecordedRequest) {
        assert_eq!(request.path, "/openai/v1/chat/completions");
        assert_eq!(request.header("api-key"), Some("sk-conformance"));
    }
}

/// The OpenAI-compatible hosts with their own rules: OpenAI's paths and bearer key.
macro_rules! hosted {
    ($($target:ident => $host:ident),+ $(,)?) => {
        $(
            pub struct $target;

            impl Host for $target {
                fn dialect() -> Dialect {
                    Dialect::Hosted(switchyard_providers::openai::Host::$host)
                }

                fn base_url(mock: &MockOpenAi) -> String {
                    mock.base_url()
                }

                fn check_transport(request: &RecordedRequest) {
                    OpenAiHost::check_transport(request);
                    check_hosted_body(switchyard_providers::openai::Host::$host, &request.body);
                }
            }
        )+
    };
}

hosted!(
    XaiHost => Xai,
    DeepSeekHost => DeepSeek,
    GroqHost => Groq,
    TogetherHost => Together,
    FireworksHost => Fireworks,
);

/// What every request to a host must look like under its rules.
fn check_hosted_body(host: switchyard_providers::openai::Host, body: &Value) {
    use switchyard_providers::openai::Host as Hosted;
    assert!(
        body.get("max_completion_tokens").is_none() || matches!(host, Hosted::Xai | Hosted::Groq),
        "{host:?} takes max_tokens: {body}"
    );
    if host == Hosted::Fireworks {
        assert_eq!(body["context_length_exceeded_behavior"], "error", "{body}");
    }
    if matches!(host, Hosted::Xai | Hosted::Groq) {
        for message in body["messages"].as_array().into_iter().flatten() {
            assert!(message.get("reasoning_content").is_none(), "{body}");
        }
    }
}

pub struct OpenAiTarget<H: Host> {
    mock: MockOpenAi,
    provider: Arc<dyn Provider>,
    host: std::marker::PhantomData<H>,
}

fn finish(reason: &FinishReason) -> &'static str {
    match reason {
        FinishReason::Stop => "stop",
        FinishReason::Length => "length",
        FinishReason::ToolCalls => "tool_calls",
        FinishReason::ContentFilter => "content_filter",
        FinishReason::Other(_) => "stop",
    }
}

fn usage((prompt, completion): (u64, u64)) -> Value {
    json!({"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion})
}

fn completion(answer: &Answer) -> Value {
    let mut message = json!({
        "role": "assistant",
        "content": if answer.text.is_empty() { Value::Null } else { json!(answer.text) },
    });
    // DeepSeek's field for the reasoning it shows.
    if !answer.reasoning.is_empty() {
        message["reasoning_content"] = json!(answer.reasoning);
    }
    if !answer.tool_calls.is_empty() {
        message["tool_calls"] = answer
            .tool_calls
            .iter()
            .map(|(id, name, arguments)| {
                json!({"id": id, "type": "function",
                       "function": {"name": name, "arguments": arguments.to_string()}})
            })
            .collect();
    }
    json!({
        "id": "chatcmpl-conformance", "object": "chat.completion", "created": 1700000000,
        "model": "mock-gpt",
        "choices": [{"index": 0, "message": message, "finish_reason": finish(&answer.finish), "logprobs": null}],
        "usage": usage(answer.usage),
    })
}

fn chunk(delta: Value, finish_reason: Option<&str>) -> Value {
    json!({
        "id": "chatcmpl-conformance", "object": "chat.completion.chunk", "created": 1700000000,
        "model": "mock-gpt",
        "choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason, "logprobs": null}],
    })
}

fn chunks(answer: &Answer) -> Vec<Value> {
    let mut chunks = vec![chunk(json!({"role": "assistant", "content": ""}), None)];
    if !answer.reasoning.is_empty() {
        let (first, second) = halves(&answer.reasoning);
        chunks.push(chunk(json!({"reasoning_content": first}), None));
        chunks.push(chunk(json!({"reasoning_content": second}), None));
    }
    if !answer.text.is_empty() {
        let (first, second) = halves(&answer.text);
        chunks.push(chunk(json!({"content": first}), None));
        chunks.push(chunk(json!({"content": second}), None));
    }
    for (index, (id, name, arguments)) in answer.tool_calls.iter().enumerate() {
        chunks.push(chunk(
            json!({"tool_calls": [{"index": index, "id": id, "type": "function",
                                   "function": {"name": name, "arguments": ""}}]}),
            None,
        ));
        let arguments = arguments.to_string();
        let (first, second) = halves(&arguments);
        for piece in [first, second] {
            chunks.push(chunk(
                json!({"tool_calls": [{"index": index, "function": {"arguments": piece}}]}),
                None,
            ));
        }
    }
    chunks.push(chunk(json!({}), Some(finish(&answer.finish))));
    chunks.push(json!({
        "id": "chatcmpl-conformance", "object": "chat.completion.chunk", "created": 1700000000,
        "model": "mock-gpt", "choices": [], "usage": usage(answer.usage),
    }));
    chunks
}

fn error_body(status: u16, message: &str) -> Value {
    let kind = match status {
        400 | 404 => "invalid_request_error",
        401 => "authentication_error",
        429 => "rate_limit_error",
        _ => "server_error",
    };
    json!({"error": {"message": message, "type": kind, "param": null, "code": null}})
}

#[async_trait::async_trait]
impl<H: Host> Target for OpenAiTarget<H> {
    async fn start() -> Self {
        let mock = MockOpenAi::start().await;
        let provider = OpenAiCompatProvider::new(
            DeploymentId::new("conformance"),
            OpenAiCompatConfig {
                provider: "openai".into(),
                base_url: H::base_url(&mock),
                api_key: Some("sk-conformance".to_owned().into()),
                upstream_model: "mock-gpt".into(),
                headers: Vec::new(),
                timeouts: crate::timeouts(),
                max_concurrency: None,
                embeddings: false,
                dialect: H::dialect(),
                drop_unsupported_params: false,
            },
        )
        .expect("builds");
        OpenAiTarget {
            mock,
            provider: Arc::new(provider),
            host: std::marker::PhantomData,
        }
    }

    fn provider(&self) -> Arc<dyn Provider> {
        self.provider.clone()
    }

    fn script(&self, upstream: &Upstream, stream: bool) {
        let script = match upstream {
            Upstream::Answer(answer) if stream => Script::stream(chunks(answer)),
            Upstream::Answer(answer) => Script::reply(completion(answer)),
            Upstream::Error { status, message } => {
                Script::error(*status, error_body(*status, message))
            }
            Upstream::FailMidStream { partial } => Script::Stream {
                chunks: vec![
                    chunk(json!({"role": "assistant", "content": ""}), None),
                    chunk(json!({"content": partial}), None),
                ],
                delay_ms: 0,
                end: StreamEnd::ErrorEvent {
                    body: error_body(
                        500,
                        "The server had an error while processing your request.",
                    ),
                },
            },
            Upstream::StallAfter { partial } => Script::Stream {
                chunks: vec![
                    chunk(json!({"role": "assistant", "content": ""}), None),
                    chunk(json!({"content": partial}), None),
                ],
                delay_ms: 0,
                end: StreamEnd::Stall,
            },
            Upstream::Refused => return,
        };
        self.mock.push(Route::ChatCompletions, script);
    }

    fn last_request(&self) -> Value {
        self.mock
            .requests()
            .last()
            .map(|request| request.body.clone())
            .unwrap_or(Value::Null)
    }

    fn check_request(&self, scenario: &str, body: &Value) {
        if let Some(request) = self.mock.requests().last() {
            H::check_transport(request);
        }
        let messages = &body["messages"];
        match scenario {
            "system_prompt" => assert_eq!(
                messages[0],
                json!({"role": "system", "content": "Be terse."})
            ),
            "multi_turn" => assert_eq!(crate::roles(messages), ["user", "assistant", "user"]),
            "image_input" => assert_eq!(
                messages[0]["content"][1],
                json!({"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="}})
            ),
            "one_tool_call" | "parallel_tool_calls" => {
                assert_eq!(body["tools"][0]["function"]["name"], "get_weather")
            }
            "tool_results" => {
                let id = H::wire_id("call_1");
                assert_eq!(messages[1]["tool_calls"][0]["id"], json!(id));
                assert_eq!(messages[2]["role"], "tool");
                assert_eq!(messages[2]["tool_call_id"], json!(id));
            }
            "stop_sequence" => assert_eq!(body["stop"], json!(["5"])),
            "max_tokens_reached" => assert_eq!(body["max_tokens"], 5),
            "json_schema_output" => assert_eq!(
                body["response_format"],
                json!({"type": "json_schema", "json_schema": {
                    "name": "place", "schema": crate::scenarios::city_schema(), "strict": true}})
            ),
            _ => {}
        }
    }

    async fn client_hung_up(&self) -> bool {
        self.mock
            .wait_for_cancelled(1, Duration::from_secs(5))
            .await
    }
}
