//! Black-box tests of the Bedrock mock over real sockets: what it refuses, as Bedrock
//! does, and the binary event stream it answers with.

use std::time::Duration;

use serde_json::{Value, json};
use switchyard_testkit::{BedrockScript, MockBedrock};

const PATH: &str = "/model/us.anthropic.claude-sonnet-4-20250514-v1%3A0";

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .expect("a plain reqwest client builds")
}

async fn post(
    mock: &MockBedrock,
    operation: &str,
    authorization: Option<&str>,
    body: &Value,
) -> reqwest::Response {
    let mut request = client()
        .post(format!("{}{PATH}/{operation}", mock.base_url()))
        .header("content-type", "application/json")
        .body(body.to_string());
    if let Some(authorization) = authorization {
        request = request.header("authorization", authorization);
    }
    request.send().await.expect("the mock answers")
}

fn error_type(response: &reqwest::Response) -> String {
    response
        .headers()
        .get("x-amzn-errortype")
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.split(':').next())
        .unwrap_or_default()
        .to_owned()
}

fn hello() -> Value {
    json!({"messages": [{"role": "user", "content": [{"text": "hello"}]}]})
}

#[tokio::test]
async fn requests_without_valid_credentials_are_refused_as_aws_refuses_them() {
    let mock = MockBedrock::start().await;
    let response = post(&mock, "converse", None, &hello()).await;
    assert_eq!(response.status(), 403);
    assert_eq!(error_type(&response), "MissingAuthenticationTokenException");

    let unknown = "AWS4-HMAC-SHA256 Credential=AKIDUNKNOWN/20260115/us-east-1/bedrock/aws4_request, \
                   SignedHeaders=content-type;host;x-amz-date, Signature=00";
    let response = client()
        .post(format!("{}{PATH}/converse", mock.base_url()))
        .header("authorization", unknown)
        .header("x-amz-date", "20260115T120000Z")
        .body(hello().to_string())
        .send()
        .await
        .expect("answers");
    assert_eq!(response.status(), 403);
    assert_eq!(error_type(&response), "UnrecognizedClientException");

    let wrong_service = unknown.replace("/bedrock/", "/bedrock-runtime/");
    let response = post(&mock, "converse", Some(&wrong_service), &hello()).await;
    assert_eq!(error_type(&response), "IncompleteSignatureException");
    assert_eq!(
        mock.requests().len(),
        3,
        "refused requests are recorded too"
    );
    assert_eq!(mock.requests()[0].path, format!("{PATH}/converse"));
}

#[tokio::test]
async fn converse_bodies_are_held_to_bedrocks_rules() {
    let mock = MockBedrock::start().await;
    let bearer = Some("Bearer test-key");
    for (body, expected) in [
        (
            json!({"messages": [{"role": "assistant", "content": [{"text": "hi"}]}]}),
            "must start with a user message",
        ),
        (
            json!({"messages": [{"role": "user", "content": [{"text": "a"}]},
                                {"role": "user", "content": [{"text": "b"}]}]}),
            "must alternate",
        ),
        (
            json!({"messages": [{"role": "user", "content": [{"text": "  "}]}]}),
            "is blank",
        ),
        (
            json!({"messages": [{"role": "user", "content": [{"text": "a", "image": {}}]}]}),
            "exactly one",
        ),
        (
            json!({"messages": [
                {"role": "user", "content": [{"text": "a"}]},
                {"role": "assistant", "content": [{"toolUse": {"toolUseId": "t", "name": "f", "input": {}}}]},
                {"role": "user", "content": [{"toolResult": {"toolUseId": "t", "content": [{"text": "1"}]}}]}
            ]}),
            "toolConfig field must be defined",
        ),
    ] {
        let response = post(&mock, "converse", bearer, &body).await;
        assert_eq!(response.status(), 400, "{body}");
        assert_eq!(error_type(&response), "ValidationException");
        let answer: Value = response.json().await.expect("JSON");
        let message = answer["message"].as_str().unwrap_or_default();
        assert!(message.contains(expected), "{message}");
    }
}

#[tokio::test]
async fn answers_are_json_or_binary_event_streams() {
    let mock = MockBedrock::start().await;
    let bearer = Some("Bearer test-key");
    let response = post(&mock, "converse", bearer, &hello()).await;
    assert_eq!(response.status(), 200);
    let answer: Value = response.json().await.expect("JSON");
    assert_eq!(
        answer["output"]["message"]["content"][0]["text"],
        "echo: hello"
    );
    assert_eq!(answer["stopReason"], "end_turn");

    mock.push(BedrockScript::error(
        429,
        "ThrottlingException",
        "slow down",
    ));
    let response = post(&mock, "converse-stream", bearer, &hello()).await;
    assert_eq!(
        (response.status().as_u16(), error_type(&response)),
        (429, "ThrottlingException".to_owned())
    );

    let response = post(&mock, "converse-stream", bearer, &hello()).await;
    assert_eq!(
        response.headers()["content-type"],
        "application/vnd.amazon.eventstream"
    );
    let body = response.bytes().await.expect("a body");
    // The first frame: prelude, then `:event-type` = `messageStart`.
    let total = u32::from_be_bytes([body[0], body[1], body[2], body[3]]) as usize;
    assert!(total < body.len(), "more frames follow");
    let frame = &body[..total];
    assert!(frame.windows(12).any(|w| w == b"messageStart"));
    assert!(body.windows(8).any(|w| w == b"metadata"));
}
