use pretty_assertions::assert_eq;
use serde_json::Value;
use switchyard_types::{ContentBlock, FinishReason};

use super::*;

const TOOL_CALLS: &str = include_str!("../../tests/fixtures/openai/response_tool_calls.json");
const LOGPROBS: &str = include_str!("../../tests/fixtures/openai/response_logprobs.json");

#[test]
fn responses_round_trip_exactly() {
    for fixture in [TOOL_CALLS, LOGPROBS] {
        let canonical = decode_chat_response(fixture.as_bytes()).expect("valid fixture");
        let encoded = serde_json::to_value(from_canonical_response(&canonical)).expect("JSON");
        let original: Value = serde_json::from_str(fixture).expect("JSON");
        assert_eq!(encoded, original);
    }
}

#[test]
fn decodes_tool_calls_usage_and_logprobs() {
    let response = decode_chat_response(TOOL_CALLS.as_bytes()).expect("valid fixture");
    let choice = &response.choices[0];
    assert_eq!(choice.finish_reason, Some(FinishReason::ToolCalls));
    assert!(matches!(&choice.message.content[0],
        ContentBlock::ToolCall { id, name, arguments }
            if id == "call_abc123" && name == "get_current_weather" && arguments.contains("Boston")));
    let usage = response.usage.expect("usage");
    assert_eq!((usage.input_tokens, usage.output_tokens), (82, 17));
    assert_eq!(usage.reasoning_tokens, Some(0));

    let response = decode_chat_response(LOGPROBS.as_bytes()).expect("valid fixture");
    let logprobs = response.choices[0].logprobs.as_ref().expect("logprobs");
    assert_eq!(logprobs[0].token, "Hello");
    assert_eq!(logprobs[0].top_logprobs[1].token, "Hi");
}
