"""Locust scenario "live final": one host drives the questions, N players answer in the first seconds of each window.

Measured (Locust requests of type "SIO"):
  "question broadcast"  from the server's clock when the host showed the question (the `start_ms` of
                        `live:question`, Redis's clock) to its arrival at each player (the load generator and the
                        servers share this machine's clock)
  "answer ack"          the round trip of `live:answer`
  "join ack", "connect" joining by PIN

Set-up: seeded players (`contest loadtest seed-users`), an organiser account for the host and a session made on
/quan-tri/chung-ket/ (or as tests/loadtest/test_live_final_smoke.py does); then, against a running server or stack:
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
CSRF = "csrf_token"

_local_index = itertools.count(1)
_redis = None


def next_account_index() -> int:
    """A seeded account no other simulated player holds (a Redis counter across Locust processes)."""
    global _redis
    url = os.environ.get("LOADTEST_REDIS_URL")
    if not url:
        index = next(_local_index)
    else:
        _redis = _redis or redis.Redis.from_url(url)
        index = int(_redis.incr("loadtest:live_next_user"))
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
    token = csrf_token(http.get(base_url + "/dang-nhap").text)
    response = http.post(
        base_url + "/dang-nhap",
        data={"login": phone, "password": password, CSRF: token},
        allow_redirects=False,
    )
    return response.status_code == 302


def connect(environment, base_url, http, name="connect"):
    client = socketio.Client(reconnection=False)
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
        phone = account_phone(next_account_index())
        if not log_in(self.client, self.host, phone, PASSWORD):
            fire(self.environment, "login", 0, RuntimeError(f"login of {phone} refused"))
            raise StopUser()
        self.sio = connect(self.environment, self.host, self.client)
        self.sio.on("live:question", self._on_question)
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

    def _on_question(self, question):
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
        fire(self.environment, "answer ack", elapsed, RuntimeError(error) if error else None)

    @task
    def idle(self):
        pass  # everything happens in the handlers above


class LiveHost(User):
    """The host (an organiser account): waits for the players, then shows, reveals and ends."""

    fixed_count = 1
    wait_time = constant(1)

    def on_start(self):
        self.http = requests.Session()
        if not log_in(self.http, self.host, HOST_PHONE, HOST_PASSWORD):
            raise RuntimeError("the host's login was refused (LIVE_HOST_PHONE / LIVE_HOST_PASSWORD)")
        self.sio = connect(self.environment, self.host, self.http, name="host connect")
        self.done = False

    def on_stop(self):
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
        deadline = time.monotonic() + JOIN_TIMEOUT_S
        while self._act("state").get("state", {}).get("players", 0) < wanted and time.monotonic() < deadline:
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
