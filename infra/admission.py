"""A bulkhead between page requests and live answers in one gevent process.

A process runs everything on one event loop. A burst of page requests (logins, starting attempts,
rendering pages: 5-15 ms of CPU each) that all become runnable together makes every answer that
arrives meanwhile wait behind the whole burst: hundreds of ms of answer-ack latency at 25% mean CPU.
Letting only a few page requests run at once (HTTP_CONCURRENCY, default 4) queues the rest at
the door; an answer then waits for at most a few page steps. Socket.IO traffic never passes here
(Flask-SocketIO's middleware routes it around the Flask app), so answers, clocks and submits are
not queued behind pages. Pages get slower under a storm instead of answers, which is the
trade-off a timed contest wants. Without gevent's monkey-patching (tests, CLI) there is no gate.
"""

import time

from gevent.lock import BoundedSemaphore

from infra.metrics import http_gate_wait_seconds
from infra.offload import gevent_patched


class AdmissionGate:
    def __init__(self, wsgi_app, limit: int):
        self.wsgi_app = wsgi_app
        self.limit = limit
        self.slots = BoundedSemaphore(limit)
        self.waiting = 0

    def __call__(self, environ, start_response):
        self.waiting += 1
        queued = time.perf_counter()
        try:
            self.slots.acquire()
        finally:
            self.waiting -= 1
            http_gate_wait_seconds.observe(time.perf_counter() - queued)
        try:
            # Pages are rendered inside wsgi_app; a streamed download (an export) is produced
            # while the server iterates it, after the slot is released: it never holds a slot.
            return self.wsgi_app(environ, start_response)
        finally:
            self.slots.release()


def install(app):
    limit = int(app.config.get("HTTP_CONCURRENCY") or 0)
    if limit > 0 and gevent_patched():
        app.wsgi_app = app.extensions["admission_gate"] = AdmissionGate(app.wsgi_app, limit)
        return app.wsgi_app
    return None
