"""The official `AzureOpenAI` client against Switchyard's Azure OpenAI routes: the
deployment in the path names the public model, and the key travels as `api-key`."""

import openai
import pytest

from conftest import MASTER_KEY
from test_openai_sdk import MODEL

API_VERSION = "2024-10-21"


@pytest.fixture
def azure(gateway_url):
    return openai.AzureOpenAI(azure_endpoint=gateway_url, api_key=MASTER_KEY,
                              api_version=API_VERSION, max_retries=0, timeout=15)


def test_a_deployment_route_answers_chat(azure, mock):
    answer = azure.chat.completions.create(
        model=MODEL, messages=[{"role": "user", "content": "hello azure"}])
    assert answer.choices[0].message.content == "echo: hello azure"
    assert mock.last_body()["model"] == "mock-gpt"


def test_a_deployment_route_streams(azure, mock):
    stream = azure.chat.completions.create(
        model=MODEL, messages=[{"role": "user", "content": "stream azure"}], stream=True)
    text = "".join(chunk.choices[0].delta.content or "" for chunk in stream if chunk.choices)
    assert text == "echo: stream azure"


def test_a_deployment_route_embeds(azure, mock):
    result = azure.embeddings.create(model=MODEL, input=["a", "bb"])
    assert len(result.data) == 2 and result.data[0].embedding


def test_an_unknown_deployment_is_a_404(azure):
    with pytest.raises(openai.NotFoundError) as error:
        azure.chat.completions.create(model="no-such-deployment",
                                      messages=[{"role": "user", "content": "x"}])
    assert error.value.code == "model_not_found"


def test_a_wrong_api_key_is_refused(gateway_url):
    wrong = openai.AzureOpenAI(azure_endpoint=gateway_url, api_key="wrong",
                               api_version=API_VERSION, max_retries=0)
    with pytest.raises(openai.AuthenticationError):
        wrong.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "x"}])


def test_the_v1_routes_take_the_model_in_the_body(gateway_url, mock):
    client = openai.OpenAI(base_url=f"{gateway_url}/openai/v1", api_key=MASTER_KEY,
                           max_retries=0, timeout=15)
    answer = client.chat.completions.create(
        model=MODEL, messages=[{"role": "user", "content": "v1 path"}])
    assert answer.choices[0].message.content == "echo: v1 path"
    assert MODEL in [model.id for model in client.models.list()]
    assert client.embeddings.create(model=MODEL, input="x").data[0].embedding
