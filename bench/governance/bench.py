#!/usr/bin/env python3
"""What governance costs per request: the latency and throughput of one Switchyard
answering through a virtual key (authentication, rate limits, a budget reservation and
its settlement, a ledger row) against the same server open, with no key, on the embedded
backend (SQLite + in-process counters) and the distributed one (PostgreSQL + Redis).

    python3 bench/governance/bench.py            # 3 rounds of 10 s per point
    BENCH_QUICK=1 python3 bench/governance/bench.py

Everything runs on 127.0.0.1: nginx as a canned upstream (bench/gateway/completion.json),
PostgreSQL and Redis from scripts/services.sh, the release binary, wrk with
bench/gateway/post.lua. Servers are pinned to CPU 0 and wrk to CPU 1, as in the gateway
benchmark (bench/README.md explains why). Prints a table and writes JSON to
bench/out/governance-<UTC time>.json.

Environment: BENCH_DURATION (10 | quick 3), BENCH_WARMUP (2 | 1), BENCH_REPEAT (3 | 1),
BENCH_CONCURRENCY ("1 16"), SWITCHYARD_BIN (default: the release binary in the cargo
target directory, built if missing), BENCH_OUT_DIR (bench/out).
"""

import datetime
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
GATEWAY = ROOT / "bench" / "gateway"
QUICK = os.environ.get("BENCH_QUICK") == "1"
DURATION = int(os.environ.get("BENCH_DURATION", 3 if QUICK else 10))
WARMUP = int(os.environ.get("BENCH_WARMUP", 1 if QUICK else 2))
REPEAT = int(os.environ.get("BENCH_REPEAT", 1 if QUICK else 3))
CONCURRENCY = [int(c) for c in os.environ.get("BENCH_CONCURRENCY", "1 16").split()]
MASTER = "bench-master-key"
TARGETS = ("open", "embedded", "distributed")


def log(message):
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def ensure_tools():
    missing = [package for tool, package in (("wrk", "wrk"), ("taskset", "util-linux"))
               if not shutil.which(tool)]
    if not (shutil.which("nginx") or Path("/usr/sbin/nginx").exists()):
        missing.append("nginx-light")
    if missing:
        log(f"installing {' '.join(missing)} from Debian")
        sudo = [] if os.geteuid() == 0 else ["sudo"]
        subprocess.run(sudo + ["apt-get", "update", "-qq"], check=True, stdout=subprocess.DEVNULL)
        subprocess.run(sudo + ["env", "DEBIAN_FRONTEND=noninteractive", "apt-get", "install",
                               "-y", "-qq", *missing], check=True, stdout=subprocess.DEVNULL)


def switchyard_binary():
    given = os.environ.get("SWITCHYARD_BIN")
    if given:
        return Path(given)
    metadata = json.loads(subprocess.run(
        ["cargo", "metadata", "--format-version", "1", "--no-deps"], cwd=ROOT,
        check=True, capture_output=True, text=True).stdout)
    binary = Path(metadata["target_directory"]) / "release" / "switchyard"
    if not binary.exists():
        log("building the release binary (cargo build --release --locked -p switchyard)")
        subprocess.run(["cargo", "build", "--release", "--locked", "-p", "switchyard"],
                       cwd=ROOT, check=True)
    return binary


class Processes:
    """Everything started, stopped in reverse order on exit."""

    def __init__(self):
        self.started = []

    def start(self, args, **kwargs):
        process = subprocess.Popen(args, **kwargs)
        self.started.append(process)
        return process

    def stop_all(self):
        for process in reversed(self.started):
            if process.stdin:
                process.stdin.close()  # scripts/services.sh stops its servers on this
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for process in reversed(self.started):
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()


ON_SERVERS = ["taskset", "-c", "0"]
ON_CLIENT = ["taskset", "-c", "1"]


def start_nginx(processes, work):
    port = free_port()
    body = (GATEWAY / "completion.json").read_text().strip()
    assert "'" not in body and "\\" not in body
    (work / "nginx").mkdir()
    conf = work / "nginx" / "nginx.conf"
    conf.write_text(f"""
worker_processes 1;
daemon off;
pid {work}/nginx/nginx.pid;
error_log {work}/nginx/error.log warn;
events {{ worker_connections 4096; }}
http {{
  access_log off;
  client_body_temp_path {work}/nginx/body;
  keepalive_requests 1000000000;
  server {{
    listen 127.0.0.1:{port};
    location = /v1/chat/completions {{ default_type application/json; return 200 '{body}'; }}
  }}
}}
""")
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    processes.start(ON_SERVERS + [nginx, "-p", str(work / "nginx"), "-e", str(work / "nginx" / "error.log"),
                                  "-c", str(conf)])
    return port


def start_services(processes):
    """PostgreSQL and Redis from scripts/services.sh, on the servers' CPU."""
    process = processes.start(ON_SERVERS + ["bash", str(ROOT / "scripts" / "services.sh")],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    urls = {}
    for line in process.stdout:
        line = line.strip()
        if line == "ready":
            return urls["SWITCHYARD_TEST_POSTGRES_URL"], urls["SWITCHYARD_TEST_REDIS_URL"]
        name, _, value = line.partition("=")
        urls[name] = value
    raise SystemExit("scripts/services.sh could not start PostgreSQL and Redis (see above)")


def create_database(admin_url, name):
    psql = shutil.which("psql") or sorted(Path("/usr/lib/postgresql").glob("*/bin/psql"))[-1]
    subprocess.run([str(psql), admin_url, "-q", "-c", f'CREATE DATABASE "{name}"'], check=True)
    return admin_url.rsplit("/", 1)[0] + "/" + name


CONFIG = """
[server]
{server}

[governance]
{governance}

[providers.upstream]
type = "openai"
base_url = "http://127.0.0.1:{upstream}/v1"

[deployments.static]
provider = "upstream"
model = "static-model"
price = {{ input = 2.5, output = 10.0 }}

[models.bench]
deployments = ["static"]
"""


def start_switchyard(processes, binary, work, name, upstream, env):
    directory = work / name
    directory.mkdir()
    server = 'store = "memory"' if name == "open" else (
        f'master_keys = ["env:BENCH_MASTER"]\nstore = "{directory / "switchyard.db"}"')
    governance = "" if name != "distributed" else (
        'backend = "distributed"\npostgres_url = "env:BENCH_POSTGRES_URL"\n'
        'redis_url = "env:BENCH_REDIS_URL"')
    config = directory / "switchyard.toml"
    config.write_text(CONFIG.format(server=server, governance=governance, upstream=upstream))
    port = free_port()
    out = open(directory / "stdout", "w")
    process = processes.start(
        ON_SERVERS + [str(binary), "serve", "--config", str(config), "--listen", f"127.0.0.1:{port}"],
        stdout=out, stderr=open(directory / "stderr", "w"),
        env={**os.environ, **env, "BENCH_MASTER": MASTER, "RUST_LOG": "warn"},
    )
    deadline = time.monotonic() + 60
    while "ready" not in (directory / "stdout").read_text().split():
        if process.poll() is not None or time.monotonic() > deadline:
            raise SystemExit(f"switchyard ({name}) did not start:\n{(directory / 'stderr').read_text()}")
        time.sleep(0.1)
    return f"http://127.0.0.1:{port}"


def create_key(binary, url):
    """A key held to every kind of check, none of them close to binding."""
    created = subprocess.run(
        [str(binary), "keys", "create", "--url", url, "--tenant", "bench", "--team", "load",
         "--rpm", "100000000", "--tpm", "10000000000", "--max-parallel", "10000",
         "--budget", "1000000usd/month", "--json"],
        env={**os.environ, "SWITCHYARD_MASTER_KEY": MASTER}, check=True,
        capture_output=True, text=True,
    )
    key = json.loads(created.stdout)
    return key["id"], key["secret"]


def wrk(url, secret, concurrency, seconds):
    env = {**os.environ, "BENCH_BODY_FILE": str(GATEWAY / "request.json"),
           "BENCH_API_KEY": secret}
    result = subprocess.run(
        ON_CLIENT + ["wrk", "-t", "1", "-c", str(concurrency), "-d", f"{seconds}s",
                     "--latency", "-s", str(GATEWAY / "post.lua"), f"{url}/v1/chat/completions"],
        env=env, check=True, capture_output=True, text=True,
    )
    values = {}
    for line in result.stdout.splitlines():
        if line.startswith("RESULT "):
            _, name, value = line.split()
            values[name] = float(value)
    values["errors"] = sum(values.get(f"err_{kind}", 0)
                           for kind in ("connect", "read", "write", "status", "timeout"))
    return values


def ledger_requests(url, key_id):
    request = urllib.request.Request(
        f"{url}/admin/usage?group_by=key&key={key_id}",
        headers={"authorization": f"Bearer {MASTER}"})
    with urllib.request.urlopen(request, timeout=30) as response:
        rows = json.loads(response.read())["data"]
    return rows[0]["requests"] if rows else 0


def ledger_writer_counts(url):
    """The ledger writer's `written`, `spilled` and `lost` counts, from /metrics."""
    request = urllib.request.Request(
        f"{url}/metrics", headers={"authorization": f"Bearer {MASTER}"})
    with urllib.request.urlopen(request, timeout=30) as response:
        text = response.read().decode()
    counts = {}
    for line in text.splitlines():
        if line.startswith("switchyard_ledger_records{"):
            outcome = line.split('outcome="', 1)[1].split('"', 1)[0]
            counts[outcome] = int(float(line.rsplit(" ", 1)[1]))
    return counts


def settled_ledger_requests(url, key_id, timeout_s=60):
    count, deadline = -1, time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        time.sleep(1)
        now = ledger_requests(url, key_id)
        if now == count:
            break
        count = now
    return count


def median_round(rounds):
    ordered = sorted(rounds, key=lambda result: result["p50_us"])
    return ordered[len(ordered) // 2]


def main():
    ensure_tools()
    binary = switchyard_binary()
    processes = Processes()
    work = Path(tempfile.mkdtemp(prefix="switchyard-bench-governance."))
    os.chmod(work, 0o755)
    try:
        upstream = start_nginx(processes, work)
        postgres, redis = start_services(processes)
        database = create_database(postgres, "bench_governance")
        env = {"BENCH_POSTGRES_URL": database, "BENCH_REDIS_URL": redis}
        urls = {name: start_switchyard(processes, binary, work, name, upstream, env)
                for name in TARGETS}
        keys = {"open": (None, "none")}
        for name in ("embedded", "distributed"):
            keys[name] = create_key(binary, urls[name])
        log(f"nginx on {upstream}; servers {urls}")
        results = {name: {c: [] for c in CONCURRENCY} for name in TARGETS}
        sent = {name: 0 for name in TARGETS}
        for round_number in range(REPEAT):
            for concurrency in CONCURRENCY:
                for name in TARGETS:
                    secret = keys[name][1]
                    warm = wrk(urls[name], secret, concurrency, WARMUP)
                    measured = wrk(urls[name], secret, concurrency, DURATION)
                    sent[name] += int(warm["requests"] + measured["requests"])
                    results[name][concurrency].append(measured)
                    log(f"round {round_number + 1} c={concurrency} {name}: "
                        f"{measured['rps']:.0f} rps, p50 {measured['p50_us']:.0f} µs, "
                        f"p99 {measured['p99_us']:.0f} µs, {measured['errors']:.0f} errors")
        # Governance did its work: every request of the keyed runs is in the ledger
        # (once the writers have caught up: the count stops changing).
        recorded = {name: settled_ledger_requests(urls[name], keys[name][0])
                    for name in ("embedded", "distributed")}
        writers = {name: ledger_writer_counts(urls[name]) for name in ("embedded", "distributed")}
        report(results, sent, recorded, writers, binary)
    finally:
        processes.stop_all()
        shutil.rmtree(work, ignore_errors=True)


def report(results, sent, recorded, writers, binary):
    commit = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
                            capture_output=True, text=True).stdout.strip()
    now = datetime.datetime.now(datetime.timezone.utc)
    lines = [
        f"Switchyard governance cost ({'quick' if QUICK else 'full'}) {now:%Y-%m-%dT%H:%M:%SZ}, "
        f"commit {commit}, {binary.name} release build",
        f"wrk 1 thread, keep-alive POST, {DURATION} s per point after {WARMUP} s warm-up, "
        f"median (by p50) of {REPEAT} round(s); servers, PostgreSQL and Redis on CPU 0, wrk on CPU 1",
        "open: no key, in-memory store; embedded: a virtual key (rpm, tpm, max_parallel, a "
        "monthly budget) on SQLite + in-process counters; distributed: the same on PostgreSQL + Redis",
        "",
        f"{'c':>3}  {'target':<12}{'RPS':>9}{'p50 µs':>9}{'p99 µs':>9}"
        f"{'added p50':>11}{'added p99':>11}{'RPS ratio':>11}{'errors':>8}",
        "-" * 83,
    ]
    summary = {}
    for concurrency in CONCURRENCY:
        base = median_round(results["open"][concurrency])
        for name in TARGETS:
            chosen = median_round(results[name][concurrency])
            added50 = chosen["p50_us"] - base["p50_us"]
            added99 = chosen["p99_us"] - base["p99_us"]
            ratio = chosen["rps"] / base["rps"] if base["rps"] else 0
            summary.setdefault(str(concurrency), {})[name] = {
                **chosen, "added_p50_us": added50, "added_p99_us": added99, "rps_ratio": ratio,
                "rounds_rps": [r["rps"] for r in results[name][concurrency]],
            }
            added = ("-", "-") if name == "open" else (f"{added50:+.0f}", f"{added99:+.0f}")
            lines.append(
                f"{concurrency:>3}  {name:<12}{chosen['rps']:>9,.0f}{chosen['p50_us']:>9,.0f}"
                f"{chosen['p99_us']:>9,.0f}{added[0]:>11}{added[1]:>11}{ratio:>10.2f}x"
                f"{chosen['errors']:>8.0f}")
    lines.append("")
    for name, count in recorded.items():
        lines.append(f"ledger: {name} recorded {count:,} requests of its key; wrk counted "
                     f"{sent[name]:,} answers (requests cut off when a run ends are recorded too, "
                     "as 499)")
    for name, counts in writers.items():
        lines.append(f"ledger writer: {name} " + ", ".join(f"{outcome} {count:,}"
                                                         for outcome, count in sorted(counts.items())))
    print("\n".join(lines))
    out_dir = Path(os.environ.get("BENCH_OUT_DIR", ROOT / "bench" / "out"))
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"governance-{now:%Y%m%dT%H%M%SZ}.json"
    path.write_text(json.dumps({"commit": commit, "quick": QUICK, "duration_s": DURATION,
                                "repeat": REPEAT, "results": summary, "sent": sent,
                                "recorded": recorded, "ledger_writers": writers}, indent=2))
    log(f"wrote {path}")


if __name__ == "__main__":
    main()
