"""Fixtures: a mock OpenAI upstream and a Switchyard server in front of it, as real
processes on free loopback ports, started once per session."""

import json
import os
import subprocess
import queue
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

import openai
import pytest

MASTER_KEY = "e2e-master-key"
UPSTREAM_KEY = "sk-e2e-upstream-0123456789abcdef"
STARTUP_TIMEOUT_S = 30


def _default_bin_dir():
    target = os.environ.get("CARGO_TARGET_DIR") or os.path.join(
        os.path.expanduser("~"), ".cache", "switchyard", "target"
    )
    return os.path.join(target, "debug")


BIN_DIR = Path(os.environ.get("SWITCHYARD_BIN_DIR") or _default_bin_dir())


def _log_tail(path, lines=40):
    try:
        return "\n".join(Path(path).read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


def _start(args, env=None, log_path=None, ready_line=None, timeout_s=STARTUP_TIMEOUT_S):
    """Starts a binary that prints `listening on http://HOST:PORT` (and then
    `ready_line`, when given, once it can answer); returns (process, url).

    stdout is read on a thread, so the wait for that line has a real deadline even if the
    process prints nothing, and whatever it prints later never fills the pipe."""
    if not Path(args[0]).is_file():
        raise RuntimeError(f"{args[0]} is missing; run tests/e2e/run.sh after building it")
    log = open(log_path, "wb") if log_path else subprocess.DEVNULL
    process = subprocess.Popen(
        args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=log,
        env={**os.environ, "NO_COLOR": "1", **(env or {})},
    )
    if log is not subprocess.DEVNULL:
        log.close()  # the child holds its own descriptor
    lines = queue.Queue()

    def pump():
        for raw in process.stdout:
            lines.put(raw.decode(errors="replace").strip())
        lines.put(None)

    threading.Thread(target=pump, daemon=True).start()
    deadline = time.monotonic() + timeout_s
    seen = []
    url = None
    while True:
        left = deadline - time.monotonic()
        try:
            line = lines.get(timeout=max(left, 0.01)) if left > 0 else None
        except queue.Empty:
            line = None
        if line and line.startswith("listening on "):
            url = line.split("listening on ", 1)[1].strip()
            if ready_line is None:
                return process, url
        elif line is not None and url is not None and line == ready_line:
            return process, url
        if line is None:
            break
        seen.append(line)
    _stop(process)
    waited_for = f"`{ready_line}`" if url else "`listening on`"
    raise RuntimeError(
        f"{args[0]} printed no {waited_for} line within {timeout_s}s "
        f"(exit status {process.poll()}); stdout: {seen!r}\nstderr tail:\n"
        f"{_log_tail(log_path) if log_path else ''}"
    )


def _stop(process):
    """SIGTERM, then SIGKILL if it has not exited within 10 s."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


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
store = "switchyard.db"

# Tests script upstream failures on purpose, one gateway serving them all: a breaker
# opened by one test must not answer for the next.
[routing.breaker]
failures = 1000
min_calls = 1000

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
        ready_line="ready",
    )
    yield url
    _stop(process)


def models_home():
    """Where the built-in local models are installed for tests (run.sh pulls them)."""
    return os.environ.get("SWITCHYARD_TEST_HOME") or os.path.join(
        os.path.expanduser("~"), ".cache", "switchyard", "home"
    )


@pytest.fixture(scope="session")
def local_url(workdir):
    """Switchyard with no config file: the built-in local models, nothing else."""
    process, url = _start(
        [str(BIN_DIR / "switchyard"), "serve", "--offline", "--listen", "127.0.0.1:0"],
        env={"SWITCHYARD_HOME": models_home(), "RUST_LOG": "info"},
        log_path=workdir / "switchyard-local.log",
        ready_line="ready",
    )
    yield url
    _stop(process)


@pytest.fixture
def local_client(local_url):
    return openai.OpenAI(base_url=f"{local_url}/v1", api_key="none", max_retries=0, timeout=60)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    """On a failure, attach the tail of the gateway's log to the report."""
    report = yield
    workdir = getattr(item, "funcargs", {}).get("workdir")
    if report.failed and workdir is not None:
        report.sections.append(("switchyard log (tail)", _log_tail(workdir / "switchyard.log")))
    return report


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

    def stats(self):
        """`{"streams_cancelled": N, "pending": {route: scripts not consumed yet}}`."""
        return self._call("GET", "/__mock/stats")

    def pending(self):
        """Scripts pushed but not consumed yet, by route."""
        return self.stats()["pending"]

    def drain(self):
        """Consumes scripts a test pushed but did not use, by calling the mock directly, so
        that they cannot leak into the next test."""
        probes = {
            "chat_completions": ("POST", "/v1/chat/completions", {"model": "drain", "messages": []}),
            "completions": ("POST", "/v1/completions", {"model": "drain", "prompt": "x"}),
            "embeddings": ("POST", "/v1/embeddings", {"model": "drain", "input": "x"}),
            "models": ("GET", "/v1/models", None),
        }
        for route, count in self.pending().items():
            method, path, body = probes[route]
            for _ in range(count):
                data = json.dumps(body).encode() if body is not None else None
                request = urllib.request.Request(
                    f"{self.url}{path}", data=data, method=method,
                    headers={"content-type": "application/json"},
                )
                try:
                    urllib.request.urlopen(request, timeout=0.5).read()
                except Exception:  # errors, stalls and resets are what scripts are for
                    pass


@pytest.fixture(autouse=True)
def mock(mock_url):
    """The mock upstream's control API; its recorded requests are cleared before each test
    and scripts left unconsumed are drained after it."""
    mock = Mock(mock_url)
    mock.clear()
    yield mock
    leftover = {route: n for route, n in mock.pending().items() if n}
    mock.drain()
    assert not leftover, f"the test left unconsumed mock scripts: {leftover}"
