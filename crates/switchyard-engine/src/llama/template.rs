//! Chat templates: the conversation rendered into the prompt text a model was trained
//! on, with the Jinja template from the GGUF (`tokenizer.chat_template`) rendered by
//! minijinja the way Hugging Face's `apply_chat_template` does.

use minijinja::{Environment, ErrorKind, Value, context};
use serde::Serialize;
use switchyard_types::{ChatRequest, ContentBlock, Role};

use crate::structured::{TOOL_CALL_CLOSE, TOOL_CALL_OPEN};

/// Gemma's turn format, for the Gemma 3 base model, whose GGUF has no template. It is
/// Google's published format: the system prompt joins the first user turn, and the
/// assistant's role is `model`.
pub const GEMMA_TURNS: &str = "{{ bos_token }}\
{%- if messages[0]['role'] == 'system' -%}\
{%- set first_user_prefix = messages[0]['content'] + '\n\n' -%}\
{%- set loop_messages = messages[1:] -%}\
{%- else -%}\
{%- set first_user_prefix = '' -%}\
{%- set loop_messages = messages -%}\
{%- endif -%}\
{%- for message in loop_messages -%}\
{%- set role = 'model' if message['role'] == 'assistant' else 'user' -%}\
{{ '<start_of_turn>' + role + '\n' + (first_user_prefix if loop.first else '') + message['content'] | trim + '<end_of_turn>\n' }}\
{%- endfor -%}\
{%- if add_generation_prompt -%}{{ '<start_of_turn>model\n' }}{%- endif -%}";

/// For a model with neither a template nor a known family: role-labelled turns.
pub const PLAIN_TURNS: &str = "{{ bos_token }}{% for message in messages %}{{ message['role'] | capitalize }}: {{ message['content'] }}\n\n{% endfor %}{% if add_generation_prompt %}Assistant:{% endif %}";

#[derive(Debug, thiserror::Error)]
#[error("the chat template {0}")]
pub struct TemplateError(String);

/// A compiled chat template and the special tokens it may refer to.
pub struct ChatTemplate {
    env: Environment<'static>,
    bos_token: String,
    eos_token: String,
    /// Whether the template renders assistants' `tool_calls` itself; if not, earlier
    /// calls are written into the turn's text in the tagged form the model is asked
    /// to call tools with, so it sees what it did.
    renders_tool_calls: bool,
}

/// A message as chat templates expect it: role and text content.
#[derive(Debug, Serialize)]
struct TemplateMessage {
    role: &'static str,
    content: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    tool_calls: Option<Vec<serde_json::Value>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    tool_call_id: Option<String>,
}

impl ChatTemplate {
    pub fn new(source: &str, bos_token: &str, eos_token: &str) -> Result<Self, TemplateError> {
        let mut env = Environment::new();
        minijinja_contrib::add_to_environment(&mut env);
        env.set_unknown_method_callback(minijinja_contrib::pycompat::unknown_method_callback);
        // Templates call `raise_exception('...')` to reject conversations they cannot
        // render (e.g. roles out of order); it becomes our error message.
        env.add_function("raise_exception", |message: String| -> Result<Value, _> {
            Err(minijinja::Error::new(ErrorKind::InvalidOperation, message))
        });
        env.add_template_owned("chat", source.to_owned())
            .map_err(|error| TemplateError(format!("does not compile: {error}")))?;
        Ok(ChatTemplate {
            env,
            bos_token: bos_token.to_owned(),
            eos_token: eos_token.to_owned(),
            renders_tool_calls: source.contains("tool_calls"),
        })
    }

    /// The prompt for `request`, ending where the assistant's answer starts.
    pub fn render(&self, request: &ChatRequest) -> Result<String, TemplateError> {
        let messages: Vec<TemplateMessage> = request
            .messages
            .iter()
            .map(|message| to_template(message, self.renders_tool_calls))
            .collect();
        let tools: Option<Vec<serde_json::Value>> = (!request.tools.is_empty()).then(|| {
            request
                .tools
                .iter()
                .map(|tool| {
                    serde_json::json!({"type": "function", "function": {
                        "name": tool.name,
                        "description": tool.description,
                        "parameters": tool.parameters,
                    }})
                })
                .collect()
        });
        let template = self
            .env
            .get_template("chat")
            .map_err(|error| TemplateError(error.to_string()))?;
        template
            .render(context! {
                messages => messages,
                tools => tools,
                add_generation_prompt => true,
                bos_token => self.bos_token,
                eos_token => self.eos_token,
            })
            .map_err(|error| match error.kind() {
                ErrorKind::InvalidOperation => TemplateError(format!(
                    "rejected the conversation: {}",
                    error.detail().unwrap_or("no reason given")
                )),
                _ => TemplateError(format!("failed: {error}")),
            })
    }
}

fn to_template(message: &switchyard_types::Message, renders_tool_calls: bool) -> TemplateMessage {
    let role = match message.role {
        Role::System => "system",
        // Templates predate `developer`; it is the system prompt by another name.
        Role::Developer => "system",
        Role::User => "user",
        Role::Assistant => "assistant",
        Role::Tool => "tool",
    };
    let mut content = String::new();
    let mut tool_calls = Vec::new();
    let mut tool_call_id = None;
    for block in &message.content {
        match block {
            ContentBlock::Text { text, .. } => content.push_str(text),
            ContentBlock::ToolCall {
                id,
                name,
                arguments,
            } if renders_tool_calls => tool_calls.push(serde_json::json!({
                "id": id, "type": "function",
                "function": {"name": name, "arguments": arguments},
            })),
            ContentBlock::ToolCall {
                name, arguments, ..
            } => {
                let arguments: serde_json::Value = serde_json::from_str(arguments)
                    .unwrap_or_else(|_| serde_json::Value::String(arguments.clone()));
                let call = serde_json::json!({"name": name, "arguments": arguments});
                content.push_str(&format!("{TOOL_CALL_OPEN}{call}{TOOL_CALL_CLOSE}"));
            }
            ContentBlock::ToolResult {
                tool_call_id: id,
                content: result,
                ..
            } => {
                tool_call_id = Some(id.clone());
                for part in result {
                    if let ContentBlock::Text { text, .. } = part {
                        content.push_str(text);
                    }
                }
            }
            // Images, reasoning and other protocols' parts have no place in a text
            // prompt; the provider rejects requests that need them before this point.
            _ => {}
        }
    }
    TemplateMessage {
        role,
        content,
        tool_calls: (!tool_calls.is_empty()).then_some(tool_calls),
        tool_call_id,
    }
}

#[cfg(test)]
#[path = "template_tests.rs"]
mod tests;
