//! Streaming: chunk re-encoding, tool-call argument reassembly, errors after the first
//! byte, idle deadlines, cancellation and fallback before the first event.

use std::time::Duration;

use pretty_assertions::assert_eq;
use serde_json::{Value, json};
use switchyard_testkit::{Route, Script, StreamEnd, fixtures};

use crate::harness::{TestServer, chunks, header, sse_data, user};

fn stream_request(model: &str, include_usage: bool) -> Value {
    json!({
        "model": model,
        "messages": user("one two three"),
        "stream": true,
        "stream_options": {"include_usage": include_usage}
    })
}

fn text_of(chunks: &[Value]) -> String {
    chunks
        .iter()
        .filter_map(|chunk| chunk["choices"][0]["delta"]["content"].as_str())
        .collect()
}

#[tokio::test]
async fn streams_text_then_usage_then_done() {
    let server = TestServer::start().await;
    let response = server.chat(stream_request("gpt", true)).await;
    assert_eq!(response.status(), 200);
    assert_eq!(header(&response, "content-type"), Some("text/event-stream"));
    assert_eq!(
        header(&response, "x-switchyard-deployment"),
        Some("primary")
    );
    let data = sse_data(response).await;
    assert_eq!(data.last().map(String::as_str), Some("[DONE]"));
    let chunks = chunks(&data);
    assert_eq!(chunks[0]["choices"][0]["delta"]["role"], "assistant");
    assert_eq!(text_of(&chunks), "echo: one two three");
    let finish = chunks
        .iter()
        .find_map(|chunk| chunk["choices"][0]["finish_reason"].as_str())
        .expect("a finish reason");
    assert_eq!(finish, "stop");
    let usage = &chunks.last().expect("chunks")["usage"];
    assert_eq!(usage["prompt_tokens"], 3);
    assert_eq!(usage["completion_tokens"], 4);
    assert_eq!(chunks.last().expect("chunks")["choices"], json!([]));
    // The upstream was always asked for usage, whatever the caller wanted.
    assert_eq!(
        server.primary.requests()[0].body["stream_options"]["include_usage"],
        true
    );
}

#[tokio::test]
async fn sends_usage_only_to_callers_who_ask() {
    let server = TestServer::start().await;
    let data = sse_data(server.chat(stream_request("gpt", false)).await).await;
    assert!(
        chunks(&data)
            .iter()
            .all(|chunk| chunk.get("usage").is_none())
    );
    assert_eq!(
        server.primary.requests()[0].body["stream_options"]["include_usage"],
        true
    );
}

#[tokio::test]
async fn reassembles_streamed_tool_call_arguments_exactly() {
    let server = TestServer::start().await;
    let calls: [(&str, &str, &[&str]); 2] = [
        (
            "call_1",
            "get_weather",
            &["{\"ci", "ty\": \"Par", "is\", \"unit\"", ": \"c\"}"],
        ),
        ("call_2", "get_time", &["{}"]),
    ];
    server.primary.push(
        Route::ChatCompletions,
        Script::stream(fixtures::tool_call_chunks("mock-gpt", &calls)),
    );
    let data = sse_data(server.chat(stream_request("gpt", false)).await).await;
    let mut ids = vec![String::new(); 2];
    let mut names = vec![String::new(); 2];
    let mut arguments = vec![String::new(); 2];
    for chunk in chunks(&data) {
        for call in chunk["choices"][0]["delta"]["tool_calls"]
            .as_array()
            .into_iter()
            .flatten()
        {
            let index = call["index"].as_u64().expect("index") as usize;
            if let Some(id) = call["id"].as_str() {
                ids[index].push_str(id);
            }
            if let Some(name) = call["function"]["name"].as_str() {
                names[index].push_str(name);
            }
            if let Some(piece) = call["function"]["arguments"].as_str() {
                arguments[index].push_str(piece);
            }
        }
    }
    assert_eq!(ids, ["call_1", "call_2"]);
    assert_eq!(names, ["get_weather", "get_time"]);
    assert_eq!(arguments, [r#"{"city": "Paris", "unit": "c"}"#, "{}"]);
    let finish = chunks(&data).iter().find_map(|chunk| {
        chunk["choices"][0]["finish_reason"]
            .as_str()
            .map(str::to_owned)
    });
    assert_eq!(finish.as_deref(), Some("tool_calls"));
}

/// Runs a stream whose upstream misbehaves after two text pieces; returns the payloads.
async fn broken_stream(end: StreamEnd) -> Vec<String> {
    let server = TestServer::start().await;
    let mut pieces = fixtures::text_chunks("mock-gpt", &["Hel", "lo"], None);
    pieces.truncate(3); // role chunk and two text pieces; no finish
    server.primary.push(
        Route::ChatCompletions,
        Script::Stream {
            chunks: pieces,
            delay_ms: 0,
            end,
        },
    );
    sse_data(server.chat(stream_request("gpt-ha", false)).await).await
}

fn assert_ends_with_error(data: &[String], code: &str) {
    assert_ne!(data.last().map(String::as_str), Some("[DONE]"));
    let last: Value = serde_json::from_str(data.last().expect("events")).expect("JSON");
    assert_eq!(last["error"]["code"], code, "{last}");
    // What was already streamed reached the caller.
    assert_eq!(text_of(&chunks(&data[..data.len() - 1])), "Hello");
}

#[tokio::test]
async fn an_upstream_error_event_mid_stream_becomes_an_error_event() {
    let data = broken_stream(StreamEnd::ErrorEvent {
        body: fixtures::error_body("The server had an error", "server_error", None, None),
    })
    .await;
    assert_ends_with_error(&data, "upstream_error");
}

#[tokio::test]
async fn a_truncated_or_malformed_stream_ends_with_an_error_event() {
    for end in [StreamEnd::Truncate, StreamEnd::Reset, StreamEnd::Malformed] {
        let data = broken_stream(end).await;
        assert_ends_with_error(&data, "upstream_error");
    }
}

#[tokio::test]
async fn a_stall_mid_stream_hits_the_idle_deadline() {
    let data = broken_stream(StreamEnd::Stall).await;
    assert_ends_with_error(&data, "upstream_timeout");
}

#[tokio::test]
async fn falls_back_when_the_first_deployment_fails_before_its_first_event() {
    let server = TestServer::start().await;
    // Headers arrive, then nothing: the stream never yields its first event.
    server.primary.push(
        Route::ChatCompletions,
        Script::Stream {
            chunks: Vec::new(),
            delay_ms: 0,
            end: StreamEnd::Stall,
        },
    );
    let response = server.chat(stream_request("gpt-ha", false)).await;
    assert_eq!(response.status(), 200);
    assert_eq!(header(&response, "x-switchyard-deployment"), Some("backup"));
    assert_eq!(header(&response, "x-switchyard-attempts"), Some("2"));
    let data = sse_data(response).await;
    assert_eq!(text_of(&chunks(&data)), "echo: one two three");
}

#[tokio::test]
async fn a_client_disconnect_cancels_the_upstream_call() {
    let server = TestServer::start().await;
    let pieces: Vec<String> = (0..50).map(|n| format!("t{n} ")).collect();
    let pieces: Vec<&str> = pieces.iter().map(String::as_str).collect();
    server.primary.push(
        Route::ChatCompletions,
        Script::Stream {
            chunks: fixtures::text_chunks("mock-gpt", &pieces, None),
            delay_ms: 50,
            end: StreamEnd::Done,
        },
    );
    let mut response = server.chat(stream_request("gpt", false)).await;
    let first = response
        .chunk()
        .await
        .expect("readable")
        .expect("a first chunk");
    assert!(!first.is_empty());
    drop(response);
    assert!(
        server
            .primary
            .wait_for_cancelled(1, Duration::from_secs(5))
            .await,
        "the upstream stream was not cancelled"
    );
    // The request's accounting is dropped with the upstream stream; poll briefly.
    let mut metrics = String::new();
    for _ in 0..50 {
        metrics = server
            .get("/metrics")
            .send()
            .await
            .expect("metrics")
            .text()
            .await
            .expect("text");
        if metrics.contains(r#"status="499""#) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(
        metrics.contains(r#"status="499""#),
        "a cancelled request is counted as 499:\n{metrics}"
    );
}

#[tokio::test]
async fn an_upstream_that_answers_a_stream_request_with_json_is_replayed_as_a_stream() {
    let server = TestServer::start().await;
    let mut answer = fixtures::chat_completion("mock-gpt", "all at once");
    answer["usage"] = fixtures::usage(5, 3);
    server.primary.push(
        Route::ChatCompletions,
        Script::Reply {
            status: 200,
            body: answer,
            headers: Vec::new(),
        },
    );
    let response = server.chat(stream_request("gpt", true)).await;
    assert_eq!(response.status(), 200);
    assert_eq!(header(&response, "content-type"), Some("text/event-stream"));
    let data = sse_data(response).await;
    assert_eq!(data.last().map(String::as_str), Some("[DONE]"));
    let chunks = chunks(&data);
    assert_eq!(text_of(&chunks), "all at once");
    assert_eq!(chunks.last().expect("chunks")["usage"]["prompt_tokens"], 5);
}

#[tokio::test]
async fn vendor_fields_and_chunk_boundaries_survive_a_streamed_hop() {
    let server = TestServer::start().await;
    let header_fields = |padding: &str| {
        json!({"id": "chatcmpl-v", "object": "chat.completion.chunk", "created": 1,
               "model": "mock-gpt", "system_fingerprint": "fp_1", "obfuscation": padding})
    };
    let with = |mut chunk: Value, choices: Value| {
        chunk["choices"] = choices;
        chunk
    };
    let logprob = json!({"content": [{"token": "Hi", "logprob": -0.5, "bytes": [72, 105],
                         "top_logprobs": []}], "refusal": null});
    let upstream = vec![
        with(
            header_fields("a"),
            json!([{"index": 0, "delta": {"role": "assistant", "content": ""},
                    "logprobs": null, "finish_reason": null}]),
        ),
        with(
            header_fields("bb"),
            json!([{"index": 0, "delta": {"content": "Hi", "x_vendor_delta": 1},
                    "logprobs": logprob, "finish_reason": null,
                    "content_filter_results": {"hate": {"filtered": false}}}]),
        ),
        with(
            header_fields("ccc"),
            json!([{"index": 0, "delta": {}, "logprobs": null, "finish_reason": "stop"}]),
        ),
    ];
    server.primary.push(
        Route::ChatCompletions,
        Script::Stream {
            chunks: upstream.clone(),
            delay_ms: 0,
            end: StreamEnd::Done,
        },
    );
    let data = sse_data(server.chat(stream_request("gpt", false)).await).await;
    let received = chunks(&data);
    assert_eq!(
        received.len(),
        upstream.len(),
        "one chunk per upstream chunk"
    );
    let second = &received[1];
    assert_eq!(second["obfuscation"], "bb");
    assert_eq!(second["choices"][0]["delta"]["content"], "Hi");
    assert_eq!(second["choices"][0]["delta"]["x_vendor_delta"], 1);
    assert_eq!(second["choices"][0]["logprobs"], logprob);
    assert_eq!(
        second["choices"][0]["content_filter_results"],
        upstream[1]["choices"][0]["content_filter_results"]
    );
    assert_eq!(received[2]["obfuscation"], "ccc");
}
