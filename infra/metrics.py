"""Prometheus metrics of one app process (/metrics) and the helpers the live-attempt code calls.

Every app process keeps its own counters: scrape each process on its own port (the load balancer
would hand a scrape to a random process). The helpers never raise, so instrumentation cannot break
the hot path.
"""

import hmac
import time
from collections.abc import Callable
from contextlib import contextmanager

from flask import Blueprint, Response, abort, current_app, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    start_http_server,
)

from infra.clock import redis_time_ms
from infra.extensions import csrf, get_redis, limiter, socketio

# A registry of our own: tests build many apps in one interpreter; the default registry would also
# mix in collectors that other libraries register.
REGISTRY = CollectorRegistry(auto_describe=True)

# Buckets around the 250 ms answer-ack target, fine enough below it to see p99 move.
_ACK_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.25, 0.35, 0.5, 1.0, 2.5, 5.0)
_REDIS_BUCKETS = (0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0)

connected_contestants = Gauge(
    "contest_connected_contestants",
    "Socket.IO connections of logged-in users held by this process",
    registry=REGISTRY,
)
socketio_connections = Gauge(
    "contest_socketio_connections",
    "Engine.IO connections open in this process (every namespace)",
    registry=REGISTRY,
)
answers_accepted = Counter(
    "contest_answers_accepted",
    "Answers stored in Redis and acknowledged to the contestant",
    registry=REGISTRY,
)
answers_refused = Counter(
    "contest_answers_refused",
    "Answers refused, by reason (deadline, invalid, not_found, ...)",
    ["reason"],
    registry=REGISTRY,
)
answer_ack_seconds = Histogram(
    "contest_answer_ack_seconds",
    "Time from receiving an answer event to sending its ack",
    buckets=_ACK_BUCKETS,
    registry=REGISTRY,
)
write_behind_lag_seconds = Gauge(
    "contest_write_behind_lag_seconds",
    "Age of the oldest answer not yet written from the Redis stream to SQL",
    registry=REGISTRY,
)
write_behind_pending = Gauge(
    "contest_write_behind_pending",
    "Answers in the Redis stream not yet written to SQL",
    registry=REGISTRY,
)
redis_command_seconds = Histogram(
    "contest_redis_command_seconds",
    "Latency of Redis commands on the hot path, by command",
    ["command"],
    buckets=_REDIS_BUCKETS,
    registry=REGISTRY,
)

http_waiting = Gauge(
    "contest_http_requests_waiting",
    "Page requests queued at the admission gate (infra/admission.py)",
    registry=REGISTRY,
)

http_request_seconds = Histogram(
    "contest_http_request_seconds",
    "Page request time inside the app (after the admission gate), by endpoint",
    ["endpoint"],
    buckets=_ACK_BUCKETS,
    registry=REGISTRY,
)
http_gate_wait_seconds = Histogram(
    "contest_http_gate_wait_seconds",
    "Time page requests waited at the admission gate",
    buckets=_ACK_BUCKETS,
    registry=REGISTRY,
)
http_limit = Gauge(
    "contest_http_concurrency_limit",
    "Page requests allowed to run at once (0: no admission gate)",
    registry=REGISTRY,
)

# The cyclic garbage collector (infra/gc_tuning.py): a full collection stops the whole process.
_GC_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5)
gc_pause_seconds = Histogram(
    "contest_gc_pause_seconds",
    "Pause of each garbage collection, by generation (2: full)",
    ["generation"],
    buckets=_GC_BUCKETS,
    registry=REGISTRY,
)
gc_collected = Counter(
    "contest_gc_collected_objects",
    "Unreachable objects the garbage collector freed, by generation",
    ["generation"],
    registry=REGISTRY,
)
gc_frozen_objects = Gauge(
    "contest_gc_frozen_objects",
    "Objects in the permanent generation (gc.freeze), which collections skip, as of the last full collection",
    registry=REGISTRY,
)
gc_full_collections = Counter(
    "contest_gc_full_collections",
    "Full collections the freezing policy ran to reclaim frozen garbage (unfreeze, collect, freeze)",
    registry=REGISTRY,
)

# The write-behind worker (contest worker), on its own /metrics port.
worker_answers_written = Counter(
    "contest_worker_entries_written",
    "Stream entries the worker committed to SQL",
    registry=REGISTRY,
)
worker_batch_rows = Histogram(
    "contest_worker_batch_entries",
    "Stream entries per SQL transaction of the worker",
    buckets=(1, 5, 10, 25, 50, 100, 250, 500, 1000),
    registry=REGISTRY,
)
worker_lag_seconds = Histogram(
    "contest_worker_lag_seconds",
    "Per batch: from the oldest entry's append to Redis to its SQL commit",
    buckets=(0.01, 0.05, 0.1, 0.25, 0.5, 0.75, 1.0, 1.5, 2.5, 5.0, 10.0, 30.0),
    registry=REGISTRY,
)

bp = Blueprint("metrics", __name__)


def contestant_connected():
    connected_contestants.inc()


def contestant_disconnected():
    connected_contestants.dec()


def answer_accepted(latency_s: float):
    """One answer acknowledged; latency_s is receive-to-ack on the server."""
    answers_accepted.inc()
    answer_ack_seconds.observe(max(latency_s, 0.0))


def answer_refused(reason: str, latency_s: float | None = None):
    answers_refused.labels(reason=reason or "unknown").inc()
    if latency_s is not None:
        answer_ack_seconds.observe(max(latency_s, 0.0))


def gc_collection(generation: int, seconds: float, collected: int = 0):
    """One garbage collection finished (called from gc.callbacks: must stay cheap and never raise)."""
    try:
        label = str(generation)
        gc_pause_seconds.labels(generation=label).observe(max(seconds, 0.0))
        if collected:
            gc_collected.labels(generation=label).inc(collected)
    except Exception:  # pragma: no cover - instrumentation must not break a collection
        pass


def gc_frozen(count: int):
    gc_frozen_objects.set(count)


def gc_full_collection():
    gc_full_collections.inc()


def worker_batch(entries: int, rows: int, lag_s: float):
    worker_answers_written.inc(entries)
    worker_batch_rows.observe(entries)
    worker_lag_seconds.observe(max(lag_s, 0.0))


def serve_standalone(port: int, host: str = "127.0.0.1") -> None:
    """/metrics of a process without a web app (the worker), on its own port (0: none)."""
    if port:
        start_http_server(port, addr=host, registry=REGISTRY)


def set_write_behind(lag_s: float, pending: int | None = None):
    """Sets the write-behind gauges; render_metrics calls it at every scrape with the probe's reading."""
    write_behind_lag_seconds.set(max(lag_s, 0.0))
    if pending is not None:
        write_behind_pending.set(pending)


def answer_stream_lag(stream: str) -> tuple[float, int]:
    """(age of the oldest entry, entries) of the answers stream.

    The worker deletes entries once SQL has committed them, so whatever is still in the stream
    is not yet durable in SQL, and a stream id is the Redis clock in ms when it was appended.
    """
    r = get_redis()
    with redis_timer("write_behind_probe"):
        pipe = r.pipeline(transaction=False)
        pipe.time()
        pipe.xlen(stream)
        pipe.xrange(stream, "-", "+", count=1)
        now, pending, oldest = pipe.execute()
    if not oldest:
        return 0.0, pending
    return max(redis_time_ms(now) - int(oldest[0][0].split("-")[0]), 0) / 1000.0, pending


Probe = Callable[[], tuple[float, int]]

# The stream the write-behind worker drains, named by the composition root (infra knows no domain
# names); a probe registered with write_behind_probe() takes its place, for tests.
_answer_stream: str | None = None
_write_behind_probe: Probe | None = None


def watch_answer_stream(stream: str | None) -> None:
    """Makes every scrape read the write-behind lag from this stream (None: no stream, the gauges stay 0)."""
    global _answer_stream
    _answer_stream = stream


def write_behind_probe(probe: Probe | None) -> Probe | None:
    """Registers probe() -> (lag_s, pending), called at every scrape instead of reading the answer stream
    (None: the stream again).

    The worker runs in its own process, so an app process learns the lag from Redis at scrape time.
    """
    global _write_behind_probe
    _write_behind_probe = probe
    return probe


def _current_probe() -> Probe | None:
    if _write_behind_probe is not None:
        return _write_behind_probe
    stream = _answer_stream
    if stream is None:
        return None
    return lambda: answer_stream_lag(stream)


def observe_redis(command: str, seconds: float):
    redis_command_seconds.labels(command=command).observe(max(seconds, 0.0))


@contextmanager
def redis_timer(command: str):
    """with redis_timer("answer_script"): ... — times one Redis round trip."""
    start = time.perf_counter()
    try:
        yield
    finally:
        observe_redis(command, time.perf_counter() - start)


def render_metrics() -> bytes:
    """The exposition text, after refreshing the values read at scrape time."""
    try:
        with redis_timer("ping"):
            get_redis().ping()
    except Exception:  # a scrape must still answer when Redis is down; /readyz reports that
        current_app.logger.warning("metrics: Redis ping failed", exc_info=True)
    probe = _current_probe()
    if probe is not None:
        try:
            lag, pending = probe()
            set_write_behind(lag, pending)
        except Exception:
            current_app.logger.warning("metrics: write-behind probe failed", exc_info=True)
    return generate_latest(REGISTRY)


@bp.route("/metrics")
def metrics():
    token = current_app.config.get("METRICS_TOKEN")
    given = request.headers.get("Authorization", "")
    if token and not hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
        abort(401)
    return Response(render_metrics(), mimetype=CONTENT_TYPE_LATEST)


def init_app(app):
    csrf.exempt(bp)
    limiter.exempt(bp)
    app.register_blueprint(bp)

    gate = app.extensions.get("admission_gate")
    http_limit.set(gate.limit if gate is not None else 0)

    @app.before_request
    def _start_timer():
        request.environ["contest.t0"] = time.perf_counter()

    @app.teardown_request
    def _observe_request(exc=None):
        t0 = request.environ.get("contest.t0")
        if t0 is not None:
            http_request_seconds.labels(endpoint=request.endpoint or "unknown").observe(time.perf_counter() - t0)

    if gate is not None:
        http_waiting.set_function(lambda: gate.waiting)

    # Read from the Engine.IO server at scrape time: no hook in the connect handlers needed.
    server = getattr(socketio, "server", None)
    if server is not None:
        socketio_connections.set_function(lambda: len(server.eio.sockets))
