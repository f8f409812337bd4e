//! The Gemini adapter against its wire-faithful mock, beyond the conformance suite:
//! embeddings, the model list, keys and errors.

use std::time::Duration;

use secrecy::SecretString;
use serde_json::json;
use switchyard_providers::gemini::{GeminiConfig, GeminiProvider};
use switchyard_providers::openai::Timeouts;
use switchyard_testkit::{GeminiScript, MockGemini};
use switchyard_types::{
    CallContext, ChatRequest, DeploymentId, EmbedInput, EmbedRequest, ErrorKind, Message, Provider,
    Role,
};

const KEY: &str = "gm-test-0123456789abcdef";

fn provider(mock: &MockGemini, model: &str, embeddings: bool, key: Option<&str>) -> GeminiProvider {
    GeminiProvider::new(
        DeploymentId::new("gemini"),
        GeminiConfig {
            provider: "gemini".into(),
            base_url: mock.base_url(),
            api_key: key.map(SecretString::from),
            upstream_model: model.into(),
            headers: Vec::new(),
            timeouts: Timeouts {
                first_byte: Duration::from_secs(5),
                idle: Duration::from_secs(5),
                ..Timeouts::default()
            },
            max_concurrency: None,
            embeddings,
            drop_unsupported_params: false,
        },
    )
    .expect("builds")
}

fn embed_request(texts: &[&str], dimensions: Option<u32>) -> EmbedRequest {
    EmbedRequest {
        model: "embed".into(),
        input: EmbedInput::Texts(texts.iter().map(|t| (*t).to_owned()).collect()),
        dimensions,
        user: None,
        extra: Default::default(),
    }
}

#[tokio::test]
async fn embeds_a_batch_in_one_call_with_the_requested_dimensions() {
    let mock = MockGemini::start().await;
    let gemini = provider(&mock, "gemini-embedding-001", true, Some(KEY));
    let answer = gemini
        .embed(
            embed_request(&["first text", "second"], Some(4)),
            &CallContext::default(),
        )
        .await
        .expect("embeds");
    assert_eq!(answer.embeddings.len(), 2);
    assert!(answer.embeddings.iter().all(|vector| vector.len() == 4));
    let request = mock.requests().pop().expect("one call");
    assert_eq!(
        request.path,
        "/v1beta/models/gemini-embedding-001:batchEmbedContents"
    );
    assert_eq!(
        request.body["requests"][1],
        json!({"model": "models/gemini-embedding-001",
               "content": {"parts": [{"text": "second"}]}, "outputDimensionality": 4})
    );
    // Token arrays have no Gemini equivalent.
    let tokens = EmbedRequest {
        input: EmbedInput::Tokens(vec![vec![1, 2]]),
        ..embed_request(&[], None)
    };
    let error = gemini
        .embed(tokens, &CallContext::default())
        .await
        .expect_err("no token input");
    assert_eq!(error.kind, ErrorKind::InvalidRequest);
}

#[tokio::test]
async fn an_embedding_deployment_does_not_chat_and_a_chat_one_does_not_embed() {
    let mock = MockGemini::start().await;
    let embedder = provider(&mock, "gemini-embedding-001", true, Some(KEY));
    let ask = ChatRequest {
        messages: vec![Message::text(Role::User, "hi")],
        ..ChatRequest::default()
    };
    let error = embedder
        .chat(ask, &CallContext::default())
        .await
        .expect_err("embeddings only");
    assert_eq!(error.kind, ErrorKind::Unsupported);
    let chat = provider(&mock, "gemini-2.5-flash", false, Some(KEY));
    let error = chat
        .embed(embed_request(&["x"], None), &CallContext::default())
        .await
        .expect_err("chat only");
    assert_eq!(error.kind, ErrorKind::Unsupported);
}

#[tokio::test]
async fn lists_models_without_their_prefix() {
    let mock = MockGemini::start().await;
    let models = provider(&mock, "gemini-2.5-flash", false, Some(KEY))
        .list_models(&CallContext::default())
        .await
        .expect("lists");
    assert_eq!(models[0].id, "gemini-mock");
}

#[tokio::test]
async fn a_missing_or_invalid_key_is_an_error_that_never_shows_the_key() {
    let mock = MockGemini::start().await;
    let ask = || ChatRequest {
        messages: vec![Message::text(Role::User, "hi")],
        ..ChatRequest::default()
    };
    let error = provider(&mock, "gemini-2.5-flash", false, None)
        .chat(ask(), &CallContext::default())
        .await
        .expect_err("no key");
    assert_eq!(error.kind, ErrorKind::PermissionDenied);
    mock.push(GeminiScript::Reply {
        status: 400,
        body: json!({"error": {"code": 400, "status": "INVALID_ARGUMENT",
            "message": format!("API key not valid: {KEY}"),
            "details": [{"@type": "type.googleapis.com/google.rpc.ErrorInfo",
                         "reason": "API_KEY_INVALID", "domain": "googleapis.com"}]}}),
    });
    let error = provider(&mock, "gemini-2.5-flash", false, Some(KEY))
        .chat(ask(), &CallContext::default())
        .await
        .expect_err("bad key");
    assert_eq!(error.kind, ErrorKind::Authentication);
    assert_eq!(error.status, Some(400));
    assert!(!error.message.contains(KEY), "{}", error.message);
}

#[tokio::test]
async fn an_error_body_written_raw_into_the_stream_reaches_the_caller() {
    use futures::StreamExt;
    let mock = MockGemini::start().await;
    let first = switchyard_testkit::mock::gemini::echo("gemini-2.5-flash", "Hel");
    let mut first = first;
    // Not the last chunk: no finish reason yet.
    first["candidates"][0]
        .as_object_mut()
        .expect("candidate")
        .remove("finishReason");
    mock.push(GeminiScript::StreamThenRaw {
        events: vec![first],
        raw: "[{\n  \"error\": {\n    \"code\": 503,\n    \"message\": \"The model is overloaded. Please try again later.\",\n    \"status\": \"UNAVAILABLE\"\n  }\n}\n]".into(),
    });
    let request = ChatRequest {
        messages: vec![Message::text(Role::User, "hi")],
        stream: true,
        ..ChatRequest::default()
    };
    let mut stream = provider(&mock, "gemini-2.5-flash", false, Some(KEY))
        .chat_stream(request, &CallContext::default())
        .await
        .expect("the first event arrived");
    let mut failure = None;
    while let Some(frame) = stream.next().await {
        if let Err(error) = frame {
            failure = Some(error);
        }
    }
    let error = failure.expect("the stream fails");
    assert_eq!(error.kind, ErrorKind::Overloaded, "{}", error.message);
    assert!(
        error.message.contains("The model is overloaded"),
        "{}",
        error.message
    );
}
