"""The live scenario in small: contestants over Socket.IO through nginx, every acknowledged answer in SQL."""

import json
import os
import subprocess
import sys

import pytest

from loadtests.stack import PROJECT_ROOT

pytestmark = pytest.mark.slow  # starts the whole stack: nginx, app processes, Redis, Locust


def test_small_live_round_loses_no_acknowledged_answer(tmp_path):
    # Logins are scrypt checks (CPU-bound, ~0.1-0.5 s each on this machine): a gentle ramp.
    env = {**os.environ, "LOADTEST_THINK": "0.5,1.5"}
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "loadtests.run",
            "--users",
            "30",
            "--spawn-rate",
            "3",
            "--duration",
            "45s",
            "--procs",
            "2",
            "--db",
            "sqlite",
            "--scenario",
            "steady",
            "--results",
            str(tmp_path),
        ],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        env=env,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    summary = json.loads(((tmp_path / "latest").resolve() / "summary.json").read_text())
    assert summary["failures"] == 0
    answers = summary["answers"]
    assert answers["acknowledged"] > 100 and answers["lost"] == 0
    # Locust's count and the ack log can differ by the answers in flight when Locust stops its users.
    assert abs(summary["answer_ack"]["count"] - answers["acknowledged"]) <= max(3, answers["acknowledged"] // 50)
    assert summary["params"]["think_s"] == "0.5,1.5"
    assert summary["endpoints"]["SIO submit ack"]["count"] > 0
