//! The egress side: one deployment per vendor mock, what each is scripted to answer
//! (a tool call, an error) in its own wire format, and what each must have received.

use serde_json::{Value, json};
use switchyard_testkit::mock::bedrock::{MOCK_ACCESS_KEY_ID, MOCK_SECRET_ACCESS_KEY};
use switchyard_testkit::{
    AnthropicScript, BedrockScript, GeminiScript, MockAnthropic, MockBedrock, MockGemini,
    MockOpenAi, Route, Script, fixtures,
};

/// The call every tool scenario makes.
pub const CALL_ID: &str = "call_matrix1";
pub const TOOL: &str = "get_weather";

pub fn arguments() -> Value {
    json!({"city": "Paris"})
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Egress {
    OpenAi,
    Anthropic,
    Gemini,
    Bedrock,
}

impl Egress {
    /// The public model name routed to this vendor's mock.
    pub fn model(self) -> &'static str {
        match self {
            Egress::OpenAi => "via-openai",
            Egress::Anthropic => "via-anthropic",
            Egress::Gemini => "via-gemini",
            Egress::Bedrock => "via-bedrock",
        }
    }
}

pub struct Upstreams {
    pub openai: MockOpenAi,
    pub anthropic: MockAnthropic,
    pub gemini: MockGemini,
    pub bedrock: MockBedrock,
}

impl Upstreams {
    pub async fn start() -> Upstreams {
        Upstreams {
            openai: MockOpenAi::start().await,
            anthropic: MockAnthropic::start().await,
            gemini: MockGemini::start().await,
            bedrock: MockBedrock::start().await,
        }
    }

    /// The config: one provider, deployment and public model per vendor.
    pub fn config(&self) -> String {
        format!(
            r#"
[providers.openai]
type = "openai"
base_url = "{openai}"

[providers.anthropic]
type = "anthropic"
base_url = "{anthropic}"
api_key = "env:M_ANTHROPIC"

[providers.gemini]
type = "gemini"
base_url = "{gemini}"
api_key = "env:M_GEMINI"

[providers.bedrock]
type = "bedrock"
base_url = "{bedrock}"
region = "eu-west-1"
access_key_id = "env:M_AWS_ID"
secret_access_key = "env:M_AWS_SECRET"

[deployments.openai]
provider = "openai"
model = "mock-gpt"

[deployments.anthropic]
provider = "anthropic"
model = "claude-mock"
default_max_tokens = 256

[deployments.gemini]
provider = "gemini"
model = "gemini-mock"

[deployments.bedrock]
provider = "bedrock"
model = "eu.anthropic.claude-mock-v1:0"

[models.via-openai]
deployments = ["openai"]

[models.via-anthropic]
deployments = ["anthropic"]

[models.via-gemini]
deployments = ["gemini"]

[models.via-bedrock]
deployments = ["bedrock"]
"#,
            openai = self.openai.base_url(),
            anthropic = self.anthropic.base_url(),
            gemini = self.gemini.base_url(),
            bedrock = self.bedrock.base_url(),
        )
    }

    pub fn secret(name: &str) -> Option<String> {
        match name {
            "M_ANTHROPIC" => Some("sk-ant-matrix-0123456789".to_owned()),
            "M_GEMINI" => Some("gm-matrix-0123456789".to_owned()),
            "M_AWS_ID" => Some(MOCK_ACCESS_KEY_ID.to_owned()),
            "M_AWS_SECRET" => Some(MOCK_SECRET_ACCESS_KEY.to_owned()),
            _ => None,
        }
    }

    /// Scripts `egress` to answer the next request with a call of [`TOOL`].
    pub fn answer_with_tool_call(&self, egress: Egress, stream: bool) {
        let arguments = arguments();
        let text = arguments.to_string();
        let (first, second) = text.split_at(text.len() / 2);
        match egress {
            Egress::OpenAi if stream => {
                let chunk = |delta: Value, finish: Value| {
                    json!({"id": "chatcmpl-m", "object": "chat.completion.chunk", "created": 1,
                           "model": "mock-gpt", "choices": [{"index": 0, "delta": delta,
                           "logprobs": null, "finish_reason": finish}]})
                };
                self.openai.push(
                    Route::ChatCompletions,
                    Script::stream(vec![
                        chunk(json!({"role": "assistant", "content": null, "tool_calls": [{"index": 0,
                            "id": CALL_ID, "type": "function", "function": {"name": TOOL, "arguments": ""}}]}), Value::Null),
                        chunk(json!({"tool_calls": [{"index": 0, "function": {"arguments": first}}]}), Value::Null),
                        chunk(json!({"tool_calls": [{"index": 0, "function": {"arguments": second}}]}), Value::Null),
                        chunk(json!({}), json!("tool_calls")),
                        json!({"id": "chatcmpl-m", "object": "chat.completion.chunk", "created": 1,
                               "model": "mock-gpt", "choices": [],
                               "usage": {"prompt_tokens": 9, "completion_tokens": 4, "total_tokens": 13}}),
                    ]),
                );
            }
            Egress::OpenAi => self.openai.push(
                Route::ChatCompletions,
                Script::reply(fixtures::chat_completion_with_tool_calls(
                    "mock-gpt",
                    &[(CALL_ID, TOOL, &text)],
                )),
            ),
            Egress::Anthropic if stream => {
                let events = vec![
                    json!({"type": "message_start", "message": {"id": "msg_m", "type": "message",
                        "role": "assistant", "model": "claude-mock", "content": [], "stop_reason": null,
                        "stop_sequence": null, "usage": {"input_tokens": 9, "output_tokens": 1}}}),
                    json!({"type": "content_block_start", "index": 0, "content_block":
                        {"type": "tool_use", "id": CALL_ID, "name": TOOL, "input": {}}}),
                    json!({"type": "content_block_delta", "index": 0, "delta": {"type": "input_json_delta", "partial_json": first}}),
                    json!({"type": "content_block_delta", "index": 0, "delta": {"type": "input_json_delta", "partial_json": second}}),
                    json!({"type": "content_block_stop", "index": 0}),
                    json!({"type": "message_delta", "delta": {"stop_reason": "tool_use", "stop_sequence": null},
                        "usage": {"output_tokens": 4}}),
                    json!({"type": "message_stop"}),
                ];
                self.anthropic.push(AnthropicScript::Stream { events });
            }
            Egress::Anthropic => self.anthropic.push(AnthropicScript::Reply {
                status: 200,
                body: json!({"id": "msg_m", "type": "message", "role": "assistant", "model": "claude-mock",
                    "content": [{"type": "tool_use", "id": CALL_ID, "name": TOOL, "input": arguments}],
                    "stop_reason": "tool_use", "stop_sequence": null,
                    "usage": {"input_tokens": 9, "output_tokens": 4}}),
                headers: Vec::new(),
            }),
            Egress::Gemini => {
                let response = json!({"candidates": [{"content": {"role": "model", "parts": [
                        {"functionCall": {"id": CALL_ID, "name": TOOL, "args": arguments}}]},
                        "finishReason": "STOP", "index": 0}],
                    "usageMetadata": {"promptTokenCount": 9, "candidatesTokenCount": 4, "totalTokenCount": 13},
                    "modelVersion": "gemini-mock"});
                self.gemini.push(if stream {
                    GeminiScript::Stream {
                        events: vec![response],
                    }
                } else {
                    GeminiScript::Reply {
                        status: 200,
                        body: response,
                    }
                });
            }
            Egress::Bedrock if stream => {
                let event = |kind: &str, payload: Value| (kind.to_owned(), payload);
                self.bedrock.push(BedrockScript::Stream {
                    events: vec![
                        event("messageStart", json!({"role": "assistant"})),
                        event("contentBlockStart", json!({"contentBlockIndex": 0,
                            "start": {"toolUse": {"toolUseId": CALL_ID, "name": TOOL}}})),
                        event("contentBlockDelta", json!({"contentBlockIndex": 0, "delta": {"toolUse": {"input": first}}})),
                        event("contentBlockDelta", json!({"contentBlockIndex": 0, "delta": {"toolUse": {"input": second}}})),
                        event("contentBlockStop", json!({"contentBlockIndex": 0})),
                        event("messageStop", json!({"stopReason": "tool_use"})),
                        event("metadata", json!({"usage": {"inputTokens": 9, "outputTokens": 4, "totalTokens": 13},
                            "metrics": {"latencyMs": 12}})),
                    ],
                });
            }
            Egress::Bedrock => self.bedrock.push(BedrockScript::Reply {
                status: 200,
                body: json!({"output": {"message": {"role": "assistant", "content": [
                        {"toolUse": {"toolUseId": CALL_ID, "name": TOOL, "input": arguments}}]}},
                    "stopReason": "tool_use",
                    "usage": {"inputTokens": 9, "outputTokens": 4, "totalTokens": 13},
                    "metrics": {"latencyMs": 12}}),
                error_type: None,
            }),
        }
    }

    /// Scripts `egress` to refuse the next request as rate-limited, in its own words.
    pub fn answer_rate_limited(&self, egress: Egress) {
        const MESSAGE: &str = "slow down, matrix";
        match egress {
            Egress::OpenAi => self.openai.push(
                Route::ChatCompletions,
                Script::error(
                    429,
                    fixtures::error_body(MESSAGE, "requests", None, Some("rate_limit_exceeded")),
                ),
            ),
            Egress::Anthropic => {
                self.anthropic
                    .push(AnthropicScript::error(429, "rate_limit_error", MESSAGE))
            }
            Egress::Gemini => self.gemini.push(GeminiScript::error(429, MESSAGE)),
            Egress::Bedrock => {
                self.bedrock
                    .push(BedrockScript::error(429, "ThrottlingException", MESSAGE))
            }
        }
    }

    /// The body of the last request `egress` received.
    pub fn last_body(&self, egress: Egress) -> Value {
        let body = match egress {
            Egress::OpenAi => self
                .openai
                .requests()
                .last()
                .map(|request| request.body.clone()),
            Egress::Anthropic => self
                .anthropic
                .requests()
                .last()
                .map(|request| request.body.clone()),
            Egress::Gemini => self
                .gemini
                .requests()
                .last()
                .map(|request| request.body.clone()),
            Egress::Bedrock => self
                .bedrock
                .requests()
                .last()
                .map(|request| request.body.clone()),
        };
        body.expect("the upstream received a request")
    }

    /// How many requests `egress` received.
    pub fn received(&self, egress: Egress) -> usize {
        match egress {
            Egress::OpenAi => self.openai.requests().len(),
            Egress::Anthropic => self.anthropic.requests().len(),
            Egress::Gemini => self.gemini.requests().len(),
            Egress::Bedrock => self.bedrock.requests().len(),
        }
    }
}

/// Checks that `body`, in `egress`'s format, carries the assistant's call of [`TOOL`]
/// and its result `18C`, in that order.
pub fn check_tool_turns(egress: Egress, body: &Value) {
    let text = body.to_string();
    match egress {
        Egress::OpenAi => {
            let messages = body["messages"].as_array().expect("messages");
            let call = messages
                .iter()
                .position(|message| message["tool_calls"][0]["id"] == CALL_ID)
                .expect("the assistant's call");
            assert_eq!(messages[call]["tool_calls"][0]["function"]["name"], TOOL);
            assert_eq!(messages[call + 1]["role"], "tool");
            assert_eq!(messages[call + 1]["tool_call_id"], CALL_ID);
            assert_eq!(messages[call + 1]["content"], "18C");
        }
        Egress::Anthropic => {
            let messages = body["messages"].as_array().expect("messages");
            assert_eq!(messages[1]["content"][0]["type"], "tool_use", "{text}");
            assert_eq!(messages[1]["content"][0]["id"], CALL_ID);
            assert_eq!(messages[1]["content"][0]["input"], arguments());
            let result = &messages[2]["content"][0];
            assert_eq!(result["type"], "tool_result", "{text}");
            assert_eq!(result["tool_use_id"], CALL_ID);
            assert!(result["content"].to_string().contains("18C"), "{text}");
        }
        Egress::Gemini => {
            let contents = body["contents"].as_array().expect("contents");
            assert_eq!(
                contents[1]["parts"][0]["functionCall"]["name"], TOOL,
                "{text}"
            );
            assert_eq!(contents[1]["parts"][0]["functionCall"]["args"], arguments());
            let response = &contents[2]["parts"][0]["functionResponse"];
            assert_eq!(response["name"], TOOL, "{text}");
            assert!(response["response"].to_string().contains("18C"), "{text}");
        }
        Egress::Bedrock => {
            let messages = body["messages"].as_array().expect("messages");
            assert_eq!(
                messages[1]["content"][0]["toolUse"]["toolUseId"], CALL_ID,
                "{text}"
            );
            assert_eq!(messages[1]["content"][0]["toolUse"]["input"], arguments());
            let result = &messages[2]["content"][0]["toolResult"];
            assert_eq!(result["toolUseId"], CALL_ID, "{text}");
            assert!(result["content"].to_string().contains("18C"), "{text}");
            assert!(body["toolConfig"]["tools"].is_array(), "{text}");
        }
    }
}

/// Checks that `body` asks `egress` for JSON matching the city schema.
pub fn check_json_output(egress: Egress, body: &Value) {
    let text = body.to_string();
    let (field, kind) = match egress {
        Egress::OpenAi => (&body["response_format"], &body["response_format"]["type"]),
        Egress::Anthropic => (
            &body["output_config"],
            &body["output_config"]["format"]["type"],
        ),
        Egress::Gemini => (
            &body["generationConfig"]["responseJsonSchema"],
            &body["generationConfig"]["responseMimeType"],
        ),
        Egress::Bedrock => (
            &body["outputConfig"],
            &body["outputConfig"]["textFormat"]["type"],
        ),
    };
    // Bedrock carries the schema as JSON text, the others as an object.
    assert!(field.to_string().contains("city"), "{egress:?}: {text}");
    let expected = match egress {
        Egress::Gemini => "application/json",
        _ => "json_schema",
    };
    assert_eq!(kind, expected, "{egress:?}: {text}");
}
