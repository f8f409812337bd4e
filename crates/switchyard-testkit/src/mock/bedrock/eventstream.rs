//! Frames of an `application/vnd.amazon.eventstream` body, written with
//! `aws-smithy-eventstream` (prelude and message CRCs included), headers in the order
//! Bedrock sends them.

use aws_smithy_eventstream::frame::write_message_to;
use aws_smithy_types::event_stream::{Header, HeaderValue, Message};
use bytes::Bytes;
use serde_json::Value;

fn string(value: &str) -> HeaderValue {
    HeaderValue::String(value.to_owned().into())
}

fn frame(headers: [(&str, &str); 3], payload: &Value) -> Bytes {
    let message = headers.into_iter().fold(
        Message::new(payload.to_string()),
        |message, (name, value)| message.add_header(Header::new(name.to_owned(), string(value))),
    );
    let mut bytes = Vec::new();
    // Writing fails only for headers or payloads over the format's limits.
    match write_message_to(&message, &mut bytes) {
        Ok(()) => Bytes::from(bytes),
        Err(_) => Bytes::new(),
    }
}

/// An event frame: `:event-type`, `:content-type`, `:message-type: event`. Converse
/// payloads are the event's structure itself, padded with a random-length `p` member
/// as Bedrock pads them (here: as long as the event type).
pub fn event_frame(event_type: &str, payload: &Value) -> Bytes {
    let mut payload = payload.clone();
    if let Value::Object(object) = &mut payload {
        let padding: String = ('a'..='z')
            .chain('A'..='Z')
            .cycle()
            .take(event_type.len())
            .collect();
        object.entry("p").or_insert(Value::String(padding));
    }
    frame(
        [
            (":event-type", event_type),
            (":content-type", "application/json"),
            (":message-type", "event"),
        ],
        &payload,
    )
}

/// An exception frame (`throttlingException`, `internalServerException`, …), which
/// ends a stream whose HTTP status already said 200.
pub fn exception_frame(exception_type: &str, message: &str) -> Bytes {
    frame(
        [
            (":exception-type", exception_type),
            (":content-type", "application/json"),
            (":message-type", "exception"),
        ],
        &serde_json::json!({ "message": message }),
    )
}
