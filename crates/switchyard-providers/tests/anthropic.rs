//! The Anthropic adapter against the wire-faithful mock: headers, bodies, answers,
//! streams, and every kind of failure.

use std::time::Duration;

use futures::StreamExt;
use secrecy::SecretString;
use serde_json::{Value, json};
use switchyard_providers::anthropic::{AnthropicConfig, AnthropicProvider};
use switchyard_providers::openai::Timeouts;
use switchyard_testkit::{AnthropicScript, MockAnthropic};
use switchyard_types::{
    CallContext, ChatRequest, ContentBlock, DeploymentId, ErrorKind, FinishReason, Message,
    Provider, ProviderError, RetryAdvice, Role, Sampling, StreamEvent,
};

const KEY: &str = "sk-ant-test-0123456789";

fn provider(mock: &MockAnthropic) -> AnthropicProvider {
    AnthropicProvider::new(
        DeploymentId::new("claude"),
        AnthropicConfig {
            provider: "anthropic".into(),
            base_url: mock.base_url(),
            api_key: Some(SecretString::from(KEY)),
            upstream_model: "claude-sonnet-4-5".into(),
            headers: Vec::new(),
            timeouts: Timeouts {
                first_byte: Duration::from_secs(5),
                idle: Duration::from_secs(5),
                ..Timeouts::default()
            },
            max_concurrency: None,
            default_max_tokens: 1024,
            drop_unsupported_params: false,
        },
    )
    .expect("builds")
}

fn ask(text: &str) -> ChatRequest {
    ChatRequest {
        messages: vec![
            Message::text(Role::System, "Be brief."),
            Message::text(Role::User, text),
        ],
        ..ChatRequest::default()
    }
}

/// The events of a recorded stream in the protocol crate's fixtures.
fn recorded_events(name: &str) -> Vec<Value> {
    let path = format!(
        "{}/../switchyard-protocols/tests/fixtures/anthropic/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read_to_string(&path)
        .unwrap_or_else(|error| panic!("{path}: {error}"))
        .split("\n\n")
        .filter_map(|event| event.lines().find_map(|line| line.strip_prefix("data: ")))
        .map(|data| serde_json::from_str(data).expect("JSON"))
        .collect()
}

async fn collect(
    provider: &AnthropicProvider,
    request: ChatRequest,
) -> Vec<Result<StreamEvent, ProviderError>> {
    let stream = provider
        .chat_stream(request, &CallContext::default())
        .await
        .expect("opens");
    stream
        .flat_map(|frame| {
            futures::stream::iter(match frame {
                Ok(events) => events.into_iter().map(Ok).collect::<Vec<_>>(),
                Err(error) => vec![Err(error)],
            })
        })
        .collect()
        .await
}

#[tokio::test]
async fn a_question_goes_out_as_anthropic_expects_and_the_answer_comes_back() {
    let mock = MockAnthropic::start().await;
    let response = provider(&mock)
        .chat(ask("hi"), &CallContext::default())
        .await
        .expect("an answer");
    let request = &mock.requests()[0];
    assert_eq!(request.path, "/v1/messages");
    assert_eq!(request.header("x-api-key"), Some(KEY));
    assert_eq!(request.header("anthropic-version"), Some("2023-06-01"));
    assert_eq!(request.header("authorization"), None);
    assert_eq!(
        request.body,
        json!({
            "model": "claude-sonnet-4-5",
            "max_tokens": 1024,
            "system": [{"type": "text", "text": "Be brief."}],
            "messages": [{"role": "user", "content": [{"type": "text", "text": "hi"}]}]
        })
    );
    let choice = &response.choices[0];
    assert_eq!(choice.message.content, vec![ContentBlock::text("echo: hi")]);
    assert_eq!(choice.finish_reason, Some(FinishReason::Stop));
    let usage = response.usage.expect("usage");
    assert_eq!((usage.input_tokens, usage.output_tokens), (10, 5));
}

#[tokio::test]
async fn a_streamed_answer_arrives_as_canonical_events() {
    let mock = MockAnthropic::start().await;
    let events = collect(&provider(&mock), ask("hello there")).await;
    let events: Vec<StreamEvent> = events.into_iter().map(|event| event.expect("ok")).collect();
    assert!(matches!(&events[0], StreamEvent::Start { id, .. } if id == "msg_mock01"));
    let text: String = events
        .iter()
        .filter_map(|event| match event {
            StreamEvent::TextDelta { text, .. } => Some(text.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(text, "echo: hello there");
    assert!(events.contains(&StreamEvent::Finish {
        choice: 0,
        reason: FinishReason::Stop
    }));
    assert!(matches!(events.last(), Some(StreamEvent::Usage(usage)) if usage.output_tokens == 5));
    assert_eq!(mock.requests()[0].body["stream"], json!(true));
}

#[tokio::test]
async fn a_recorded_tool_use_stream_yields_one_whole_call() {
    let mock = MockAnthropic::start().await;
    mock.push(AnthropicScript::Stream {
        events: recorded_events("stream_tool_use.sse"),
    });
    let events = collect(&provider(&mock), ask("weather in Paris?")).await;
    let mut arguments = String::new();
    let mut names = Vec::new();
    let mut signature = String::new();
    for event in events {
        match event.expect("ok") {
            StreamEvent::ToolCallDelta {
                name,
                arguments: piece,
                ..
            } => {
                names.extend(name);
                arguments.push_str(&piece);
            }
            StreamEvent::ReasoningSignature {
                signature: piece, ..
            } => signature.push_str(&piece),
            _ => {}
        }
    }
    assert_eq!(names, ["get_weather"]);
    let arguments: Value = serde_json::from_str(&arguments).expect("the fragments join into JSON");
    assert_eq!(arguments, json!({"location": "Paris"}));
    assert!(!signature.is_empty());
}

#[tokio::test]
async fn failures_are_classified_by_status_and_error_type() {
    let mock = MockAnthropic::start().await;
    let provider = provider(&mock);
    mock.push(AnthropicScript::error(
        529,
        "overloaded_error",
        "Overloaded",
    ));
    let error = provider
        .chat(ask("x"), &CallContext::default())
        .await
        .expect_err("overloaded");
    assert_eq!(
        (error.kind, error.status),
        (ErrorKind::Overloaded, Some(529))
    );
    assert_eq!(error.code.as_deref(), Some("overloaded_error"));

    mock.push(AnthropicScript::Reply {
        status: 429,
        body: switchyard_testkit::mock::anthropic::error_body("rate_limit_error", "slow down"),
        headers: vec![("retry-after".into(), "7".into())],
    });
    let error = provider
        .chat(ask("x"), &CallContext::default())
        .await
        .expect_err("rate limited");
    assert_eq!(error.kind, ErrorKind::RateLimited);
    assert_eq!(error.retry, RetryAdvice::After(Duration::from_secs(7)));

    // An upstream that echoes the key back never gets it into our message.
    mock.push(AnthropicScript::error(
        401,
        "authentication_error",
        &format!("invalid x-api-key {KEY}"),
    ));
    let error = provider
        .chat(ask("x"), &CallContext::default())
        .await
        .expect_err("bad key");
    assert_eq!(error.kind, ErrorKind::Authentication);
    assert!(!error.message.contains(KEY), "{}", error.message);
}

#[tokio::test]
async fn a_stream_that_fails_or_stops_short_ends_in_an_error() {
    let mock = MockAnthropic::start().await;
    let provider = provider(&mock);
    mock.push(AnthropicScript::Stream {
        events: recorded_events("stream_error.sse"),
    });
    let events = collect(&provider, ask("x")).await;
    let error = events
        .last()
        .and_then(|event| event.as_ref().err())
        .expect("ends in an error");
    assert_eq!(error.kind, ErrorKind::Overloaded);

    let mut truncated = switchyard_testkit::mock::anthropic::echo_events("claude", "cut short");
    truncated.truncate(4);
    mock.push(AnthropicScript::Stream { events: truncated });
    let events = collect(&provider, ask("x")).await;
    let error = events
        .last()
        .and_then(|event| event.as_ref().err())
        .expect("ends in an error");
    assert!(error.message.contains("message_stop"), "{}", error.message);
}

#[tokio::test]
async fn a_parameter_anthropic_lacks_is_refused_unless_dropping_is_asked_for() {
    let mock = MockAnthropic::start().await;
    let provider = provider(&mock);
    let mut request = ask("x");
    request.sampling = Sampling {
        seed: Some(1),
        ..Sampling::default()
    };
    let error = provider
        .chat(request.clone(), &CallContext::default())
        .await
        .expect_err("seed");
    assert_eq!(error.kind, ErrorKind::InvalidRequest);
    assert_eq!(error.param.as_deref(), Some("seed"));
    assert!(mock.requests().is_empty(), "nothing was sent");

    request
        .extra
        .insert("drop_unsupported_params".into(), json!(true));
    provider
        .chat(request, &CallContext::default())
        .await
        .expect("sent without the seed");
    let body = &mock.requests()[0].body;
    assert!(
        body.get("seed").is_none() && body.get("drop_unsupported_params").is_none(),
        "{body}"
    );
}
