//! Canonical frames → the Responses API's semantic stream events.
//!
//! The stream opens with `response.created` and `response.in_progress`. Each output
//! item then opens (`response.output_item.added`, and for text `response.content_part.added`),
//! grows (`response.output_text.delta`, `response.reasoning_text.delta`,
//! `response.refusal.delta`, `response.function_call_arguments.delta`) and closes
//! (the matching `.done` events, then `response.output_item.done`) before the next
//! opens. The last event is `response.completed` (or `response.incomplete`) carrying
//! the whole response, or after a failure `error` then `response.failed`. Every event
//! carries its `type` and a `sequence_number` counting from 0.

use serde_json::{Map, Value, json};
use switchyard_types::{FinishReason, StreamEvent, StreamFrame, TokenLogprob, Usage};

use super::super::response::logprob_from_canonical;
use super::items::new_id;
use super::response::{
    function_call_item, message_item, outcome, output_text, reasoning_item, refusal_part,
    usage_to_wire,
};
use super::wire::ResponseObject;

/// One server-sent event: its name (the `type` in its data) and data.
#[derive(Debug, Clone, PartialEq)]
pub struct ResponseEvent {
    pub name: &'static str,
    pub data: Value,
}

/// The output item being streamed.
#[derive(Debug)]
enum OpenItem {
    Message {
        id: String,
        text: String,
        logprobs: Vec<TokenLogprob>,
    },
    Refusal {
        id: String,
        text: String,
    },
    Reasoning {
        id: String,
        text: String,
    },
    Call {
        id: String,
        /// The canonical call index within the answer.
        index: u32,
        call_id: String,
        name: String,
        arguments: String,
    },
}

#[derive(Debug)]
pub struct ResponseEventEncoder {
    id: String,
    created_at: u64,
    settings: Map<String, Value>,
    model: String,
    sequence: u64,
    /// Items already closed.
    output: Vec<Value>,
    open: Option<OpenItem>,
    finish: Option<FinishReason>,
    usage: Option<Usage>,
}

impl ResponseEventEncoder {
    pub fn new(id: String, created_at: u64, settings: Map<String, Value>, model: &str) -> Self {
        ResponseEventEncoder {
            id,
            created_at,
            settings,
            model: model.to_owned(),
            sequence: 0,
            output: Vec::new(),
            open: None,
            finish: None,
            usage: None,
        }
    }

    pub fn encode(&mut self, frame: StreamFrame) -> Vec<ResponseEvent> {
        let mut events = Vec::new();
        // A token's logprobs travel beside its text in one frame; they go on its delta.
        let mut logprobs: Vec<TokenLogprob> = frame
            .iter()
            .filter_map(|event| match event {
                StreamEvent::Logprobs { choice: 0, tokens } => Some(tokens.clone()),
                _ => None,
            })
            .flatten()
            .collect();
        for event in frame {
            match event {
                StreamEvent::Start { model, .. } => {
                    self.model = model;
                    let snapshot = self.snapshot("in_progress", None, None);
                    events.push(self.event("response.created", json!({"response": snapshot})));
                    let snapshot = self.snapshot("in_progress", None, None);
                    events.push(self.event("response.in_progress", json!({"response": snapshot})));
                }
                StreamEvent::Restamp { model, .. } => self.model = model,
                StreamEvent::TextDelta { choice: 0, text } if !text.is_empty() => {
                    if !matches!(self.open, Some(OpenItem::Message { .. })) {
                        self.open_item(
                            OpenItem::Message {
                                id: new_id("msg"),
                                text: String::new(),
                                logprobs: Vec::new(),
                            },
                            &mut events,
                        );
                    }
                    let delta_logprobs = std::mem::take(&mut logprobs);
                    let output_index = self.output.len();
                    let Some(OpenItem::Message {
                        id,
                        text: sent,
                        logprobs: kept,
                    }) = &mut self.open
                    else {
                        continue;
                    };
                    sent.push_str(&text);
                    kept.extend(delta_logprobs.iter().cloned());
                    let data = json!({
                        "item_id": id, "output_index": output_index, "content_index": 0,
                        "delta": text,
                        "logprobs": delta_logprobs.iter().map(logprob_from_canonical).collect::<Vec<_>>(),
                    });
                    events.push(self.event("response.output_text.delta", data));
                }
                StreamEvent::RefusalDelta { choice: 0, text } if !text.is_empty() => {
                    if !matches!(self.open, Some(OpenItem::Refusal { .. })) {
                        let item = OpenItem::Refusal {
                            id: new_id("msg"),
                            text: String::new(),
                        };
                        self.open_item(item, &mut events);
                    }
                    let output_index = self.output.len();
                    if let Some(OpenItem::Refusal { id, text: sent }) = &mut self.open {
                        sent.push_str(&text);
                        let data = json!({
                            "item_id": id, "output_index": output_index, "content_index": 0,
                            "delta": text,
                        });
                        events.push(self.event("response.refusal.delta", data));
                    }
                }
                StreamEvent::ReasoningDelta { choice: 0, text } if !text.is_empty() => {
                    if !matches!(self.open, Some(OpenItem::Reasoning { .. })) {
                        let item = OpenItem::Reasoning {
                            id: new_id("rs"),
                            text: String::new(),
                        };
                        self.open_item(item, &mut events);
                    }
                    let output_index = self.output.len();
                    if let Some(OpenItem::Reasoning { id, text: sent }) = &mut self.open {
                        sent.push_str(&text);
                        let data = json!({
                            "item_id": id, "output_index": output_index, "content_index": 0,
                            "delta": text,
                        });
                        events.push(self.event("response.reasoning_text.delta", data));
                    }
                }
                StreamEvent::ToolCallDelta {
                    choice: 0,
                    index,
                    id,
                    name,
                    arguments,
                } => {
                    let continues = matches!(&self.open, Some(OpenItem::Call { index: open, .. }) if *open == index);
                    if !continues {
                        let item = OpenItem::Call {
                            id: new_id("fc"),
                            index,
                            call_id: id.unwrap_or_else(|| new_id("call")),
                            name: name.unwrap_or_default(),
                            arguments: String::new(),
                        };
                        self.open_item(item, &mut events);
                    }
                    let output_index = self.output.len();
                    if let Some(OpenItem::Call {
                        id,
                        arguments: sent,
                        ..
                    }) = &mut self.open
                        && !arguments.is_empty()
                    {
                        sent.push_str(&arguments);
                        let data = json!({
                            "item_id": id, "output_index": output_index, "delta": arguments,
                        });
                        events.push(self.event("response.function_call_arguments.delta", data));
                    }
                }
                StreamEvent::Finish { choice: 0, reason } => self.finish = Some(reason),
                StreamEvent::Usage(usage) => self.usage = Some(usage),
                // Other choices (the Responses API has no `n`), signatures, vendor fields.
                _ => {}
            }
        }
        events
    }

    /// Closes the last item and ends the stream with the whole response, which is also
    /// returned (to be stored before the events are sent).
    pub fn finish(&mut self) -> (Vec<ResponseEvent>, ResponseObject) {
        let mut events = Vec::new();
        self.close_item(&mut events);
        let (status, incomplete_details) = outcome(self.finish.as_ref());
        let response = self.snapshot(status, incomplete_details, None);
        let name = if status == "completed" {
            "response.completed"
        } else {
            "response.incomplete"
        };
        events.push(self.event(name, json!({"response": response})));
        (events, response)
    }

    /// Ends the stream after a failure: an `error` event, then `response.failed`.
    pub fn fail(&mut self, code: &str, message: &str, param: Option<&str>) -> Vec<ResponseEvent> {
        let mut events = Vec::new();
        self.close_item(&mut events);
        let error = json!({"code": code, "message": message, "param": param});
        events.push(self.event("error", error.clone()));
        let response = self.snapshot("failed", None, Some(error));
        events.push(self.event("response.failed", json!({"response": response})));
        events
    }

    fn snapshot(
        &self,
        status: &str,
        incomplete_details: Option<Value>,
        error: Option<Value>,
    ) -> ResponseObject {
        ResponseObject {
            id: self.id.clone(),
            object: "response".to_owned(),
            created_at: self.created_at,
            status: status.to_owned(),
            error,
            incomplete_details,
            model: self.model.clone(),
            output: self.output.clone(),
            usage: self
                .usage
                .as_ref()
                .filter(|_| status != "in_progress")
                .map(usage_to_wire),
            settings: self.settings.clone(),
        }
    }

    fn event(&mut self, name: &'static str, fields: Value) -> ResponseEvent {
        let mut data = json!({"type": name, "sequence_number": self.sequence});
        if let (Some(data), Value::Object(fields)) = (data.as_object_mut(), fields) {
            data.extend(fields);
        }
        self.sequence += 1;
        ResponseEvent { name, data }
    }

    /// Closes the open item, then announces `item`.
    fn open_item(&mut self, item: OpenItem, events: &mut Vec<ResponseEvent>) {
        self.close_item(events);
        let output_index = self.output.len();
        let (id, added, part) = match &item {
            OpenItem::Message { id, .. } => (
                id,
                message_item(id, "in_progress", Vec::new()),
                Some(output_text("", &[])),
            ),
            OpenItem::Refusal { id, .. } => (
                id,
                message_item(id, "in_progress", Vec::new()),
                Some(refusal_part("")),
            ),
            OpenItem::Reasoning { id, .. } => {
                let mut added = reasoning_item(id, "in_progress", "");
                added["content"] = json!([]);
                (
                    id,
                    added,
                    Some(json!({"type": "reasoning_text", "text": ""})),
                )
            }
            OpenItem::Call {
                id, call_id, name, ..
            } => (
                id,
                function_call_item(id, "in_progress", call_id, name, ""),
                None,
            ),
        };
        let id = id.clone();
        events.push(self.event(
            "response.output_item.added",
            json!({"output_index": output_index, "item": added}),
        ));
        if let Some(part) = part {
            events.push(self.event(
                "response.content_part.added",
                json!({"item_id": id, "output_index": output_index, "content_index": 0, "part": part}),
            ));
        }
        self.open = Some(item);
    }

    fn close_item(&mut self, events: &mut Vec<ResponseEvent>) {
        let Some(item) = self.open.take() else {
            return;
        };
        let output_index = self.output.len();
        let status = match self.finish {
            Some(FinishReason::Length) => "incomplete",
            _ => "completed",
        };
        let at =
            |id: &str| json!({"item_id": id, "output_index": output_index, "content_index": 0});
        let done = match item {
            OpenItem::Message { id, text, logprobs } => {
                let part = output_text(&text, &logprobs);
                let mut fields = at(&id);
                fields["text"] = json!(text);
                fields["logprobs"] = part["logprobs"].clone();
                events.push(self.event("response.output_text.done", fields));
                let mut fields = at(&id);
                fields["part"] = part.clone();
                events.push(self.event("response.content_part.done", fields));
                message_item(&id, status, vec![part])
            }
            OpenItem::Refusal { id, text } => {
                let mut fields = at(&id);
                fields["refusal"] = json!(text);
                events.push(self.event("response.refusal.done", fields));
                let mut fields = at(&id);
                fields["part"] = refusal_part(&text);
                events.push(self.event("response.content_part.done", fields));
                message_item(&id, status, vec![refusal_part(&text)])
            }
            OpenItem::Reasoning { id, text } => {
                let mut fields = at(&id);
                fields["text"] = json!(text);
                events.push(self.event("response.reasoning_text.done", fields));
                let mut fields = at(&id);
                fields["part"] = json!({"type": "reasoning_text", "text": text});
                events.push(self.event("response.content_part.done", fields));
                reasoning_item(&id, status, &text)
            }
            OpenItem::Call {
                id,
                call_id,
                name,
                arguments,
                ..
            } => {
                let fields = json!({
                    "item_id": id, "output_index": output_index, "name": name, "arguments": arguments,
                });
                events.push(self.event("response.function_call_arguments.done", fields));
                function_call_item(&id, status, &call_id, &name, &arguments)
            }
        };
        events.push(self.event(
            "response.output_item.done",
            json!({"output_index": output_index, "item": done}),
        ));
        self.output.push(done);
    }
}
