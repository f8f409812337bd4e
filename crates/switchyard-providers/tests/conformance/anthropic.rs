//! The Anthropic adapter's target: answers rendered as Messages API objects and the
//! documented event sequence (API reference, "Messages" and "Streaming Messages").

use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};
use switchyard_providers::anthropic::{AnthropicConfig, AnthropicProvider};
use switchyard_testkit::{AnthropicScript, MockAnthropic};
use switchyard_types::{DeploymentId, FinishReason, Provider};

use crate::{Answer, Target, Upstream, halves};

pub struct AnthropicTarget {
    mock: MockAnthropic,
    provider: Arc<dyn Provider>,
}

fn stop_reason(reason: &FinishReason) -> &'static str {
    match reason {
        FinishReason::Stop | FinishReason::Other(_) => "end_turn",
        FinishReason::Length => "max_tokens",
        FinishReason::ToolCalls => "tool_use",
        FinishReason::ContentFilter => "refusal",
    }
}

fn blocks(answer: &Answer) -> Vec<Value> {
    let mut blocks = Vec::new();
    if !answer.reasoning.is_empty() {
        blocks.push(
            json!({"type": "thinking", "thinking": answer.reasoning, "signature": "c2lnbmVk"}),
        );
    }
    if !answer.text.is_empty() {
        blocks.push(json!({"type": "text", "text": answer.text}));
    }
    for (id, name, input) in &answer.tool_calls {
        blocks.push(json!({"type": "tool_use", "id": id, "name": name, "input": input}));
    }
    blocks
}

fn message(answer: &Answer) -> Value {
    json!({
        "id": "msg_conformance", "type": "message", "role": "assistant", "model": "claude-conformance",
        "content": blocks(answer), "stop_reason": stop_reason(&answer.finish), "stop_sequence": null,
        "usage": {"input_tokens": answer.usage.0, "output_tokens": answer.usage.1},
    })
}

fn start(input_tokens: u64) -> Value {
    json!({"type": "message_start", "message": {"id": "msg_conformance", "type": "message",
           "role": "assistant", "model": "claude-conformance", "content": [], "stop_reason": null,
           "stop_sequence": null, "usage": {"input_tokens": input_tokens, "output_tokens": 1}}})
}

fn events(answer: &Answer) -> Vec<Value> {
    let mut events = vec![start(answer.usage.0), json!({"type": "ping"})];
    for (index, block) in blocks(answer).into_iter().enumerate() {
        let (opening, deltas) = match block["type"].as_str() {
            Some("thinking") => (
                json!({"type": "thinking", "thinking": "", "signature": ""}),
                vec![
                    json!({"type": "thinking_delta", "thinking": block["thinking"]}),
                    json!({"type": "signature_delta", "signature": block["signature"]}),
                ],
            ),
            Some("text") => {
                let text = block["text"].as_str().unwrap_or_default();
                let (first, second) = halves(text);
                (
                    json!({"type": "text", "text": ""}),
                    vec![
                        json!({"type": "text_delta", "text": first}),
                        json!({"type": "text_delta", "text": second}),
                    ],
                )
            }
            _ => {
                let input = block["input"].to_string();
                let (first, second) = halves(&input);
                (
                    json!({"type": "tool_use", "id": block["id"], "name": block["name"], "input": {}}),
                    vec![
                        json!({"type": "input_json_delta", "partial_json": ""}),
                        json!({"type": "input_json_delta", "partial_json": first}),
                        json!({"type": "input_json_delta", "partial_json": second}),
                    ],
                )
            }
        };
        events
            .push(json!({"type": "content_block_start", "index": index, "content_block": opening}));
        for delta in deltas {
            events.push(json!({"type": "content_block_delta", "index": index, "delta": delta}));
        }
        events.push(json!({"type": "content_block_stop", "index": index}));
    }
    events.push(json!({"type": "message_delta",
                       "delta": {"stop_reason": stop_reason(&answer.finish), "stop_sequence": null},
                       "usage": {"output_tokens": answer.usage.1}}));
    events.push(json!({"type": "message_stop"}));
    events
}

fn error_type(status: u16) -> &'static str {
    match status {
        400 => "invalid_request_error",
        401 => "authentication_error",
        403 => "permission_error",
        404 => "not_found_error",
        413 => "request_too_large",
        429 => "rate_limit_error",
        529 => "overloaded_error",
        _ => "api_error",
    }
}

#[async_trait::async_trait]
impl Target for AnthropicTarget {
    async fn start() -> Self {
        let mock = MockAnthropic::start().await;
        let provider = AnthropicProvider::new(
            DeploymentId::new("conformance"),
            AnthropicConfig {
                provider: "anthropic".into(),
                base_url: mock.base_url(),
                api_key: Some("sk-ant-conformance".to_owned().into()),
                upstream_model: "claude-conformance".into(),
                headers: Vec::new(),
                timeouts: crate::timeouts(),
                max_concurrency: None,
                default_max_tokens: 1024,
                drop_unsupported_params: false,
            },
        )
        .expect("builds");
        AnthropicTarget {
            mock,
            provider: Arc::new(provider),
        }
    }

    fn provider(&self) -> Arc<dyn Provider> {
        self.provider.clone()
    }

    fn script(&self, upstream: &Upstream, stream: bool) {
        let script = match upstream {
            Upstream::Answer(answer) if stream => AnthropicScript::Stream {
                events: events(answer),
            },
            Upstream::Answer(answer) => AnthropicScript::Reply {
                status: 200,
                body: message(answer),
                headers: Vec::new(),
            },
            Upstream::Error { status, message } => {
                AnthropicScript::error(*status, error_type(*status), message)
            }
            Upstream::FailMidStream { partial } => AnthropicScript::Stream {
                events: vec![
                    start(10),
                    json!({"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}}),
                    json!({"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": partial}}),
                    json!({"type": "error", "error": {"type": "api_error", "message": "Internal server error"}}),
                ],
            },
            Upstream::StallAfter { partial } => AnthropicScript::StreamThenStall {
                events: vec![
                    start(10),
                    json!({"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}}),
                    json!({"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": partial}}),
                ],
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
        let messages = &body["messages"];
        assert!(
            body["max_tokens"].is_u64(),
            "max_tokens is required: {body}"
        );
        match scenario {
            "system_prompt" => {
                assert_eq!(
                    body["system"],
                    json!([{"type": "text", "text": "Be terse."}])
                );
                assert_eq!(messages[0]["role"], "user");
            }
            "multi_turn" => assert_eq!(crate::roles(messages), ["user", "assistant", "user"]),
            "image_input" => assert_eq!(
                messages[0]["content"][1],
                json!({"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "iVBORw0KGgo="}})
            ),
            "one_tool_call" | "parallel_tool_calls" => {
                assert_eq!(body["tools"][0]["name"], "get_weather");
                assert_eq!(body["tools"][0]["input_schema"]["type"], "object");
            }
            "tool_results" => {
                assert_eq!(
                    messages[1]["content"][0],
                    json!({"type": "tool_use", "id": "call_1", "name": "get_weather", "input": {"city": "Paris"}})
                );
                assert_eq!(messages[2]["role"], "user");
                assert_eq!(messages[2]["content"][0]["type"], "tool_result");
                assert_eq!(messages[2]["content"][0]["tool_use_id"], "call_1");
            }
            "stop_sequence" => assert_eq!(body["stop_sequences"], json!(["5"])),
            "max_tokens_reached" => assert_eq!(body["max_tokens"], 5),
            "json_schema_output" => assert_eq!(
                body["output_config"],
                json!({"format": {"type": "json_schema", "schema": crate::scenarios::city_schema()}})
            ),
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
