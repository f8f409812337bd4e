//! Black-box tests of the OpenAI mock over real sockets, driven by `reqwest`.

use std::time::{Duration, Instant};

use base64::Engine as _;
use serde_json::{Value, json};
use switchyard_testkit::{MockOpenAi, Route, Script, StreamEnd, fixtures};

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .expect("a plain reqwest client builds")
}

/// Splits an SSE body into the payloads of its `data:` events.
fn sse_data(body: &str) -> Vec<String> {
    assert!(
        body.ends_with("\n\n"),
        "SSE body must end with a blank line: {body:?}"
    );
    body.split_terminator("\n\n")
        .map(|event| {
            event
                .strip_prefix("data: ")
                .unwrap_or_else(|| panic!("every event is a data line: {event:?}"))
                .to_owned()
        })
        .collect()
}

fn chat_request(text: &str) -> Value {
    json!({
        "model": "gpt-test",
        "messages": [
            {"role": "system", "content": "be brief"},
            {"role": "user", "content": text},
        ],
    })
}

async fn post(mock: &MockOpenAi, path: &str, body: &Value) -> reqwest::Response {
    client()
        .post(format!("{}{path}", mock.base_url()))
        .json(body)
        .send()
        .await
        .expect("the mock answers")
}

#[tokio::test]
async fn default_chat_echoes_the_last_user_message() {
    let mock = MockOpenAi::start().await;
    let response = post(&mock, "/chat/completions", &chat_request("hello there")).await;
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["content-type"],
        "application/json",
        "JSON replies say so"
    );
    assert!(response.headers().contains_key("x-request-id"));
    let body: Value = response.json().await.expect("JSON body");

    assert_eq!(body["object"], "chat.completion");
    assert_eq!(body["model"], "gpt-test");
    assert!(
        body["id"]
            .as_str()
            .is_some_and(|id| id.starts_with("chatcmpl-"))
    );
    assert_eq!(body["created"], fixtures::CREATED);
    let choice = &body["choices"][0];
    assert_eq!(choice["index"], 0);
    assert_eq!(choice["finish_reason"], "stop");
    assert_eq!(choice["logprobs"], Value::Null);
    assert_eq!(choice["message"]["role"], "assistant");
    assert_eq!(choice["message"]["content"], "echo: hello there");
    // Prompt: "be brief" + "hello there"; completion: "echo: hello there".
    assert_eq!(body["usage"]["prompt_tokens"], 4);
    assert_eq!(body["usage"]["completion_tokens"], 3);
    assert_eq!(body["usage"]["total_tokens"], 7);
}

#[tokio::test]
async fn default_chat_reads_content_parts() {
    let mock = MockOpenAi::start().await;
    let request = json!({
        "model": "m",
        "messages": [{"role": "user", "content": [{"type": "text", "text": "from parts"}]}],
    });
    let body: Value = post(&mock, "/chat/completions", &request)
        .await
        .json()
        .await
        .expect("JSON body");
    assert_eq!(body["choices"][0]["message"]["content"], "echo: from parts");
}

#[tokio::test]
async fn default_stream_has_openai_shape_and_ends_with_done() {
    let mock = MockOpenAi::start().await;
    let mut request = chat_request("one two");
    request["stream"] = json!(true);
    request["stream_options"] = json!({"include_usage": true});
    let response = post(&mock, "/chat/completions", &request).await;
    assert_eq!(response.status(), 200);
    assert_eq!(
        response.headers()["content-type"],
        "text/event-stream; charset=utf-8"
    );
    let text = response.text().await.expect("complete body");
    let events = sse_data(&text);
    assert_eq!(events.last().map(String::as_str), Some("[DONE]"));

    let chunks: Vec<Value> = events[..events.len() - 1]
        .iter()
        .map(|event| serde_json::from_str(event).expect("chunks are JSON"))
        .collect();
    let id = chunks[0]["id"].clone();
    for chunk in &chunks {
        assert_eq!(chunk["object"], "chat.completion.chunk");
        assert_eq!(chunk["model"], "gpt-test");
        assert_eq!(chunk["id"], id, "every chunk shares the id");
    }
    let first = &chunks[0]["choices"][0];
    assert_eq!(first["delta"]["role"], "assistant");
    assert_eq!(first["delta"]["content"], "");
    assert_eq!(chunks[0]["usage"], Value::Null);

    let (usage_chunk, rest) = chunks.split_last().expect("a usage chunk");
    assert_eq!(usage_chunk["choices"], json!([]));
    assert_eq!(usage_chunk["usage"]["prompt_tokens"], 4);
    assert_eq!(usage_chunk["usage"]["completion_tokens"], 3);
    let (finish, content) = rest.split_last().expect("a finish chunk");
    assert_eq!(finish["choices"][0]["finish_reason"], "stop");
    assert_eq!(finish["choices"][0]["delta"], json!({}));
    let streamed: String = content[1..]
        .iter()
        .map(|chunk| {
            assert_eq!(chunk["choices"][0]["finish_reason"], Value::Null);
            chunk["choices"][0]["delta"]["content"]
                .as_str()
                .expect("content deltas")
                .to_owned()
        })
        .collect();
    assert_eq!(streamed, "echo: one two");
    assert!(content.len() > 2, "the answer is split into pieces");

    assert_eq!(
        mock.streams_cancelled(),
        0,
        "a finished stream is not cancelled"
    );
}

#[tokio::test]
async fn default_stream_without_usage_has_no_usage_fields() {
    let mock = MockOpenAi::start().await;
    let mut request = chat_request("hi");
    request["stream"] = json!(true);
    let text = post(&mock, "/chat/completions", &request)
        .await
        .text()
        .await
        .expect("complete body");
    let events = sse_data(&text);
    assert_eq!(events.last().map(String::as_str), Some("[DONE]"));
    for event in &events[..events.len() - 1] {
        let chunk: Value = serde_json::from_str(event).expect("chunks are JSON");
        assert!(chunk.get("usage").is_none(), "{chunk}");
        assert_eq!(chunk["choices"].as_array().map(Vec::len), Some(1));
    }
}

#[tokio::test]
async fn invalid_chat_requests_get_openai_errors() {
    let mock = MockOpenAi::start().await;
    let response = post(&mock, "/chat/completions", &json!({"model": "m"})).await;
    assert_eq!(response.status(), 400);
    let body: Value = response.json().await.expect("JSON error");
    assert_eq!(body["error"]["type"], "invalid_request_error");
    assert_eq!(body["error"]["param"], "messages");

    let response = client()
        .get(format!("{}/nope", mock.base_url()))
        .send()
        .await
        .expect("the mock answers");
    assert_eq!(response.status(), 404);
    let body: Value = response.json().await.expect("JSON error");
    assert_eq!(body["error"]["message"], "Invalid URL (GET /v1/nope)");
    assert_eq!(body["error"]["code"], Value::Null);
}

#[tokio::test]
async fn scripts_are_consumed_fifo_per_route() {
    let mock = MockOpenAi::start().await;
    mock.push(
        Route::ChatCompletions,
        Script::reply(fixtures::chat_completion("m", "first")),
    );
    mock.push(
        Route::ChatCompletions,
        Script::reply(fixtures::chat_completion("m", "second")),
    );
    assert_eq!(mock.pending(Route::ChatCompletions), 2);
    assert_eq!(mock.pending(Route::Embeddings), 0);

    for expected in ["first", "second", "echo: third"] {
        let body: Value = post(&mock, "/chat/completions", &chat_request("third"))
            .await
            .json()
            .await
            .expect("JSON body");
        assert_eq!(body["choices"][0]["message"]["content"], expected);
    }
    assert_eq!(mock.pending(Route::ChatCompletions), 0);
}

#[tokio::test]
async fn reply_scripts_set_status_and_headers() {
    let mock = MockOpenAi::start().await;
    mock.push(
        Route::ChatCompletions,
        Script::Reply {
            status: 201,
            body: json!({"ok": true}),
            headers: vec![("x-custom".into(), "yes".into())],
        },
    );
    let response = post(&mock, "/chat/completions", &chat_request("x")).await;
    assert_eq!(response.status(), 201);
    assert_eq!(response.headers()["x-custom"], "yes");
    assert_eq!(response.headers()["content-type"], "application/json");
    let body: Value = response.json().await.expect("JSON body");
    assert_eq!(body, json!({"ok": true}));
}

#[tokio::test]
async fn scripted_error_carries_retry_after() {
    let mock = MockOpenAi::start().await;
    let error = fixtures::error_body(
        "Rate limit reached",
        "rate_limit_error",
        None,
        Some("rate_limit_exceeded"),
    );
    mock.push(
        Route::ChatCompletions,
        Script::Error {
            status: 429,
            body: error.clone(),
            retry_after: Some("3".into()),
        },
    );
    let response = post(&mock, "/chat/completions", &chat_request("x")).await;
    assert_eq!(response.status(), 429);
    assert_eq!(response.headers()["retry-after"], "3");
    let body: Value = response.json().await.expect("JSON error");
    assert_eq!(body, error);
}

#[tokio::test]
async fn stall_makes_the_client_time_out() {
    let mock = MockOpenAi::start().await;
    mock.push(Route::ChatCompletions, Script::Stall);
    let started = Instant::now();
    let error = client()
        .post(format!("{}/chat/completions", mock.base_url()))
        .json(&chat_request("x"))
        .timeout(Duration::from_millis(150))
        .send()
        .await
        .expect_err("a stalled request never gets headers");
    assert!(error.is_timeout(), "{error}");
    assert!(started.elapsed() >= Duration::from_millis(150));
    assert_eq!(
        mock.requests().len(),
        1,
        "a stalled request is still recorded"
    );
}

#[tokio::test]
async fn delay_waits_before_acting() {
    let mock = MockOpenAi::start().await;
    mock.push(
        Route::ChatCompletions,
        Script::reply(fixtures::chat_completion("m", "late")).delayed(100),
    );
    let started = Instant::now();
    let body: Value = post(&mock, "/chat/completions", &chat_request("x"))
        .await
        .json()
        .await
        .expect("JSON body");
    assert!(started.elapsed() >= Duration::from_millis(100));
    assert_eq!(body["choices"][0]["message"]["content"], "late");
}

#[tokio::test]
async fn raw_body_is_sent_verbatim() {
    let mock = MockOpenAi::start().await;
    mock.push(
        Route::Embeddings,
        Script::RawBody {
            status: 502,
            content_type: "text/html".into(),
            body: "<html>Bad Gateway</html>".into(),
        },
    );
    let response = post(&mock, "/embeddings", &json!({"model": "e", "input": "x"})).await;
    assert_eq!(response.status(), 502);
    assert_eq!(response.headers()["content-type"], "text/html");
    assert_eq!(
        response.text().await.expect("body"),
        "<html>Bad Gateway</html>"
    );
}

#[tokio::test]
async fn scripted_stream_sends_chunks_then_done() {
    let mock = MockOpenAi::start().await;
    let chunks = fixtures::text_chunks("m", &["Hel", "lo"], None);
    mock.push(Route::ChatCompletions, Script::stream(chunks.clone()));
    let text = post(&mock, "/chat/completions", &chat_request("x"))
        .await
        .text()
        .await
        .expect("complete body");
    let events = sse_data(&text);
    assert_eq!(events.len(), chunks.len() + 1);
    for (event, chunk) in events.iter().zip(&chunks) {
        assert_eq!(&serde_json::from_str::<Value>(event).expect("JSON"), chunk);
    }
    assert_eq!(events[chunks.len()], "[DONE]");
}

#[tokio::test]
async fn truncated_stream_ends_cleanly_without_done() {
    let mock = MockOpenAi::start().await;
    let chunks = fixtures::text_chunks("m", &["partial"], None);
    mock.push(
        Route::ChatCompletions,
        Script::Stream {
            chunks: chunks[..2].to_vec(),
            delay_ms: 0,
            end: StreamEnd::Truncate,
        },
    );
    let text = post(&mock, "/chat/completions", &chat_request("x"))
        .await
        .text()
        .await
        .expect("a truncated body still ends cleanly");
    let events = sse_data(&text);
    assert_eq!(events.len(), 2);
    assert!(!text.contains("[DONE]"));
}

#[tokio::test]
async fn reset_stream_is_a_transport_error() {
    let mock = MockOpenAi::start().await;
    mock.push(
        Route::ChatCompletions,
        Script::Stream {
            chunks: fixtures::text_chunks("m", &["partial"], None),
            delay_ms: 0,
            end: StreamEnd::Reset,
        },
    );
    let mut response = post(&mock, "/chat/completions", &chat_request("x")).await;
    assert_eq!(response.status(), 200);
    let mut received = Vec::new();
    let error = loop {
        match response.chunk().await {
            Ok(Some(bytes)) => received.extend_from_slice(&bytes),
            Ok(None) => panic!("the body ended cleanly: {received:?}"),
            Err(error) => break error,
        }
    };
    assert!(error.is_body() || error.is_decode(), "{error:?}");
    assert!(
        received.starts_with(b"data: {"),
        "chunks arrive before the reset"
    );
    assert_eq!(
        mock.streams_cancelled(),
        0,
        "a scripted reset is not a cancellation"
    );
}

#[tokio::test]
async fn malformed_and_error_events_end_the_stream() {
    let mock = MockOpenAi::start().await;
    let chunks = fixtures::text_chunks("m", &["a"], None);
    mock.push(
        Route::ChatCompletions,
        Script::Stream {
            chunks: chunks[..1].to_vec(),
            delay_ms: 0,
            end: StreamEnd::Malformed,
        },
    );
    let error = fixtures::error_body("The server had an error", "server_error", None, None);
    mock.push(
        Route::ChatCompletions,
        Script::Stream {
            chunks: chunks[..1].to_vec(),
            delay_ms: 0,
            end: StreamEnd::ErrorEvent {
                body: error.clone(),
            },
        },
    );

    let text = post(&mock, "/chat/completions", &chat_request("x"))
        .await
        .text()
        .await
        .expect("complete body");
    let events = sse_data(&text);
    assert_eq!(events.len(), 2);
    assert_eq!(events[1], "{not json");

    let text = post(&mock, "/chat/completions", &chat_request("x"))
        .await
        .text()
        .await
        .expect("complete body");
    let events = sse_data(&text);
    assert_eq!(events.len(), 2);
    assert_eq!(
        serde_json::from_str::<Value>(&events[1]).expect("JSON error event"),
        error
    );
}

#[tokio::test]
async fn stalled_stream_sends_chunks_then_nothing() {
    let mock = MockOpenAi::start().await;
    mock.push(
        Route::ChatCompletions,
        Script::Stream {
            chunks: fixtures::text_chunks("m", &["a"], None)[..1].to_vec(),
            delay_ms: 0,
            end: StreamEnd::Stall,
        },
    );
    let mut response = post(&mock, "/chat/completions", &chat_request("x")).await;
    let first = response
        .chunk()
        .await
        .expect("first chunk arrives")
        .expect("the body is not over");
    assert!(first.starts_with(b"data: {"));
    let next = tokio::time::timeout(Duration::from_millis(150), response.chunk()).await;
    assert!(next.is_err(), "nothing follows a stall");
}

#[tokio::test]
async fn dropping_a_stream_midway_counts_as_cancelled() {
    let mock = MockOpenAi::start().await;
    let pieces: Vec<String> = (0..40).map(|i| format!("p{i} ")).collect();
    let pieces: Vec<&str> = pieces.iter().map(String::as_str).collect();
    mock.push(
        Route::ChatCompletions,
        Script::Stream {
            chunks: fixtures::text_chunks("m", &pieces, None),
            delay_ms: 20,
            end: StreamEnd::Done,
        },
    );
    let mut response = post(&mock, "/chat/completions", &chat_request("x")).await;
    response
        .chunk()
        .await
        .expect("first chunk arrives")
        .expect("the body is not over");
    assert_eq!(mock.streams_cancelled(), 0);
    drop(response);
    assert!(
        mock.wait_for_cancelled(1, Duration::from_secs(5)).await,
        "the server notices the client went away"
    );
    assert_eq!(mock.streams_cancelled(), 1);
    assert!(!mock.wait_for_cancelled(2, Duration::from_millis(50)).await);
}

#[tokio::test]
async fn requests_are_recorded_with_headers_path_and_body() {
    let mock = MockOpenAi::start().await;
    mock.push(Route::ChatCompletions, Script::error(500, json!({})));
    let request = chat_request("recorded");
    client()
        .post(format!("{}/chat/completions", mock.base_url()))
        .bearer_auth("sk-test")
        .header("X-Trace", "abc")
        .json(&request)
        .send()
        .await
        .expect("the mock answers");
    client()
        .get(format!("{}/models?limit=1", mock.base_url()))
        .send()
        .await
        .expect("the mock answers");

    let requests = mock.requests();
    assert_eq!(requests.len(), 2);
    let chat = &requests[0];
    assert_eq!(chat.method, "POST");
    assert_eq!(chat.path, "/v1/chat/completions");
    assert_eq!(chat.body, request);
    assert_eq!(chat.header("authorization"), Some("Bearer sk-test"));
    assert_eq!(chat.header("X-TRACE"), Some("abc"));
    assert!(chat.headers.iter().any(|(name, _)| name == "x-trace"));
    assert_eq!(chat.route(), Some(Route::ChatCompletions));
    assert_eq!(requests[1].path, "/v1/models?limit=1");
    assert_eq!(requests[1].body, Value::Null);
    assert_eq!(mock.requests_to(Route::Models).len(), 1);

    mock.clear_requests();
    assert!(mock.requests().is_empty());
}

#[tokio::test]
async fn control_routes_push_scripts_and_expose_requests() {
    let mock = MockOpenAi::start().await;
    let root = format!("http://{}", mock.addr());
    let script = json!({
        "kind": "error",
        "status": 503,
        "body": {"error": {"message": "overloaded", "type": "server_error", "param": null, "code": null}},
        "retry_after": "1",
    });
    let pushed = client()
        .post(format!("{root}/__mock/scripts/chat_completions"))
        .json(&script)
        .send()
        .await
        .expect("the mock answers");
    assert_eq!(pushed.status(), 200);
    assert_eq!(
        pushed.json::<Value>().await.expect("JSON"),
        json!({"queued": 1})
    );

    let bad = client()
        .post(format!("{root}/__mock/scripts/rerank"))
        .json(&script)
        .send()
        .await
        .expect("the mock answers");
    assert_eq!(bad.status(), 404);
    let bad = client()
        .post(format!("{root}/__mock/scripts/chat_completions"))
        .json(&json!({"kind": "nope"}))
        .send()
        .await
        .expect("the mock answers");
    assert_eq!(bad.status(), 400);

    let response = post(&mock, "/chat/completions", &chat_request("x")).await;
    assert_eq!(response.status(), 503);
    assert_eq!(response.headers()["retry-after"], "1");

    let listed: Value = client()
        .get(format!("{root}/__mock/requests"))
        .send()
        .await
        .expect("the mock answers")
        .json()
        .await
        .expect("JSON");
    let listed = listed.as_array().expect("an array of requests");
    assert_eq!(listed.len(), 1, "control routes are not recorded");
    assert_eq!(listed[0]["path"], "/v1/chat/completions");
    assert_eq!(listed[0]["method"], "POST");
    assert_eq!(listed[0]["body"]["messages"][1]["content"], "x");

    let cleared = client()
        .delete(format!("{root}/__mock/requests"))
        .send()
        .await
        .expect("the mock answers");
    assert_eq!(cleared.status(), 204);
    assert!(mock.requests().is_empty());

    let models = client()
        .put(format!("{root}/__mock/models"))
        .json(&json!(["a", "b"]))
        .send()
        .await
        .expect("the mock answers");
    assert_eq!(models.status(), 204);
    let stats: Value = client()
        .get(format!("{root}/__mock/stats"))
        .send()
        .await
        .expect("the mock answers")
        .json()
        .await
        .expect("JSON");
    assert_eq!(stats["streams_cancelled"], 0);
    assert_eq!(stats["pending"]["chat_completions"], 0);
    let listed: Value = client()
        .get(format!("{}/models", mock.base_url()))
        .send()
        .await
        .expect("the mock answers")
        .json()
        .await
        .expect("JSON");
    assert_eq!(listed["data"][1]["id"], "b");
}

#[tokio::test]
async fn float_embeddings_are_deterministic_and_sized() {
    let mock = MockOpenAi::start().await;
    let request = json!({"model": "text-embedding-3-small", "input": ["alpha beta", "gamma"]});
    let body: Value = post(&mock, "/embeddings", &request)
        .await
        .json()
        .await
        .expect("JSON body");
    assert_eq!(body["object"], "list");
    assert_eq!(body["model"], "text-embedding-3-small");
    assert_eq!(
        body["usage"],
        json!({"prompt_tokens": 3, "total_tokens": 3})
    );
    let data = body["data"].as_array().expect("data array");
    assert_eq!(data.len(), 2);
    for (index, item) in data.iter().enumerate() {
        assert_eq!(item["object"], "embedding");
        assert_eq!(item["index"], index);
        assert_eq!(item["embedding"].as_array().map(Vec::len), Some(8));
    }
    let first: Vec<f32> = data[0]["embedding"]
        .as_array()
        .expect("floats")
        .iter()
        .map(|x| x.as_f64().expect("a number") as f32)
        .collect();
    assert_eq!(first, fixtures::embedding_for("alpha beta", 8));
}

#[tokio::test]
async fn base64_embeddings_decode_to_the_float_vector() {
    let mock = MockOpenAi::start().await;
    let request = json!({
        "model": "e",
        "input": "hello world",
        "dimensions": 5,
        "encoding_format": "base64",
    });
    let body: Value = post(&mock, "/embeddings", &request)
        .await
        .json()
        .await
        .expect("JSON body");
    let encoded = body["data"][0]["embedding"]
        .as_str()
        .expect("a base64 string");
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .expect("valid base64");
    assert_eq!(bytes.len(), 5 * 4);
    let decoded: Vec<f32> = bytes
        .chunks_exact(4)
        .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
        .collect();
    assert_eq!(decoded, fixtures::embedding_for("hello world", 5));

    let mut float_request = request.clone();
    float_request["encoding_format"] = json!("float");
    let floats: Value = post(&mock, "/embeddings", &float_request)
        .await
        .json()
        .await
        .expect("JSON body");
    let floats: Vec<f32> = floats["data"][0]["embedding"]
        .as_array()
        .expect("floats")
        .iter()
        .map(|x| x.as_f64().expect("a number") as f32)
        .collect();
    assert_eq!(floats, decoded, "both encodings carry the same vector");
}

#[tokio::test]
async fn models_are_listed_and_retrievable() {
    let mock = MockOpenAi::start().await;
    let body: Value = client()
        .get(format!("{}/models", mock.base_url()))
        .send()
        .await
        .expect("the mock answers")
        .json()
        .await
        .expect("JSON");
    assert_eq!(body["object"], "list");
    assert_eq!(body["data"][0]["id"], "mock-gpt");
    assert_eq!(body["data"][0]["object"], "model");
    assert!(body["data"][0]["created"].is_u64());
    assert!(body["data"][0]["owned_by"].is_string());

    mock.set_models(vec!["x".into(), "y".into()]);
    let one = client()
        .get(format!("{}/models/y", mock.base_url()))
        .send()
        .await
        .expect("the mock answers");
    assert_eq!(one.status(), 200);
    assert_eq!(one.json::<Value>().await.expect("JSON")["id"], "y");
    let missing = client()
        .get(format!("{}/models/mock-gpt", mock.base_url()))
        .send()
        .await
        .expect("the mock answers");
    assert_eq!(missing.status(), 404);
    assert_eq!(
        missing.json::<Value>().await.expect("JSON")["error"]["code"],
        "model_not_found"
    );
}

#[tokio::test]
async fn dropping_the_mock_closes_stalled_connections() {
    let mock = MockOpenAi::start().await;
    mock.push(Route::ChatCompletions, Script::Stall);
    let url = format!("{}/chat/completions", mock.base_url());
    let pending =
        tokio::spawn(async move { client().post(url).json(&chat_request("x")).send().await });
    // Wait until the request has arrived, so the connection is open when the mock goes away.
    let deadline = Instant::now() + Duration::from_secs(5);
    while mock.requests().is_empty() {
        assert!(Instant::now() < deadline, "the request never arrived");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    drop(mock);
    let outcome = tokio::time::timeout(Duration::from_secs(5), pending)
        .await
        .expect("the client is released when the mock is dropped")
        .expect("the request task does not panic");
    let error = outcome.expect_err("the connection was closed without a response");
    assert!(!error.is_timeout(), "{error}");
}
