"""The nginx configuration the stack renders is valid for Debian's nginx and keeps the properties we rely on."""

import argparse
import subprocess

import pytest

from loadtests.addresses import source_address
from loadtests.run import duration_seconds
from loadtests.stack import find_nginx, kernel_limits, render_nginx_conf


def test_rendered_nginx_conf_passes_nginx_t(tmp_path):
    for sub in ("body", "proxy", "fastcgi", "uwsgi", "scgi"):
        (tmp_path / "tmp" / sub).mkdir(parents=True)
    conf = render_nginx_conf(tmp_path, 18080, [15001, 15002, 15003], nofile=20000)
    (tmp_path / "nginx.conf").write_text(conf)
    nginx = find_nginx()
    assert nginx, "nginx is installed by scripts/bootstrap.sh --load"
    check = subprocess.run(
        [nginx, "-t", "-p", str(tmp_path), "-c", str(tmp_path / "nginx.conf"), "-e", str(tmp_path / "error.log")],
        capture_output=True,
        text=True,
    )
    assert check.returncode == 0, check.stderr
    assert "${" not in conf
    for port in (15001, 15002, 15003):
        assert f"server 127.0.0.1:{port}" in conf
    # Sticky by the session cookie (long-polling), WebSocket upgrade, no permessage-deflate, limits raised.
    assert "hash $sticky_key consistent;" in conf and "map $cookie_session $sticky_key" in conf
    assert "proxy_set_header Upgrade $http_upgrade;" in conf
    assert 'proxy_set_header Sec-WebSocket-Extensions "";' in conf
    # The app runs with PROXY_HOPS=1: nginx must append the client address and pass the scheme.
    assert "proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;" in conf
    assert "proxy_set_header X-Forwarded-Proto $scheme;" in conf
    assert "worker_rlimit_nofile 20000;" in conf and "worker_connections 19488;" in conf
    assert "worker_processes 4;" in conf and "keepalive 256;" in conf


def test_duration_syntax():
    assert duration_seconds("90") == 90
    assert duration_seconds("30s") == 30
    assert duration_seconds("2m") == 120
    assert duration_seconds("1h30m") == 5400
    with pytest.raises(argparse.ArgumentTypeError):
        duration_seconds("2 minutes")


def test_kernel_limits_are_read():
    limits = kernel_limits()
    assert limits["nofile"] > 0
    assert limits["somaxconn"].isdigit()


def test_locustfile_imports_and_lists_every_scenario_user():
    import sys
    from pathlib import Path

    from loadtests.run import LOCUSTFILES, SCENARIOS
    from loadtests.stack import PROJECT_ROOT

    listings = {}
    for scenario, classes in SCENARIOS.items():
        locustfile = LOCUSTFILES.get(scenario, "locustfile.py")  # the live final has its own
        if locustfile not in listings:
            # In a subprocess: importing locust monkey-patches the interpreter with gevent.
            listing = subprocess.run(
                [str(Path(sys.executable).parent / "locust"), "-f", f"loadtests/{locustfile}", "--list"],
                cwd=PROJECT_ROOT,
                capture_output=True,
                text=True,
                timeout=60,
                env={"PYTHONPATH": str(PROJECT_ROOT), "PATH": "/usr/bin:/bin"},
            )
            assert listing.returncode == 0, listing.stderr
            listings[locustfile] = listing.stdout
        for name in classes:
            assert name in listings[locustfile], (scenario, name)


def test_each_simulated_user_gets_its_own_loopback_address():
    addresses = [source_address(i) for i in range(1, 70001)]
    assert len(set(addresses)) == 70000
    for address in addresses:
        octets = [int(x) for x in address.split(".")]
        assert octets[0] == 127 and all(1 <= x <= 254 for x in octets[1:]), address
    assert (addresses[0], addresses[-1]) == ("127.1.1.1", "127.2.22.150")


def test_limits_are_sized_for_the_target_not_half_the_file_limit():
    from loadtests.stack import app_processes_for, nginx_sizing

    # This container: 20,000 descriptors per process, 2 CPUs. 20,000 WebSockets are 40,000 nginx connections.
    sizing = nginx_sizing(20_000, target=20_000, cpus=2)
    assert sizing["worker_connections"] == 20_000 - 512  # per worker, one descriptor each: not half the limit
    assert sizing["worker_processes"] >= 4
    assert sizing["worker_processes"] * sizing["worker_connections"] * 0.6 >= 2 * 20_000
    assert nginx_sizing(1_048_576, target=20_000, cpus=2) == {"worker_processes": 2, "worker_connections": 65535}
    # Two descriptors per WebSocket in the app: 20,000 need at least three processes under a 20,000 limit.
    assert app_processes_for(20_000, 20_000) >= 3
    assert app_processes_for(20_000, 20_000) * (20_000 - 512) / 2 * 0.75 >= 20_000
    assert app_processes_for(100, 20_000) == 2


def test_node_window_statistics(tmp_path):
    import json

    from loadtests.report import read_node_stats

    path = tmp_path / "node.jsonl"
    rows = [
        {"t": 10, "at": 1.0, "users": 10, "connected": 5, "answers": 0, "errors": 0, "hist": {}},
        {"t": 20, "at": 2.0, "users": 10, "connected": 10, "answers": 10, "errors": 0, "hist": {"900": 10}},
        {"t": 30, "at": 3.0, "users": 10, "connected": 10, "answers": 100, "errors": 0, "hist": {"2": 98, "40": 2}},
        {"t": 40, "at": 4.0, "users": 10, "connected": 10, "answers": 100, "errors": 1, "hist": {"3": 99, "250": 1}},
        {"final": True, "users": 10, "errors": {"answer timeout": 1}},
    ]
    path.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    stats = read_node_stats(path, ramp_s=1)
    # Connected in full from t=20: that window settles, the hold starts at t=30.
    assert [w["hold"] for w in stats["windows"]] == [False, False, True, True]
    assert stats["hold"]["worst_window_p99_ms"] == 40 and stats["hold"]["answers_per_s"] == 10.0
    assert stats["answer_ack"]["count"] == 210 and stats["answer_ack"]["max_ms"] == 900
    assert stats["failures"] == 1 and stats["peak_connected"] == 10
