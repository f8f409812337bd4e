//! Structured output: `response_format` and forced tool calls become a GBNF grammar
//! that constrains sampling, using llama.cpp's own JSON-Schema converter, so the answer
//! always parses and matches the schema.

use serde_json::{Value, json};
use switchyard_types::{ChatRequest, ErrorKind, ProviderError, ResponseFormat, Tool, ToolChoice};

/// What the answer must be.
#[derive(Debug, Clone, PartialEq)]
pub enum OutputShape {
    /// Free text.
    Text,
    /// A JSON document matching this grammar.
    Json { grammar: String },
    /// A call to one of these tools: `{"name": ..., "arguments": {...}}`.
    ToolCall { grammar: String },
    /// Free text, or tool calls in `<tool_call>` tags (the Hermes format Qwen and many
    /// open models are trained on): the grammar binds from the first tag on.
    TextOrToolCalls {
        grammar: String,
        /// The system note describing the tools offered and the tagged form.
        instructions: String,
    },
}

/// The tag that opens a tool call in a `TextOrToolCalls` answer, and the one that closes it.
pub const TOOL_CALL_OPEN: &str = "<tool_call>";
pub const TOOL_CALL_CLOSE: &str = "</tool_call>";

fn invalid(param: &str, message: impl Into<String>) -> ProviderError {
    ProviderError::new(ErrorKind::InvalidRequest, message).with_param(Some(param.to_owned()))
}

fn grammar_for(schema: &Value, param: &str) -> Result<String, ProviderError> {
    llama_cpp_2::json_schema_to_grammar(&schema.to_string()).map_err(|error| {
        invalid(
            param,
            format!("the JSON schema cannot be enforced: {error}"),
        )
    })
}

/// The grammar of any JSON object, converted once.
fn any_object_grammar() -> Result<String, ProviderError> {
    static GRAMMAR: std::sync::OnceLock<Result<String, String>> = std::sync::OnceLock::new();
    GRAMMAR
        .get_or_init(|| {
            grammar_for(&json!({"type": "object"}), "response_format").map_err(|e| e.message)
        })
        .clone()
        .map_err(|message| invalid("response_format", message))
}

/// The shape a request asks for. A tool call is forced when `tool_choice` requires one
/// (`required`, a named function, or `allowed_tools` in `required` mode); with `auto`
/// (the default when tools are given) the model answers in text or calls tools.
pub fn output_shape(request: &ChatRequest) -> Result<OutputShape, ProviderError> {
    let offered: Option<Vec<&Tool>> = match &request.tool_choice {
        None | Some(ToolChoice::Auto) if !request.tools.is_empty() => {
            Some(request.tools.iter().collect())
        }
        Some(ToolChoice::Allowed {
            names,
            required: false,
        }) => Some(named(&request.tools, names)),
        _ => None,
    };
    if let Some(tools) = offered.filter(|tools| !tools.is_empty()) {
        if !matches!(request.response_format, None | Some(ResponseFormat::Text)) {
            return Err(invalid(
                "tool_choice",
                "the local engine cannot constrain an answer to both a JSON response_format \
                 and optional tool calls: set tool_choice to `required` or `none`",
            ));
        }
        let parallel = request.parallel_tool_calls != Some(false);
        return Ok(OutputShape::TextOrToolCalls {
            grammar: tagged_calls_grammar(&tools, parallel)?,
            instructions: optional_tool_instructions(&tools),
        });
    }
    let forced: Option<Vec<&Tool>> = match &request.tool_choice {
        Some(ToolChoice::Required) => Some(request.tools.iter().collect()),
        Some(ToolChoice::Function { name }) => {
            let tool = request
                .tools
                .iter()
                .find(|tool| &tool.name == name)
                .ok_or_else(|| {
                    invalid("tool_choice", format!("no tool named `{name}` was given"))
                })?;
            Some(vec![tool])
        }
        Some(ToolChoice::Allowed {
            names,
            required: true,
        }) => Some(named(&request.tools, names)),
        _ => None,
    };
    if let Some(tools) = forced {
        if tools.is_empty() {
            return Err(invalid(
                "tool_choice",
                "a tool call is required but no tool was given",
            ));
        }
        return Ok(OutputShape::ToolCall {
            grammar: grammar_for(&tool_call_schema(&tools), "tools")?,
        });
    }
    match &request.response_format {
        None | Some(ResponseFormat::Text) => Ok(OutputShape::Text),
        Some(ResponseFormat::JsonObject)
        | Some(ResponseFormat::JsonSchema { schema: None, .. }) => Ok(OutputShape::Json {
            grammar: any_object_grammar()?,
        }),
        Some(ResponseFormat::JsonSchema {
            schema: Some(schema),
            ..
        }) => Ok(OutputShape::Json {
            grammar: grammar_for(schema, "response_format.json_schema.schema")?,
        }),
    }
}

/// The tools among `tools` whose names are listed (OpenAI `allowed_tools`).
fn named<'a>(tools: &'a [Tool], names: &[String]) -> Vec<&'a Tool> {
    tools
        .iter()
        .filter(|tool| names.contains(&tool.name))
        .collect()
}

/// `{"name": <one of the tools>, "arguments": <that tool's parameters>}`.
fn tool_call_schema(tools: &[&Tool]) -> Value {
    let options: Vec<Value> = tools
        .iter()
        .map(|tool| {
            json!({
                "type": "object",
                "properties": {
                    "name": {"const": tool.name},
                    "arguments": tool.parameters.clone().unwrap_or_else(|| json!({"type": "object"})),
                },
                "required": ["name", "arguments"],
                "additionalProperties": false,
            })
        })
        .collect();
    if options.len() == 1 {
        options.into_iter().next().unwrap_or_default()
    } else {
        json!({"anyOf": options})
    }
}

/// `<tool_call>{call}</tool_call>`, once or (when parallel) repeated: the JSON grammar
/// of a call under another rule name, inside the tags.
fn tagged_calls_grammar(tools: &[&Tool], parallel: bool) -> Result<String, ProviderError> {
    let call = grammar_for(&tool_call_schema(tools), "tools")?;
    let mut renamed = String::with_capacity(call.len() + 200);
    for line in call.lines() {
        match line.strip_prefix("root ::=") {
            Some(rule) => renamed.push_str(&format!("tool-call ::={rule}\n")),
            None if refers_to_root(line) => {
                return Err(invalid(
                    "tools",
                    "a recursive tool schema cannot be used with tool_choice `auto`; \
                     use `required` or a named tool",
                ));
            }
            None => {
                renamed.push_str(line);
                renamed.push('\n');
            }
        }
    }
    let block = format!(r#""{TOOL_CALL_OPEN}" [ \n]* tool-call [ \n]* "{TOOL_CALL_CLOSE}""#);
    let root = if parallel {
        format!("root ::= {block} ([ \n]* {block})*\n")
    } else {
        format!("root ::= {block}\n")
    };
    Ok(root + &renamed)
}

/// Whether a grammar line uses the rule `root` (rather than one named `root-…`).
fn refers_to_root(line: &str) -> bool {
    let Some((_, body)) = line.split_once("::=") else {
        return false;
    };
    let mut rest = body;
    while let Some(at) = rest.find("root") {
        let before = rest[..at].chars().next_back();
        let after = rest[at + 4..].chars().next();
        let part_of_name =
            |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric() || c == '-' || c == '_');
        let quoted = rest[..at].matches('"').count() % 2 == 1;
        if !part_of_name(before) && !part_of_name(after) && !quoted {
            return true;
        }
        rest = &rest[at + 4..];
    }
    false
}

/// Lets the text of a streamed answer through up to its first tool-call tag, holding
/// back what may be the start of one, and keeps everything from the tag on.
#[derive(Debug, Default)]
pub struct CallSplitter {
    pending: String,
    calls: Option<String>,
}

impl CallSplitter {
    /// The text that may be shown now.
    pub fn push(&mut self, text: &str) -> String {
        if let Some(calls) = &mut self.calls {
            calls.push_str(text);
            return String::new();
        }
        self.pending.push_str(text);
        if let Some(at) = self.pending.find(TOOL_CALL_OPEN) {
            self.calls = Some(self.pending.split_off(at));
            return std::mem::take(&mut self.pending);
        }
        let keep_from = (0..self.pending.len())
            .filter(|&index| self.pending.is_char_boundary(index))
            .find(|&index| TOOL_CALL_OPEN.starts_with(&self.pending[index..]))
            .unwrap_or(self.pending.len());
        let rest = self.pending.split_off(keep_from);
        std::mem::replace(&mut self.pending, rest)
    }

    /// At the end: the text still held back, and the tagged calls if a tag came.
    pub fn finish(&mut self) -> (String, Option<String>) {
        (std::mem::take(&mut self.pending), self.calls.take())
    }
}

/// Splits an answer that may hold tagged tool calls into its text before the first tag
/// and each call's name and arguments; `None` when a call does not parse (an answer cut
/// short by `max_tokens`).
pub fn parse_tagged_calls(answer: &str) -> Option<(String, Vec<(String, String)>)> {
    let Some(at) = answer.find(TOOL_CALL_OPEN) else {
        return Some((answer.to_owned(), Vec::new()));
    };
    let mut calls = Vec::new();
    let mut rest = &answer[at..];
    while let Some(after_open) = rest.trim_start().strip_prefix(TOOL_CALL_OPEN) {
        let (call, after) = after_open.split_once(TOOL_CALL_CLOSE)?;
        calls.push(parse_tool_call(call.trim())?);
        rest = after;
    }
    Some((answer[..at].to_owned(), calls))
}

/// The system note that tells the model which tools it is calling and how; chat
/// templates of small models seldom render tools themselves.
pub fn tool_instructions(tools: &[Tool]) -> String {
    let tools: Vec<&Tool> = tools.iter().collect();
    format!(
        "You call tools. Available tools: {}. Answer with one JSON object: \
         {{\"name\": <tool name>, \"arguments\": <arguments object>}}.",
        listed_tools(&tools)
    )
}

fn listed_tools(tools: &[&Tool]) -> Value {
    tools
        .iter()
        .map(|tool| {
            json!({
                "name": tool.name,
                "description": tool.description,
                "parameters": tool.parameters,
            })
        })
        .collect()
}

/// The system note for `auto`: the tools, and the tagged form a call takes.
fn optional_tool_instructions(tools: &[&Tool]) -> String {
    // The Hermes prompt (as Qwen's template writes it), which open models trained on
    // function calling have seen most.
    let signatures: Vec<String> = tools
        .iter()
        .map(|tool| {
            json!({"type": "function", "function": {
                "name": tool.name,
                "description": tool.description,
                "parameters": tool.parameters,
            }})
            .to_string()
        })
        .collect();
    format!(
        "# Tools\n\nYou may call one or more functions to assist with the user query.\n\n\
         You are provided with function signatures within <tools></tools> XML tags:\n\
         <tools>\n{}\n</tools>\n\n\
         For each function call, return a json object with function name and arguments \
         within {TOOL_CALL_OPEN}{TOOL_CALL_CLOSE} XML tags:\n\
         {TOOL_CALL_OPEN}\n{{\"name\": <function-name>, \"arguments\": <args-json-object>}}\n{TOOL_CALL_CLOSE}",
        signatures.join("\n")
    )
}

/// Splits a constrained tool-call answer into name and arguments text.
pub fn parse_tool_call(text: &str) -> Option<(String, String)> {
    let value: Value = serde_json::from_str(text).ok()?;
    let name = value.get("name")?.as_str()?.to_owned();
    let arguments = value.get("arguments")?.to_string();
    Some((name, arguments))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_tool_call_answer_splits_into_name_and_arguments() {
        assert_eq!(
            parse_tool_call(r#"{"name": "get_weather", "arguments": {"city": "Paris"}}"#),
            Some(("get_weather".into(), r#"{"city":"Paris"}"#.into()))
        );
        assert_eq!(parse_tool_call("not json"), None);
    }

    #[test]
    fn the_splitter_streams_text_until_the_first_tag() {
        let mut splitter = CallSplitter::default();
        let shown: Vec<String> = [
            "Let me check. <to",
            "ol_",
            "call>{\"name\"",
            ": 1}</tool_call>",
        ]
        .iter()
        .map(|piece| splitter.push(piece))
        .collect();
        assert_eq!(shown, ["Let me check. ", "", "", ""]);
        let (rest, calls) = splitter.finish();
        assert_eq!(rest, "");
        assert_eq!(
            calls.as_deref(),
            Some("<tool_call>{\"name\": 1}</tool_call>")
        );

        let mut splitter = CallSplitter::default();
        assert_eq!(splitter.push("a <b"), "a <b");
        assert_eq!(splitter.push(" <t"), " ");
        assert_eq!(splitter.push("> é <"), "<t> é ");
        assert_eq!(splitter.finish(), ("<".to_owned(), None));
    }

    #[test]
    fn tagged_calls_parse_into_text_and_calls() {
        let answer = "Checking.\n<tool_call>\n{\"name\": \"a\", \"arguments\": {\"x\": 1}}\n</tool_call>\n\
                      <tool_call>{\"name\": \"b\", \"arguments\": {}}</tool_call>";
        assert_eq!(
            parse_tagged_calls(answer),
            Some((
                "Checking.\n".to_owned(),
                vec![("a".into(), r#"{"x":1}"#.into()), ("b".into(), "{}".into())]
            ))
        );
        assert_eq!(parse_tagged_calls("plain"), Some(("plain".into(), vec![])));
        assert_eq!(parse_tagged_calls("<tool_call>{\"name\": \"a\""), None);
    }

    #[test]
    fn auto_offers_the_tools_in_tags_and_none_offers_nothing() {
        let tool = Tool {
            name: "get_weather".into(),
            description: Some("Weather of a city".into()),
            parameters: Some(json!({
                "type": "object",
                "properties": {"city": {"type": "string"}},
                "required": ["city"]
            })),
            strict: None,
            extra: Default::default(),
        };
        let mut request = ChatRequest {
            tools: vec![tool],
            ..ChatRequest::default()
        };
        let Ok(OutputShape::TextOrToolCalls {
            grammar,
            instructions,
        }) = output_shape(&request)
        else {
            panic!("auto is the default with tools");
        };
        assert!(grammar.starts_with("root ::= \"<tool_call>\""), "{grammar}");
        assert!(grammar.contains("\ntool-call ::="), "{grammar}");
        assert!(instructions.contains("get_weather"), "{instructions}");
        request.tool_choice = Some(ToolChoice::None);
        assert_eq!(output_shape(&request).ok(), Some(OutputShape::Text));
        request.tool_choice = Some(ToolChoice::Auto);
        request.response_format = Some(ResponseFormat::JsonObject);
        let error = output_shape(&request).expect_err("JSON and optional calls");
        assert_eq!(error.param.as_deref(), Some("tool_choice"));
    }

    #[test]
    fn only_the_rule_named_root_counts_as_a_reference() {
        assert!(refers_to_root("a ::= \"[\" root \"]\""));
        assert!(!refers_to_root("root-kv ::= \"x\" space root-name"));
        assert!(!refers_to_root("a ::= \"root\" space"));
    }

    #[test]
    fn a_named_tool_that_was_not_given_is_an_error() {
        let request = ChatRequest {
            tool_choice: Some(ToolChoice::Function {
                name: "missing".into(),
            }),
            ..ChatRequest::default()
        };
        let error = output_shape(&request).expect_err("no such tool");
        assert_eq!(error.param.as_deref(), Some("tool_choice"));
    }
}
