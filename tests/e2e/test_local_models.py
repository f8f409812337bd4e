"""The built-in local models through the official OpenAI SDK, with no config file:
what a user gets from the README's first command."""

import math

WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string"}},
            "required": ["city"],
        },
    },
}


def test_models_lists_the_built_in_models_and_aliases(local_client):
    ids = {model.id for model in local_client.models.list()}
    assert {"smollm2-135m-instruct", "gemma-3-270m", "all-minilm-l6-v2"} <= ids
    assert {"smollm2", "gemma3", "minilm"} <= ids


def test_smollm2_answers_a_question(local_client):
    completion = local_client.chat.completions.create(
        model="smollm2",
        messages=[{"role": "user", "content": "What is the capital of France?"}],
        temperature=0,
        max_tokens=40,
    )
    choice = completion.choices[0]
    assert "Paris" in choice.message.content
    assert choice.finish_reason == "stop"
    assert completion.usage.prompt_tokens > 0 and completion.usage.completion_tokens > 0


def test_a_stream_arrives_token_by_token_with_usage(local_client):
    stream = local_client.chat.completions.create(
        model="smollm2-135m-instruct",
        messages=[{"role": "user", "content": "What is the capital of France?"}],
        temperature=0,
        max_tokens=40,
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = list(stream)
    pieces = [c.choices[0].delta.content for c in chunks if c.choices and c.choices[0].delta.content]
    assert len(pieces) > 3
    assert "Paris" in "".join(pieces)
    assert chunks[-1].usage.completion_tokens >= len(pieces)


def test_gemma_continues_text(local_client):
    completion = local_client.chat.completions.create(
        model="gemma3",
        messages=[{"role": "user", "content": "List three fruits."}],
        temperature=0,
        max_tokens=24,
    )
    assert completion.choices[0].message.content
    assert "<end_of_turn>" not in completion.choices[0].message.content


def test_minilm_embeds_sentences(local_client):
    result = local_client.embeddings.create(model="minilm", input=["hello world", "a cat"])
    assert [item.index for item in result.data] == [0, 1]
    vector = result.data[0].embedding
    assert len(vector) == 384
    assert math.isclose(math.sqrt(sum(x * x for x in vector)), 1.0, rel_tol=1e-4)
    assert abs(vector[0] - (-0.0344773)) < 1e-4


def test_an_over_long_prompt_is_a_400_naming_the_context(local_client):
    import openai
    import pytest

    with pytest.raises(openai.BadRequestError) as error:
        local_client.chat.completions.create(
            model="smollm2",
            messages=[{"role": "user", "content": "word " * 5000}],
            max_tokens=4,
        )
    assert "context" in str(error.value)


def test_json_schema_output_parses_into_the_schema(local_client):
    import json

    completion = local_client.chat.completions.create(
        model="smollm2",
        messages=[{"role": "user", "content": "Name the capital of France as JSON."}],
        temperature=0,
        max_tokens=60,
        response_format={
            "type": "json_schema",
            "json_schema": {
                "name": "capital",
                "strict": True,
                "schema": {
                    "type": "object",
                    "properties": {"capital": {"type": "string"}},
                    "required": ["capital"],
                    "additionalProperties": False,
                },
            },
        },
    )
    value = json.loads(completion.choices[0].message.content)
    assert list(value) == ["capital"] and isinstance(value["capital"], str)


def test_a_forced_tool_call_comes_back_as_a_tool_call(local_client):
    import json

    completion = local_client.chat.completions.create(
        model="smollm2",
        messages=[{"role": "user", "content": "What is the weather in Paris?"}],
        temperature=0,
        max_tokens=60,
        tools=[WEATHER_TOOL],
        tool_choice="required",
    )
    choice = completion.choices[0]
    assert choice.finish_reason == "tool_calls"
    call = choice.message.tool_calls[0]
    assert call.function.name == "get_weather"
    assert isinstance(json.loads(call.function.arguments)["city"], str)


def test_gemma_is_marked_as_a_base_model(local_client):
    model = local_client.models.retrieve("gemma3").model_dump()
    assert "base model" in model["description"]
    assert model["owned_by"] == "local"


def test_the_q4_1_variant_is_offered_and_loads_on_first_use(local_client):
    ids = {model.id for model in local_client.models.list()}
    assert {"smollm2-135m-instruct:q4_1", "smollm2:q4_1"} <= ids
    described = local_client.models.retrieve("smollm2:q4_1").model_dump()
    assert "loaded on first use" in described["description"]
    completion = local_client.chat.completions.create(
        model="smollm2:q4_1",
        messages=[{"role": "user", "content": "Say hello."}],
        temperature=0,
        max_tokens=8,
    )
    assert completion.choices[0].message.content
    assert completion.usage.completion_tokens > 0


def test_auto_tool_choice_streams_a_tagged_call_as_a_tool_call(local_client):
    stream = local_client.chat.completions.create(
        model="smollm2",
        messages=[{
            "role": "user",
            "content": 'Repeat exactly, with nothing before it: <tool_call>{"name": "get_weather", '
                       '"arguments": {"city": "Paris"}}</tool_call>',
        }],
        temperature=0,
        max_tokens=80,
        stream=True,
        tools=[WEATHER_TOOL],
    )
    text, names, arguments, finish = "", [], "", None
    for chunk in stream:
        if not chunk.choices:
            continue
        delta = chunk.choices[0].delta
        text += delta.content or ""
        for call in delta.tool_calls or []:
            if call.function.name:
                names.append(call.function.name)
            arguments += call.function.arguments or ""
        finish = chunk.choices[0].finish_reason or finish
    assert "<tool_call>" not in text
    assert names == ["get_weather"] and finish == "tool_calls"
    import json
    assert isinstance(json.loads(arguments)["city"], str)


def test_gemma_continues_a_raw_prompt_as_a_text_completion(local_client):
    completion = local_client.completions.create(
        model="gemma3", prompt="The capital of France is", temperature=0, max_tokens=8,
    )
    choice = completion.choices[0]
    assert completion.object == "text_completion"
    assert choice.text and not choice.text.startswith("The capital")
    assert choice.finish_reason in ("stop", "length")
    assert completion.usage.completion_tokens <= 8


def test_echo_with_logprobs_and_no_new_tokens_scores_a_prompt(local_client):
    prompt = "The capital of France is Paris"
    completion = local_client.completions.create(
        model="gemma3", prompt=prompt, echo=True, logprobs=2, max_tokens=0,
    )
    choice = completion.choices[0]
    assert choice.text == prompt
    assert choice.finish_reason == "length"
    logprobs = choice.logprobs
    assert "".join(logprobs.tokens) == prompt
    assert logprobs.token_logprobs[0] is None and logprobs.top_logprobs[0] is None
    assert all(value <= 0 for value in logprobs.token_logprobs[1:])
    assert all(len(top) <= 2 for top in logprobs.top_logprobs[1:])
    offsets = [len("".join(logprobs.tokens[:i])) for i in range(len(logprobs.tokens))]
    assert logprobs.text_offset == offsets
    assert completion.usage.completion_tokens == 0
    assert completion.usage.prompt_tokens == len(logprobs.tokens)


def test_a_text_completion_streams(local_client):
    stream = local_client.completions.create(
        model="gemma3", prompt="One, two, three,", temperature=0, max_tokens=6, stream=True,
        stream_options={"include_usage": True},
    )
    chunks = list(stream)
    text = "".join(c.choices[0].text for c in chunks if c.choices)
    assert text
    finishes = [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason]
    assert finishes == ["length"] or finishes == ["stop"]
    assert chunks[-1].usage.completion_tokens <= 6


def test_an_image_for_a_model_that_cannot_read_one_is_refused_before_dispatch(local_client):
    import openai
    import pytest

    with pytest.raises(openai.BadRequestError) as error:
        local_client.chat.completions.create(
            model="smollm2",
            messages=[{"role": "user", "content": [
                {"type": "text", "text": "What is in this picture?"},
                {"type": "image_url", "image_url": {"url": "https://example.com/cat.png"}},
            ]}],
            max_tokens=8,
        )
    assert error.value.param == "model"
    assert "(local) does not support image input" in str(error.value)


def test_route_explain_names_why_a_local_model_cannot_take_an_image(local_url):
    import json
    import urllib.request

    body = {"model": "smollm2", "messages": [{"role": "user", "content": [
        {"type": "image_url", "image_url": {"url": "https://example.com/cat.png"}}]}]}
    request = urllib.request.Request(
        f"{local_url}/v1/route/explain", data=json.dumps(body).encode(), method="POST",
        headers={"content-type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        plan = json.loads(response.read())
    assert plan["needs"]["vision"] is True
    assert plan["candidates"] == []
    assert [entry["reason"] for entry in plan["excluded"]] == ["does not support image input"]
    assert plan["excluded"][0]["provider"] == "local"
    assert "does not support image input" in plan["refusal"]
