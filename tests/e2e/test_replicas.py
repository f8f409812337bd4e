"""Three Switchyard processes sharing one PostgreSQL and one Redis (the distributed
governance backend): a rate limit and a budget hold across all three under a concurrent
burst, every request is in the ledger exactly once, and a replica killed mid-stream
loses no record of a request it had completed.

PostgreSQL and Redis come from scripts/test.sh (SWITCHYARD_TEST_POSTGRES_URL,
SWITCHYARD_TEST_REDIS_URL), or else this module starts them with scripts/services.sh,
which installs them from Debian's packages when missing."""

import concurrent.futures
import glob
import json
import os
import shutil
import subprocess
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import openai
import pytest

from conftest import BIN_DIR, MASTER_KEY, UPSTREAM_KEY, Mock, _log_tail, _start, _stop

REPO = Path(__file__).resolve().parents[2]
REPLICAS = 3

CONFIG = """
[server]
master_keys = ["env:E2E_MASTER_KEY"]
store = "{store}"

[governance]
backend = "distributed"
postgres_url = "env:E2E_POSTGRES_URL"
redis_url = "env:E2E_REDIS_URL"
redis_prefix = "{prefix}"

[routing.breaker]
failures = 1000
min_calls = 1000

[providers.mock]
type = "openai"
base_url = "{mock}/v1"
api_key = "env:E2E_UPSTREAM_KEY"

# Dear on purpose, so a few requests spend a budget: $2,500 and $10,000 per million.
[deployments.main]
provider = "mock"
model = "mock-gpt"
price = {{ input = 2500.0, output = 10000.0 }}

[models.gpt-replicated]
deployments = ["main"]
"""


@pytest.fixture(scope="module")
def services():
    """The PostgreSQL and Redis URLs, from the environment or servers of our own."""
    names = ("SWITCHYARD_TEST_POSTGRES_URL", "SWITCHYARD_TEST_REDIS_URL")
    if all(os.environ.get(name) for name in names):
        yield {name: os.environ[name] for name in names}
        return
    process = subprocess.Popen(
        ["bash", str(REPO / "scripts" / "services.sh")],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )
    urls = {}
    for line in process.stdout:
        line = line.strip()
        if line == "ready":
            break
        name, _, value = line.partition("=")
        if name in names:
            urls[name] = value
    if set(urls) != set(names):
        process.kill()
        raise RuntimeError(
            "PostgreSQL and Redis could not be started by scripts/services.sh (see its "
            f"output above); exit status {process.wait()}"
        )
    yield urls
    process.stdin.close()  # the script stops both servers and deletes their data
    process.wait(timeout=60)


def psql():
    found = shutil.which("psql") or next(iter(sorted(glob.glob("/usr/lib/postgresql/*/bin/psql"))), None)
    if not found:
        raise RuntimeError("psql is missing: scripts/services.sh installs PostgreSQL with it")
    return found


@pytest.fixture(scope="module")
def database(services):
    """A fresh database on the test server, for this module's replicas."""
    admin = services["SWITCHYARD_TEST_POSTGRES_URL"]
    name = f"sy_replicas_{uuid.uuid4().hex[:12]}"
    subprocess.run([psql(), admin, "-q", "-c", f'CREATE DATABASE "{name}"'], check=True)
    return admin.rsplit("/", 1)[0] + "/" + name


class Replica:
    def __init__(self, number, workdir, mock_url, database, redis_url, prefix):
        self.number = number
        self.dir = workdir / f"replica-{number}"
        self.dir.mkdir(exist_ok=True)
        self.config = self.dir / "switchyard.toml"
        self.config.write_text(CONFIG.format(
            store=self.dir / "switchyard.db", prefix=prefix, mock=mock_url,
        ))
        self.env = {
            "E2E_MASTER_KEY": MASTER_KEY, "E2E_UPSTREAM_KEY": UPSTREAM_KEY,
            "E2E_POSTGRES_URL": database, "E2E_REDIS_URL": redis_url, "RUST_LOG": "info",
        }
        self.log = self.dir / "switchyard.log"
        self.process = None
        self.url = None

    def start(self):
        self.process, self.url = _start(
            [str(BIN_DIR / "switchyard"), "serve", "--config", str(self.config),
             "--listen", "127.0.0.1:0"],
            env=self.env, log_path=self.log, ready_line="ready",
        )

    def kill(self):
        self.process.kill()
        self.process.wait(timeout=10)


@pytest.fixture(scope="module")
def replicas(tmp_path_factory, mock_url, database, services):
    workdir = tmp_path_factory.mktemp("replicas")
    prefix = f"e2e-{uuid.uuid4().hex[:8]}:"
    started = [
        Replica(n, workdir, mock_url, database, services["SWITCHYARD_TEST_REDIS_URL"], prefix)
        for n in range(REPLICAS)
    ]
    try:
        for replica in started:
            replica.start()
        yield started
    finally:
        for replica in started:
            if replica.process is not None:
                _stop(replica.process)


def admin(replica, method, path, body=None):
    request = urllib.request.Request(
        f"{replica.url}{path}", method=method,
        data=json.dumps(body).encode() if body is not None else None,
        headers={"authorization": f"Bearer {MASTER_KEY}", "content-type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=15) as response:
        return json.loads(response.read())


def create_key(replica, settings):
    created = admin(replica, "POST", "/admin/keys", {"org": "replicated", **settings})
    return created["id"], created["secret"]


def chat(replica, secret, max_tokens=20, prompt="hello from one of three replicas"):
    """One request; the status and the Retry-After header."""
    body = json.dumps({
        "model": "gpt-replicated", "max_tokens": max_tokens,
        "messages": [{"role": "user", "content": prompt}],
    }).encode()
    request = urllib.request.Request(
        f"{replica.url}/v1/chat/completions", data=body, method="POST",
        headers={"authorization": f"Bearer {secret}", "content-type": "application/json"},
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            response.read()
            return response.status, None
    except urllib.error.HTTPError as error:
        error.read()
        return error.code, error.headers.get("retry-after")


def burst(replicas, secret, count):
    """`count` requests at once, spread evenly over the replicas; their statuses, and
    how long the burst took."""
    started = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(max_workers=count) as pool:
        results = list(pool.map(
            lambda n: chat(replicas[n % len(replicas)], secret), range(count)
        ))
    return results, time.monotonic() - started


def usage(replica, key, expected_requests, timeout_s=15):
    """The key's ledger totals, once the writers have written `expected_requests`."""
    deadline = time.monotonic() + timeout_s
    while True:
        rows = admin(replica, "GET", f"/admin/usage?group_by=key&key={key}")["data"]
        if rows and rows[0]["requests"] >= expected_requests or time.monotonic() > deadline:
            return rows[0] if rows else {"requests": 0, "errors": 0, "cost_usd": 0.0}
        time.sleep(0.2)


def test_a_rate_limit_holds_across_replicas(replicas):
    limit = 30
    key, secret = create_key(replicas[0], {"limits": {"rpm": limit}})
    results, elapsed = burst(replicas, secret, 3 * limit)
    admitted = sum(1 for status, _ in results if status == 200)
    refused = [retry for status, retry in results if status == 429]
    assert admitted + len(refused) == len(results), results
    # GCRA refills continuously: over the burst, `limit × elapsed / 60 s` more may pass.
    allowed = limit * 1.01 + limit * elapsed / 60
    print(f"rate limit: {admitted} of {len(results)} admitted in {elapsed:.2f}s "
          f"(limit {limit}/min, bound {allowed:.2f})")
    assert limit * 0.9 <= admitted <= allowed, (admitted, allowed)
    assert all(retry is not None for retry in refused)
    # Every request, admitted or refused, once in the ledger.
    totals = usage(replicas[1], key, len(results))
    assert totals["requests"] == len(results), totals
    assert totals["errors"] == len(refused), totals


def test_a_budget_holds_across_replicas(replicas):
    budget = 1.0
    key, secret = create_key(replicas[1], {"budgets": [f"{budget}usd/total"]})
    results, _ = burst(replicas, secret, 60)
    admitted = sum(1 for status, _ in results if status == 200)
    refused = sum(1 for status, _ in results if status == 429)
    assert admitted + refused == len(results), results
    assert admitted >= 1 and refused >= 1, results
    totals = usage(replicas[2], key, len(results))
    assert totals["requests"] == len(results), totals
    # One request's reservation: its prompt (a dozen tokens at most) and 20 output
    # tokens, at $2,500 and $10,000 per million.
    reservation = (16 * 2500 + 20 * 10000) / 1e6
    print(f"budget: {admitted} admitted, ${totals['cost_usd']:.4f} spent of ${budget} "
          f"(bound ${budget + reservation:.4f})")
    assert 0 < totals["cost_usd"] <= budget + reservation, totals
    # Spent as the counters see it, from any replica.
    shown = admin(replicas[0], "GET", f"/admin/keys/{key}")
    assert abs(shown["spend"][0]["spent_usd"] - totals["cost_usd"]) < 1e-6, shown


def test_a_replica_killed_mid_stream_loses_no_completed_record(replicas, mock_url):
    victim = replicas[2]
    key, secret = create_key(replicas[0], {})
    mock = Mock(mock_url)
    slow = [{
        "id": "chatcmpl-slow", "object": "chat.completion.chunk", "created": 1700000000,
        "model": "mock-gpt",
        "choices": [{"index": 0, "delta": {"content": f"w{i} "}, "finish_reason": None}],
    } for i in range(100)]
    mock.push("chat_completions", {"kind": "stream", "chunks": slow, "delay_ms": 100})
    client = openai.OpenAI(base_url=f"{victim.url}/v1", api_key=secret, max_retries=0, timeout=30)
    stream = client.chat.completions.create(
        model="gpt-replicated", messages=[{"role": "user", "content": "go on"}], stream=True,
    )
    first = next(event for event in stream if event.choices and event.choices[0].delta.content)
    assert first.choices[0].delta.content == "w0 "
    # Requests completed while the stream runs, the last just before the kill: their
    # records are still in the victim's queue (batches go out every 200 ms).
    completed = 5
    for _ in range(completed):
        status, _ = chat(victim, secret, max_tokens=5, prompt="quick")
        assert status == 200
    victim.kill()
    stream.close()
    victim.start()  # the same store path: it writes what its journal holds
    totals = usage(replicas[0], key, completed)
    assert totals["requests"] == completed, (totals, _log_tail(victim.log))
