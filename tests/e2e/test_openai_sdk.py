"""The official OpenAI Python SDK against Switchyard, unchanged but for its base URL."""

import base64
import json
import struct
import time

import openai
import pytest

from conftest import MASTER_KEY, UPSTREAM_KEY

MODEL = "gpt-test"


def chunk(delta, finish_reason=None, usage=None, choices=True):
    body = {
        "id": "chatcmpl-e2e",
        "object": "chat.completion.chunk",
        "created": 1700000000,
        "model": "mock-gpt",
        "system_fingerprint": "fp_e2e",
        "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}]
        if choices
        else [],
    }
    if usage is not None:
        body["usage"] = usage
    return body


def tool_call_chunks():
    """Two parallel calls, the first one's arguments split over several chunks."""
    return [
        chunk({"role": "assistant", "content": None, "tool_calls": [
            {"index": 0, "id": "call_w", "type": "function",
             "function": {"name": "get_weather", "arguments": ""}}]}),
        chunk({"tool_calls": [{"index": 0, "function": {"arguments": "{\"ci"}}]}),
        chunk({"tool_calls": [{"index": 0, "function": {"arguments": "ty\": \"Pa"}}]}),
        chunk({"tool_calls": [{"index": 0, "function": {"arguments": "ris\"}"}}]}),
        chunk({"tool_calls": [{"index": 1, "id": "call_t", "type": "function",
                               "function": {"name": "get_time", "arguments": "{\"tz\": \"CET\"}"}}]}),
        chunk({}, finish_reason="tool_calls"),
        chunk(None, usage={"prompt_tokens": 20, "completion_tokens": 12, "total_tokens": 32},
              choices=False),
    ]


WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Current weather in a city",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}},
                       "required": ["city"]},
    },
}


def test_chat_completion_with_headers(client, mock):
    raw = client.chat.completions.with_raw_response.create(
        model=MODEL, messages=[{"role": "user", "content": "hello gateway"}],
        extra_headers={"x-request-id": "e2e-req-1"},
    )
    assert raw.headers["x-request-id"] == "e2e-req-1"
    assert raw.headers["x-switchyard-model"] == MODEL
    assert raw.headers["x-switchyard-deployment"] == "main"
    assert raw.headers["x-switchyard-provider"] == "mock"
    assert raw.headers["x-switchyard-attempts"] == "1"
    completion = raw.parse()
    assert completion.choices[0].message.content == "echo: hello gateway"
    assert completion.choices[0].finish_reason == "stop"
    assert completion.usage.prompt_tokens == 2
    assert completion.usage.completion_tokens == 3
    received = mock.requests()[-1]
    headers = dict(received["headers"])
    assert headers["authorization"] == f"Bearer {UPSTREAM_KEY}"
    assert headers["x-request-id"] == "e2e-req-1"
    assert received["body"]["model"] == "mock-gpt"

    # Without a caller id the gateway makes one up, a fresh one per request.
    ids = {
        client.chat.completions.with_raw_response.create(
            model=MODEL, messages=[{"role": "user", "content": "again"}]
        ).headers.get("x-request-id")
        for _ in range(2)
    }
    assert len(ids) == 2 and all(ids), ids


def test_streaming_with_and_without_usage(client, mock):
    stream = client.chat.completions.create(
        model=MODEL, messages=[{"role": "user", "content": "one two three"}],
        stream=True, stream_options={"include_usage": True},
    )
    chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "echo: one two three"
    assert chunks[-1].usage.prompt_tokens == 3
    assert chunks[-1].usage.completion_tokens == 4
    finish = [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason]
    assert finish == ["stop"]

    chunks = list(client.chat.completions.create(
        model=MODEL, messages=[{"role": "user", "content": "quiet"}], stream=True,
    ))
    assert all(c.usage is None for c in chunks)
    assert mock.last_body()["stream_options"] == {"include_usage": True}


def test_streamed_tool_calls_reassemble_exactly(client, mock):
    mock.push("chat_completions", {"kind": "stream", "chunks": tool_call_chunks()})
    calls = {}
    stream = client.chat.completions.create(
        model=MODEL, messages=[{"role": "user", "content": "weather and time?"}],
        tools=[WEATHER_TOOL], tool_choice="auto", stream=True,
    )
    finish = None
    for event in stream:
        if not event.choices:
            continue
        choice = event.choices[0]
        finish = choice.finish_reason or finish
        for call in choice.delta.tool_calls or []:
            entry = calls.setdefault(call.index, {"id": "", "name": "", "arguments": ""})
            entry["id"] += call.id or ""
            if call.function:
                entry["name"] += call.function.name or ""
                entry["arguments"] += call.function.arguments or ""
    assert finish == "tool_calls"
    assert calls == {
        0: {"id": "call_w", "name": "get_weather", "arguments": '{"city": "Paris"}'},
        1: {"id": "call_t", "name": "get_time", "arguments": '{"tz": "CET"}'},
    }


def test_stream_helper_builds_the_final_completion(client, mock):
    mock.push("chat_completions", {"kind": "stream", "chunks": tool_call_chunks(), "delay_ms": 5})
    with client.chat.completions.stream(
        model=MODEL, messages=[{"role": "user", "content": "weather and time?"}],
        tools=[WEATHER_TOOL], parallel_tool_calls=True,
        stream_options={"include_usage": True},
    ) as stream:
        deltas = [(event.index, event.name, event.arguments_delta) for event in stream
                  if event.type == "tool_calls.function.arguments.delta"
                  and event.arguments_delta]
        final = stream.get_final_completion()
    assert deltas == [(0, "get_weather", '{"ci'), (0, "get_weather", 'ty": "Pa'),
                      (0, "get_weather", 'ris"}'), (1, "get_time", '{"tz": "CET"}')]
    choice = final.choices[0]
    assert choice.finish_reason == "tool_calls"
    assert [(c.id, c.type, c.function.name, c.function.arguments)
            for c in choice.message.tool_calls] == [
        ("call_w", "function", "get_weather", '{"city": "Paris"}'),
        ("call_t", "function", "get_time", '{"tz": "CET"}'),
    ]
    assert (final.usage.prompt_tokens, final.usage.completion_tokens) == (20, 12)
    sent = mock.last_body()
    assert sent["stream"] is True
    assert sent["parallel_tool_calls"] is True
    assert sent["tools"] == [WEATHER_TOOL]


def test_streamed_text_keeps_non_ascii_intact(client):
    text = "héllo wörld 🎉 — 日本語 ok"
    stream = client.chat.completions.create(
        model=MODEL, messages=[{"role": "user", "content": text}], stream=True,
    )
    assert "".join(c.choices[0].delta.content or "" for c in stream if c.choices) == f"echo: {text}"


def test_tool_calls_and_the_next_turn(client, mock):
    mock.push("chat_completions", {"kind": "reply", "body": {
        "id": "chatcmpl-tools", "object": "chat.completion", "created": 1700000000,
        "model": "mock-gpt",
        "choices": [{"index": 0, "finish_reason": "tool_calls", "logprobs": None,
                     "message": {"role": "assistant", "content": None, "refusal": None,
                                 "tool_calls": [{"id": "call_1", "type": "function",
                                                 "function": {"name": "get_weather",
                                                              "arguments": "{\"city\":\"Oslo\"}"}}]}}],
        "usage": {"prompt_tokens": 5, "completion_tokens": 7, "total_tokens": 12},
    }})
    messages = [{"role": "user", "content": "weather in Oslo?"}]
    first = client.chat.completions.create(
        model=MODEL, messages=messages, tools=[WEATHER_TOOL],
        tool_choice={"type": "function", "function": {"name": "get_weather"}},
    )
    call = first.choices[0].message.tool_calls[0]
    assert (call.id, call.function.name, call.function.arguments) == (
        "call_1", "get_weather", '{"city":"Oslo"}')
    sent = mock.last_body()
    assert sent["tools"] == [WEATHER_TOOL]
    assert sent["tool_choice"] == {"type": "function", "function": {"name": "get_weather"}}

    messages += [first.choices[0].message.model_dump(exclude_none=True),
                 {"role": "tool", "tool_call_id": "call_1", "content": "{\"temp\": -3}"}]
    second = client.chat.completions.create(model=MODEL, messages=messages, tools=[WEATHER_TOOL])
    # The mock echoes the last user message; what matters is what it received.
    assert second.choices[0].message.content == "echo: weather in Oslo?"
    sent = mock.last_body()["messages"]
    assert sent[1]["tool_calls"][0]["function"]["arguments"] == '{"city":"Oslo"}'
    assert sent[2] == {"role": "tool", "tool_call_id": "call_1", "content": "{\"temp\": -3}"}


def test_every_parameter_reaches_the_upstream(client, mock):
    schema = {"type": "object", "properties": {"answer": {"type": "string"}},
              "required": ["answer"], "additionalProperties": False}
    client.chat.completions.create(
        model=MODEL,
        messages=[{"role": "system", "content": "Be brief."},
                  {"role": "user", "content": [{"type": "text", "text": "hi"},
                                               {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="}}]}],
        response_format={"type": "json_schema",
                         "json_schema": {"name": "reply", "schema": schema, "strict": True}},
        temperature=0.3, top_p=0.9, max_completion_tokens=50, stop=["END"], seed=11, n=2,
        presence_penalty=0.4, frequency_penalty=-0.4, logprobs=True, top_logprobs=2,
        user="user-7", metadata={"team": "e2e"}, extra_body={"top_k": 5},
    )
    sent = mock.last_body()
    assert sent["model"] == "mock-gpt"
    expected = {
        "response_format": {"type": "json_schema",
                            "json_schema": {"name": "reply", "schema": schema, "strict": True}},
        "temperature": 0.3, "top_p": 0.9, "max_completion_tokens": 50, "stop": ["END"],
        "seed": 11, "n": 2, "presence_penalty": 0.4, "frequency_penalty": -0.4,
        "logprobs": True, "top_logprobs": 2, "user": "user-7", "metadata": {"team": "e2e"},
        "top_k": 5,
    }
    for key, value in expected.items():
        assert sent[key] == value, key
    assert sent["messages"][1]["content"][1]["image_url"]["url"] == "data:image/png;base64,iVBORw0KGgo="


def test_embeddings_as_floats_and_base64(client, mock):
    # Without `encoding_format` the SDK itself asks for base64 and decodes it.
    default = client.embeddings.create(model=MODEL, input=["alpha", "beta"], dimensions=4)
    assert [item.index for item in default.data] == [0, 1]
    assert all(len(item.embedding) == 4 for item in default.data)
    assert default.data[0].embedding != pytest.approx(default.data[1].embedding)
    sent = mock.last_body()
    # (The gateway may ask the upstream for floats and encode base64 itself.)
    assert (sent["model"], sent["input"], sent["dimensions"]) == ("mock-gpt", ["alpha", "beta"], 4)

    floats = client.embeddings.create(model=MODEL, input="alpha", encoding_format="float",
                                      dimensions=4)
    assert floats.data[0].embedding == pytest.approx(default.data[0].embedding)

    encoded = client.embeddings.create(model=MODEL, input="alpha", encoding_format="base64",
                                       dimensions=4)
    raw = base64.b64decode(encoded.data[0].embedding)
    assert list(struct.unpack("<4f", raw)) == pytest.approx(floats.data[0].embedding)

    eight = client.embeddings.create(model=MODEL, input="alpha", encoding_format="float")
    assert len(eight.data[0].embedding) == 8
    assert eight.usage.prompt_tokens >= 1


def test_models(client):
    ids = [model.id for model in client.models.list()]
    assert ids == ["gpt-test", "impatient"]
    model = client.models.retrieve("gpt-test")
    assert (model.id, model.owned_by) == ("gpt-test", "mock")


def test_unknown_model_is_not_found_with_a_suggestion(client):
    with pytest.raises(openai.NotFoundError) as error:
        client.chat.completions.create(model="gpt-tset", messages=[{"role": "user", "content": "x"}])
    assert "did you mean `gpt-test`?" in str(error.value)


def test_retrieving_an_unknown_model_is_not_found(client):
    with pytest.raises(openai.NotFoundError) as error:
        client.models.retrieve("gpt-tset")
    assert "did you mean `gpt-test`?" in str(error.value)
    assert error.value.body["param"] == "model"


def test_wrong_key_is_an_authentication_error(gateway_url, mock):
    bad = openai.OpenAI(base_url=f"{gateway_url}/v1", api_key="wrong", max_retries=0)
    with pytest.raises(openai.AuthenticationError):
        bad.models.list()
    with pytest.raises(openai.AuthenticationError) as error:
        bad.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "x"}],
                                    extra_headers={"x-request-id": "e2e-denied"})
    assert error.value.status_code == 401
    assert error.value.response.headers["x-request-id"] == "e2e-denied"
    assert mock.requests() == []


def test_a_wrong_field_is_a_bad_request_naming_it(client, mock):
    with pytest.raises(openai.BadRequestError) as error:
        client.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": 5}])
    assert error.value.status_code == 400
    assert "messages[0].content" in str(error.value)
    assert error.value.param == "messages[0].content"
    assert mock.requests() == []


def test_upstream_rate_limit_is_a_rate_limit_error(client, mock):
    mock.push("chat_completions", {
        "kind": "error", "status": 429, "retry_after": "2",
        "body": {"error": {"message": "Rate limit reached", "type": "requests", "param": None,
                           "code": "rate_limit_exceeded"}},
    })
    with pytest.raises(openai.RateLimitError) as error:
        client.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "x"}])
    assert error.value.status_code == 429
    assert error.value.response.headers["retry-after"] == "2"
    assert error.value.code == "rate_limit_exceeded"


def test_upstream_failure_is_a_502_without_the_key(client, mock):
    mock.push("chat_completions", {
        "kind": "error", "status": 500,
        "body": {"error": {"message": f"internal failure near {UPSTREAM_KEY}", "type": "server_error",
                           "param": None, "code": None}},
    })
    with pytest.raises(openai.InternalServerError) as error:
        client.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "x"}])
    assert error.value.status_code == 502
    assert UPSTREAM_KEY not in str(error.value)
    assert "internal failure" in str(error.value)


def test_stalled_upstream_is_a_504(client, mock):
    mock.push("chat_completions", {"kind": "stall"})
    with pytest.raises(openai.InternalServerError) as error:
        client.chat.completions.create(model="impatient", messages=[{"role": "user", "content": "x"}])
    assert error.value.status_code == 504
    assert error.value.code == "upstream_timeout"


def test_oversize_body_is_a_413(client, mock):
    with pytest.raises(openai.APIStatusError) as error:
        client.chat.completions.create(model=MODEL,
                                       messages=[{"role": "user", "content": "x" * 70_000}])
    assert error.value.status_code == 413
    assert error.value.code == "request_too_large"
    assert mock.requests() == []


def test_an_error_mid_stream_raises_while_iterating(client, mock):
    mock.push("chat_completions", {
        "kind": "stream",
        "chunks": [chunk({"role": "assistant", "content": ""}), chunk({"content": "partial"})],
        "end": {"kind": "error_event", "body": {"error": {
            "message": "The server had an error", "type": "server_error", "param": None,
            "code": None}}},
    })
    received = []
    with pytest.raises(openai.APIError) as error:
        for event in client.chat.completions.create(
            model=MODEL, messages=[{"role": "user", "content": "x"}], stream=True
        ):
            if event.choices and event.choices[0].delta.content:
                received.append(event.choices[0].delta.content)
    assert received == ["partial"]
    assert "The server had an error" in str(error.value)


def test_master_key_in_the_azure_style_header(gateway_url):
    # Clients that send `api-key` (Azure OpenAI SDKs) are accepted as well.
    sdk = openai.OpenAI(base_url=f"{gateway_url}/v1", api_key="unused", max_retries=0,
                        default_headers={"api-key": MASTER_KEY, "authorization": ""})
    assert [model.id for model in sdk.models.list()][0] == "gpt-test"


@pytest.mark.parametrize("end, model", [
    ({"kind": "reset"}, MODEL),
    ({"kind": "truncate"}, MODEL),
    ({"kind": "malformed"}, MODEL),
    ({"kind": "stall"}, "impatient"),  # the 500 ms idle timeout
])
def test_a_broken_upstream_stream_raises_while_iterating(client, mock, end, model):
    mock.push("chat_completions", {
        "kind": "stream",
        "chunks": [chunk({"role": "assistant", "content": ""}), chunk({"content": "partial"})],
        "end": end,
    })
    received = []
    with pytest.raises(openai.APIError):
        for event in client.chat.completions.create(
            model=model, messages=[{"role": "user", "content": "x"}], stream=True
        ):
            if event.choices and event.choices[0].delta.content:
                received.append(event.choices[0].delta.content)
    assert received == ["partial"]


def test_upstream_bad_request_keeps_its_message_and_param(client, mock):
    mock.push("chat_completions", {
        "kind": "error", "status": 400,
        "body": {"error": {"message": "Invalid value for 'messages'", "type": "invalid_request_error",
                           "param": "messages", "code": "invalid_value"}},
    })
    with pytest.raises(openai.BadRequestError) as error:
        client.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "x"}])
    assert "Invalid value for 'messages'" in str(error.value)
    assert error.value.param == "messages"


def test_upstream_overload_is_a_503_with_retry_after(client, mock):
    mock.push("chat_completions", {
        "kind": "error", "status": 503, "retry_after": "3",
        "body": {"error": {"message": "overloaded", "type": "server_error", "param": None,
                           "code": None}},
    })
    with pytest.raises(openai.InternalServerError) as error:
        client.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "x"}])
    assert error.value.status_code == 503
    assert error.value.response.headers["retry-after"] == "3"


def test_closing_a_stream_cancels_the_upstream_request(client, mock):
    slow = [chunk({"content": f"w{i} "}) for i in range(100)]
    mock.push("chat_completions", {"kind": "stream", "chunks": slow, "delay_ms": 50})
    before = mock.stats()["streams_cancelled"]
    stream = client.chat.completions.create(
        model=MODEL, messages=[{"role": "user", "content": "x"}], stream=True
    )
    try:
        first = next(event.choices[0].delta.content for event in stream
                     if event.choices and event.choices[0].delta.content)
        assert first == "w0 "
    finally:
        stream.close()
    deadline = time.monotonic() + 5
    while mock.stats()["streams_cancelled"] == before and time.monotonic() < deadline:
        time.sleep(0.05)
    assert mock.stats()["streams_cancelled"] == before + 1


def test_legacy_completions_reach_the_upstreams_completions_endpoint(client, mock):
    completion = client.completions.create(
        model=MODEL, prompt="Once upon", max_tokens=5, echo=True, logprobs=1, user="u-1",
    )
    choice = completion.choices[0]
    assert completion.object == "text_completion"
    assert choice.text == "Once upon echo: Once upon"
    assert choice.logprobs.tokens == ["Once", " upon", " echo:", " Once", " upon"]
    assert choice.logprobs.token_logprobs[0] is None
    assert choice.logprobs.text_offset == [0, 4, 9, 15, 20]
    received = mock.requests()[-1]
    assert received["path"] == "/v1/completions"
    assert received["body"] == {"model": "mock-gpt", "prompt": "Once upon", "max_tokens": 5,
                                "echo": True, "logprobs": 1, "user": "u-1"}


def test_legacy_completions_stream(client, mock):
    stream = client.completions.create(
        model=MODEL, prompt=["a b", "c"], n=2, stream=True, stream_options={"include_usage": True},
    )
    texts = {}
    for chunk in stream:
        for choice in chunk.choices:
            texts[choice.index] = texts.get(choice.index, "") + choice.text
    assert texts == {0: " echo: a b", 1: " echo: a b", 2: " echo: c", 3: " echo: c"}
    assert chunk.usage.prompt_tokens == 3


def test_a_completion_upstream_failure_is_an_openai_error(client, mock):
    mock.push("completions", {
        "kind": "error", "status": 429, "retry_after": "1",
        "body": {"error": {"message": "slow down", "type": "requests", "param": None,
                           "code": "rate_limit_exceeded"}},
    })
    with pytest.raises(openai.RateLimitError) as error:
        client.completions.create(model=MODEL, prompt="x")
    assert error.value.code == "rate_limit_exceeded"
