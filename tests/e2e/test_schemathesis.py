"""schemathesis drives every operation of the served `/openapi.json`, authenticated with
a master key, with generated and mutated inputs (positive and negative, every phase but
stateful): the server answers none of them with a 5xx and is still up at the end.

The gateway is one of its own, in front of the mock upstream, so the keys and records
the run creates stay out of the other tests' way."""

import subprocess
import sys
import urllib.request
from pathlib import Path

from conftest import BIN_DIR, CONFIG, MASTER_KEY, UPSTREAM_KEY, _start, _stop, _log_tail

# Per operation; about 40 operations. Raise it to look harder.
MAX_EXAMPLES = 50


def test_no_generated_or_mutated_request_gets_a_server_error(tmp_path, mock_url):
    config = tmp_path / "switchyard.toml"
    config.write_text(CONFIG.format(mock=mock_url))
    process, url = _start(
        [str(BIN_DIR / "switchyard"), "serve", "--config", str(config), "--listen", "127.0.0.1:0"],
        env={"E2E_MASTER_KEY": MASTER_KEY, "E2E_UPSTREAM_KEY": UPSTREAM_KEY, "RUST_LOG": "warn"},
        log_path=tmp_path / "switchyard.log",
        ready_line="ready",
    )
    try:
        run = subprocess.run(
            [
                str(Path(sys.executable).parent / "schemathesis"), "run", f"{url}/openapi.json",
                "--checks", "not_a_server_error",
                "--mode", "all",
                "--phases", "examples,coverage,fuzzing",
                "--max-examples", str(MAX_EXAMPLES),
                "--seed", "20",
                "--workers", "2",
                "--request-timeout", "20",
                "--header", f"Authorization: Bearer {MASTER_KEY}",
                "--suppress-health-check", "all",
                "--warnings", "off",
                "--no-color",
            ],
            capture_output=True, text=True, timeout=900,
            # Its example database and reports go to the test's own directory.
            cwd=tmp_path,
        )
        print(run.stdout[-6000:])
        with urllib.request.urlopen(f"{url}/healthz", timeout=5) as response:
            assert response.status == 200, "the server is still up"
        assert process.poll() is None, "the server is still running"
        assert run.returncode == 0, (
            f"schemathesis found failures (exit {run.returncode}):\n{run.stdout[-12000:]}\n"
            f"{run.stderr[-2000:]}\nserver log:\n{_log_tail(tmp_path / 'switchyard.log')}"
        )
    finally:
        _stop(process)
