//! The adapter conformance suite: one list of scenarios, run against every adapter and
//! its wire-faithful mock, streaming and not, asserting the canonical result field by
//! field.
//!
//! A scenario is vendor-neutral: the canonical request, what the upstream answers (an
//! [`Answer`], an HTTP error, or a failure in the middle of a stream), and what the
//! caller must get. Each [`Target`] renders answers into its vendor's wire format with
//! plain JSON (never with the adapter's own protocol code) and checks the request its
//! mock received. `conformance!` turns every scenario into one test per adapter.

mod anthropic;
mod bedrock;
mod gemini;
mod openai;
mod scenarios;

use std::sync::Arc;

use futures::StreamExt;
use switchyard_types::{
    CallContext, ChatResponse, ContentBlock, ErrorKind, FinishReason, Provider, ProviderError,
    StreamEvent,
};

pub use scenarios::{Answer, Outcome, Scenario, Upstream};

/// One adapter and its mock.
#[async_trait::async_trait]
pub trait Target: Sized {
    async fn start() -> Self;
    fn provider(&self) -> Arc<dyn Provider>;
    /// Queues what the upstream does for the next request.
    fn script(&self, upstream: &Upstream, stream: bool);
    /// The body of the last request the mock received.
    fn last_request(&self) -> serde_json::Value;
    /// Vendor-specific checks of the request a scenario sent.
    fn check_request(&self, scenario: &str, body: &serde_json::Value);
    /// Waits a while for the client to close a stream the mock left open.
    async fn client_hung_up(&self) -> bool;
}

/// What the caller got, put together from either mode.
#[derive(Debug, Default, PartialEq)]
struct Got {
    text: String,
    reasoning: String,
    /// (id, name, arguments as JSON)
    tool_calls: Vec<(String, String, serde_json::Value)>,
    finish: Option<FinishReason>,
    usage: Option<(u64, u64)>,
}

fn from_response(response: ChatResponse) -> Got {
    let mut got = Got::default();
    let choice = &response.choices[0];
    for block in &choice.message.content {
        match block {
            ContentBlock::Text { text, .. } => got.text.push_str(text),
            ContentBlock::Reasoning { text, .. } => got.reasoning.push_str(text),
            ContentBlock::ToolCall {
                id,
                name,
                arguments,
            } => got.tool_calls.push((
                id.clone(),
                name.clone(),
                serde_json::from_str(arguments).expect("tool arguments parse"),
            )),
            _ => {}
        }
    }
    got.finish = choice.finish_reason.clone();
    got.usage = response.usage.map(|u| (u.input_tokens, u.output_tokens));
    got
}

async fn from_stream(
    provider: &dyn Provider,
    request: switchyard_types::ChatRequest,
) -> Result<Got, ProviderError> {
    let mut stream = provider
        .chat_stream(request, &CallContext::default())
        .await?;
    let mut got = Got::default();
    let mut arguments: Vec<String> = Vec::new();
    while let Some(frame) = stream.next().await {
        for event in frame? {
            match event {
                StreamEvent::TextDelta { text, .. } => got.text.push_str(&text),
                StreamEvent::ReasoningDelta { text, .. } => got.reasoning.push_str(&text),
                StreamEvent::ToolCallDelta {
                    index,
                    id,
                    name,
                    arguments: piece,
                    ..
                } => {
                    let index = index as usize;
                    if index == got.tool_calls.len() {
                        got.tool_calls.push((
                            id.unwrap_or_default(),
                            name.unwrap_or_default(),
                            serde_json::Value::Null,
                        ));
                        arguments.push(String::new());
                    }
                    arguments[index].push_str(&piece);
                }
                StreamEvent::Finish { reason, .. } => got.finish = Some(reason),
                StreamEvent::Usage(usage) => {
                    got.usage = Some((usage.input_tokens, usage.output_tokens))
                }
                _ => {}
            }
        }
    }
    for (call, text) in got.tool_calls.iter_mut().zip(arguments) {
        call.2 = serde_json::from_str(&text).expect("streamed tool arguments join into JSON");
    }
    Ok(got)
}

/// Runs one scenario against a fresh target in one mode.
pub async fn run<T: Target>(scenario: Scenario, stream: bool) {
    let target = T::start().await;
    let provider = target.provider();
    target.script(&scenario.upstream, stream);
    if let Outcome::CallerLeaves = scenario.outcome {
        return leave_mid_stream(&target, provider.as_ref(), scenario).await;
    }
    let mut request = scenario.request.clone();
    request.stream = stream;
    let mode = if stream { "streaming" } else { "complete" };
    let result = if stream {
        from_stream(provider.as_ref(), request).await
    } else {
        provider
            .chat(request, &CallContext::default())
            .await
            .map(from_response)
    };
    match (&scenario.outcome, result) {
        (Outcome::Answer(answer), Ok(got)) => {
            let want = Got {
                text: answer.text.clone(),
                reasoning: answer.reasoning.clone(),
                tool_calls: answer
                    .tool_calls
                    .iter()
                    .map(|(id, name, arguments)| (id.clone(), name.clone(), arguments.clone()))
                    .collect(),
                finish: Some(answer.finish.clone()),
                usage: Some(answer.usage),
            };
            pretty_assertions::assert_eq!(got, want, "{} ({mode})", scenario.name);
        }
        (Outcome::Error { kind, status }, Err(error)) => {
            assert_eq!(error.kind, *kind, "{} ({mode}): {error:?}", scenario.name);
            if status.is_some() {
                assert_eq!(error.status, *status, "{} ({mode})", scenario.name);
            }
        }
        (Outcome::CallerLeaves, _) => unreachable!("handled by leave_mid_stream"),
        (outcome, result) => panic!(
            "{} ({mode}): expected {outcome:?}, got {result:?}",
            scenario.name
        ),
    }
    if !matches!(scenario.upstream, Upstream::Refused) {
        target.check_request(scenario.name, &target.last_request());
    }
}

/// Reads a stream until its first text arrives, drops it, and expects the adapter to
/// close the upstream connection.
async fn leave_mid_stream<T: Target>(target: &T, provider: &dyn Provider, scenario: Scenario) {
    let mut request = scenario.request;
    request.stream = true;
    let mut stream = provider
        .chat_stream(request, &CallContext::default())
        .await
        .unwrap_or_else(|error| panic!("{}: the stream opens: {error:?}", scenario.name));
    let mut text = String::new();
    while text.is_empty() {
        let frame = tokio::time::timeout(std::time::Duration::from_secs(5), stream.next())
            .await
            .unwrap_or_else(|_| panic!("{}: no text within 5 s", scenario.name))
            .unwrap_or_else(|| panic!("{}: the stream ended before any text", scenario.name))
            .unwrap_or_else(|error| panic!("{}: {error:?}", scenario.name));
        for event in frame {
            if let StreamEvent::TextDelta { text: piece, .. } = event {
                text.push_str(&piece);
            }
        }
    }
    drop(stream);
    assert!(
        target.client_hung_up().await,
        "{}: the upstream connection stayed open after the caller left",
        scenario.name
    );
    if let Upstream::StallAfter { partial } = scenario.upstream {
        assert!(
            partial.starts_with(&text),
            "{}: got {text:?}",
            scenario.name
        );
    }
}

/// One test per scenario for an adapter, each in both modes.
macro_rules! conformance {
    ($target:ty: $($scenario:ident),+ $(,)?) => {
        $(
            #[tokio::test]
            async fn $scenario() {
                let scenario = crate::scenarios::$scenario();
                if !scenario.stream_only {
                    crate::run::<$target>(scenario.clone(), false).await;
                }
                crate::run::<$target>(scenario, true).await;
            }
        )+
    };
}

/// Every scenario, for every adapter.
macro_rules! every_scenario {
    ($target:ty) => {
        conformance!($target:
            plain_text, system_prompt, multi_turn, image_input, reasoning, one_tool_call,
            parallel_tool_calls, tool_results, stop_sequence, max_tokens_reached,
            content_filter, json_schema_output, client_disconnect, upstream_400, upstream_401, upstream_404, upstream_429,
            upstream_500, upstream_529, error_mid_stream,
        );
    };
}

mod openai_suite {
    every_scenario!(crate::openai::OpenAiTarget<crate::openai::OpenAiHost>);
}

mod mistral_suite {
    every_scenario!(crate::openai::OpenAiTarget<crate::openai::MistralHost>);
}

mod xai_suite {
    every_scenario!(crate::openai::OpenAiTarget<crate::openai::XaiHost>);
}

mod deepseek_suite {
    every_scenario!(crate::openai::OpenAiTarget<crate::openai::DeepSeekHost>);
}

mod groq_suite {
    every_scenario!(crate::openai::OpenAiTarget<crate::openai::GroqHost>);
}

mod together_suite {
    every_scenario!(crate::openai::OpenAiTarget<crate::openai::TogetherHost>);
}

mod fireworks_suite {
    every_scenario!(crate::openai::OpenAiTarget<crate::openai::FireworksHost>);
}

mod azure_suite {
    every_scenario!(crate::openai::OpenAiTarget<crate::openai::AzureHost>);
}

mod azure_foundry_suite {
    every_scenario!(crate::openai::OpenAiTarget<crate::openai::AzureFoundryHost>);
}

mod azure_v1_suite {
    every_scenario!(crate::openai::OpenAiTarget<crate::openai::AzureV1Host>);
}

mod anthropic_suite {
    every_scenario!(crate::anthropic::AnthropicTarget);
}

mod gemini_suite {
    every_scenario!(crate::gemini::GeminiTarget);
}

mod bedrock_suite {
    every_scenario!(crate::bedrock::BedrockTarget);
}

/// Deadlines short enough that a hanging adapter fails the test rather than the run.
pub fn timeouts() -> switchyard_providers::openai::Timeouts {
    switchyard_providers::openai::Timeouts {
        first_byte: std::time::Duration::from_secs(5),
        idle: std::time::Duration::from_secs(5),
        ..Default::default()
    }
}

/// A text cut in two at its middle character, to stream it in two pieces.
pub fn halves(text: &str) -> (&str, &str) {
    let middle = text
        .char_indices()
        .nth(text.chars().count() / 2)
        .map_or(text.len(), |(at, _)| at);
    text.split_at(middle)
}

/// The roles of a request's messages, in order.
pub fn roles(messages: &serde_json::Value) -> Vec<&str> {
    messages
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|message| message["role"].as_str())
        .collect()
}

/// Kinds every scenario's error maps to, shared so targets agree.
pub fn kind_for(status: u16) -> ErrorKind {
    match status {
        400 => ErrorKind::InvalidRequest,
        401 => ErrorKind::Authentication,
        404 => ErrorKind::NotFound,
        429 => ErrorKind::RateLimited,
        529 | 503 => ErrorKind::Overloaded,
        _ => ErrorKind::Upstream,
    }
}
