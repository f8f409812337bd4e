//! The scenarios, vendor-neutral.

use serde_json::{Value, json};
use switchyard_types::{
    ChatRequest, ContentBlock, ErrorKind, FinishReason, ImageSource, Message, ResponseFormat, Role,
    Sampling, StopSequences, Tool,
};

#[derive(Clone, Debug)]
pub struct Scenario {
    pub name: &'static str,
    pub request: ChatRequest,
    pub upstream: Upstream,
    pub outcome: Outcome,
    /// Only meaningful for a stream (a failure after the answer began).
    pub stream_only: bool,
}

/// What the upstream does.
#[derive(Clone, Debug)]
pub enum Upstream {
    Answer(Answer),
    /// An HTTP error with the vendor's error body for that status.
    Error {
        status: u16,
        message: &'static str,
    },
    /// The stream starts with this text, then the vendor's server error arrives.
    FailMidStream {
        partial: &'static str,
    },
    /// The stream starts with this text, then the upstream goes quiet and waits.
    StallAfter {
        partial: &'static str,
    },
    /// Nothing is sent: the adapter must refuse first.
    #[allow(dead_code)]
    Refused,
}

/// An answer, in canonical terms; targets render it in their vendor's wire format.
#[derive(Clone, Debug, PartialEq)]
pub struct Answer {
    pub text: String,
    pub reasoning: String,
    /// (id, name, arguments)
    pub tool_calls: Vec<(String, String, Value)>,
    pub finish: FinishReason,
    /// (input tokens, output tokens)
    pub usage: (u64, u64),
}

#[derive(Clone, Debug)]
pub enum Outcome {
    Answer(Answer),
    Error {
        kind: ErrorKind,
        status: Option<u16>,
    },
    /// The caller reads the first text, then drops the stream: the adapter must hang up
    /// on the upstream.
    CallerLeaves,
}

fn text(text: &str) -> Answer {
    Answer {
        text: text.to_owned(),
        reasoning: String::new(),
        tool_calls: Vec::new(),
        finish: FinishReason::Stop,
        usage: (12, 3),
    }
}

fn answered(name: &'static str, request: ChatRequest, answer: Answer) -> Scenario {
    Scenario {
        name,
        request,
        upstream: Upstream::Answer(answer.clone()),
        outcome: Outcome::Answer(answer),
        stream_only: false,
    }
}

fn ask(question: &str) -> ChatRequest {
    ChatRequest {
        messages: vec![Message::text(Role::User, question)],
        ..ChatRequest::default()
    }
}

pub fn weather_tool() -> Tool {
    Tool {
        name: "get_weather".into(),
        description: Some("Current weather in a city".into()),
        parameters: Some(json!({
            "type": "object",
            "properties": {"city": {"type": "string"}},
            "required": ["city"]
        })),
        strict: None,
        extra: Default::default(),
    }
}

fn with_tools(question: &str) -> ChatRequest {
    ChatRequest {
        tools: vec![weather_tool()],
        ..ask(question)
    }
}

fn message(role: Role, content: Vec<ContentBlock>) -> Message {
    Message {
        role,
        content,
        name: None,
        content_is_text: false,
        extra: Default::default(),
    }
}

pub fn plain_text() -> Scenario {
    answered("plain_text", ask("Say hi"), text("Hi there!"))
}

pub fn system_prompt() -> Scenario {
    let mut request = ask("Say hi");
    request
        .messages
        .insert(0, Message::text(Role::System, "Be terse."));
    answered("system_prompt", request, text("Hi."))
}

pub fn multi_turn() -> Scenario {
    let request = ChatRequest {
        messages: vec![
            Message::text(Role::User, "My name is Ada."),
            Message::text(Role::Assistant, "Hello Ada."),
            Message::text(Role::User, "What is my name?"),
        ],
        ..ChatRequest::default()
    };
    answered("multi_turn", request, text("Ada."))
}

pub fn image_input() -> Scenario {
    let request = ChatRequest {
        messages: vec![message(
            Role::User,
            vec![
                ContentBlock::text("What is in this picture?"),
                ContentBlock::Image {
                    source: ImageSource::Base64 {
                        media_type: "image/png".into(),
                        data: "iVBORw0KGgo=".into(),
                    },
                    detail: None,
                    extra: Default::default(),
                },
            ],
        )],
        ..ChatRequest::default()
    };
    answered("image_input", request, text("A red square."))
}

pub fn reasoning() -> Scenario {
    let answer = Answer {
        reasoning: "Two plus two is four.".into(),
        ..text("4")
    };
    answered("reasoning", ask("What is 2 + 2?"), answer)
}

pub fn one_tool_call() -> Scenario {
    let answer = Answer {
        text: String::new(),
        reasoning: String::new(),
        tool_calls: vec![(
            "call_1".into(),
            "get_weather".into(),
            json!({"city": "Paris"}),
        )],
        finish: FinishReason::ToolCalls,
        usage: (40, 12),
    };
    answered("one_tool_call", with_tools("Weather in Paris?"), answer)
}

pub fn parallel_tool_calls() -> Scenario {
    let answer = Answer {
        text: String::new(),
        reasoning: String::new(),
        tool_calls: vec![
            (
                "call_1".into(),
                "get_weather".into(),
                json!({"city": "Paris"}),
            ),
            (
                "call_2".into(),
                "get_weather".into(),
                json!({"city": "Rome"}),
            ),
        ],
        finish: FinishReason::ToolCalls,
        usage: (44, 24),
    };
    answered(
        "parallel_tool_calls",
        with_tools("Weather in Paris and Rome?"),
        answer,
    )
}

pub fn tool_results() -> Scenario {
    let mut request = with_tools("Weather in Paris?");
    request.messages.push(message(
        Role::Assistant,
        vec![ContentBlock::ToolCall {
            id: "call_1".into(),
            name: "get_weather".into(),
            arguments: r#"{"city":"Paris"}"#.into(),
        }],
    ));
    request.messages.push(message(
        Role::Tool,
        vec![ContentBlock::ToolResult {
            tool_call_id: "call_1".into(),
            content: vec![ContentBlock::text("18°C, sunny")],
            is_error: false,
        }],
    ));
    answered("tool_results", request, text("It is 18°C and sunny."))
}

/// The schema `json_schema_output` asks for.
pub fn city_schema() -> Value {
    json!({
        "type": "object",
        "properties": {"city": {"type": "string"}, "country": {"type": "string"}},
        "required": ["city", "country"],
        "additionalProperties": false
    })
}

pub fn json_schema_output() -> Scenario {
    let mut request = ask("Which city is the Eiffel Tower in?");
    request.response_format = Some(ResponseFormat::JsonSchema {
        name: "place".into(),
        description: None,
        schema: Some(city_schema()),
        strict: Some(true),
    });
    answered(
        "json_schema_output",
        request,
        text(r#"{"city":"Paris","country":"France"}"#),
    )
}

pub fn stop_sequence() -> Scenario {
    let mut request = ask("Count to ten.");
    request.sampling = Sampling {
        stop: Some(StopSequences::Many(vec!["5".into()])),
        ..Sampling::default()
    };
    answered("stop_sequence", request, text("1, 2, 3, 4, "))
}

pub fn max_tokens_reached() -> Scenario {
    let mut request = ask("Tell me a long story.");
    request.sampling = Sampling {
        max_tokens: Some(5),
        ..Sampling::default()
    };
    let answer = Answer {
        finish: FinishReason::Length,
        usage: (12, 5),
        ..text("Once upon a time")
    };
    answered("max_tokens_reached", request, answer)
}

pub fn content_filter() -> Scenario {
    let answer = Answer {
        finish: FinishReason::ContentFilter,
        ..text("I can't help with that.")
    };
    answered("content_filter", ask("Something forbidden."), answer)
}

fn upstream_error(name: &'static str, status: u16) -> Scenario {
    Scenario {
        name,
        request: ask("Say hi"),
        upstream: Upstream::Error {
            status,
            message: "scripted failure",
        },
        outcome: Outcome::Error {
            kind: crate::kind_for(status),
            status: Some(status),
        },
        stream_only: false,
    }
}

pub fn upstream_400() -> Scenario {
    upstream_error("upstream_400", 400)
}

pub fn upstream_401() -> Scenario {
    upstream_error("upstream_401", 401)
}

pub fn upstream_404() -> Scenario {
    upstream_error("upstream_404", 404)
}

pub fn upstream_429() -> Scenario {
    upstream_error("upstream_429", 429)
}

pub fn upstream_500() -> Scenario {
    upstream_error("upstream_500", 500)
}

pub fn upstream_529() -> Scenario {
    upstream_error("upstream_529", 529)
}

pub fn error_mid_stream() -> Scenario {
    Scenario {
        name: "error_mid_stream",
        request: ask("Say hi"),
        upstream: Upstream::FailMidStream { partial: "Hi th" },
        outcome: Outcome::Error {
            kind: ErrorKind::Upstream,
            status: None,
        },
        stream_only: true,
    }
}

pub fn client_disconnect() -> Scenario {
    Scenario {
        name: "client_disconnect",
        request: ask("Tell me a long story."),
        upstream: Upstream::StallAfter {
            partial: "Once upon",
        },
        outcome: Outcome::CallerLeaves,
        stream_only: true,
    }
}
