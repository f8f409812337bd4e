use serde_json::json;
use switchyard_types::{FinishReason, Prompt, StreamEvent, TokenLogprob, TopLogprob, Usage};

use super::*;

fn decode(body: serde_json::Value) -> Result<switchyard_types::ChatRequest, crate::DecodeError> {
    decode_completion_request(body.to_string().as_bytes())
}

#[test]
fn every_prompt_shape_is_read() {
    let one = decode(json!({"model": "m", "prompt": "Once upon"})).expect("a valid request");
    let completion = one.completion.expect("a text completion");
    assert_eq!(completion.prompt, Prompt::Texts(vec!["Once upon".into()]));
    assert!(!completion.echo);
    assert!(one.messages.is_empty());

    let many = decode(json!({"model": "m", "prompt": ["a", "b"]})).expect("a valid request");
    assert_eq!(
        many.completion.expect("a text completion").prompt,
        Prompt::Texts(vec!["a".into(), "b".into()])
    );
    let tokens = decode(json!({"model": "m", "prompt": [1, 2, 3]})).expect("a valid request");
    assert_eq!(
        tokens.completion.expect("a text completion").prompt,
        Prompt::Tokens(vec![vec![1, 2, 3]])
    );
    let lists = decode(json!({"model": "m", "prompt": [[1], [2, 3]]})).expect("a valid request");
    assert_eq!(
        lists.completion.expect("a text completion").prompt,
        Prompt::Tokens(vec![vec![1], vec![2, 3]])
    );
}

#[test]
fn bad_requests_name_the_field() {
    let cases = [
        (json!({"model": "m"}), None),
        (json!({"model": "m", "prompt": []}), Some("prompt")),
        (json!({"model": "m", "prompt": ["a", 1]}), Some("prompt[1]")),
        (json!({"model": "m", "prompt": [1, -2]}), Some("prompt[1]")),
        (
            json!({"model": "m", "prompt": {"text": "a"}}),
            Some("prompt"),
        ),
        (json!({"model": "", "prompt": "a"}), Some("model")),
        (
            json!({"model": "m", "prompt": "a", "logprobs": 21}),
            Some("logprobs"),
        ),
        (json!({"model": "m", "prompt": "a", "n": 0}), Some("n")),
        (
            json!({"model": "m", "prompt": "a", "temperature": 3}),
            Some("temperature"),
        ),
        (
            json!({"model": "m", "prompt": "a", "echo": "yes"}),
            Some("echo"),
        ),
    ];
    for (body, param) in cases {
        let error = decode(body.clone()).expect_err(&body.to_string());
        if param.is_some() {
            assert_eq!(error.param.as_deref(), param, "{body}: {error}");
        }
    }
}

#[test]
fn a_request_reaches_an_upstream_as_written() {
    let body = json!({
        "model": "public",
        "prompt": "Say",
        "max_tokens": 7,
        "temperature": 0.5,
        "n": 2,
        "logprobs": 3,
        "echo": true,
        "stop": ["\n"],
        "seed": 4,
        "user": "u",
        "best_of": 3,
        "suffix": "end",
        "logit_bias": {"50256": -100},
        "stream": true,
        "stream_options": {"include_usage": false, "include_obfuscation": false}
    });
    let request = decode(body).expect("a valid request");
    assert!(request.stream);
    assert!(!request.stream_include_usage);
    assert_eq!(request.sampling.top_logprobs, Some(3));
    let wire = from_canonical_completion_request(&request, "upstream").expect("encodes");
    let sent = serde_json::to_value(&wire).expect("serializes");
    assert_eq!(
        sent,
        json!({
            "model": "upstream",
            "prompt": "Say",
            "max_tokens": 7,
            "temperature": 0.5,
            "n": 2,
            "stream": true,
            // Metering needs usage, whatever the caller asked to see.
            "stream_options": {"include_usage": true, "include_obfuscation": false},
            "logprobs": 3,
            "echo": true,
            "stop": ["\n"],
            "seed": 4,
            "user": "u",
            "best_of": 3,
            "suffix": "end",
            "logit_bias": {"50256": -100}
        })
    );
}

#[test]
fn a_chat_request_is_not_sent_as_a_completion() {
    let chat = switchyard_types::ChatRequest::default();
    assert!(from_canonical_completion_request(&chat, "m").is_err());
}

fn openai_answer() -> serde_json::Value {
    json!({
        "id": "cmpl-1",
        "object": "text_completion",
        "created": 1700000000,
        "model": "gpt-3.5-turbo-instruct",
        "system_fingerprint": "fp_1",
        "choices": [{
            "text": "Hi there",
            "index": 0,
            "logprobs": {
                "tokens": ["Hi", " there"],
                "token_logprobs": [null, -0.5],
                "top_logprobs": [null, {" there": -0.5, " you": -1.5}],
                "text_offset": [0, 2]
            },
            "finish_reason": "length"
        }],
        "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}
    })
}

#[test]
fn an_answer_decodes_and_encodes_back_unchanged() {
    let body = openai_answer();
    let answer = decode_completion_response(body.to_string().as_bytes()).expect("decodes");
    let choice = &answer.choices[0];
    assert_eq!(choice.message.text_content(), "Hi there");
    assert_eq!(choice.finish_reason, Some(FinishReason::Length));
    let logprobs = choice.logprobs.as_ref().expect("logprobs");
    assert_eq!(logprobs[0].logprob, None);
    assert_eq!(logprobs[1].logprob, Some(-0.5));
    assert_eq!(logprobs[1].top_logprobs[1].token, " you");
    assert_eq!(answer.usage.as_ref().expect("usage").total_tokens(), 2);
    let back =
        serde_json::to_value(from_canonical_completion_response(&answer)).expect("serializes");
    assert_eq!(back, body);
}

fn token(text: &str, logprob: f64) -> TokenLogprob {
    TokenLogprob {
        token: text.into(),
        logprob: Some(logprob),
        bytes: None,
        top_logprobs: vec![TopLogprob {
            token: text.into(),
            logprob,
            bytes: None,
        }],
    }
}

#[test]
fn streamed_chunks_carry_offsets_across_the_stream() {
    let mut encoder = CompletionChunkEncoder::new(true);
    let start = vec![StreamEvent::Start {
        id: "cmpl-2".into(),
        model: "m".into(),
        created: 1,
        extra: Default::default(),
    }];
    assert!(encoder.encode(start).is_none(), "nothing to say yet");
    let first = encoder
        .encode(vec![
            StreamEvent::TextDelta {
                choice: 0,
                text: "héllo".into(),
            },
            StreamEvent::Logprobs {
                choice: 0,
                tokens: vec![token("hé", -0.1), token("llo", -0.2)],
            },
        ])
        .expect("a chunk");
    let second = encoder
        .encode(vec![
            StreamEvent::TextDelta {
                choice: 0,
                text: "!".into(),
            },
            StreamEvent::Logprobs {
                choice: 0,
                tokens: vec![token("!", -0.3)],
            },
            StreamEvent::Finish {
                choice: 0,
                reason: FinishReason::Stop,
            },
            StreamEvent::Usage(Usage {
                input_tokens: 2,
                output_tokens: 3,
                ..Usage::default()
            }),
        ])
        .expect("a chunk");
    let first = serde_json::to_value(first).expect("serializes");
    assert_eq!(first["object"], "text_completion");
    assert_eq!(first["id"], "cmpl-2");
    assert_eq!(first["choices"][0]["text"], "héllo");
    assert_eq!(
        first["choices"][0]["logprobs"]["text_offset"],
        json!([0, 2])
    );
    assert_eq!(first["choices"][0]["finish_reason"], json!(null));
    let second = serde_json::to_value(second).expect("serializes");
    assert_eq!(second["choices"][0]["logprobs"]["text_offset"], json!([5]));
    assert_eq!(second["choices"][0]["finish_reason"], "stop");
    assert_eq!(second["usage"]["total_tokens"], 5);
}

#[test]
fn usage_is_shown_only_when_asked_for() {
    let mut encoder = CompletionChunkEncoder::new(false);
    let usage = vec![StreamEvent::Usage(Usage::default())];
    assert!(encoder.encode(usage).is_none());
}

#[test]
fn upstream_chunks_decode_to_frames() {
    let mut decoder = CompletionChunkDecoder::new();
    let first = decoder
        .decode_data(
            json!({"id": "c", "object": "text_completion", "created": 1, "model": "m",
                   "choices": [{"index": 0, "text": "Hi", "logprobs": null, "finish_reason": null}]})
            .to_string()
            .as_bytes(),
        )
        .expect("a chunk");
    assert!(matches!(first[0], StreamEvent::Start { .. }));
    assert!(matches!(&first[1], StreamEvent::TextDelta { text, .. } if text == "Hi"));
    let last = decoder
        .decode_data(
            json!({"id": "c", "object": "text_completion", "created": 1, "model": "m",
                   "choices": [{"index": 0, "text": "", "logprobs": null, "finish_reason": "stop"}],
                   "usage": {"prompt_tokens": 1, "completion_tokens": 2, "total_tokens": 3}})
            .to_string()
            .as_bytes(),
        )
        .expect("a chunk");
    assert_eq!(
        last[0],
        StreamEvent::Finish {
            choice: 0,
            reason: FinishReason::Stop
        }
    );
    assert!(matches!(&last[1], StreamEvent::Usage(usage) if usage.output_tokens == 2));
}
