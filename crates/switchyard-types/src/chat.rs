//! A chat request: messages of typed content blocks, tools, output format and sampling.

use serde::{Deserialize, Serialize};

use crate::Extra;

/// A protocol-neutral chat request, as decoded from any ingress protocol.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ChatRequest {
    /// The public model name the caller asked for; the router resolves it.
    pub model: String,
    pub messages: Vec<Message>,
    pub tools: Vec<Tool>,
    pub tool_choice: Option<ToolChoice>,
    pub parallel_tool_calls: Option<bool>,
    pub response_format: Option<ResponseFormat>,
    pub sampling: Sampling,
    /// Whether the caller wants the answer as a stream of events.
    pub stream: bool,
    /// Whether a streamed answer should end with a usage event (OpenAI's
    /// `stream_options.include_usage`). Providers always report usage to Switchyard;
    /// this only controls what the caller sees.
    pub stream_include_usage: bool,
    /// An end-user identifier for abuse monitoring (`user`).
    pub user: Option<String>,
    /// Caller-supplied key/value tags (`metadata`).
    pub metadata: Option<serde_json::Map<String, serde_json::Value>>,
    /// How much the model should think before answering, where it can.
    pub reasoning: Option<Reasoning>,
    /// Set for a text completion (OpenAI's legacy `/v1/completions`): the model
    /// continues the prompt as written, with no chat template, and `messages` is empty.
    pub completion: Option<TextCompletion>,
    pub extra: Extra,
}

/// How much thinking the caller asked for: an effort level (OpenAI's
/// `reasoning_effort`, the Responses API's `reasoning.effort`), a token budget
/// (Anthropic's `thinking`), or both. Adapters speak their vendor's form through
/// [`Reasoning::budget`] and [`Reasoning::effort_level`], one table for all of them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reasoning {
    /// `none`, `minimal`, `low`, `medium`, `high`, `xhigh`, or a level a vendor added
    /// since, passed on as written where the vendor takes levels.
    pub effort: Option<String>,
    /// Thinking tokens allowed; `0` turns thinking off.
    pub budget_tokens: Option<u32>,
}

impl Reasoning {
    pub fn effort(level: &str) -> Self {
        Reasoning {
            effort: Some(level.to_owned()),
            budget_tokens: None,
        }
    }

    pub fn budget(tokens: u32) -> Self {
        Reasoning {
            effort: None,
            budget_tokens: Some(tokens),
        }
    }

    /// The thinking budget in tokens: the one given, else the effort's (`none` and
    /// `minimal` 0, `low` 1024, `medium` 8192, `high` and `xhigh` 24576); `None` for an
    /// effort level this table does not know.
    pub fn budget_tokens(&self) -> Option<u32> {
        if let Some(budget) = self.budget_tokens {
            return Some(budget);
        }
        match self.effort.as_deref()? {
            "none" | "minimal" => Some(0),
            "low" => Some(1024),
            "medium" => Some(8192),
            "high" | "xhigh" => Some(24576),
            _ => None,
        }
    }

    /// The effort level: the one given, else the level whose budget is the nearest at
    /// or above the one given (0 is `none`).
    pub fn effort_level(&self) -> Option<String> {
        if let Some(effort) = &self.effort {
            return Some(effort.clone());
        }
        let level = match self.budget_tokens? {
            0 => "none",
            1..=1024 => "low",
            1025..=8192 => "medium",
            _ => "high",
        };
        Some(level.to_owned())
    }
}

/// A raw prompt to continue, and how the answer should present it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TextCompletion {
    pub prompt: Prompt,
    /// Whether each answer starts with its prompt, and its logprobs with the prompt's
    /// tokens'.
    pub echo: bool,
}

/// The prompts of a text completion: each gets `n` answers, numbered prompt by prompt.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Prompt {
    Texts(Vec<String>),
    /// Token ids of the upstream model's own tokenizer.
    Tokens(Vec<Vec<u32>>),
}

impl Prompt {
    /// How many prompts there are.
    pub fn len(&self) -> usize {
        match self {
            Prompt::Texts(texts) => texts.len(),
            Prompt::Tokens(tokens) => tokens.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Sampling and length controls. Every field is optional: `None` means the upstream's default.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Sampling {
    pub temperature: Option<f64>,
    pub top_p: Option<f64>,
    /// The most tokens to generate. OpenAI's `max_tokens` and `max_completion_tokens`
    /// both land here; [`Sampling::max_tokens_field`] remembers which the caller used.
    pub max_tokens: Option<u32>,
    pub max_tokens_field: MaxTokensField,
    pub stop: Option<StopSequences>,
    pub seed: Option<i64>,
    /// How many alternative answers to generate.
    pub n: Option<u32>,
    pub presence_penalty: Option<f64>,
    pub frequency_penalty: Option<f64>,
    pub logprobs: Option<bool>,
    pub top_logprobs: Option<u32>,
}

/// Which wire field carried the output-length limit, so a same-protocol hop sends the
/// same one back (older OpenAI-compatible servers only know `max_tokens`, reasoning
/// models only `max_completion_tokens`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum MaxTokensField {
    #[default]
    MaxTokens,
    MaxCompletionTokens,
}

/// Stop sequences as the caller wrote them: one string or a list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum StopSequences {
    One(String),
    Many(Vec<String>),
}

impl StopSequences {
    pub fn as_slice(&self) -> &[String] {
        match self {
            StopSequences::One(one) => std::slice::from_ref(one),
            StopSequences::Many(many) => many,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    System,
    /// OpenAI's `developer` role: system instructions for reasoning models.
    Developer,
    User,
    Assistant,
    Tool,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::System => "system",
            Role::Developer => "developer",
            Role::User => "user",
            Role::Assistant => "assistant",
            Role::Tool => "tool",
        }
    }
}

/// One turn of the conversation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Message {
    pub role: Role,
    pub content: Vec<ContentBlock>,
    /// An optional participant name (`name`).
    pub name: Option<String>,
    /// True when the wire message carried its content as a plain string rather than a
    /// list of parts; a same-protocol hop keeps the shape.
    pub content_is_text: bool,
    pub extra: Extra,
}

impl Message {
    /// A message whose content is one text block, written as a plain string.
    pub fn text(role: Role, text: impl Into<String>) -> Self {
        Message {
            role,
            content: vec![ContentBlock::text(text)],
            name: None,
            content_is_text: true,
            extra: Extra::new(),
        }
    }

    /// The concatenation of the message's text blocks.
    pub fn text_content(&self) -> String {
        self.content
            .iter()
            .filter_map(|block| match block {
                ContentBlock::Text { text, .. } => Some(text.as_str()),
                _ => None,
            })
            .collect()
    }
}

/// A typed piece of message content.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ContentBlock {
    Text {
        text: String,
        /// Part-level fields no canonical type names (e.g. `cache_control` on an
        /// OpenAI-compatible router), kept for a same-protocol hop.
        #[serde(default, skip_serializing_if = "Extra::is_empty")]
        extra: Extra,
    },
    Image {
        source: ImageSource,
        detail: Option<ImageDetail>,
        #[serde(default, skip_serializing_if = "Extra::is_empty")]
        extra: Extra,
    },
    /// A call the assistant asks the client to make.
    ToolCall {
        id: String,
        name: String,
        /// The arguments as the model wrote them: a JSON document in text form. Kept as
        /// text because models emit it token by token and may emit invalid JSON.
        arguments: String,
    },
    /// The client's answer to a tool call.
    ToolResult {
        tool_call_id: String,
        content: Vec<ContentBlock>,
        is_error: bool,
    },
    /// The model's visible reasoning, with the vendor's signature when it has one.
    Reasoning {
        text: String,
        signature: Option<String>,
    },
    /// A part of a type the canonical model does not know (audio input, files, ...),
    /// kept verbatim with the protocol it came from. Only a same-protocol hop can send
    /// it on; any other adapter must reject it by name.
    Opaque {
        protocol: String,
        value: serde_json::Value,
    },
}

impl ContentBlock {
    /// A plain text block.
    pub fn text(text: impl Into<String>) -> Self {
        ContentBlock::Text {
            text: text.into(),
            extra: Extra::new(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ImageSource {
    /// An `http(s)` URL the upstream fetches itself.
    Url { url: String },
    /// Inline bytes, base64-encoded, e.g. from a `data:` URL.
    Base64 { media_type: String, data: String },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ImageDetail {
    Auto,
    Low,
    High,
}

/// A function the model may call.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Tool {
    pub name: String,
    pub description: Option<String>,
    /// A JSON Schema object describing the arguments.
    pub parameters: Option<serde_json::Value>,
    /// Whether the upstream must follow the schema exactly (OpenAI `strict`).
    pub strict: Option<bool>,
    pub extra: Extra,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "mode", rename_all = "snake_case")]
pub enum ToolChoice {
    /// The model decides (`auto`).
    Auto,
    /// The model must not call a tool (`none`).
    None,
    /// The model must call some tool (`required`, Anthropic `any`).
    Required,
    /// The model must call this tool.
    Function { name: String },
    /// The model may (or, if `required`, must) call only these of the tools it was
    /// given (OpenAI `allowed_tools`), leaving the tool list itself, and so the
    /// upstream's prompt cache, untouched.
    Allowed { names: Vec<String>, required: bool },
}

/// The shape the caller wants the answer in.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ResponseFormat {
    Text,
    /// Any syntactically valid JSON object.
    JsonObject,
    /// A JSON document valid against `schema`.
    JsonSchema {
        name: String,
        description: Option<String>,
        schema: Option<serde_json::Value>,
        strict: Option<bool>,
    },
}
