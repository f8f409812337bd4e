//! The binary `application/vnd.amazon.eventstream` framing of a ConverseStream body,
//! decoded with `aws-smithy-eventstream` (which checks both CRCs of every frame).
//!
//! Frames follow each other with no separator, and one can be split across any number
//! of HTTP chunks. [`FrameDecoder`] takes the chunks as they come and hands back whole
//! [`Frame`]s: an event (`:event-type` and its JSON payload), an exception that ends the
//! stream, or a generic event-stream error. Nothing here does I/O; the provider feeds
//! the bytes under its deadlines.

use aws_smithy_eventstream::frame::{DecodedFrame, MessageFrameDecoder};
use aws_smithy_types::event_stream::Message;
use bytes::{Bytes, BytesMut};

/// The largest frame accepted. The protocol fixes none; Bedrock's events are a few KiB,
/// and a cap keeps a corrupt length from making the reader buffer without end.
pub const MAX_FRAME_BYTES: u32 = 16 << 20;

/// The prelude: total length, headers length, and the CRC of those two.
const PRELUDE_BYTES: usize = 12;
/// The smallest frame: a prelude and a message CRC, no headers and no payload.
const MIN_FRAME_BYTES: u32 = 16;

/// One decoded frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Frame {
    /// `:message-type: event`: `event_type` names the payload's structure.
    Event { event_type: String, payload: Bytes },
    /// `:message-type: exception`: the upstream failed after the HTTP status said 200.
    Exception {
        exception_type: String,
        payload: Bytes,
    },
    /// `:message-type: error`, the generic event-stream error (not seen from Bedrock).
    Error { code: String, message: String },
}

/// A body that is not a valid event stream.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FrameError {
    #[error("event-stream frame is corrupt: {0}")]
    Corrupt(String),
    #[error("event-stream frame of {0} bytes is over the {MAX_FRAME_BYTES}-byte limit")]
    TooLarge(u32),
    #[error("event-stream frame has no `{0}` header")]
    MissingHeader(&'static str),
    #[error("event-stream frame has the unknown message type `{0}`")]
    UnknownMessageType(String),
    #[error("the event stream ended inside a frame ({0} bytes left over)")]
    Truncated(usize),
}

/// Decodes frames from the chunks of one body, in order.
#[derive(Debug, Default)]
pub struct FrameDecoder {
    decoder: MessageFrameDecoder,
    buffer: BytesMut,
    /// Whether the prelude at the head of `buffer` was checked and handed to `decoder`,
    /// which then keeps it and waits for the rest of the frame.
    in_frame: bool,
}

impl FrameDecoder {
    pub fn new() -> Self {
        FrameDecoder::default()
    }

    /// Appends the next chunk of the body.
    pub fn push(&mut self, chunk: &[u8]) {
        self.buffer.extend_from_slice(chunk);
    }

    /// The next whole frame, `None` until more bytes arrive. An error is final: the
    /// stream cannot be resynchronised after a corrupt frame.
    pub fn next_frame(&mut self) -> Result<Option<Frame>, FrameError> {
        if !self.in_frame {
            if self.buffer.len() < PRELUDE_BYTES {
                return Ok(None);
            }
            check_prelude(&self.buffer[..PRELUDE_BYTES])?;
            self.in_frame = true;
        }
        match self.decoder.decode_frame(&mut self.buffer) {
            Ok(DecodedFrame::Incomplete) => Ok(None),
            Ok(DecodedFrame::Complete(message)) => {
                self.in_frame = false;
                classify(&message).map(Some)
            }
            Err(error) => Err(FrameError::Corrupt(error.to_string())),
        }
    }

    /// The body ended: an error if it stopped inside a frame.
    pub fn finish(&self) -> Result<(), FrameError> {
        // The decoder holds a prelude it took from the buffer.
        let left = self.buffer.len() + if self.in_frame { PRELUDE_BYTES } else { 0 };
        match left {
            0 => Ok(()),
            left => Err(FrameError::Truncated(left)),
        }
    }
}

/// Checks the prelude's CRC before trusting either length: a corrupt length would make
/// the reader wait for bytes that never come.
fn check_prelude(prelude: &[u8]) -> Result<(), FrameError> {
    let word = |at: usize| {
        u32::from_be_bytes([
            prelude[at],
            prelude[at + 1],
            prelude[at + 2],
            prelude[at + 3],
        ])
    };
    let (total, headers, crc) = (word(0), word(4), word(8));
    let computed = crc32fast::hash(&prelude[..8]);
    if computed != crc {
        return Err(FrameError::Corrupt(format!(
            "prelude checksum mismatch: expected {crc:#010x}, computed {computed:#010x}"
        )));
    }
    if total > MAX_FRAME_BYTES {
        return Err(FrameError::TooLarge(total));
    }
    if total < MIN_FRAME_BYTES || headers > total - MIN_FRAME_BYTES {
        return Err(FrameError::Corrupt(format!(
            "total length {total} cannot hold {headers} bytes of headers"
        )));
    }
    Ok(())
}

/// Sorts a message by its `:message-type`, looking headers up by name (their order on
/// the wire means nothing).
fn classify(message: &Message) -> Result<Frame, FrameError> {
    let message_type =
        header(message, ":message-type").ok_or(FrameError::MissingHeader(":message-type"))?;
    let payload = message.payload().clone();
    match message_type {
        "event" => Ok(Frame::Event {
            event_type: header(message, ":event-type")
                .ok_or(FrameError::MissingHeader(":event-type"))?
                .to_owned(),
            payload,
        }),
        "exception" => Ok(Frame::Exception {
            exception_type: header(message, ":exception-type")
                .ok_or(FrameError::MissingHeader(":exception-type"))?
                .to_owned(),
            payload,
        }),
        "error" => Ok(Frame::Error {
            code: header(message, ":error-code")
                .unwrap_or("unknown")
                .to_owned(),
            message: header(message, ":error-message")
                .unwrap_or_default()
                .to_owned(),
        }),
        other => Err(FrameError::UnknownMessageType(other.to_owned())),
    }
}

/// A string header's value.
fn header<'a>(message: &'a Message, name: &str) -> Option<&'a str> {
    message
        .headers()
        .iter()
        .find(|header| header.name().as_str() == name)
        .and_then(|header| header.value().as_string().ok())
        .map(|value| value.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(text: &str) -> Vec<u8> {
        (0..text.len())
            .step_by(2)
            .map(|at| u8::from_str_radix(&text[at..at + 2], 16).expect("hex"))
            .collect()
    }

    /// The worked example of `stream_binary_frame.md` §4.
    const HELLO: &str = "000000a2000000579acad7c80b3a6576656e742d74797065070011636f6e74656e74426c6f636b44656c74610d3a636f6e74656e742d747970650700106170706c69636174696f6e2f6a736f6e0d3a6d6573736167652d747970650700056576656e747b22636f6e74656e74426c6f636b496e646578223a302c2264656c7461223a7b2274657874223a2248656c6c6f227d2c2270223a2261626364227d1ee2dd14";

    #[test]
    fn a_frame_split_byte_by_byte_decodes_once_complete() {
        let bytes = hex(HELLO);
        let mut decoder = FrameDecoder::new();
        for (at, byte) in bytes.iter().enumerate() {
            decoder.push(&[*byte]);
            let frame = decoder.next_frame().expect("valid so far");
            if at + 1 < bytes.len() {
                assert_eq!(frame, None, "byte {at}");
                assert!(decoder.finish().is_err(), "cut inside the frame");
            } else {
                let Some(Frame::Event {
                    event_type,
                    payload,
                }) = frame
                else {
                    panic!("an event: {frame:?}");
                };
                assert_eq!(event_type, "contentBlockDelta");
                assert_eq!(
                    &payload[..],
                    br#"{"contentBlockIndex":0,"delta":{"text":"Hello"},"p":"abcd"}"#
                );
            }
        }
        assert_eq!(decoder.finish(), Ok(()));
    }

    #[test]
    fn two_frames_in_one_chunk_decode_in_order() {
        let mut bytes = hex(HELLO);
        bytes.extend(hex(HELLO));
        let mut decoder = FrameDecoder::new();
        decoder.push(&bytes);
        assert!(matches!(
            decoder.next_frame(),
            Ok(Some(Frame::Event { .. }))
        ));
        assert!(matches!(
            decoder.next_frame(),
            Ok(Some(Frame::Event { .. }))
        ));
        assert_eq!(decoder.next_frame(), Ok(None));
    }

    #[test]
    fn a_bad_message_crc_is_an_error_not_a_panic() {
        let mut bytes = hex(HELLO);
        let last = bytes.len() - 1;
        bytes[last] ^= 0xff;
        let mut decoder = FrameDecoder::new();
        decoder.push(&bytes);
        assert!(matches!(decoder.next_frame(), Err(FrameError::Corrupt(_))));
    }

    #[test]
    fn a_corrupt_prelude_is_refused_before_its_length_is_trusted() {
        let mut bytes = hex(HELLO);
        // A length of 2 GiB with the old prelude CRC.
        bytes[0] = 0x7f;
        let mut decoder = FrameDecoder::new();
        decoder.push(&bytes[..PRELUDE_BYTES]);
        assert!(matches!(decoder.next_frame(), Err(FrameError::Corrupt(_))));
    }

    #[test]
    fn an_oversized_frame_is_refused() {
        let mut prelude = Vec::new();
        prelude.extend_from_slice(&(MAX_FRAME_BYTES + 1).to_be_bytes());
        prelude.extend_from_slice(&0u32.to_be_bytes());
        let crc = crc32fast::hash(&prelude);
        prelude.extend_from_slice(&crc.to_be_bytes());
        let mut decoder = FrameDecoder::new();
        decoder.push(&prelude);
        assert!(matches!(decoder.next_frame(), Err(FrameError::TooLarge(_))));
    }

    #[test]
    fn a_frame_without_a_message_type_is_refused() {
        // smithy-rs `valid_no_headers`: a valid frame, but not an event-stream message.
        let bytes = hex(concat!(
            "00000024",
            "00000000",
            "516356ad",
            "616e6f746865722074657374207061796c6f6164",
            "8df80e65"
        ));
        let mut decoder = FrameDecoder::new();
        decoder.push(&bytes);
        assert_eq!(
            decoder.next_frame(),
            Err(FrameError::MissingHeader(":message-type"))
        );
    }
}
