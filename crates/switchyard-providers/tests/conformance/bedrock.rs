//! The Bedrock adapter's target: answers rendered as Converse responses and as the
//! documented ConverseStream event sequence (user guide, "Inference using Converse
//! API"; payloads as in `fixtures/bedrock/converse_stream_*.json`), sent as binary
//! event-stream frames by the mock. The deployment signs with SigV4, which the mock
//! verifies, and names an inference profile whose id holds a `:`.

use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};
use switchyard_providers::bedrock::{BedrockConfig, BedrockCredentials, BedrockProvider};
use switchyard_testkit::mock::bedrock::{MOCK_ACCESS_KEY_ID, MOCK_SECRET_ACCESS_KEY};
use switchyard_testkit::{BedrockScript, MockBedrock};
use switchyard_types::{DeploymentId, FinishReason, Provider};

use crate::{Answer, Target, Upstream, halves};

const MODEL: &str = "eu.anthropic.claude-conformance-v1:0";
const MODEL_IN_PATH: &str = "eu.anthropic.claude-conformance-v1%3A0";

pub struct BedrockTarget {
    mock: MockBedrock,
    provider: Arc<dyn Provider>,
}

fn stop_reason(reason: &FinishReason) -> &'static str {
    match reason {
        FinishReason::Stop | FinishReason::Other(_) => "end_turn",
        FinishReason::Length => "max_tokens",
        FinishReason::ToolCalls => "tool_use",
        FinishReason::ContentFilter => "guardrail_intervened",
    }
}

fn usage((input, output): (u64, u64)) -> Value {
    json!({"inputTokens": input, "outputTokens": output, "totalTokens": input + output})
}

fn blocks(answer: &Answer) -> Vec<Value> {
    let mut blocks = Vec::new();
    if !answer.reasoning.is_empty() {
        blocks.push(json!({"reasoningContent": {"reasoningText": {
            "text": answer.reasoning, "signature": "c2lnbmVk"}}}));
    }
    if !answer.text.is_empty() {
        blocks.push(json!({"text": answer.text}));
    }
    for (id, name, input) in &answer.tool_calls {
        blocks.push(json!({"toolUse": {"toolUseId": id, "name": name, "input": input}}));
    }
    blocks
}

fn response(answer: &Answer) -> Value {
    json!({
        "output": {"message": {"role": "assistant", "content": blocks(answer)}},
        "stopReason": stop_reason(&answer.finish),
        "usage": usage(answer.usage),
        "metrics": {"latencyMs": 321}
    })
}

fn event(kind: &str, payload: Value) -> (String, Value) {
    (kind.to_owned(), payload)
}

fn text_deltas(index: usize, text: &str) -> Vec<(String, Value)> {
    let (first, second) = halves(text);
    [first, second]
        .into_iter()
        .map(|piece| {
            event(
                "contentBlockDelta",
                json!({"contentBlockIndex": index, "delta": {"text": piece}}),
            )
        })
        .collect()
}

/// Text and reasoning blocks open without `contentBlockStart`; a tool block opens with
/// one, then streams its input as an empty fragment and two halves.
fn events(answer: &Answer) -> Vec<(String, Value)> {
    let mut events = vec![event("messageStart", json!({"role": "assistant"}))];
    for (index, block) in blocks(answer).into_iter().enumerate() {
        if let Some(reasoning) = block.get("reasoningContent") {
            let text = &reasoning["reasoningText"]["text"];
            let signature = &reasoning["reasoningText"]["signature"];
            for delta in [json!({"text": text}), json!({"signature": signature})] {
                events.push(event(
                    "contentBlockDelta",
                    json!({"contentBlockIndex": index, "delta": {"reasoningContent": delta}}),
                ));
            }
        } else if let Some(text) = block["text"].as_str() {
            events.push(event(
                "contentBlockDelta",
                json!({"contentBlockIndex": index, "delta": {"text": ""}}),
            ));
            events.extend(text_deltas(index, text));
        } else {
            let call = &block["toolUse"];
            events.push(event(
                "contentBlockStart",
                json!({"contentBlockIndex": index, "start": {"toolUse": {
                    "toolUseId": call["toolUseId"], "name": call["name"]}}}),
            ));
            let input = call["input"].to_string();
            let (first, second) = halves(&input);
            for piece in ["", first, second] {
                events.push(event(
                    "contentBlockDelta",
                    json!({"contentBlockIndex": index, "delta": {"toolUse": {"input": piece}}}),
                ));
            }
        }
        events.push(event(
            "contentBlockStop",
            json!({"contentBlockIndex": index}),
        ));
    }
    events.push(event(
        "messageStop",
        json!({"stopReason": stop_reason(&answer.finish)}),
    ));
    events.push(event(
        "metadata",
        json!({"usage": usage(answer.usage), "metrics": {"latencyMs": 321}}),
    ));
    events
}

fn partial(text: &str) -> Vec<(String, Value)> {
    vec![
        event("messageStart", json!({"role": "assistant"})),
        event(
            "contentBlockDelta",
            json!({"contentBlockIndex": 0, "delta": {"text": text}}),
        ),
    ]
}

fn error_type(status: u16) -> &'static str {
    match status {
        400 => "ValidationException",
        // Bedrock answers bad credentials with 403; a 401 from a proxy in front of it
        // names the same failure.
        401 => "UnrecognizedClientException",
        403 => "AccessDeniedException",
        404 => "ResourceNotFoundException",
        408 => "ModelTimeoutException",
        429 => "ThrottlingException",
        503 | 529 => "ServiceUnavailableException",
        _ => "InternalServerException",
    }
}

#[async_trait::async_trait]
impl Target for BedrockTarget {
    async fn start() -> Self {
        let mock = MockBedrock::start().await;
        let provider = BedrockProvider::new(
            DeploymentId::new("conformance"),
            BedrockConfig {
                provider: "bedrock".into(),
                region: "eu-west-1".into(),
                base_url: Some(mock.base_url()),
                credentials: BedrockCredentials::AccessKey {
                    access_key_id: MOCK_ACCESS_KEY_ID.into(),
                    secret_access_key: MOCK_SECRET_ACCESS_KEY.into(),
                    session_token: None,
                },
                upstream_model: MODEL.into(),
                headers: Vec::new(),
                timeouts: crate::timeouts(),
                max_concurrency: None,
                embeddings: false,
                drop_unsupported_params: false,
            },
        )
        .expect("builds");
        BedrockTarget {
            mock,
            provider: Arc::new(provider),
        }
    }

    fn provider(&self) -> Arc<dyn Provider> {
        self.provider.clone()
    }

    fn script(&self, upstream: &Upstream, stream: bool) {
        let script = match upstream {
            Upstream::Answer(answer) if stream => BedrockScript::Stream {
                events: events(answer),
            },
            Upstream::Answer(answer) => BedrockScript::Reply {
                status: 200,
                body: response(answer),
                error_type: None,
            },
            Upstream::Error { status, message } => {
                BedrockScript::error(*status, error_type(*status), message)
            }
            Upstream::FailMidStream { partial: text } => BedrockScript::StreamException {
                events: partial(text),
                exception_type: "internalServerException".into(),
                message: "The system encountered an unexpected error during processing. Try \
                          your request again."
                    .into(),
            },
            Upstream::StallAfter { partial: text } => BedrockScript::StreamThenStall {
                events: partial(text),
            },
            Upstream::Refused => return,
        };
        self.mock.push(script);
    }

    fn last_request(&self) -> Value {
        self.mock
            .requests()
            .last()
            .map(|request| request.body.clone())
            .unwrap_or(Value::Null)
    }

    fn check_request(&self, scenario: &str, body: &Value) {
        let request = self.mock.requests().pop().expect("a request");
        // Percent-encoded once in the path; the mock checked the signature over it.
        assert!(
            request.path == format!("/model/{MODEL_IN_PATH}/converse")
                || request.path == format!("/model/{MODEL_IN_PATH}/converse-stream"),
            "{}",
            request.path
        );
        let authorization = request.header("authorization").expect("signed");
        assert!(
            authorization.starts_with(&format!(
                "AWS4-HMAC-SHA256 Credential={MOCK_ACCESS_KEY_ID}/"
            )) && authorization.contains("/eu-west-1/bedrock/aws4_request"),
            "{authorization}"
        );
        assert!(
            body.get("modelId").is_none(),
            "the model id is a path label"
        );
        let messages = &body["messages"];
        let inference = &body["inferenceConfig"];
        match scenario {
            "system_prompt" => {
                assert_eq!(body["system"], json!([{"text": "Be terse."}]));
                assert_eq!(messages[0]["role"], "user");
            }
            "multi_turn" => assert_eq!(crate::roles(messages), ["user", "assistant", "user"]),
            "image_input" => assert_eq!(
                messages[0]["content"][1],
                json!({"image": {"format": "png", "source": {"bytes": "iVBORw0KGgo="}}})
            ),
            "one_tool_call" | "parallel_tool_calls" => {
                let spec = &body["toolConfig"]["tools"][0]["toolSpec"];
                assert_eq!(spec["name"], "get_weather");
                assert_eq!(spec["description"], "Current weather in a city");
                assert_eq!(spec["inputSchema"]["json"]["type"], "object");
            }
            "tool_results" => {
                assert_eq!(
                    messages[1]["content"][0],
                    json!({"toolUse": {"toolUseId": "call_1", "name": "get_weather",
                                       "input": {"city": "Paris"}}})
                );
                assert_eq!(messages[2]["role"], "user");
                assert_eq!(
                    messages[2]["content"][0],
                    json!({"toolResult": {"toolUseId": "call_1",
                                          "content": [{"text": "18°C, sunny"}]}})
                );
                assert!(body["toolConfig"]["tools"].is_array());
            }
            "stop_sequence" => assert_eq!(inference["stopSequences"], json!(["5"])),
            "max_tokens_reached" => assert_eq!(inference["maxTokens"], 5),
            "json_schema_output" => {
                let format = &body["outputConfig"]["textFormat"];
                assert_eq!(format["type"], "json_schema");
                let definition = &format["structure"]["jsonSchema"];
                assert_eq!(definition["name"], "place");
                let schema = definition["schema"]
                    .as_str()
                    .expect("the schema is a string");
                assert_eq!(
                    serde_json::from_str::<Value>(schema).expect("JSON"),
                    crate::scenarios::city_schema()
                );
            }
            _ => {}
        }
    }

    async fn client_hung_up(&self) -> bool {
        self.mock
            .hang_ups()
            .wait_for(1, Duration::from_secs(5))
            .await
    }
}
