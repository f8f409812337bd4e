//! Each bound refuses one past it, names the field as the dialect spells it, and lets
//! the bound itself through.

use serde_json::json;

use crate::anthropic::ingress::decode_request as decode_messages_request;
use crate::openai::completions::decode_completion_request;
use crate::openai::decode_chat_request;
use crate::openai::responses::decode_response_request;

fn chat(extra: serde_json::Value) -> Result<(), crate::DecodeError> {
    let mut body = json!({"model": "m", "messages": [{"role": "user", "content": "hi"}]});
    body.as_object_mut()
        .expect("an object")
        .extend(extra.as_object().expect("an object").clone());
    decode_chat_request(&serde_json::to_vec(&body).expect("json")).map(|_| ())
}

fn param(result: Result<(), crate::DecodeError>) -> String {
    result.expect_err("over a bound").param.unwrap_or_default()
}

#[test]
fn n_is_bounded_before_anything_is_sized_from_it() {
    assert!(chat(json!({"n": 128})).is_ok());
    assert_eq!(param(chat(json!({"n": 129}))), "n");
    assert_eq!(param(chat(json!({"n": 4294967295u32}))), "n");
    assert_eq!(param(chat(json!({"n": 0}))), "n");
}

#[test]
fn prompts_times_n_is_bounded() {
    let prompts: Vec<&str> = vec!["a"; 2048];
    let body = |n: u32| {
        serde_json::to_vec(&json!({"model": "m", "prompt": prompts, "n": n})).expect("json")
    };
    assert!(decode_completion_request(&body(1)).is_ok());
    let error = decode_completion_request(&body(2)).expect_err("4096 answers");
    assert_eq!(error.param.as_deref(), Some("n"));
    assert!(error.message.contains("at most 2048"), "{}", error.message);
    let error = decode_completion_request(&body(u32::MAX)).expect_err("absurd n");
    assert_eq!(error.param.as_deref(), Some("n"));
}

#[test]
fn stop_sequences_are_bounded_in_count_and_length() {
    assert!(chat(json!({"stop": ["a", "b", "c", "d"]})).is_ok());
    assert_eq!(
        param(chat(json!({"stop": ["a", "b", "c", "d", "e"]}))),
        "stop"
    );
    let long = "a".repeat(257);
    assert_eq!(param(chat(json!({"stop": ["a", long]}))), "stop[1]");
    assert_eq!(param(chat(json!({"stop": long}))), "stop[0]");
    let anthropic = |stops: Vec<String>| {
        let body = json!({"model": "m", "max_tokens": 5, "stop_sequences": stops,
                          "messages": [{"role": "user", "content": "hi"}]});
        decode_messages_request(&serde_json::to_vec(&body).expect("json")).map(|_| ())
    };
    assert!(anthropic(vec!["x".to_owned(); 16]).is_ok());
    assert_eq!(param(anthropic(vec!["x".to_owned(); 17])), "stop_sequences");
}

#[test]
fn logit_bias_is_bounded_in_entries_and_values() {
    let many: serde_json::Map<String, serde_json::Value> = (0..1025)
        .map(|token| (token.to_string(), json!(1)))
        .collect();
    assert_eq!(param(chat(json!({"logit_bias": many}))), "logit_bias");
    assert_eq!(
        param(chat(json!({"logit_bias": {"5": 101}}))),
        "logit_bias.5"
    );
    assert_eq!(
        param(chat(json!({"logit_bias": {"5": "x"}}))),
        "logit_bias.5"
    );
    assert_eq!(param(chat(json!({"logit_bias": [1]}))), "logit_bias");
    assert!(chat(json!({"logit_bias": {"5": -100, "6": 100}})).is_ok());
}

#[test]
fn tools_and_their_schemas_are_bounded() {
    let tool = |parameters: serde_json::Value| json!({"type": "function", "function": {"name": "f", "parameters": parameters}});
    let tools: Vec<_> = (0..129).map(|_| tool(json!({"type": "object"}))).collect();
    assert_eq!(param(chat(json!({"tools": tools}))), "tools");
    let mut deep = json!({"type": "string"});
    for _ in 0..40 {
        deep = json!({"type": "object", "properties": {"x": deep}});
    }
    assert_eq!(
        param(chat(json!({"tools": [tool(deep.clone())]}))),
        "tools[0].parameters"
    );
    let wide: serde_json::Map<String, serde_json::Value> =
        (0..10_001).map(|key| (key.to_string(), json!(1))).collect();
    assert_eq!(
        param(chat(
            json!({"tools": [tool(json!({"type": "object", "properties": wide}))]})
        )),
        "tools[0].parameters"
    );
    assert_eq!(
        param(chat(json!({"response_format": {"type": "json_schema",
            "json_schema": {"name": "x", "schema": deep}}}))),
        "response_format.json_schema.schema"
    );
}

#[test]
fn message_count_and_images_are_bounded() {
    let messages: Vec<_> = (0..10_001)
        .map(|_| json!({"role": "user", "content": "x"}))
        .collect();
    let body = json!({"model": "m", "messages": messages});
    let error =
        decode_chat_request(&serde_json::to_vec(&body).expect("json")).expect_err("too many");
    assert_eq!(error.param.as_deref(), Some("messages"));

    let image = |url: String| json!({"type": "image_url", "image_url": {"url": url}});
    let images: Vec<_> = (0..501)
        .map(|_| image("https://example.com/a.png".into()))
        .collect();
    let body = json!({"model": "m", "messages": [{"role": "user", "content": images}]});
    let error =
        decode_chat_request(&serde_json::to_vec(&body).expect("json")).expect_err("501 images");
    assert_eq!(error.param.as_deref(), Some("messages[0].content"));
    let anthropic = json!({"model": "m", "max_tokens": 5, "messages": [{"role": "user", "content": [
        {"type": "image", "source": {"type": "url", "url": "s3://operator-bucket/secret.png"}}]}]});
    let error = decode_messages_request(&serde_json::to_vec(&anthropic).expect("json"))
        .expect_err("a storage URL is the operator's to name, not a caller's");
    assert_eq!(error.param.as_deref(), Some("messages[0].content"));
    let long_url = format!("https://example.com/{}", "a".repeat(40_000));
    let body = json!({"model": "m", "messages": [{"role": "user", "content": [image(long_url)]}]});
    assert!(decode_chat_request(&serde_json::to_vec(&body).expect("json")).is_err());
}

#[test]
fn output_tokens_and_logprobs_are_bounded_in_every_dialect() {
    assert_eq!(param(chat(json!({"max_tokens": 2_000_000}))), "max_tokens");
    assert_eq!(
        param(chat(json!({"max_completion_tokens": 2_000_000}))),
        "max_completion_tokens"
    );
    assert_eq!(
        param(chat(json!({"top_logprobs": 21, "logprobs": true}))),
        "top_logprobs"
    );
    let body = json!({"model": "m", "input": "hi", "max_output_tokens": 2_000_000});
    let error =
        decode_response_request(&serde_json::to_vec(&body).expect("json")).expect_err("over");
    assert_eq!(error.param.as_deref(), Some("max_output_tokens"));
    let body = json!({"model": "m", "max_tokens": 2_000_000, "messages": [{"role": "user", "content": "hi"}]});
    let error =
        decode_messages_request(&serde_json::to_vec(&body).expect("json")).expect_err("over");
    assert_eq!(error.param.as_deref(), Some("max_tokens"));
}

#[test]
fn json_nesting_is_refused_with_its_bound() {
    let deep = format!("{}1{}", r#"{"a":"#.repeat(200), "}".repeat(200));
    let body = format!(
        r#"{{"model": "m", "messages": [{{"role": "user", "content": "hi"}}], "vendor_field": {deep}}}"#
    );
    let error = decode_chat_request(body.as_bytes()).expect_err("too deep");
    assert!(error.message.contains("128"), "{}", error.message);
}
