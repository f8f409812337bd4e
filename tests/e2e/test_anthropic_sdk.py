"""The official Anthropic Python SDK against Switchyard, unchanged but for its base URL:
Claude-shaped calls answered by an OpenAI-protocol upstream and by the local models."""

import anthropic
import pytest

from conftest import MASTER_KEY
from test_openai_sdk import MODEL, chunk, tool_call_chunks

WEATHER = {
    "name": "get_weather",
    "description": "Current weather in a city",
    "input_schema": {"type": "object", "properties": {"city": {"type": "string"}},
                     "required": ["city"]},
}
TIME = {
    "name": "get_time",
    "description": "Current time in a time zone",
    "input_schema": {"type": "object", "properties": {"tz": {"type": "string"}}},
}


@pytest.fixture
def claude(gateway_url):
    return anthropic.Anthropic(base_url=gateway_url, api_key=MASTER_KEY, max_retries=0,
                               timeout=15)


@pytest.fixture
def local_claude(local_url):
    return anthropic.Anthropic(base_url=local_url, api_key="none", max_retries=0, timeout=60)


def test_messages_create_is_answered_in_anthropic_shape(claude, mock):
    message = claude.messages.create(
        model=MODEL, max_tokens=32, system="Be brief.",
        messages=[{"role": "user", "content": "hello there"}],
        stop_sequences=["END"], metadata={"user_id": "u-42"},
    )
    assert message.type == "message" and message.role == "assistant"
    assert message.id.startswith("msg_")
    assert message.content[0].type == "text"
    assert message.content[0].text == "echo: hello there"
    assert message.stop_reason == "end_turn"
    assert message.usage.input_tokens > 0 and message.usage.output_tokens > 0
    sent = mock.last_body()
    assert sent["messages"] == [{"role": "system", "content": "Be brief."},
                                {"role": "user", "content": "hello there"}]
    assert sent["max_tokens"] == 32
    assert sent["stop"] == ["END"]
    assert sent["user"] == "u-42"


def test_messages_stream_yields_text_and_the_final_message(claude, mock):
    with claude.messages.stream(
        model=MODEL, max_tokens=32, messages=[{"role": "user", "content": "stream this"}],
    ) as stream:
        text = "".join(stream.text_stream)
        final = stream.get_final_message()
    assert text == "echo: stream this"
    assert final.content[0].text == text
    assert final.stop_reason == "end_turn"
    assert final.usage.output_tokens > 0
    assert mock.last_body()["stream"] is True


def test_streamed_tool_use_arrives_as_tool_use_blocks_with_parsed_input(claude, mock):
    mock.push("chat_completions", {"kind": "stream", "chunks": tool_call_chunks(), "delay_ms": 5})
    with claude.messages.stream(
        model=MODEL, max_tokens=64, tools=[WEATHER, TIME],
        messages=[{"role": "user", "content": "weather and time?"}],
    ) as stream:
        json_deltas = [event.partial_json for event in stream
                       if event.type == "input_json"]
        final = stream.get_final_message()
    assert "".join(json_deltas) == '{"city": "Paris"}{"tz": "CET"}'
    assert final.stop_reason == "tool_use"
    calls = [(block.id, block.name, block.input) for block in final.content]
    assert calls == [("call_w", "get_weather", {"city": "Paris"}),
                     ("call_t", "get_time", {"tz": "CET"})]
    assert final.usage.input_tokens == 20 and final.usage.output_tokens == 12


def test_tool_use_across_turns(claude, mock):
    mock.push("chat_completions", {"kind": "reply", "body": {
        "id": "chatcmpl-tools", "object": "chat.completion", "created": 1700000000,
        "model": "mock-gpt",
        "choices": [{"index": 0, "finish_reason": "tool_calls", "logprobs": None,
                     "message": {"role": "assistant", "content": "Let me check.",
                                 "tool_calls": [{"id": "call_1", "type": "function",
                                                 "function": {"name": "get_weather",
                                                              "arguments": "{\"city\":\"Oslo\"}"}}]}}],
        "usage": {"prompt_tokens": 5, "completion_tokens": 7, "total_tokens": 12},
    }})
    messages = [{"role": "user", "content": "weather in Oslo?"}]
    first = claude.messages.create(model=MODEL, max_tokens=64, tools=[WEATHER],
                                   tool_choice={"type": "auto"}, messages=messages)
    assert first.stop_reason == "tool_use"
    assert [block.type for block in first.content] == ["text", "tool_use"]
    call = first.content[1]
    assert (call.id, call.name, call.input) == ("call_1", "get_weather", {"city": "Oslo"})

    messages += [
        {"role": "assistant", "content": first.content},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": call.id,
                                      "content": "-3°C, snow"}]},
    ]
    second = claude.messages.create(model=MODEL, max_tokens=64, tools=[WEATHER],
                                    messages=messages)
    # The mock echoes the last user-role text; what matters is what it was sent.
    assert second.content[0].text == "echo: weather in Oslo?"
    sent = mock.last_body()["messages"]
    assert sent[1]["role"] == "assistant"
    assert sent[1]["content"] == "Let me check."
    assert sent[1]["tool_calls"][0]["id"] == "call_1"
    assert sent[2] == {"role": "tool", "tool_call_id": "call_1", "content": "-3°C, snow"}


def test_errors_raise_the_sdks_own_exceptions(claude, gateway_url, mock):
    with pytest.raises(anthropic.NotFoundError) as error:
        claude.messages.create(model="no-such-model", max_tokens=8,
                               messages=[{"role": "user", "content": "x"}])
    assert error.value.body["error"]["type"] == "not_found_error"
    wrong_key = anthropic.Anthropic(base_url=gateway_url, api_key="wrong", max_retries=0)
    with pytest.raises(anthropic.AuthenticationError):
        wrong_key.messages.create(model=MODEL, max_tokens=8,
                                  messages=[{"role": "user", "content": "x"}])
    mock.push("chat_completions", {
        "kind": "error", "status": 429, "retry_after": "2",
        "body": {"error": {"message": "Rate limit reached", "type": "requests", "param": None,
                           "code": "rate_limit_exceeded"}},
    })
    with pytest.raises(anthropic.RateLimitError) as error:
        claude.messages.create(model=MODEL, max_tokens=8,
                               messages=[{"role": "user", "content": "x"}])
    assert error.value.response.headers["retry-after"] == "2"
    assert error.value.body["error"]["type"] == "rate_limit_error"


def test_a_failure_mid_stream_raises_in_the_stream(claude, mock):
    mock.push("chat_completions", {
        "kind": "stream", "chunks": [chunk({"role": "assistant", "content": "Hel"})],
        "end": {"kind": "error_event", "body": {"error": {"message": "upstream broke",
                                                          "type": "server_error"}}},
    })
    with pytest.raises(anthropic.APIStatusError):
        with claude.messages.stream(model=MODEL, max_tokens=8,
                                    messages=[{"role": "user", "content": "x"}]) as stream:
            for _ in stream:
                pass


def test_a_local_model_answers_the_anthropic_sdk(local_claude):
    message = local_claude.messages.create(
        model="smollm2", max_tokens=16, extra_body={"temperature": 0},
        messages=[{"role": "user", "content": "What is the capital of France?"}],
    )
    assert "Paris" in message.content[0].text
    assert message.stop_reason in ("end_turn", "max_tokens")
    with local_claude.messages.stream(
        model="smollm2", max_tokens=8, extra_body={"temperature": 0},
        messages=[{"role": "user", "content": "Say hello."}],
    ) as stream:
        text = "".join(stream.text_stream)
        final = stream.get_final_message()
    assert text and final.content[0].text == text
    assert final.usage.input_tokens > 0 and final.usage.output_tokens > 0


def test_count_tokens_is_exact_on_a_local_model(local_claude, local_url):
    messages = [{"role": "user", "content": "What is the capital of France?"}]
    count = local_claude.messages.count_tokens(model="smollm2", messages=messages)
    answer = local_claude.messages.create(model="smollm2", max_tokens=1, messages=messages)
    # The count is what the model then reads: its tokenizer and chat template.
    assert count.input_tokens == answer.usage.input_tokens
    raw = local_claude.messages.with_raw_response.count_tokens(model="smollm2",
                                                                messages=messages)
    assert raw.headers["x-switchyard-token-count"] == "exact"


def test_count_tokens_is_an_estimate_for_an_upstream_that_cannot_count(claude, mock):
    raw = claude.messages.with_raw_response.count_tokens(
        model=MODEL, messages=[{"role": "user", "content": "Hello, world!"}])
    assert raw.headers["x-switchyard-token-count"] == "estimate"
    assert raw.parse().input_tokens == 11
    assert mock.requests() == []
