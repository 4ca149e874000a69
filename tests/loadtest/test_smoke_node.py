"""`make loadtest SCENARIO=steady GENERATOR=node BARE=1` in small: the Node.js generator holds its contestants
through the real stack (login, start, WebSocket, answers), loses no acknowledged answer, and the same load runs
against the bare Flask-SocketIO app for the ratio."""

import json
import subprocess
import sys

import pytest

from loadtests.stack import PROJECT_ROOT

pytestmark = pytest.mark.slow  # starts the whole stack twice: nginx, app processes, Redis, the worker, Node.js


def test_node_generator_answers_through_the_stack_and_beside_the_bare_app(tmp_path):
    if not (PROJECT_ROOT / "loadtests" / "node" / "node_modules" / "socket.io-client").is_dir():
        pytest.fail("loadtests/node/node_modules missing: scripts/bootstrap.sh --load installs it")
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "loadtests.run",
            "--scenario",
            "steady",
            "--generator",
            "node",
            "--users",
            "30",
            "--spawn-rate",
            "15",
            "--duration",
            "40s",
            "--questions",
            "10",
            "--think",
            "1,2",
            "--light-hash",
            "--bare",
            "--results",
            str(tmp_path),
        ],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=400,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    run_dir = (tmp_path / "latest").resolve()
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["failures"] == 0 and summary["node"]["errors"] == {}
    assert summary["answers"]["lost"] == 0
    assert summary["answers"]["acknowledged"] > 100  # every acknowledged answer was checked against SQL
    assert summary["node"]["peak_connected"] == 30
    assert any(w["hold"] and w["answers_per_s"] > 0 for w in summary["node"]["windows"])
    assert summary["params"]["procs"] == 2  # 30 users need no more than the minimum
    # The report's parts: GC per generation (app processes and the worker), CPU per answer, the bare app's ratio.
    assert {"app-0", "app-1", "worker"} <= set(summary["gc"])
    assert summary["gc"]["app-0"]["generations"]["0"]["count"] > 0
    assert summary["gc"]["app-0"]["frozen_objects"] > 0
    assert summary["processes"]["app-0"]["open_files_max"] > 0
    assert summary["bare"]["bare"]["answers_per_s"] > 0 and summary["bare"]["bare"]["errors"] == 0
    text = (run_dir / "summary.md").read_text()
    for heading in ("answer ack per 10-second window", "The bare framework in the same run", "Garbage collection"):
        assert heading in text, heading
