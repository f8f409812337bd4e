//! The Bedrock Runtime's Converse wire types (`Converse`, `ConverseStream`), field for
//! field as the service model names them, in its lowerCamelCase.
//!
//! Converse unions (`ContentBlock`, `Tool`, `ToolChoice`, …) are objects with exactly
//! one key. The kinds the canonical model knows are typed; any other kind (`document`,
//! `video`, `guardContent`, `citationsContent`, a kind added tomorrow) travels as raw
//! JSON, so a block is never lost on the way through. Request-level fields no canonical
//! type names (`guardrailConfig`, `requestMetadata`, `serviceTier`, …) stay in `extra`.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use switchyard_types::Extra;

/// `POST /model/{modelId}/converse` (and `/converse-stream`). The model id is a path
/// label, never a body field.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConverseRequest {
    pub messages: Vec<Message>,
    /// Text, `cachePoint` and `guardContent` blocks.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub system: Vec<ContentBlock>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inference_config: Option<InferenceConfig>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_config: Option<ToolConfig>,
    /// Passed to the model untouched, in its own native spelling (Claude's `top_k`,
    /// `thinking`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub additional_model_request_fields: Option<serde_json::Map<String, Value>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_config: Option<OutputConfig>,
    /// `guardrailConfig`, `requestMetadata`, `performanceConfig`, `serviceTier`,
    /// `additionalModelResponseFieldPaths`, `promptVariables`, … as given.
    #[serde(flatten)]
    pub extra: Extra,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Message {
    pub role: Role,
    pub content: Vec<ContentBlock>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    User,
    Assistant,
}

/// A content block: one of the kinds the canonical model knows, or any other kind as
/// raw JSON.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ContentBlock {
    Known(KnownBlock),
    Other(Value),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum KnownBlock {
    Text(String),
    Image(ImageBlock),
    ToolUse(ToolUseBlock),
    ToolResult(ToolResultBlock),
    ReasoningContent(ReasoningContentBlock),
    /// Marks the end of a prefix the upstream may cache.
    CachePoint(CachePointBlock),
}

/// An image: `png`, `jpeg`, `gif` or `webp`, as base64 bytes or an S3 location.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ImageBlock {
    pub format: String,
    pub source: ImageSource,
}

/// A union: exactly one of `bytes` (base64) and `s3Location` is set.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ImageSource {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bytes: Option<String>,
    /// `{uri, bucketOwner?}`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub s3_location: Option<Value>,
}

/// A call the model makes: its input is a JSON document, not text.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ToolUseBlock {
    pub tool_use_id: String,
    pub name: String,
    pub input: Value,
    /// `type` (server tools) and later additions.
    #[serde(flatten)]
    pub extra: Extra,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ToolResultBlock {
    pub tool_use_id: String,
    pub content: Vec<ToolResultContent>,
    /// `success` or `error`; the model says only Nova and Claude 3+ accept it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
}

/// A part of a tool result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum ToolResultContent {
    Known(KnownToolResultContent),
    /// `document`, `video`, `searchResult`, …
    Other(Value),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum KnownToolResultContent {
    Json(Value),
    Text(String),
    Image(ImageBlock),
}

/// A union: reasoning the model shows, with its signature, or reasoning it withholds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum ReasoningContentBlock {
    ReasoningText(ReasoningText),
    /// Encrypted reasoning (base64), to be sent back unchanged.
    RedactedContent(String),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReasoningText {
    pub text: String,
    /// The vendor's proof that the reasoning is its own; reasoning replayed without it
    /// is refused.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signature: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CachePointBlock {
    /// Always `default`.
    #[serde(rename = "type")]
    pub kind: String,
    /// `5m` or `1h`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ttl: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InferenceConfig {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_tokens: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub temperature: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub top_p: Option<f64>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub stop_sequences: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ToolConfig {
    /// At least one.
    pub tools: Vec<Tool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_choice: Option<ToolChoice>,
}

/// A tool definition, a cache point among them, or another kind (`systemTool`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Tool {
    Known(KnownTool),
    Other(Value),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum KnownTool {
    ToolSpec(ToolSpec),
    CachePoint(CachePointBlock),
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ToolSpec {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    pub input_schema: ToolInputSchema,
    /// Whether the model must follow the schema exactly.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub strict: Option<bool>,
}

/// A union whose only member is `json`: the arguments' JSON Schema.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ToolInputSchema {
    pub json: Value,
}

/// `{"auto": {}}`, `{"any": {}}` or `{"tool": {"name"}}`; Converse has no `none`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum ToolChoice {
    Auto {},
    /// Some tool must be called (OpenAI's `required`).
    Any {},
    Tool {
        name: String,
    },
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OutputConfig {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text_format: Option<OutputFormat>,
    /// `effort`, …
    #[serde(flatten)]
    pub extra: Extra,
}

/// Structured output: `{"type": "json_schema", "structure": {"jsonSchema": {…}}}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OutputFormat {
    /// Always `json_schema`.
    #[serde(rename = "type")]
    pub kind: String,
    pub structure: OutputFormatStructure,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OutputFormatStructure {
    pub json_schema: JsonSchemaDefinition,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JsonSchemaDefinition {
    /// The schema as a JSON-encoded **string**, not an object: the model types it
    /// `String`.
    pub schema: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

/// A complete answer.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ConverseResponse {
    pub output: ConverseOutput,
    pub stop_reason: String,
    pub usage: TokenUsage,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metrics: Option<Value>,
    /// What `additionalModelResponseFieldPaths` selected (`{"stop_sequence": …}`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub additional_model_response_fields: Option<Value>,
    /// `trace`, `performanceConfig`, `serviceTier`, …
    #[serde(flatten)]
    pub extra: Extra,
}

/// A union whose only member is `message`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ConverseOutput {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<Message>,
}

/// Token counts. `inputTokens` counts only the prompt tokens that were neither read
/// from nor written to the prompt cache; `totalTokens` counts them all.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TokenUsage {
    #[serde(default)]
    pub input_tokens: u64,
    #[serde(default)]
    pub output_tokens: u64,
    #[serde(default)]
    pub total_tokens: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_read_input_tokens: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cache_write_input_tokens: Option<u64>,
    /// `cacheDetails`, …
    #[serde(flatten)]
    pub extra: Extra,
}

// === ConverseStream event payloads ===
//
// Each frame's payload is the event's member structure itself; the event's name is in
// the frame's `:event-type` header. Every payload also carries a random-length `p`
// padding member, which these types ignore like any other unknown member.

/// `messageStart`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct MessageStartEvent {
    #[serde(default)]
    pub role: Option<String>,
}

/// `contentBlockStart`: sent for tool-use blocks; text and reasoning blocks may have
/// none, or an empty `start`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ContentBlockStartEvent {
    pub content_block_index: u32,
    #[serde(default)]
    pub start: ContentBlockStart,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ContentBlockStart {
    #[serde(default)]
    pub tool_use: Option<ToolUseBlockStart>,
}

#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ToolUseBlockStart {
    pub tool_use_id: String,
    pub name: String,
}

/// `contentBlockDelta`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ContentBlockDeltaEvent {
    pub content_block_index: u32,
    pub delta: ContentBlockDelta,
}

/// A union; members the canonical model has no stream form for (`citation`,
/// `toolResult`, `image`) are ignored.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ContentBlockDelta {
    #[serde(default)]
    pub text: Option<String>,
    #[serde(default)]
    pub tool_use: Option<ToolUseBlockDelta>,
    #[serde(default)]
    pub reasoning_content: Option<ReasoningContentBlockDelta>,
}

/// A fragment of a tool call's input JSON; only the concatenation parses.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
pub struct ToolUseBlockDelta {
    #[serde(default)]
    pub input: String,
}

/// A union: reasoning text, then one delta with its signature (or redacted content).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ReasoningContentBlockDelta {
    #[serde(default)]
    pub text: Option<String>,
    #[serde(default)]
    pub signature: Option<String>,
    #[serde(default)]
    pub redacted_content: Option<String>,
}

/// `contentBlockStop`.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ContentBlockStopEvent {
    pub content_block_index: u32,
}

/// `messageStop`: comes before `metadata`, so the usage follows the stop reason.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MessageStopEvent {
    pub stop_reason: String,
    #[serde(default)]
    pub additional_model_response_fields: Option<Value>,
}

/// `metadata`: the last event of a complete stream.
#[derive(Debug, Clone, PartialEq, Deserialize)]
pub struct MetadataEvent {
    #[serde(default)]
    pub usage: TokenUsage,
}

/// The payload of an exception frame, and of an HTTP error body.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ErrorBody {
    /// Bedrock's own errors spell it lower-case.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// IAM authorization denials spell it with a capital.
    #[serde(default, rename = "Message", skip_serializing_if = "Option::is_none")]
    pub message_capitalized: Option<String>,
    /// A fallback for the error code, which normally travels in `x-amzn-ErrorType`.
    #[serde(default, rename = "__type", skip_serializing_if = "Option::is_none")]
    pub error_type: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<String>,
    /// The model's own status (`ModelErrorException`, `modelStreamErrorException`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub original_status_code: Option<u16>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub original_message: Option<String>,
    /// `resourceName`, …
    #[serde(flatten)]
    pub extra: Extra,
}

impl ErrorBody {
    /// `message`, else `Message`, as botocore reads it.
    pub fn text(&self) -> Option<&str> {
        self.message
            .as_deref()
            .or(self.message_capitalized.as_deref())
    }
}
