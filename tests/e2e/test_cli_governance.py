"""`switchyard keys` and `switchyard usage` against a running gateway's admin API."""

import json
import os
import subprocess
import time

import openai
import pytest

from conftest import BIN_DIR, MASTER_KEY


def switchyard(gateway_url, *args, master_key=MASTER_KEY, check=True):
    env = {k: v for k, v in os.environ.items() if not k.startswith("SWITCHYARD_")}
    env["NO_COLOR"] = "1"
    if master_key is not None:
        env["SWITCHYARD_MASTER_KEY"] = master_key
    result = subprocess.run(
        [str(BIN_DIR / "switchyard"), *args, "--url", gateway_url],
        capture_output=True, text=True, env=env, timeout=30,
    )
    if check:
        assert result.returncode == 0, result.stderr
    return result


def chat(gateway_url, secret):
    client = openai.OpenAI(base_url=f"{gateway_url}/v1", api_key=secret, max_retries=0, timeout=15)
    return client.chat.completions.create(
        model="gpt-test", messages=[{"role": "user", "content": "counted"}]
    )


def test_keys_from_the_command_line(gateway_url):
    created = json.loads(switchyard(
        gateway_url, "keys", "create", "--tenant", "cli-acme", "--team", "research",
        "--budget", "50usd/month", "--rpm", "600", "--tpm", "200000",
        "--models", "gpt-4o,smollm2", "--policy", "jurisdiction=EU", "--json",
    ).stdout)
    assert created["secret"].startswith("sy-")
    assert created["budgets"] == ["50usd/month"]
    assert created["limits"] == {"rpm": 600, "tpm": 200000}
    assert created["models"] == ["gpt-4o", "smollm2"]
    assert created["policy"] == {"jurisdictions": ["EU"]}

    shown = switchyard(gateway_url, "keys", "show", created["id"]).stdout
    assert "cli-acme/research" in shown and "600 rpm, 200000 tpm" in shown
    assert "budget 50usd/month" in shown and created["secret"] not in shown

    # A plain key, used, rotated and revoked.
    plain = switchyard(gateway_url, "keys", "create", "--tenant", "cli-acme", "--name", "plain").stdout
    secret = plain.strip().splitlines()[-1]
    key_id = plain.split()[1]
    assert secret.startswith("sy-") and key_id.startswith("key_"), plain
    chat(gateway_url, secret)

    listed = switchyard(gateway_url, "keys", "list", "--tenant", "cli-acme").stdout
    assert created["id"] in listed and key_id in listed and "active" in listed

    rotated = switchyard(gateway_url, "keys", "rotate", key_id).stdout
    new_secret = rotated.strip().splitlines()[-1]
    with pytest.raises(openai.AuthenticationError):
        chat(gateway_url, secret)
    chat(gateway_url, new_secret)
    new_id = rotated.split()[3]
    assert switchyard(gateway_url, "keys", "revoke", new_id).stdout.startswith(f"Revoked {new_id}")
    with pytest.raises(openai.AuthenticationError):
        chat(gateway_url, new_secret)
    assert "revoked" in switchyard(gateway_url, "keys", "list", "--revoked").stdout

    # The ledger, grouped by key, as a table and as CSV: the first key served one
    # request (the rotated key, a key of its own, the other).
    deadline = time.monotonic() + 10
    while True:
        report = json.loads(switchyard(
            gateway_url, "usage", "--group-by", "key", "--key", key_id, "--json"
        ).stdout)
        if report["data"] and report["data"][0]["requests"] >= 1 or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert report["data"][0]["requests"] == 1, report
    table = switchyard(gateway_url, "usage", "--group-by", "key", "--key", key_id).stdout
    assert table.splitlines()[0].split()[:3] == ["KEY", "REQUESTS", "ERRORS"], table
    assert key_id in table
    csv = switchyard(gateway_url, "usage", "--group-by", "key", "--key", key_id, "--csv").stdout
    assert csv.startswith("key,requests,errors,"), csv


def test_keys_without_a_master_key_or_with_bad_flags_say_why(gateway_url):
    missing = switchyard(gateway_url, "keys", "list", master_key=None, check=False)
    assert missing.returncode == 1
    assert "SWITCHYARD_MASTER_KEY" in missing.stderr
    wrong = switchyard(gateway_url, "keys", "list", master_key="not-the-key", check=False)
    assert wrong.returncode == 1 and "401" in wrong.stderr, wrong.stderr
    typo = switchyard(gateway_url, "keys", "create", "--tenant", "x", "--policy", "jurisdictoin=EU",
                      check=False)
    assert typo.returncode == 1 and "--policy jurisdictoin=EU" in typo.stderr, typo.stderr
    bad_budget = switchyard(gateway_url, "keys", "create", "--tenant", "x", "--budget", "lots",
                            check=False)
    assert bad_budget.returncode == 1 and "budget" in bad_budget.stderr, bad_budget.stderr
