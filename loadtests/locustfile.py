"""Locust scenarios on the critical path: logged-in browsing, public read-heavy pages, live contestants.

Run through loadtests/run.py (which sets the LOADTEST_* environment); by hand:
    LOADTEST_USERS=1000 locust -f loadtests/locustfile.py --host http://127.0.0.1:8080 SocketContestant
Socket.IO round trips are Locust requests of type "SIO": "connect", "join ack", "answer ack",
"prediction ack", "submit ack", "reconnect", and "leaderboard push" (push latency: server clock
in the payload to arrival; server and clients share this machine's clock).
"""

import os
import random
import re
import time

import gevent
import redis
import socketio
from locust import FastHttpUser, HttpUser, between, events, task
from requests.adapters import HTTPAdapter

from loadtests import protocol
from loadtests.addresses import source_address
from loadtests.answer_check import AckLog

PREFIX = os.environ.get("LOADTEST_PREFIX", "0599")
PASSWORD = os.environ.get("LOADTEST_PASSWORD", "thitai12345")
SEEDED = int(os.environ.get("LOADTEST_SEEDED") or os.environ.get("LOADTEST_USERS", "1000"))
ROUND_ID = os.environ.get("LOADTEST_ROUND_ID")
MODE = os.environ.get("LOADTEST_MODE", "steady")  # steady | rush | reconnect
THINK = tuple(float(x) for x in os.environ.get("LOADTEST_THINK", "2,6").split(","))
DURATION_S = float(os.environ.get("LOADTEST_DURATION_S", "60"))
START_EPOCH = float(os.environ.get("LOADTEST_START_EPOCH", "0")) or time.time()
STORM_AT_S = float(os.environ.get("LOADTEST_STORM_AT_S", str(DURATION_S / 2)))
STORM_SHARE = float(os.environ.get("LOADTEST_STORM_SHARE", "0.3"))
# Each simulated contestant connects from its own loopback address (loadtests/addresses.py), so the app's
# per-address limits apply as to real citizens. 0 turns it off (every user from 127.0.0.1).
SPREAD_ADDRESSES = os.environ.get("LOADTEST_SPREAD_ADDRESSES", "1") not in ("0", "", "false", "no")
READ_PATHS = [p for p in os.environ.get("LOADTEST_READ_PATHS", "/,/dang-nhap").split(",") if p]
BROWSE_PATHS = [p for p in os.environ.get("LOADTEST_BROWSE_PATHS", "/,/tai-khoan").split(",") if p]

CSRF_RE = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"|name="csrf_token" value="([^"]+)"')
ACKS = AckLog(os.environ.get("LOADTEST_ACK_DIR", "loadtests/results/acks"))
_redis = None
_local_index = iter(range(1, 10**9))


def next_account_index() -> int:
    """A seeded account no other simulated user holds, across Locust processes (a Redis counter)."""
    global _redis
    url = os.environ.get("LOADTEST_REDIS_URL")
    if not url:
        return (os.getpid() * 7919 + next(_local_index)) % SEEDED + 1  # by hand, one process: good enough
    if _redis is None:
        _redis = redis.Redis.from_url(url)
    index = int(_redis.incr("loadtest:next_user"))
    if index > SEEDED:
        # Never hand out an account another simulated user holds: two clients answering one attempt
        # with their own sequence numbers would look like lost answers. (Locust's master re-spawns the
        # users of a worker it thinks is gone; run.py seeds spare accounts for that.)
        raise RuntimeError(f"all {SEEDED} seeded accounts are in use")
    return index


def account_phone(index: int) -> str:
    width = 10 - len(PREFIX)
    return f"{PREFIX}{index:0{width}d}"


class SourceAddressAdapter(HTTPAdapter):
    """requests' adapter with every connection bound to one source address."""

    def __init__(self, address: str, **kwargs):
        self.address = address
        super().__init__(**kwargs)

    def init_poolmanager(self, connections, maxsize, block=False, **kwargs):
        super().init_poolmanager(connections, maxsize, block=block, source_address=(self.address, 0), **kwargs)


def spread(client, index: int) -> None:
    """Sends the rest of this user's HTTP requests from its own address (see SPREAD_ADDRESSES)."""
    if SPREAD_ADDRESSES:
        client.mount("http://", SourceAddressAdapter(source_address(index)))


def csrf_token(html: str) -> str | None:
    match = CSRF_RE.search(html or "")
    return (match.group(1) or match.group(2)) if match else None


def log_in(client) -> str | None:
    """Logs a seeded contestant in over HTTP as a browser does; returns the phone or None."""
    index = next_account_index()
    spread(client, index)
    phone = account_phone(index)
    page = client.get("/dang-nhap", name="/dang-nhap")
    token = csrf_token(page.text)
    with client.post(
        "/dang-nhap",
        data={"login": phone, "password": PASSWORD, "csrf_token": token or ""},
        name="/dang-nhap",
        allow_redirects=False,
        catch_response=True,
    ) as response:
        if response.status_code != 302:
            response.failure(f"login of {phone} answered {response.status_code}")
            return None
        response.success()
    return phone


@events.quitting.add_listener
def _close_ack_log(environment, **_kw):
    ACKS.close()


class ContestantBrowsing(HttpUser):
    """A logged-in contestant moving between pages (the HTTP part of the critical path)."""

    wait_time = between(1, 3)

    def on_start(self):
        self.phone = log_in(self.client)

    @task
    def browse(self):
        path = random.choice(BROWSE_PATHS)
        with self.client.get(path, catch_response=True, allow_redirects=False) as response:
            if response.status_code != 200:
                response.failure(f"{path} answered {response.status_code}")


class PublicReader(FastHttpUser):
    """Anonymous read-heavy traffic: public leaderboards and results pages."""

    wait_time = between(1, 3)

    @task
    def read(self):
        path = random.choice(READ_PATHS)
        with self.client.get(path, catch_response=True) as response:
            if response.status_code != 200:
                response.failure(f"{path} answered {response.status_code}")


class SocketContestant(HttpUser):
    """A contestant taking a live round over Socket.IO (WebSocket): join, answer with think time,
    predict and submit, then stay connected receiving leaderboard pushes."""

    wait_time = between(0.5, 1)

    def on_start(self):
        self.sio = None
        self.attempt = None
        self.seq = 0
        self.queue = []
        self.submitted_at = None
        self.finished = False
        self.stormed = False
        self.phone = log_in(self.client)

    def on_stop(self):
        if self.sio is not None:
            self.sio.disconnect()

    # --- measured Socket.IO round trips ------------------------------------------------------

    def _fire(self, name, started, exception=None, elapsed_ms=None):
        if elapsed_ms is None:
            elapsed_ms = (time.perf_counter() - started) * 1000
        self.environment.events.request.fire(
            request_type="SIO", name=name, response_time=elapsed_ms, response_length=0, exception=exception, context={}
        )

    def _call(self, name, event, payload, timeout=30):
        started = time.perf_counter()
        try:
            ack = self.sio.call(event, payload, timeout=timeout)
        except Exception as exc:
            self._fire(name, started, exc)
            raise
        return ack, started

    def _on_push(self, payload):
        server_ms = protocol.push_server_ms(payload)
        if server_ms is not None:
            self._fire("leaderboard push", None, elapsed_ms=max(time.time() * 1000 - server_ms, 0))

    def _on_rank(self, payload):
        # The contestant's own rank after submitting: the push that shows their result on the board.
        if self.submitted_at is not None:
            self._fire("rank push after submit", self.submitted_at)
            self.submitted_at = None

    def _connect(self, name="connect"):
        client = socketio.Client(reconnection=False)
        client.on(protocol.LEADERBOARD, self._on_push)
        client.on(protocol.RANK, self._on_rank)
        cookies = "; ".join(f"{c.name}={c.value}" for c in self.client.cookies)
        started = time.perf_counter()
        try:
            client.connect(self.host, headers={"Cookie": cookies}, transports=["websocket"], wait_timeout=30)
        except Exception as exc:
            self._fire(name, started, exc)
            raise
        self._fire(name, started)
        self.sio = client

    def _start_attempt(self):
        if ROUND_ID is None:
            raise RuntimeError("LOADTEST_ROUND_ID is not set: the live scenarios need an open round")
        token = csrf_token(self.client.get("/", name="/").text)
        with self.client.post(
            protocol.start_path(ROUND_ID),
            data={"csrf_token": token or "", **protocol.START_CONFIRM},
            name="/vong-thi/[id]/bat-dau",
            allow_redirects=False,
            catch_response=True,
        ) as response:
            try:
                attempt_id = protocol.attempt_id_from_start(response.headers.get("Location"))
            except protocol.ProtocolError as exc:
                response.failure(str(exc))
                return
            response.success()
        self._connect()
        self._join(attempt_id)

    def _join(self, attempt_id):
        ack, started = self._call("join ack", protocol.JOIN, protocol.join_payload(attempt_id))
        try:
            self.attempt = protocol.parse_join(attempt_id, ack)
        except protocol.ProtocolError as exc:
            self._fire("join ack", started, exc)
            raise
        self._fire("join ack", started)
        self.seq = max(self.seq, self.attempt.seq)
        self.queue = [q for q in self.attempt.questions if q.id not in self.attempt.answered]

    def _answer(self, question):
        self.seq += 1
        selected = [random.choice(question.option_ids)]
        payload = protocol.answer_payload(self.attempt.attempt_id, question.id, selected, self.seq)
        ack, started = self._call("answer ack", protocol.ANSWER, payload)
        if protocol.answer_accepted(ack):
            self._fire("answer ack", started)
            ACKS.record(self.attempt.attempt_id, question.id, selected, self.seq)
        else:
            self._fire("answer ack", started, RuntimeError(protocol.refusal_reason(ack)))

    def _think(self):
        if MODE == "rush":
            # Everyone paces the attempt to submit during the test's last minute.
            if not hasattr(self, "submit_at"):
                self.submit_at = START_EPOCH + DURATION_S - random.uniform(5, min(60, DURATION_S / 2))
            gevent.sleep(max((self.submit_at - time.time()) / (len(self.queue) + 1), 0))
        else:
            gevent.sleep(random.uniform(*THINK))

    def _maybe_storm(self):
        """Reconnect storm: a share of clients drop at the same moment and come back at once."""
        if MODE != "reconnect" or self.stormed or time.time() < START_EPOCH + STORM_AT_S:
            return
        self.stormed = True
        if random.random() >= STORM_SHARE:
            return
        self.sio.disconnect()
        self._connect("reconnect")
        if not self.finished:
            self._join(self.attempt.attempt_id)
        else:
            ack, started = self._call(
                "leaderboard join ack", protocol.LEADERBOARD_JOIN, protocol.leaderboard_join_payload(ROUND_ID)
            )
            ok = isinstance(ack, dict) and ack.get("ok")
            self._fire("leaderboard join ack", started, None if ok else RuntimeError(protocol.refusal_reason(ack)))

    @task
    def take_round(self):
        if self.phone is None:
            gevent.sleep(5)
            return
        if self.attempt is None:
            self._start_attempt()
            return
        self._maybe_storm()
        if self.queue:
            self._think()
            self._answer(self.queue.pop(0))
        elif not self.finished:
            if MODE == "rush":
                self._think()
            ack, started = self._call(
                "submit ack",
                protocol.SUBMIT,
                protocol.submit_payload(self.attempt.attempt_id, random.randint(0, SEEDED)),
            )
            ok = isinstance(ack, dict) and ack.get("ok")
            self._fire("submit ack", started, None if ok else RuntimeError(protocol.refusal_reason(ack)))
            self.finished = True
            self.submitted_at = time.perf_counter() if ok else None
        else:
            gevent.sleep(5)  # stay connected: a held contestant receiving leaderboard pushes
