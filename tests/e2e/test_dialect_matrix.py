"""The local engine's column of the ingress × egress matrix (the mock upstreams' columns
are `crates/switchyard-server/tests/it/matrix/`): every client dialect, through its
official SDK, on the bundled SmolLM2, as JSON and streamed, for text, a forced tool call,
its result sent back, JSON output, and an error."""

import json

import anthropic
import openai
import pytest

MODEL = "smollm2"
QUESTION = "What is the capital of France?"
CITY_SCHEMA = {"type": "object", "properties": {"city": {"type": "string"}},
               "required": ["city"], "additionalProperties": False}


@pytest.fixture
def claude(local_url):
    return anthropic.Anthropic(base_url=local_url, api_key="none", max_retries=0, timeout=60)


class Chat:
    """OpenAI Chat Completions."""

    def __init__(self, client):
        self.client = client

    def ask(self, stream, tools=False, tool_result=False, json_output=False, content=QUESTION):
        messages = [{"role": "user", "content": content}]
        extra = {}
        if tools:
            extra["tools"] = [{"type": "function", "function": {"name": "get_weather",
                                                                "parameters": CITY_SCHEMA}}]
            extra["tool_choice"] = "required"
        if tool_result:
            messages += [
                {"role": "assistant", "content": None, "tool_calls": [{"id": "call_1", "type": "function",
                 "function": {"name": "get_weather", "arguments": "{\"city\": \"Paris\"}"}}]},
                {"role": "tool", "tool_call_id": "call_1", "content": "18C and sunny"},
            ]
        if json_output:
            extra["response_format"] = {"type": "json_schema", "json_schema": {
                "name": "weather", "schema": CITY_SCHEMA, "strict": True}}
        request = dict(model=MODEL, messages=messages, temperature=0, max_tokens=48, **extra)
        if not stream:
            choice = self.client.chat.completions.create(**request).choices[0]
            calls = [(c.function.name, json.loads(c.function.arguments))
                     for c in choice.message.tool_calls or []]
            return choice.message.content or "", calls
        text, calls = "", {}
        for chunk in self.client.chat.completions.create(stream=True, **request):
            for choice in chunk.choices:
                text += choice.delta.content or ""
                for call in choice.delta.tool_calls or []:
                    name, arguments = calls.get(call.index, ("", ""))
                    calls[call.index] = (name or call.function.name or "",
                                         arguments + (call.function.arguments or ""))
        return text, [(name, json.loads(arguments)) for name, arguments in calls.values()]

    def error(self):
        return openai.BadRequestError


class Messages:
    """Anthropic Messages."""

    def __init__(self, client):
        self.client = client

    def ask(self, stream, tools=False, tool_result=False, json_output=False, content=QUESTION):
        messages = [{"role": "user", "content": content}]
        extra = {}
        if tools:
            extra["tools"] = [{"name": "get_weather", "input_schema": CITY_SCHEMA}]
            extra["tool_choice"] = {"type": "any"}
        if tool_result:
            messages += [
                {"role": "assistant", "content": [{"type": "tool_use", "id": "toolu_1",
                                                   "name": "get_weather", "input": {"city": "Paris"}}]},
                {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_1",
                                              "content": "18C and sunny"}]},
            ]
        body = {"temperature": 0}
        if json_output:
            body["output_config"] = {"format": {"type": "json_schema", "schema": CITY_SCHEMA}}
        request = dict(model=MODEL, max_tokens=48, messages=messages, extra_body=body, **extra)
        if stream:
            with self.client.messages.stream(**request) as events:
                message = events.get_final_message()
        else:
            message = self.client.messages.create(**request)
        text = "".join(block.text for block in message.content if block.type == "text")
        calls = [(block.name, block.input) for block in message.content if block.type == "tool_use"]
        return text, calls

    def error(self):
        return anthropic.BadRequestError


class Responses:
    """OpenAI Responses."""

    def __init__(self, client):
        self.client = client

    def ask(self, stream, tools=False, tool_result=False, json_output=False, content=QUESTION):
        items = [{"role": "user", "content": content}]
        extra = {}
        if tools:
            extra["tools"] = [{"type": "function", "name": "get_weather", "parameters": CITY_SCHEMA}]
            extra["tool_choice"] = "required"
        if tool_result:
            items += [
                {"type": "function_call", "call_id": "call_1", "name": "get_weather",
                 "arguments": "{\"city\": \"Paris\"}"},
                {"type": "function_call_output", "call_id": "call_1", "output": "18C and sunny"},
            ]
        if json_output:
            extra["text"] = {"format": {"type": "json_schema", "name": "weather",
                                        "schema": CITY_SCHEMA, "strict": True}}
        request = dict(model=MODEL, input=items, temperature=0, max_output_tokens=48, store=False,
                       **extra)
        if stream:
            with self.client.responses.stream(**request) as events:
                response = events.get_final_response()
        else:
            response = self.client.responses.create(**request)
        calls = [(item.name, json.loads(item.arguments)) for item in response.output
                 if item.type == "function_call"]
        return response.output_text, calls

    def error(self):
        return openai.BadRequestError


DIALECTS = {"chat": Chat, "messages": Messages, "responses": Responses}


@pytest.fixture(params=list(DIALECTS))
def dialect(request, local_client, claude):
    kind = DIALECTS[request.param]
    return kind(claude if kind is Messages else local_client)


@pytest.mark.parametrize("stream", [False, True], ids=["json", "stream"])
def test_text(dialect, stream):
    text, calls = dialect.ask(stream)
    assert "Paris" in text and calls == []


@pytest.mark.parametrize("stream", [False, True], ids=["json", "stream"])
def test_a_forced_tool_call(dialect, stream):
    _, calls = dialect.ask(stream, tools=True, content="What is the weather in Paris?")
    assert [name for name, _ in calls] == ["get_weather"]
    assert isinstance(calls[0][1]["city"], str)


@pytest.mark.parametrize("stream", [False, True], ids=["json", "stream"])
def test_the_tool_result_across_turns(dialect, stream):
    # Without tools on offer: a model this small, offered the tool again, calls it again.
    text, calls = dialect.ask(stream, tool_result=True, content="What is the weather in Paris?")
    assert text.strip() and calls == []


@pytest.mark.parametrize("stream", [False, True], ids=["json", "stream"])
def test_json_output(dialect, stream):
    text, _ = dialect.ask(stream, json_output=True, content="Name the capital of France as JSON.")
    value = json.loads(text)
    assert list(value) == ["city"] and isinstance(value["city"], str)


@pytest.mark.parametrize("stream", [False, True], ids=["json", "stream"])
def test_a_prompt_longer_than_the_context_is_a_bad_request(dialect, stream):
    with pytest.raises(dialect.error()) as error:
        dialect.ask(stream, content="word " * 5000)
    assert "context" in str(error.value)


@pytest.mark.parametrize("stream", [False, True], ids=["json", "stream"])
def test_legacy_completions(local_client, stream):
    request = dict(model=MODEL, prompt="The capital of France is", temperature=0, max_tokens=8)
    if stream:
        text = "".join(c.choices[0].text for c in local_client.completions.create(stream=True, **request)
                       if c.choices)
    else:
        text = local_client.completions.create(**request).choices[0].text
    assert text.strip()
    with pytest.raises(openai.BadRequestError) as error:
        local_client.completions.create(model=MODEL, prompt="word " * 5000, max_tokens=4,
                                        stream=stream)
    assert "context" in str(error.value)
