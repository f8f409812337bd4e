//! The Responses API on an OpenAI-protocol chat upstream: what the upstream receives
//! (instructions, stored conversations, tool calls across turns), the response object
//! and its stream of events, and the stored responses behind it.

use pretty_assertions::assert_eq;
use serde_json::{Value, json};
use switchyard_testkit::{Route, Script, fixtures};

use crate::harness::{TestServer, header};

async fn create(server: &TestServer, body: Value) -> Value {
    let response = server
        .post("/v1/responses")
        .json(&body)
        .send()
        .await
        .expect("the server answers");
    assert_eq!(response.status(), 200, "{body}");
    response.json().await.expect("JSON")
}

/// The messages the chat upstream received last, as (role, content) pairs.
fn sent_messages(server: &TestServer) -> Vec<(String, Value)> {
    let requests = server.primary.requests_to(Route::ChatCompletions);
    let body = &requests.last().expect("a chat request").body;
    body["messages"]
        .as_array()
        .expect("messages")
        .iter()
        .map(|message| {
            let role = message["role"].as_str().unwrap_or_default().to_owned();
            (role, message["content"].clone())
        })
        .collect()
}

#[tokio::test]
async fn a_response_is_answered_by_a_chat_upstream_and_stored() {
    let server = TestServer::start().await;
    let response = server
        .post("/v1/responses")
        .json(
            &json!({"model": "gpt", "input": "hello there", "instructions": "Be brief.",
                      "max_output_tokens": 40, "metadata": {"ticket": "7"}}),
        )
        .send()
        .await
        .expect("answers");
    assert_eq!(response.status(), 200);
    assert_eq!(
        header(&response, "x-switchyard-deployment"),
        Some("primary")
    );
    let body: Value = response.json().await.expect("JSON");
    let id = body["id"].as_str().expect("an id").to_owned();
    assert!(id.starts_with("resp_"), "{id}");
    assert_eq!(body["object"], "response");
    assert_eq!(body["status"], "completed");
    assert_eq!(body["model"], "mock-gpt");
    assert_eq!(body["instructions"], "Be brief.");
    assert_eq!(body["metadata"], json!({"ticket": "7"}));
    assert_eq!(body["store"], true);
    let output = body["output"].as_array().expect("output");
    assert_eq!(output.len(), 1);
    assert_eq!(output[0]["type"], "message");
    assert_eq!(output[0]["role"], "assistant");
    assert_eq!(output[0]["content"][0]["type"], "output_text");
    assert_eq!(output[0]["content"][0]["text"], "echo: hello there");
    assert_eq!(body["usage"]["input_tokens"], 4);
    assert_eq!(body["usage"]["output_tokens"], 3);
    assert_eq!(body["usage"]["total_tokens"], 7);

    assert_eq!(
        sent_messages(&server),
        [
            ("system".to_owned(), json!("Be brief.")),
            ("user".to_owned(), json!("hello there"))
        ]
    );
    let sent = &server.primary.requests_to(Route::ChatCompletions)[0].body;
    assert_eq!(sent["max_completion_tokens"], 40);
    assert!(
        sent.get("metadata").is_none(),
        "metadata stays with the response"
    );

    assert_eq!(server.get_json(&format!("/v1/responses/{id}")).await, body);
}

#[tokio::test]
async fn a_follow_up_continues_the_stored_conversation_without_its_instructions() {
    let server = TestServer::start().await;
    let first = create(
        &server,
        json!({"model": "gpt", "input": "first question", "instructions": "Old rules."}),
    )
    .await;
    let second = create(
        &server,
        json!({"model": "gpt", "input": "second question", "instructions": "New rules.",
               "previous_response_id": first["id"]}),
    )
    .await;
    assert_eq!(second["previous_response_id"], first["id"]);
    assert_eq!(
        sent_messages(&server),
        [
            ("system".to_owned(), json!("New rules.")),
            ("user".to_owned(), json!("first question")),
            ("assistant".to_owned(), json!("echo: first question")),
            ("user".to_owned(), json!("second question")),
        ]
    );
    // A third turn carries both earlier ones.
    create(
        &server,
        json!({"model": "gpt", "input": "third", "previous_response_id": second["id"]}),
    )
    .await;
    assert_eq!(sent_messages(&server).len(), 5);

    // The input items of the second response are the whole conversation before it.
    let items = server
        .get_json(&format!(
            "/v1/responses/{}/input_items?order=asc",
            second["id"].as_str().expect("id")
        ))
        .await;
    let texts: Vec<&str> = items["data"]
        .as_array()
        .expect("data")
        .iter()
        .map(|item| item["content"][0]["text"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(
        texts,
        ["first question", "echo: first question", "second question"]
    );
    assert_eq!(items["object"], "list");
    assert_eq!(items["has_more"], false);
}

#[tokio::test]
async fn input_items_page_newest_first_by_default() {
    let server = TestServer::start().await;
    let input: Vec<Value> = (0..5)
        .map(|n| json!({"role": "user", "content": format!("m{n}"), "id": format!("msg_{n}")}))
        .collect();
    let response = create(&server, json!({"model": "gpt", "input": input})).await;
    let id = response["id"].as_str().expect("id");
    let page = server
        .get_json(&format!("/v1/responses/{id}/input_items?limit=2"))
        .await;
    let ids = |page: &Value| -> Vec<String> {
        page["data"]
            .as_array()
            .expect("data")
            .iter()
            .map(|item| item["id"].as_str().unwrap_or_default().to_owned())
            .collect()
    };
    assert_eq!(ids(&page), ["msg_4", "msg_3"]);
    assert_eq!(
        (page["first_id"].clone(), page["last_id"].clone()),
        (json!("msg_4"), json!("msg_3"))
    );
    assert_eq!(page["has_more"], true);
    let next = server
        .get_json(&format!(
            "/v1/responses/{id}/input_items?limit=2&after=msg_3"
        ))
        .await;
    assert_eq!(ids(&next), ["msg_2", "msg_1"]);
    let asc = server
        .get_json(&format!(
            "/v1/responses/{id}/input_items?order=asc&before=msg_2"
        ))
        .await;
    assert_eq!(ids(&asc), ["msg_0", "msg_1"]);
    assert_eq!(asc["has_more"], false);

    let bad = server
        .get(&format!("/v1/responses/{id}/input_items?limit=500"))
        .send()
        .await
        .expect("answers");
    assert_eq!(bad.status(), 400);
    let error: Value = bad.json().await.expect("JSON");
    assert_eq!(error["error"]["param"], "limit");
}

#[tokio::test]
async fn tool_calls_come_back_as_items_and_their_outputs_continue_the_turn() {
    let server = TestServer::start().await;
    server.primary.push(
        Route::ChatCompletions,
        Script::reply(fixtures::chat_completion_with_tool_calls(
            "mock-gpt",
            &[("call_w", "get_weather", "{\"city\":\"Paris\"}")],
        )),
    );
    let tools = json!([{"type": "function", "name": "get_weather",
                        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}]);
    let first = create(
        &server,
        json!({"model": "gpt", "input": "Weather in Paris?", "tools": tools}),
    )
    .await;
    let call = &first["output"][0];
    assert_eq!(call["type"], "function_call");
    assert_eq!(call["call_id"], "call_w");
    assert_eq!(call["name"], "get_weather");
    assert_eq!(call["arguments"], "{\"city\":\"Paris\"}");
    let sent = &server.primary.requests_to(Route::ChatCompletions)[0].body;
    assert_eq!(sent["tools"][0]["function"]["name"], "get_weather");

    create(
        &server,
        json!({"model": "gpt", "previous_response_id": first["id"], "tools": tools,
               "input": [{"type": "function_call_output", "call_id": "call_w", "output": "18C"}]}),
    )
    .await;
    let requests = server.primary.requests_to(Route::ChatCompletions);
    let sent = &requests.last().expect("a request").body;
    let messages = sent["messages"].as_array().expect("messages");
    assert_eq!(messages[1]["role"], "assistant");
    assert_eq!(messages[1]["tool_calls"][0]["id"], "call_w");
    assert_eq!(
        messages[2],
        json!({"role": "tool", "tool_call_id": "call_w", "content": "18C"})
    );
}

#[tokio::test]
async fn a_streamed_response_sends_semantic_events_and_is_stored_before_it_ends() {
    let server = TestServer::start().await;
    let response = server
        .post("/v1/responses")
        .json(&json!({"model": "gpt", "input": "stream me", "stream": true}))
        .send()
        .await
        .expect("answers");
    assert_eq!(response.status(), 200);
    let text = response.text().await.expect("a body");
    let events: Vec<(String, Value)> = text
        .split("\n\n")
        .filter(|block| !block.trim().is_empty())
        .map(|block| {
            let name = block
                .lines()
                .find_map(|line| line.strip_prefix("event: "))
                .expect("a named event")
                .to_owned();
            let data = block
                .lines()
                .find_map(|line| line.strip_prefix("data: "))
                .expect("data");
            (name, serde_json::from_str(data).expect("JSON data"))
        })
        .collect();
    let names: Vec<&str> = events.iter().map(|(name, _)| name.as_str()).collect();
    assert_eq!(
        names[..4],
        [
            "response.created",
            "response.in_progress",
            "response.output_item.added",
            "response.content_part.added"
        ]
    );
    assert_eq!(names.last(), Some(&"response.completed"));
    let deltas: String = events
        .iter()
        .filter(|(name, _)| name == "response.output_text.delta")
        .map(|(_, data)| data["delta"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(deltas, "echo: stream me");
    for (number, (name, data)) in events.iter().enumerate() {
        assert_eq!(data["type"], *name);
        assert_eq!(data["sequence_number"], number as u64);
    }
    let completed = &events.last().expect("an event").1["response"];
    assert_eq!(completed["usage"]["total_tokens"], 5);
    let id = completed["id"].as_str().expect("id");
    // Stored before the last event went out: a follow-up may name it at once.
    let stored = server.get_json(&format!("/v1/responses/{id}")).await;
    assert_eq!(&stored, completed);
    create(
        &server,
        json!({"model": "gpt", "input": "again", "previous_response_id": id}),
    )
    .await;
    assert_eq!(sent_messages(&server).len(), 3);
}

#[tokio::test]
async fn unstored_and_deleted_responses_cannot_be_continued() {
    let server = TestServer::start().await;
    let unstored = create(
        &server,
        json!({"model": "gpt", "input": "x", "store": false}),
    )
    .await;
    let id = unstored["id"].as_str().expect("id");
    let missing = server
        .get(&format!("/v1/responses/{id}"))
        .send()
        .await
        .expect("answers");
    assert_eq!(missing.status(), 404);
    let error: Value = missing.json().await.expect("JSON");
    assert_eq!(
        error["error"]["message"],
        format!("Response with id '{id}' not found.")
    );

    let kept = create(&server, json!({"model": "gpt", "input": "y"})).await;
    let kept_id = kept["id"].as_str().expect("id");
    let deleted = server
        .client
        .delete(format!("{}/v1/responses/{kept_id}", server.url))
        .send()
        .await
        .expect("answers");
    assert_eq!(deleted.status(), 200);
    let deleted: Value = deleted.json().await.expect("JSON");
    assert_eq!(
        deleted,
        json!({"id": kept_id, "object": "response.deleted", "deleted": true})
    );
    let follow_up = server
        .post("/v1/responses")
        .json(&json!({"model": "gpt", "input": "z", "previous_response_id": kept_id}))
        .send()
        .await
        .expect("answers");
    assert_eq!(follow_up.status(), 400);
    let error: Value = follow_up.json().await.expect("JSON");
    assert_eq!(error["error"]["code"], "previous_response_not_found");
    assert_eq!(error["error"]["param"], "previous_response_id");
    let again = server
        .client
        .delete(format!("{}/v1/responses/{kept_id}", server.url))
        .send()
        .await
        .expect("answers");
    assert_eq!(again.status(), 404);
}

#[tokio::test]
async fn bad_requests_name_the_field_and_reach_no_upstream() {
    let server = TestServer::start().await;
    for (body, param) in [
        (
            json!({"model": "gpt", "input": [{"role": "user", "content": 5}]}),
            "input[0].content",
        ),
        (
            json!({"model": "gpt", "input": "x", "tools": [{"type": "file_search"}]}),
            "tools[0].type",
        ),
        (
            json!({"model": "gpt", "input": "x", "temperature": 9}),
            "temperature",
        ),
    ] {
        let response = server
            .post("/v1/responses")
            .json(&body)
            .send()
            .await
            .expect("answers");
        assert_eq!(response.status(), 400, "{body}");
        let error: Value = response.json().await.expect("JSON");
        assert_eq!(error["error"]["param"], param, "{body}");
    }
    assert!(server.primary.requests().is_empty());
}

#[tokio::test]
async fn azure_clients_reach_the_responses_api_on_the_v1_paths() {
    let server = TestServer::start_with_auth().await;
    let created: Value = server
        .post("/openai/v1/responses")
        .header("api-key", crate::harness::MASTER_KEY)
        .json(&json!({"model": "gpt", "input": "from azure"}))
        .send()
        .await
        .expect("answers")
        .json()
        .await
        .expect("JSON");
    assert_eq!(
        created["output"][0]["content"][0]["text"],
        "echo: from azure"
    );
    let id = created["id"].as_str().expect("id");
    let fetched: Value = server
        .get(&format!("/openai/v1/responses/{id}"))
        .header("api-key", crate::harness::MASTER_KEY)
        .send()
        .await
        .expect("answers")
        .json()
        .await
        .expect("JSON");
    assert_eq!(fetched, created);
}
