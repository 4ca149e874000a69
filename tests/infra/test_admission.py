"""The page-request bulkhead: at most HTTP_CONCURRENCY page requests run at once under gevent."""

import subprocess
import sys
import textwrap

from infra import admission

SCRIPT = textwrap.dedent("""
    from gevent import monkey; monkey.patch_all()
    import gevent
    from infra.admission import AdmissionGate

    running = peak = 0
    def slow_app(environ, start_response):
        global running, peak
        running += 1
        peak = max(peak, running)
        gevent.sleep(0.02)  # a page that yields (SQL, Redis) while holding its slot
        running -= 1
        start_response("200 OK", [])
        return [b"ok"]

    gate = AdmissionGate(slow_app, 3)
    jobs = [gevent.spawn(gate, {"PATH_INFO": "/"}, lambda *a: None) for _ in range(12)]
    gevent.sleep(0.005)
    waiting_seen = gate.waiting
    gevent.joinall(jobs)
    print(peak, waiting_seen, sum(j.value == [b"ok"] for j in jobs), gate.waiting)
""")


def test_gate_lets_a_limited_number_of_page_requests_run_at_once():
    out = subprocess.run([sys.executable, "-c", SCRIPT], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    peak, waiting, served, left = map(int, out.stdout.split())
    assert peak == 3 and waiting == 9 and served == 12 and left == 0


def test_no_gate_without_gevent(app):
    # The test process is not monkey-patched: the Flask test client is served directly.
    assert admission.install(app) is None
    assert not isinstance(app.wsgi_app, admission.AdmissionGate)


def test_the_served_app_is_gated(live_server):
    import requests
    from prometheus_client.parser import text_string_to_metric_families

    text = requests.get(live_server.url + "/metrics", timeout=5).text
    values = {
        f.name: f.samples[0].value
        for f in text_string_to_metric_families(text)
        if f.name in ("contest_http_requests_waiting", "contest_http_concurrency_limit")
    }
    assert values == {"contest_http_requests_waiting": 0.0, "contest_http_concurrency_limit": 4.0}
