//! Properties of the OpenAI request decoder over generated input: it never panics, and
//! whatever it accepts survives a same-protocol hop unchanged.

use proptest::prelude::*;
use serde_json::{Value, json};
use switchyard_protocols::openai::{decode_chat_request, from_canonical_request};

/// Any JSON value, a few levels deep, with keys and strings drawn from the protocol's
/// own vocabulary so that generated documents often come close to valid requests.
fn any_json() -> impl Strategy<Value = Value> {
    let words = prop_oneof![
        Just("role"),
        Just("content"),
        Just("user"),
        Just("assistant"),
        Just("tool"),
        Just("system"),
        Just("text"),
        Just("type"),
        Just("image_url"),
        Just("url"),
        Just("tool_calls"),
        Just("tool_call_id"),
        Just("function"),
        Just("name"),
        Just("arguments"),
        Just("data:image/png;base64,AAAA"),
        Just("https://x/y.png"),
        Just("x"),
        Just(""),
    ];
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        (-3.0f64..3.0).prop_map(Value::from),
        words.clone().prop_map(Value::from),
        "\\PC{0,8}".prop_map(Value::from),
    ];
    leaf.prop_recursive(4, 48, 6, move |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            prop::collection::vec((words.clone(), inner), 0..6).prop_map(|pairs| Value::Object(
                pairs.into_iter().map(|(k, v)| (k.to_owned(), v)).collect()
            )),
        ]
    })
}

/// Top-level request fields with generated values.
fn request_like() -> impl Strategy<Value = Value> {
    let field = prop_oneof![
        Just("messages"),
        Just("tools"),
        Just("tool_choice"),
        Just("response_format"),
        Just("temperature"),
        Just("max_tokens"),
        Just("stop"),
        Just("n"),
        Just("stream"),
        Just("stream_options"),
        Just("logprobs"),
        Just("top_logprobs"),
        Just("metadata"),
        Just("vendor_field"),
    ];
    prop::collection::vec((field, any_json()), 0..6).prop_map(|fields| {
        let mut request = json!({"model": "m", "messages": [{"role": "user", "content": "hi"}]});
        for (key, value) in fields {
            request[key] = value;
        }
        request
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..256)) {
        let _ = decode_chat_request(&bytes);
    }

    #[test]
    fn accepted_requests_survive_a_same_protocol_hop(request in request_like()) {
        let body = serde_json::to_vec(&request).expect("serializable");
        if let Ok(canonical) = decode_chat_request(&body) {
            let wire = from_canonical_request(&canonical, "m")
                .expect("anything decoded from OpenAI encodes back to OpenAI");
            let again = decode_chat_request(&serde_json::to_vec(&wire).expect("serializable"))
                .expect("what we send is valid");
            // Streaming hops always ask the upstream for usage, and `stream_options`
            // (valid only with `stream: true`) is not sent on other calls; everything
            // else is equal.
            let mut expected = canonical;
            if expected.stream {
                expected.stream_include_usage = true;
            } else {
                expected.stream_include_usage = false;
                expected.extra.remove("stream_options");
            }
            prop_assert_eq!(again, expected);
        }
    }
}
