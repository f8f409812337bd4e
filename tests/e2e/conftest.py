"""Fixtures: a mock OpenAI upstream and a Switchyard server in front of it, as real
processes on free loopback ports, started once per session."""

import json
import os
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path

import openai
import pytest

MASTER_KEY = "e2e-master-key"
UPSTREAM_KEY = "sk-e2e-upstream-0123456789abcdef"
BIN_DIR = Path(os.environ.get("SWITCHYARD_BIN_DIR", "target/debug"))


def _start(args, env=None, log_path=None):
    """Starts a binary that prints `listening on http://HOST:PORT`; returns (process, url)."""
    log = open(log_path, "wb") if log_path else subprocess.DEVNULL
    process = subprocess.Popen(
        args, stdout=subprocess.PIPE, stderr=log, env={**os.environ, **(env or {})}
    )
    deadline = time.monotonic() + 30
    line = b""
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if line.startswith(b"listening on "):
            return process, line.decode().split("listening on ", 1)[1].strip()
        if process.poll() is not None:
            break
    process.kill()
    raise RuntimeError(f"{args[0]} did not start: {line!r}; see {log_path}")


def _stop(process):
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()


@pytest.fixture(scope="session")
def workdir():
    with tempfile.TemporaryDirectory(prefix="switchyard-e2e-") as path:
        yield Path(path)


@pytest.fixture(scope="session")
def mock_url(workdir):
    process, url = _start(
        [str(BIN_DIR / "switchyard-mock-openai"), "--listen", "127.0.0.1:0"],
        log_path=workdir / "mock.log",
    )
    yield url
    _stop(process)


CONFIG = """
[server]
master_keys = ["env:E2E_MASTER_KEY"]
max_body_bytes = 65536

[providers.mock]
type = "openai"
base_url = "{mock}/v1"
api_key = "env:E2E_UPSTREAM_KEY"

[deployments.main]
provider = "mock"
model = "mock-gpt"
embeddings = true

[deployments.impatient]
provider = "mock"
model = "mock-gpt"
timeouts = {{ first_byte = "500ms", idle = "500ms", total = "10s" }}

[models.gpt-test]
deployments = ["main"]

[models.impatient]
deployments = ["impatient"]
"""


@pytest.fixture(scope="session")
def gateway_url(workdir, mock_url):
    config = workdir / "switchyard.toml"
    config.write_text(CONFIG.format(mock=mock_url))
    process, url = _start(
        [str(BIN_DIR / "switchyard"), "serve", "--config", str(config), "--listen", "127.0.0.1:0"],
        env={"E2E_MASTER_KEY": MASTER_KEY, "E2E_UPSTREAM_KEY": UPSTREAM_KEY, "RUST_LOG": "info"},
        log_path=workdir / "switchyard.log",
    )
    yield url
    _stop(process)


@pytest.fixture
def client(gateway_url):
    return openai.OpenAI(
        base_url=f"{gateway_url}/v1", api_key=MASTER_KEY, max_retries=0, timeout=15
    )


class Mock:
    """Scripts the mock upstream and reads what it received, over its control routes."""

    def __init__(self, url):
        self.url = url

    def _call(self, method, path, body=None):
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(
            f"{self.url}{path}", data=data, method=method,
            headers={"content-type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            text = response.read()
        return json.loads(text) if text else None

    def push(self, route, script):
        self._call("POST", f"/__mock/scripts/{route}", script)

    def requests(self):
        return self._call("GET", "/__mock/requests")

    def last_body(self):
        return self.requests()[-1]["body"]

    def clear(self):
        self._call("DELETE", "/__mock/requests")


@pytest.fixture
def mock(mock_url):
    mock = Mock(mock_url)
    mock.clear()
    return mock
