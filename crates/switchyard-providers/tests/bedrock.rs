//! The Bedrock adapter against the wire-faithful mock: signatures (which the mock
//! recomputes itself) and API keys, paths, bodies, binary event streams, embeddings,
//! and every kind of failure.

use std::time::Duration;

use futures::StreamExt;
use secrecy::SecretString;
use serde_json::{Value, json};
use switchyard_providers::bedrock::{BedrockConfig, BedrockCredentials, BedrockProvider};
use switchyard_providers::openai::Timeouts;
use switchyard_testkit::mock::bedrock::{
    MOCK_ACCESS_KEY_ID, MOCK_SECRET_ACCESS_KEY, event_frame, sigv4,
};
use switchyard_testkit::{BedrockScript, MockBedrock};
use switchyard_types::{
    CallContext, ChatRequest, ContentBlock, DeploymentId, EmbedInput, EmbedRequest, ErrorKind,
    EventStream, FinishReason, Message, Provider, ProviderError, RetryAdvice, Role, Sampling,
    StreamEvent,
};

const PROFILE: &str = "us.anthropic.claude-sonnet-4-20250514-v1:0";
const API_KEY: &str = "ABSKQmVkcm9ja0FQSUtleS1mixture0123456789";
const SESSION_TOKEN: &str = "IQoJb3JpZ2luX2VjEXAMPLEsessiontoken0123456789";

fn config(mock: &MockBedrock, model: &str, credentials: BedrockCredentials) -> BedrockConfig {
    BedrockConfig {
        provider: "bedrock".into(),
        region: "us-east-1".into(),
        base_url: Some(mock.base_url()),
        credentials,
        upstream_model: model.into(),
        headers: Vec::new(),
        timeouts: Timeouts {
            first_byte: Duration::from_secs(5),
            idle: Duration::from_secs(5),
            ..Timeouts::default()
        },
        max_concurrency: None,
        embeddings: false,
        drop_unsupported_params: false,
    }
}

fn access_key(secret: &str, session_token: Option<&str>) -> BedrockCredentials {
    BedrockCredentials::AccessKey {
        access_key_id: MOCK_ACCESS_KEY_ID.into(),
        secret_access_key: SecretString::from(secret),
        session_token: session_token.map(SecretString::from),
    }
}

fn signed(mock: &MockBedrock, model: &str) -> BedrockProvider {
    BedrockProvider::new(
        DeploymentId::new("bedrock"),
        config(mock, model, access_key(MOCK_SECRET_ACCESS_KEY, None)),
    )
    .expect("builds")
}

fn ask(text: &str) -> ChatRequest {
    ChatRequest {
        messages: vec![
            Message::text(Role::System, "Be brief."),
            Message::text(Role::User, text),
        ],
        ..ChatRequest::default()
    }
}

async fn open(
    provider: &BedrockProvider,
    request: ChatRequest,
) -> Result<EventStream, ProviderError> {
    provider.chat_stream(request, &CallContext::default()).await
}

/// The error of a stream that must fail before its first event.
async fn refused(provider: &BedrockProvider, request: ChatRequest) -> ProviderError {
    match open(provider, request).await {
        Ok(_) => panic!("the stream opened"),
        Err(error) => error,
    }
}

/// Every event of a stream that opened, and the error it ended in, if any.
async fn collect(
    provider: &BedrockProvider,
    request: ChatRequest,
) -> (Vec<StreamEvent>, Option<ProviderError>) {
    let mut stream = open(provider, request).await.expect("opens");
    let mut events = Vec::new();
    while let Some(frame) = stream.next().await {
        match frame {
            Ok(frame) => events.extend(frame),
            Err(error) => return (events, Some(error)),
        }
    }
    (events, None)
}

fn text_of(events: &[StreamEvent]) -> String {
    events
        .iter()
        .filter_map(|event| match event {
            StreamEvent::TextDelta { text, .. } => Some(text.as_str()),
            _ => None,
        })
        .collect()
}

/// The `(event type, payload)` pairs of a transcript in the protocol crate's fixtures.
fn recorded_events(name: &str) -> Vec<(String, Value)> {
    let path = format!(
        "{}/../switchyard-protocols/tests/fixtures/bedrock/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    let frames: Vec<Value> =
        serde_json::from_slice(&std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}")))
            .expect("JSON");
    frames
        .into_iter()
        .filter(|frame| frame["headers"][":message-type"] == "event")
        .map(|frame| {
            let kind = frame["headers"][":event-type"]
                .as_str()
                .expect("a type")
                .to_owned();
            (kind, frame["payload"].clone())
        })
        .collect()
}

#[tokio::test]
async fn a_signed_call_names_the_profile_once_encoded_and_signs_it_twice_encoded() {
    let mock = MockBedrock::start().await;
    let response = signed(&mock, PROFILE)
        .chat(ask("hi"), &CallContext::default())
        .await
        .expect("the mock accepted the signature");
    let request = &mock.requests()[0];
    assert_eq!(
        request.path,
        "/model/us.anthropic.claude-sonnet-4-20250514-v1%3A0/converse"
    );
    let date = request.header("x-amz-date").expect("x-amz-date");
    let authorization =
        sigv4::parse_authorization(request.header("authorization").expect("signed"))
            .expect("a SigV4 header");
    assert_eq!(authorization.access_key_id, MOCK_ACCESS_KEY_ID);
    assert_eq!(
        (
            authorization.region.as_str(),
            authorization.service.as_str()
        ),
        ("us-east-1", "bedrock")
    );
    assert!(date.starts_with(&authorization.date));
    assert_eq!(
        authorization.signed_headers,
        ["content-type", "host", "x-amz-date"]
    );
    // What was signed: the path as sent, encoded once more.
    let body = serde_json::to_vec(&request.body).expect("JSON");
    let canonical = sigv4::canonical_request(
        &sigv4::SignedRequest {
            method: "POST",
            raw_path: &request.path,
            raw_query: "",
            headers: &request.headers,
            body: &body,
        },
        &authorization.signed_headers,
    );
    assert!(
        canonical
            .starts_with("POST\n/model/us.anthropic.claude-sonnet-4-20250514-v1%253A0/converse\n"),
        "{canonical}"
    );
    assert_eq!(
        request.body,
        json!({"messages": [{"role": "user", "content": [{"text": "hi"}]}],
               "system": [{"text": "Be brief."}]})
    );
    assert_eq!(
        response.choices[0].message.content,
        vec![ContentBlock::text("echo: hi")]
    );
    assert_eq!(response.id, "bedrock-00000000-0000-4000-8000-00000000mock");
    assert_eq!(response.model, PROFILE);
}

#[tokio::test]
async fn an_arn_and_temporary_credentials_sign_as_well() {
    let mock = MockBedrock::start().await;
    let arn = "arn:aws:bedrock:us-east-1:123456789012:application-inference-profile/abcdef123456";
    let provider = BedrockProvider::new(
        DeploymentId::new("bedrock"),
        config(
            &mock,
            arn,
            access_key(MOCK_SECRET_ACCESS_KEY, Some(SESSION_TOKEN)),
        ),
    )
    .expect("builds");
    let (events, error) = collect(&provider, ask("hello")).await;
    assert!(error.is_none(), "{error:?}");
    assert_eq!(text_of(&events), "echo: hello");
    let request = &mock.requests()[0];
    assert_eq!(
        request.path,
        "/model/arn%3Aaws%3Abedrock%3Aus-east-1%3A123456789012%3Aapplication-inference-profile%2Fabcdef123456/converse-stream"
    );
    assert_eq!(request.header("x-amz-security-token"), Some(SESSION_TOKEN));
}

#[tokio::test]
async fn a_wrong_secret_is_an_authentication_error_that_quotes_no_secret() {
    let mock = MockBedrock::start().await;
    let secret = "wrong/Secret+Key0123456789abcdefghijklmn";
    let provider = BedrockProvider::new(
        DeploymentId::new("bedrock"),
        config(&mock, PROFILE, access_key(secret, Some(SESSION_TOKEN))),
    )
    .expect("builds");
    let error = provider
        .chat(ask("hi"), &CallContext::default())
        .await
        .expect_err("the mock recomputed the signature");
    assert_eq!(
        (error.kind, error.status),
        (ErrorKind::Authentication, Some(403))
    );
    assert_eq!(error.code.as_deref(), Some("InvalidSignatureException"));
    // The service quotes the canonical string it expected, session token included.
    assert!(
        error.message.contains("Canonical String"),
        "{}",
        error.message
    );
    for secret in [secret, SESSION_TOKEN] {
        assert!(!error.message.contains(secret), "{}", error.message);
        assert!(!format!("{error:?}").contains(secret));
    }
    let error = refused(&provider, ask("hi")).await;
    assert_eq!(error.kind, ErrorKind::Authentication);
    assert!(!error.message.contains(SESSION_TOKEN));
}

#[tokio::test]
async fn an_api_key_goes_as_a_bearer_token_and_never_into_messages() {
    let mock = MockBedrock::start().await;
    let provider = BedrockProvider::new(
        DeploymentId::new("bedrock"),
        config(
            &mock,
            PROFILE,
            BedrockCredentials::ApiKey(SecretString::from(API_KEY)),
        ),
    )
    .expect("builds");
    provider
        .chat(ask("hi"), &CallContext::default())
        .await
        .expect("an answer");
    let request = &mock.requests()[0];
    assert_eq!(
        request.header("authorization"),
        Some(format!("Bearer {API_KEY}").as_str())
    );
    assert_eq!(request.header("x-amz-date"), None);
    mock.push(BedrockScript::error(
        403,
        "AccessDeniedException",
        &format!("Bearer {API_KEY} is not authorized to perform: bedrock:InvokeModel"),
    ));
    let error = provider
        .chat(ask("hi"), &CallContext::default())
        .await
        .expect_err("denied");
    assert_eq!(error.kind, ErrorKind::PermissionDenied);
    assert!(!error.message.contains(API_KEY), "{}", error.message);
    assert!(!format!("{provider:?}").contains(API_KEY));
    // Nor does an exception inside a stream.
    mock.push(BedrockScript::StreamException {
        events: vec![("messageStart".into(), json!({"role": "assistant"}))],
        exception_type: "validationException".into(),
        message: format!("token {API_KEY} expired"),
    });
    let (_, error) = collect(&provider, ask("hi")).await;
    let error = error.expect("an exception");
    assert_eq!(error.kind, ErrorKind::InvalidRequest);
    assert!(!error.message.contains(API_KEY), "{}", error.message);
}

#[tokio::test]
async fn the_recorded_tool_use_stream_adds_up_over_the_wire() {
    let mock = MockBedrock::start().await;
    mock.push(BedrockScript::Stream {
        events: recorded_events("converse_stream_tool_use.json"),
    });
    let (events, error) = collect(&signed(&mock, PROFILE), ask("weather and time in Paris?")).await;
    assert!(error.is_none(), "{error:?}");
    let mut calls: Vec<(String, String)> = Vec::new();
    for event in &events {
        if let StreamEvent::ToolCallDelta {
            index,
            name,
            arguments,
            ..
        } = event
        {
            if *index as usize == calls.len() {
                calls.push((name.clone().unwrap_or_default(), String::new()));
            }
            calls[*index as usize].1.push_str(arguments);
        }
    }
    let calls: Vec<(String, Value)> = calls
        .into_iter()
        .map(|(name, arguments)| (name, serde_json::from_str(&arguments).expect("JSON")))
        .collect();
    assert_eq!(
        calls,
        [
            (
                "get_weather".to_owned(),
                json!({"location": "Paris, France", "unit": "celsius"})
            ),
            ("get_time".to_owned(), json!({"timezone": "Europe/Paris"})),
        ]
    );
    assert!(events.contains(&StreamEvent::Finish {
        choice: 0,
        reason: FinishReason::ToolCalls
    }));
    let Some(StreamEvent::Usage(usage)) = events.last() else {
        panic!("usage last: {events:?}");
    };
    assert_eq!(
        (usage.input_tokens, usage.cached_input_tokens),
        (412 + 1536, Some(1536))
    );
}

#[tokio::test]
async fn a_mid_stream_exception_frame_is_an_error_of_its_kind() {
    let mock = MockBedrock::start().await;
    let provider = signed(&mock, PROFILE);
    for (exception, kind) in [
        ("throttlingException", ErrorKind::RateLimited),
        ("serviceUnavailableException", ErrorKind::Overloaded),
        ("validationException", ErrorKind::InvalidRequest),
        ("modelStreamErrorException", ErrorKind::Upstream),
    ] {
        mock.push(BedrockScript::StreamException {
            events: vec![
                ("messageStart".into(), json!({"role": "assistant"})),
                (
                    "contentBlockDelta".into(),
                    json!({"contentBlockIndex": 0, "delta": {"text": "Sure."}}),
                ),
            ],
            exception_type: exception.into(),
            message: "Bedrock is unable to process your request.".into(),
        });
        let (events, error) = collect(&provider, ask("x")).await;
        assert_eq!(text_of(&events), "Sure.", "{exception}");
        let error = error.unwrap_or_else(|| panic!("{exception} ends the stream"));
        assert_eq!(error.kind, kind, "{exception}");
        assert_eq!(error.code.as_deref(), Some(exception));
        assert!(
            error.message.contains("unable to process"),
            "{}",
            error.message
        );
    }
}

#[tokio::test]
async fn an_exception_before_any_event_fails_the_call_so_it_can_fall_back() {
    let mock = MockBedrock::start().await;
    mock.push(BedrockScript::StreamException {
        events: Vec::new(),
        exception_type: "throttlingException".into(),
        message: "Too many tokens, please wait before trying again.".into(),
    });
    let error = refused(&signed(&mock, PROFILE), ask("x")).await;
    assert_eq!(error.kind, ErrorKind::RateLimited);
    assert!(error.retry.is_retryable());
}

#[tokio::test]
async fn a_corrupt_or_truncated_frame_is_an_error_not_a_panic() {
    let mock = MockBedrock::start().await;
    let provider = signed(&mock, PROFILE);
    let start = event_frame("messageStart", &json!({"role": "assistant"}));
    let delta = event_frame(
        "contentBlockDelta",
        &json!({"contentBlockIndex": 0, "delta": {"text": "Hello"}}),
    );
    let mut corrupt = delta.to_vec();
    let last = corrupt.len() - 1;
    corrupt[last] ^= 0x55;
    mock.push(BedrockScript::RawStream {
        body: [start.to_vec(), corrupt.clone()].concat(),
    });
    let (events, error) = collect(&provider, ask("x")).await;
    assert!(
        text_of(&events).is_empty(),
        "the corrupt frame yields nothing"
    );
    let error = error.expect("a bad CRC ends the stream");
    assert_eq!(error.kind, ErrorKind::Upstream);
    assert!(
        error.message.contains("malformed event stream"),
        "{}",
        error.message
    );

    // As the first frame, it fails the call itself.
    mock.push(BedrockScript::RawStream { body: corrupt });
    let error = refused(&provider, ask("x")).await;
    assert_eq!(error.kind, ErrorKind::Upstream);

    // A body that ends inside a frame, or before `metadata`.
    mock.push(BedrockScript::RawStream {
        body: [start.to_vec(), delta[..delta.len() / 2].to_vec()].concat(),
    });
    let (_, error) = collect(&provider, ask("x")).await;
    assert!(
        error
            .expect("truncated")
            .message
            .contains("ended inside a frame")
    );
    mock.push(BedrockScript::RawStream {
        body: [start.to_vec(), delta.to_vec()].concat(),
    });
    let (events, error) = collect(&provider, ask("x")).await;
    assert_eq!(text_of(&events), "Hello");
    assert!(
        error
            .expect("no metadata")
            .message
            .contains("before `metadata`")
    );

    // Garbage that is not an event stream at all.
    mock.push(BedrockScript::RawStream {
        body: b"<html>502 Bad Gateway</html>".to_vec(),
    });
    assert_eq!(refused(&provider, ask("x")).await.kind, ErrorKind::Upstream);
}

#[tokio::test]
async fn a_stream_that_goes_quiet_times_out() {
    let mock = MockBedrock::start().await;
    let mut config = config(&mock, PROFILE, access_key(MOCK_SECRET_ACCESS_KEY, None));
    config.timeouts.idle = Duration::from_millis(200);
    let provider = BedrockProvider::new(DeploymentId::new("bedrock"), config).expect("builds");
    mock.push(BedrockScript::StreamThenStall {
        events: vec![("messageStart".into(), json!({"role": "assistant"}))],
    });
    let (_, error) = collect(&provider, ask("x")).await;
    assert_eq!(error.expect("idle").kind, ErrorKind::Timeout);
}

#[tokio::test]
async fn http_errors_are_classified_by_status_and_error_type() {
    let mock = MockBedrock::start().await;
    let provider = signed(&mock, PROFILE);
    for (status, error_type, kind, retryable) in [
        (429, "ThrottlingException", ErrorKind::RateLimited, true),
        (
            503,
            "ServiceUnavailableException",
            ErrorKind::Overloaded,
            true,
        ),
        (408, "ModelTimeoutException", ErrorKind::Timeout, true),
        (424, "ModelErrorException", ErrorKind::Upstream, false),
        (400, "ValidationException", ErrorKind::InvalidRequest, false),
        (404, "ResourceNotFoundException", ErrorKind::NotFound, false),
    ] {
        mock.push(BedrockScript::error(status, error_type, "scripted"));
        let error = provider
            .chat(ask("x"), &CallContext::default())
            .await
            .expect_err(error_type);
        assert_eq!(
            (error.kind, error.status),
            (kind, Some(status)),
            "{error_type}"
        );
        assert_eq!(error.retry.is_retryable(), retryable, "{error_type}");
        assert_eq!(error.code.as_deref(), Some(error_type));
    }
    // IAM denials spell the message with a capital.
    mock.push(BedrockScript::Reply {
        status: 403,
        body: json!({"Message": "User: arn:aws:sts::1:assumed-role/x is not authorized"}),
        error_type: Some("AccessDeniedException".into()),
    });
    let error = provider
        .chat(ask("x"), &CallContext::default())
        .await
        .expect_err("denied");
    assert_eq!(error.kind, ErrorKind::PermissionDenied);
    assert!(
        error.message.contains("is not authorized"),
        "{}",
        error.message
    );
    assert_eq!(error.retry, RetryAdvice::No);
}

#[tokio::test]
async fn a_request_bedrock_would_refuse_never_leaves() {
    let mock = MockBedrock::start().await;
    let provider = signed(&mock, PROFILE);
    let mut request = ask("x");
    request.sampling = Sampling {
        seed: Some(1),
        ..Sampling::default()
    };
    let error = provider
        .chat(request.clone(), &CallContext::default())
        .await
        .expect_err("seed");
    assert_eq!(
        (error.kind, error.param.as_deref()),
        (ErrorKind::InvalidRequest, Some("seed"))
    );
    assert!(mock.requests().is_empty(), "nothing was sent");
    request
        .extra
        .insert("drop_unsupported_params".into(), json!(true));
    provider
        .chat(request, &CallContext::default())
        .await
        .expect("sent without the seed");
    let body = &mock.requests()[0].body;
    assert!(body.get("drop_unsupported_params").is_none(), "{body}");
}

fn embed_request(texts: &[&str]) -> EmbedRequest {
    EmbedRequest {
        model: "embed".into(),
        input: EmbedInput::Texts(texts.iter().map(|text| text.to_string()).collect()),
        dimensions: Some(8),
        user: None,
        extra: Default::default(),
    }
}

#[tokio::test]
async fn embeddings_go_through_invoke_model_for_titan_and_cohere() {
    let mock = MockBedrock::start().await;
    let embedder = |model: &str| {
        let mut config = config(&mock, model, access_key(MOCK_SECRET_ACCESS_KEY, None));
        config.embeddings = true;
        BedrockProvider::new(DeploymentId::new("embed"), config).expect("builds")
    };
    let titan = embedder("amazon.titan-embed-text-v2:0");
    let response = titan
        .embed(
            embed_request(&["one two", "three"]),
            &CallContext::default(),
        )
        .await
        .expect("embeds");
    assert_eq!(response.embeddings.len(), 2);
    assert!(response.embeddings.iter().all(|v| v.len() == 8));
    assert_eq!(response.usage.input_tokens, 3);
    let requests = mock.requests();
    assert_eq!(requests.len(), 2, "one call per text");
    assert_eq!(
        requests[0].path,
        "/model/amazon.titan-embed-text-v2%3A0/invoke"
    );
    assert_eq!(
        requests[0].body,
        json!({"inputText": "one two", "dimensions": 8})
    );
    assert_eq!(
        titan
            .chat(ask("x"), &CallContext::default())
            .await
            .expect_err("embeddings only")
            .kind,
        ErrorKind::Unsupported
    );

    let cohere = embedder("cohere.embed-v4:0");
    let response = cohere
        .embed(embed_request(&["a b c", "d"]), &CallContext::default())
        .await
        .expect("embeds");
    assert_eq!(response.embeddings.len(), 2);
    assert_eq!(
        response.usage.input_tokens, 4,
        "from X-Amzn-Bedrock-Input-Token-Count"
    );
    let request = mock.requests().pop().expect("a request");
    assert_eq!(
        request.body,
        json!({"texts": ["a b c", "d"], "input_type": "search_document", "output_dimension": 8})
    );

    let chat = signed(&mock, PROFILE);
    assert_eq!(
        chat.embed(embed_request(&["x"]), &CallContext::default())
            .await
            .expect_err("chat only")
            .kind,
        ErrorKind::Unsupported
    );
    let mut config = config(&mock, PROFILE, access_key(MOCK_SECRET_ACCESS_KEY, None));
    config.embeddings = true;
    assert!(
        BedrockProvider::new(DeploymentId::new("embed"), config).is_err(),
        "not an embedding model"
    );
}

#[tokio::test]
async fn the_model_list_is_the_configured_model() {
    let mock = MockBedrock::start().await;
    let models = signed(&mock, PROFILE)
        .list_models(&CallContext::default())
        .await
        .expect("lists");
    assert_eq!(models.len(), 1);
    assert_eq!(models[0].id, PROFILE);
    assert!(mock.requests().is_empty());
}
