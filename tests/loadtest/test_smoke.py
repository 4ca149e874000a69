"""`make loadtest` in small: the whole stack (nginx, 2 app processes, Redis, SQLite) under ~50 Locust users.

Keeps the scripts from rotting: zero failures, zero lost answers, and a complete report.
"""

import json
import subprocess
import sys

import pytest

from infra.config import Config
from loadtests.stack import PROJECT_ROOT

pytestmark = pytest.mark.slow  # starts the whole stack: nginx, app processes, Redis, Locust


def test_small_http_load_run_has_no_failures_and_loses_no_answers(tmp_path):
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "loadtests.run",
            "--users",
            "50",
            "--spawn-rate",
            "25",
            "--duration",
            "30s",
            "--procs",
            "2",
            "--db",
            "sqlite",
            "--scenario",
            "http",
            "--results",
            str(tmp_path),
        ],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    run_dir = (tmp_path / "latest").resolve()
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["failures"] == 0
    assert summary["answers"]["lost"] == 0
    assert summary["locust_peak_users"] == 50
    # Half the users are logged-in contestants (one seeded account each, one login each), half anonymous readers.
    assert summary["endpoints"]["POST /dang-nhap"]["count"] == 25
    assert summary["endpoints"]["GET /tai-khoan"]["count"] > 0
    assert summary["requests"] > 200
    assert {"app-0", "app-1", "nginx", "redis"} <= set(summary["processes"])
    assert all(p["rss_peak_mib"] > 0 for p in summary["processes"].values())
    for name in ("locust_stats.csv", "locust_stats_history.csv", "locust.html", "summary.md"):
        assert (run_dir / name).stat().st_size > 0, name
    assert "lost answers | 0 of" in (run_dir / "summary.md").read_text()
    # The real limits (25 logins would exceed one address's 10 per minute): one trusted proxy hop, nothing
    # exempt, the simulated users spread over loopback addresses; the report says so.
    security = summary["params"]["security"]
    assert security["proxy_hops"] == 1 and security["ratelimit_enabled"]
    assert security["login_rate_limit"] == Config.LOGIN_RATE_LIMIT and security["ratelimit_exempt_addresses"] == ""
    assert security["spread_source_addresses"]
    assert "Security settings: PROXY_HOPS=1" in (run_dir / "summary.md").read_text()
