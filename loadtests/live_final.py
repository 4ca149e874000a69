"""Locust scenario "live final": one host drives the questions, N players answer in the first seconds of each window.

Measured (Locust requests of type "SIO"):
  "question broadcast"  from the server's clock when the host showed the question (the `start_ms` of
                        `live:question`, Redis's clock) to its arrival at each player (the load generator and the
                        servers share this machine's clock)
  "answer ack"          the round trip of `live:answer`
  "join ack", "connect" joining by PIN
Players held: the players that joined, received every question's broadcast and the end (a Redis counter,
`loadtest:live_held`; `loadtest:live_acked` counts the answers acknowledged as recorded, which loadtests/run.py
compares with the answers SQL holds at the end).

`make loadtest SCENARIO=live USERS=N` runs it on the production-like stack (loadtests/run.py); by hand:

Set-up: seeded players (`contest loadtest seed-users`), then `contest loadtest create-live` (a session and a host
account with the `host` role; it prints "session_id pin host_phone"); then, against a running server or stack:
    LIVE_PIN=123456 LIVE_SESSION_ID=7 LIVE_HOST_PHONE=0599999999 LIVE_QUESTIONS=10 LIVE_SECONDS=10 \\
    LOADTEST_PREFIX=0599 LOADTEST_SEEDED=1000 \\
    locust -f loadtests/live_final.py --host http://127.0.0.1:8080 --headless -u 1001 -r 50 --run-time 5m
The host waits until LIVE_PLAYERS players joined (default: the users Locust was asked for, minus the host).
"""

import itertools
import os
import random
import time

import gevent
import redis
import requests
import socketio
from locust import HttpUser, User, constant, task
from locust.exception import StopUser
from requests.adapters import HTTPAdapter

from loadtests.addresses import source_address

PREFIX = os.environ.get("LOADTEST_PREFIX", "0599")
PASSWORD = os.environ.get("LOADTEST_PASSWORD", "thitai12345")
SEEDED = int(os.environ.get("LOADTEST_SEEDED", "1000"))
PIN = os.environ.get("LIVE_PIN", "")
SESSION_ID = int(os.environ.get("LIVE_SESSION_ID", "0") or 0)
HOST_PHONE = os.environ.get("LIVE_HOST_PHONE", "")
HOST_PASSWORD = os.environ.get("LIVE_HOST_PASSWORD", PASSWORD)
QUESTIONS = int(os.environ.get("LIVE_QUESTIONS", "10"))
SECONDS = float(os.environ.get("LIVE_SECONDS", "10"))
ANSWER_WITHIN_S = float(os.environ.get("LIVE_ANSWER_WITHIN_S", "3"))  # players answer in the window's first seconds
GAP_S = float(os.environ.get("LIVE_GAP_S", "2"))  # between a reveal and the next question
JOIN_TIMEOUT_S = float(os.environ.get("LIVE_JOIN_TIMEOUT_S", "120"))
LOGIN_TRIES = 3
STALL_S = float(os.environ.get("LIVE_STALL_S", "45"))  # the host starts once no player joined for this long
CSRF = "csrf_token"
# Each player logs in from its own loopback address (loadtests/addresses.py), so the production login limits per
# address apply as to real players; 0 sends everyone from 127.0.0.1.
SPREAD_ADDRESSES = os.environ.get("LOADTEST_SPREAD_ADDRESSES", "1") not in ("0", "", "false", "no")

_local_index = itertools.count(1)
_redis = None


def counters():
    """The run's shared Redis (None without LOADTEST_REDIS_URL: a single Locust process counts nothing)."""
    global _redis
    url = os.environ.get("LOADTEST_REDIS_URL")
    if url and _redis is None:
        _redis = redis.Redis.from_url(url)
    return _redis


def count(name: str) -> None:
    shared = counters()
    if shared is not None:
        shared.incr(f"loadtest:live_{name}")


class SourceAddressAdapter(HTTPAdapter):
    """requests' adapter with every connection bound to one source address."""

    def __init__(self, address: str, **kwargs):
        self.address = address
        super().__init__(**kwargs)

    def init_poolmanager(self, connections, maxsize, block=False, **kwargs):
        super().init_poolmanager(connections, maxsize, block=block, source_address=(self.address, 0), **kwargs)


def next_account_index() -> int:
    """A seeded account no other simulated player holds (a Redis counter across Locust processes)."""
    shared = counters()
    index = next(_local_index) if shared is None else int(shared.incr("loadtest:live_next_user"))
    if index > SEEDED:
        raise RuntimeError(f"all {SEEDED} seeded accounts are in use")
    return index


def account_phone(index: int) -> str:
    return f"{PREFIX}{index:0{10 - len(PREFIX)}d}"


def csrf_token(html: str) -> str:
    marker = f'name="{CSRF}" type="hidden" value="'
    start = html.find(marker)
    if start < 0:
        marker = f'name="{CSRF}" value="'
        start = html.find(marker)
    if start < 0:
        return ""
    start += len(marker)
    return html[start : html.index('"', start)]


def fire(environment, name, elapsed_ms, exception=None):
    environment.events.request.fire(
        request_type="SIO", name=name, response_time=elapsed_ms, response_length=0, exception=exception, context={}
    )


def log_in(http, base_url, phone, password) -> bool:
    page = http.get(base_url + "/dang-nhap")
    if page.status_code != 200:
        return False
    token = csrf_token(page.text)
    response = http.post(
        base_url + "/dang-nhap",
        data={"login": phone, "password": password, CSRF: token},
        allow_redirects=False,
    )
    return response.status_code == 302


def connect(environment, base_url, http, name="connect", reconnect=False):
    # A player's phone reconnects after a drop and joins again, as static/js/live-play.js does; the host does not.
    client = socketio.Client(reconnection=reconnect, reconnection_attempts=10, reconnection_delay=1)
    cookies = "; ".join(f"{c.name}={c.value}" for c in http.cookies)
    started = time.perf_counter()
    try:
        client.connect(base_url, headers={"Cookie": cookies}, transports=["websocket"], wait_timeout=30)
    except Exception as exc:
        fire(environment, name, (time.perf_counter() - started) * 1000, exc)
        raise
    fire(environment, name, (time.perf_counter() - started) * 1000)
    return client


class LivePlayer(HttpUser):
    """A player on a phone: joins by PIN, answers each question within the first seconds of its window."""

    wait_time = constant(1)

    def on_start(self):
        self.sio = None
        self.session_id = None
        self.received = 0
        index = next_account_index()
        if SPREAD_ADDRESSES:
            self.client.mount("http://", SourceAddressAdapter(source_address(index)))
        phone = account_phone(index)
        # A phone whose login times out in the rush tries again, as its owner would (three times, backing off).
        for attempt in range(LOGIN_TRIES):
            if log_in(self.client, self.host, phone, PASSWORD):
                break
            gevent.sleep(2 * (attempt + 1))
        else:
            fire(self.environment, "login", 0, RuntimeError(f"login of {phone} refused"))
            raise StopUser()
        self.sio = connect(self.environment, self.host, self.client, reconnect=True)
        self.sio.on("connect", self._on_reconnect)
        self.sio.on("live:question", self._on_question)
        self.sio.on("live:ended", self._on_ended)
        started = time.perf_counter()
        ack = self.sio.call("live:join", {"pin": PIN}, timeout=30)
        elapsed = (time.perf_counter() - started) * 1000
        if not ack.get("ok"):
            fire(self.environment, "join ack", elapsed, RuntimeError(ack.get("error")))
            raise StopUser()
        fire(self.environment, "join ack", elapsed)
        self.session_id = ack["state"]["session_id"]

    def on_stop(self):
        if self.sio is not None:
            self.sio.disconnect()

    def _on_reconnect(self):
        if self.session_id is None:
            return  # the first connection: on_start joins
        fire(self.environment, "reconnect", 0)
        gevent.spawn(self._rejoin)

    def _rejoin(self):
        started = time.perf_counter()
        try:
            ack = self.sio.call("live:join", {"pin": PIN}, timeout=30)
        except Exception as exc:
            fire(self.environment, "rejoin ack", (time.perf_counter() - started) * 1000, exc)
            return
        error = None if ack.get("ok") else RuntimeError(ack.get("error"))
        fire(self.environment, "rejoin ack", (time.perf_counter() - started) * 1000, error)

    def _on_ended(self, _data):
        if self.received >= QUESTIONS:
            count("held")

    def _on_question(self, question):
        self.received += 1
        fire(self.environment, "question broadcast", max(time.time() * 1000 - question["start_ms"], 0))
        gevent.spawn(self._answer, question)

    def _answer(self, question):
        gevent.sleep(random.uniform(0, ANSWER_WITHIN_S))
        started = time.perf_counter()
        try:
            ack = self.sio.call(
                "live:answer",
                {
                    "session_id": self.session_id,
                    "position": question["position"],
                    "choice": random.randrange(len(question["options"])),
                },
                timeout=30,
            )
        except Exception as exc:
            fire(self.environment, "answer ack", (time.perf_counter() - started) * 1000, exc)
            return
        elapsed = (time.perf_counter() - started) * 1000
        # An eliminated player's refusal is the protocol working, not a failure of the server.
        error = None if ack.get("ok") or ack.get("error") in ("eliminated", "rescue_only") else ack.get("error")
        if ack.get("ok") and not ack.get("duplicate"):
            count("acked")
        fire(self.environment, "answer ack", elapsed, RuntimeError(error) if error else None)

    @task
    def idle(self):
        pass  # everything happens in the handlers above


class LiveHost(User):
    """The host (an organiser account): waits for the players, then shows, reveals and ends."""

    fixed_count = 1
    wait_time = constant(1)

    def on_start(self):
        self.done = False
        shared = counters()
        # One host per game: Locust may start this user again (a worker that missed its heartbeats is re-spawned).
        self.spare = shared is not None and not shared.set("loadtest:live_host", "1", nx=True)
        if self.spare:
            self.done = True
            return
        self.http = requests.Session()
        if not log_in(self.http, self.host, HOST_PHONE, HOST_PASSWORD):
            raise RuntimeError("the host's login was refused (LIVE_HOST_PHONE / LIVE_HOST_PASSWORD)")
        self.sio = connect(self.environment, self.host, self.http, name="host connect")

    def on_stop(self):
        if not self.spare:
            self.sio.disconnect()

    def _act(self, action):
        started = time.perf_counter()
        ack = self.sio.call("live:host", {"session_id": SESSION_ID, "action": action}, timeout=30)
        fire(
            self.environment,
            f"host {action}",
            (time.perf_counter() - started) * 1000,
            None if ack.get("ok") else RuntimeError(ack.get("error")),
        )
        return ack

    @task
    def run_game(self):
        if self.done:
            gevent.sleep(1)
            return
        wanted = int(os.environ.get("LIVE_PLAYERS") or max((self.environment.parsed_options.num_users or 1) - 1, 1))
        # Start when everyone joined; or when nobody joined for STALL_S (players whose login failed three times
        # stopped); or at the timeout.
        deadline = time.monotonic() + JOIN_TIMEOUT_S
        last, last_change = -1, time.monotonic()
        while time.monotonic() < deadline:
            joined = self._act("state").get("state", {}).get("players", 0)
            if joined >= wanted or (joined == last and time.monotonic() - last_change > STALL_S):
                break
            if joined != last:
                last, last_change = joined, time.monotonic()
            gevent.sleep(1)
        for _ in range(QUESTIONS):
            if not self._act("next").get("ok"):
                break
            gevent.sleep(SECONDS + 0.3)  # the server closes the window itself
            while self._act("reveal").get("error") == "still_open":
                gevent.sleep(0.2)
            gevent.sleep(GAP_S)
        self._act("end")
        self.done = True
        count("over")  # loadtests/run.py stops Locust a little after this
