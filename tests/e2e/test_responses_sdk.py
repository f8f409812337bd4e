"""The official OpenAI SDK's `client.responses` against Switchyard: create, stream,
follow-ups with `previous_response_id`, function calls across turns, stored responses,
on an OpenAI-protocol chat upstream and on the local SmolLM2."""

import json

import openai
import pytest

MODEL = "gpt-test"

WEATHER_TOOL = {
    "type": "function",
    "name": "get_weather",
    "description": "Current weather in a city",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}},
                   "required": ["city"]},
}


def test_create_retrieve_list_and_delete(client, mock):
    response = client.responses.create(model=MODEL, input="hello there",
                                       instructions="Be brief.", max_output_tokens=50)
    assert response.id.startswith("resp_")
    assert response.status == "completed"
    assert response.output_text == "echo: hello there"
    assert response.usage.input_tokens == 4 and response.usage.output_tokens == 3
    sent = mock.last_body()
    assert sent["messages"] == [{"role": "system", "content": "Be brief."},
                                {"role": "user", "content": "hello there"}]
    assert sent["max_completion_tokens"] == 50

    assert client.responses.retrieve(response.id).output_text == "echo: hello there"
    items = client.responses.input_items.list(response.id)
    assert [item.content[0].text for item in items.data] == ["hello there"]

    client.responses.delete(response.id)
    with pytest.raises(openai.NotFoundError):
        client.responses.retrieve(response.id)
    with pytest.raises(openai.BadRequestError) as error:
        client.responses.create(model=MODEL, input="again", previous_response_id=response.id)
    assert error.value.code == "previous_response_not_found"


def test_a_follow_up_carries_the_conversation(client, mock):
    first = client.responses.create(model=MODEL, input="first question")
    second = client.responses.create(model=MODEL, input="second question",
                                     previous_response_id=first.id)
    assert second.previous_response_id == first.id
    assert [m["content"] for m in mock.last_body()["messages"]] == [
        "first question", "echo: first question", "second question"]


def test_stream_helper_accumulates_the_final_response(client):
    with client.responses.stream(model=MODEL, input="stream this please") as stream:
        deltas = [event.delta for event in stream if event.type == "response.output_text.delta"]
        final = stream.get_final_response()
    assert "".join(deltas) == "echo: stream this please"
    assert final.output_text == "echo: stream this please"
    assert final.status == "completed" and final.usage.total_tokens > 0
    # The streamed response was stored and can be continued.
    follow_up = client.responses.create(model=MODEL, input="more", previous_response_id=final.id)
    assert follow_up.output_text == "echo: more"


def test_function_calls_across_turns(client, mock):
    mock.push("chat_completions", {"kind": "reply", "body": {
        "id": "chatcmpl-tools", "object": "chat.completion", "created": 1700000000,
        "model": "mock-gpt",
        "choices": [{"index": 0, "finish_reason": "tool_calls", "logprobs": None, "message": {
            "role": "assistant", "content": None,
            "tool_calls": [{"id": "call_w", "type": "function",
                            "function": {"name": "get_weather", "arguments": "{\"city\": \"Paris\"}"}}]}}],
        "usage": {"prompt_tokens": 9, "completion_tokens": 5, "total_tokens": 14},
    }})
    first = client.responses.create(model=MODEL, input="Weather in Paris?", tools=[WEATHER_TOOL])
    call = first.output[0]
    assert call.type == "function_call" and call.call_id == "call_w"
    assert json.loads(call.arguments) == {"city": "Paris"}

    client.responses.create(
        model=MODEL, tools=[WEATHER_TOOL], previous_response_id=first.id,
        input=[{"type": "function_call_output", "call_id": call.call_id, "output": "18C, sunny"}],
    )
    messages = mock.last_body()["messages"]
    assert messages[1]["tool_calls"][0]["id"] == "call_w"
    assert messages[2] == {"role": "tool", "tool_call_id": "call_w", "content": "18C, sunny"}


def test_raw_stream_events_arrive_in_order(client):
    events = list(client.responses.create(model=MODEL, input="one two", stream=True))
    types = [event.type for event in events]
    assert types[:2] == ["response.created", "response.in_progress"]
    assert types[-1] == "response.completed"
    assert [event.sequence_number for event in events] == list(range(len(events)))
    assert "response.output_text.done" in types and "response.output_item.done" in types


def test_an_unsupported_tool_is_a_bad_request(client, mock):
    with pytest.raises(openai.BadRequestError) as error:
        client.responses.create(model=MODEL, input="x", tools=[{"type": "web_search"}])
    assert error.value.param == "tools[0].type"
    assert mock.requests() == []


def test_smollm2_answers_through_the_responses_api_and_remembers(local_client):
    first = local_client.responses.create(
        model="smollm2", input="What is the capital of France?", temperature=0,
        max_output_tokens=40,
    )
    assert "Paris" in first.output_text
    second = local_client.responses.create(
        model="smollm2", input="Repeat your last answer.", temperature=0,
        max_output_tokens=40, previous_response_id=first.id,
    )
    assert second.output_text
    assert second.usage.input_tokens > first.usage.input_tokens
