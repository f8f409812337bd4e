//! The Gemini adapter's target: answers rendered as `GenerateContentResponse` objects
//! (API reference, "Generating content") and streamed as a sequence of them, each a
//! `data:` event (`streamGenerateContent?alt=sse`), the last one carrying the finish
//! reason and the usage.

use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};
use switchyard_providers::gemini::{GeminiConfig, GeminiProvider};
use switchyard_testkit::{GeminiScript, MockGemini};
use switchyard_types::{DeploymentId, FinishReason, Provider};

use crate::{Answer, Target, Upstream, halves};

pub struct GeminiTarget {
    mock: MockGemini,
    provider: Arc<dyn Provider>,
}

fn finish_reason(reason: &FinishReason) -> &'static str {
    match reason {
        FinishReason::Stop | FinishReason::ToolCalls | FinishReason::Other(_) => "STOP",
        FinishReason::Length => "MAX_TOKENS",
        FinishReason::ContentFilter => "SAFETY",
    }
}

fn usage((prompt, output): (u64, u64)) -> Value {
    json!({"promptTokenCount": prompt, "candidatesTokenCount": output,
           "totalTokenCount": prompt + output})
}

/// One response object with these parts; `finish` and `usage` only on the last.
fn response(parts: Vec<Value>, finish: Option<&str>, usage: Option<Value>) -> Value {
    let mut candidate = json!({"content": {"parts": parts, "role": "model"}, "index": 0});
    if let Some(finish) = finish {
        candidate["finishReason"] = json!(finish);
    }
    let mut response = json!({"candidates": [candidate], "modelVersion": "gemini-conformance",
                              "responseId": "resp-conformance"});
    if let Some(usage) = usage {
        response["usageMetadata"] = usage;
    }
    response
}

fn parts(answer: &Answer) -> Vec<Value> {
    let mut parts = Vec::new();
    if !answer.reasoning.is_empty() {
        parts.push(json!({"text": answer.reasoning, "thought": true}));
    }
    if !answer.text.is_empty() {
        parts.push(json!({"text": answer.text}));
    }
    for (id, name, args) in &answer.tool_calls {
        parts.push(json!({"functionCall": {"id": id, "name": name, "args": args}}));
    }
    parts
}

/// Text in two events, thoughts and calls one per event, then the finish.
fn events(answer: &Answer) -> Vec<Value> {
    let mut events = Vec::new();
    for part in parts(answer) {
        match part["text"].as_str() {
            Some(text) if part.get("thought").is_none() => {
                let (first, second) = halves(text);
                events.push(response(vec![json!({"text": first})], None, None));
                events.push(response(vec![json!({"text": second})], None, None));
            }
            _ => events.push(response(vec![part], None, None)),
        }
    }
    events.push(response(
        Vec::new(),
        Some(finish_reason(&answer.finish)),
        Some(usage(answer.usage)),
    ));
    events
}

#[async_trait::async_trait]
impl Target for GeminiTarget {
    async fn start() -> Self {
        let mock = MockGemini::start().await;
        let provider = GeminiProvider::new(
            DeploymentId::new("conformance"),
            GeminiConfig {
                provider: "gemini".into(),
                base_url: mock.base_url(),
                api_key: Some("gm-conformance".to_owned().into()),
                upstream_model: "gemini-conformance".into(),
                headers: Vec::new(),
                timeouts: crate::timeouts(),
                max_concurrency: None,
                embeddings: false,
                drop_unsupported_params: false,
            },
        )
        .expect("builds");
        GeminiTarget {
            mock,
            provider: Arc::new(provider),
        }
    }

    fn provider(&self) -> Arc<dyn Provider> {
        self.provider.clone()
    }

    fn script(&self, upstream: &Upstream, stream: bool) {
        let script = match upstream {
            Upstream::Answer(answer) if stream => GeminiScript::Stream {
                events: events(answer),
            },
            Upstream::Answer(answer) => GeminiScript::Reply {
                status: 200,
                body: response(
                    parts(answer),
                    Some(finish_reason(&answer.finish)),
                    Some(usage(answer.usage)),
                ),
            },
            Upstream::Error { status, message } => GeminiScript::error(*status, message),
            Upstream::FailMidStream { partial } => GeminiScript::Stream {
                events: vec![
                    response(vec![json!({"text": partial})], None, None),
                    switchyard_testkit::mock::gemini::error_body(
                        500,
                        "Internal error encountered.",
                    ),
                ],
            },
            Upstream::StallAfter { partial } => GeminiScript::StreamThenStall {
                events: vec![response(vec![json!({"text": partial})], None, None)],
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
        assert_eq!(request.header("x-goog-api-key"), Some("gm-conformance"));
        assert!(
            request.path == "/v1beta/models/gemini-conformance:generateContent"
                || request.path
                    == "/v1beta/models/gemini-conformance:streamGenerateContent?alt=sse",
            "{}",
            request.path
        );
        let contents = &body["contents"];
        let generation = &body["generationConfig"];
        match scenario {
            "system_prompt" => {
                assert_eq!(
                    body["systemInstruction"],
                    json!({"parts": [{"text": "Be terse."}]})
                );
                assert_eq!(contents[0]["role"], "user");
            }
            "multi_turn" => assert_eq!(crate::roles(contents), ["user", "model", "user"]),
            "image_input" => assert_eq!(
                contents[0]["parts"][1],
                json!({"inlineData": {"mimeType": "image/png", "data": "iVBORw0KGgo="}})
            ),
            "one_tool_call" | "parallel_tool_calls" => {
                let declaration = &body["tools"][0]["functionDeclarations"][0];
                assert_eq!(declaration["name"], "get_weather");
                assert_eq!(declaration["parametersJsonSchema"]["type"], "object");
            }
            "tool_results" => {
                assert_eq!(
                    contents[1]["parts"][0],
                    json!({"functionCall": {"id": "call_1", "name": "get_weather", "args": {"city": "Paris"}}})
                );
                assert_eq!(contents[2]["role"], "user");
                assert_eq!(
                    contents[2]["parts"][0],
                    json!({"functionResponse": {"id": "call_1", "name": "get_weather",
                                                "response": {"result": "18°C, sunny"}}})
                );
            }
            "stop_sequence" => assert_eq!(generation["stopSequences"], json!(["5"])),
            "max_tokens_reached" => assert_eq!(generation["maxOutputTokens"], 5),
            "json_schema_output" => {
                assert_eq!(generation["responseMimeType"], "application/json");
                assert_eq!(
                    generation["responseJsonSchema"],
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
