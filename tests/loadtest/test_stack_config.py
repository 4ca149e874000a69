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
    assert "worker_rlimit_nofile 20000;" in conf and "worker_connections 10000;" in conf


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
