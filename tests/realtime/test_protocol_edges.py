"""Finding 6 of issue 11: the protocol's edges behave as docs/realtime.md says, against a real server."""

import threading
import time

import pytest
import socketio
from sqlalchemy import update

from contest.rounds.live_state import attempt_key, forget_deadline
from contest.rounds.models import Attempt
from contest.rounds.services import sweep_expired
from infra.clock import from_ms
from infra.extensions import db, get_redis
from realtime import MAX_FRAME_BYTES
from realtime.play import ANSWER_BURST, ANSWER_RATE, MAX_SELECTED
from tests.realtime.test_play import Recorder, contestant, setup_round, start_over_http


def _joined(live_server, server_factory, redis_url, **kw):
    app, round_id, keys = setup_round(server_factory, redis_url, prediction=False, **kw)
    http = contestant(app, live_server.url)
    attempt_id = start_over_http(live_server.url, http, round_id)
    sock = Recorder(live_server.url, http)
    state = sock.call("attempt:join", {"attempt_id": attempt_id})["state"]
    return app, keys, http, sock, attempt_id, state["questions"]


def test_anonymous_connection_is_refused_with_unauthorized(live_server):
    client = socketio.Client(reconnection=False)
    seen = []
    client.on("connect_error", lambda data=None: seen.append(data))
    with pytest.raises(socketio.exceptions.ConnectionError):
        client.connect(live_server.url, transports=["websocket"], wait_timeout=10)
    # what socket.io-client shows as connect_error's err.message
    assert seen == [{"message": "unauthorized"}]
    # the projector namespace needs no login
    client = socketio.Client(reconnection=False)
    client.connect(live_server.url, namespaces=["/public"], transports=["websocket"], wait_timeout=10)
    try:
        reply = client.call("no:such:event", {}, namespace="/public", timeout=5)
        assert reply["ok"] is False and reply["error"] == "unknown_event"
    finally:
        client.disconnect()


def test_unknown_events_are_acknowledged(live_server, server_factory, redis_url):
    app, keys, http, sock, attempt_id, questions = _joined(live_server, server_factory, redis_url)
    try:
        for event, payload in (("answers", {}), ("attempt:leave", {"attempt_id": attempt_id}), ("x" * 40, None)):
            reply = sock.call(event, payload)
            assert reply == {"ok": False, "error": "unknown_event", "message": "Sự kiện không được hỗ trợ."}
        assert sock.call("clock", {})["ok"]  # still connected and served
    finally:
        sock.close()


def test_frames_over_the_limit_close_the_connection_and_selected_is_capped(live_server, server_factory, redis_url):
    app, keys, http, sock, attempt_id, questions = _joined(live_server, server_factory, redis_url, multi_every=1)
    try:
        q = questions[0]
        refs = [o["id"] for o in q["options"]]
        base = {"attempt_id": attempt_id, "question_id": q["id"], "seq": 1}
        too_many = sock.call("answer", {**base, "selected": (refs * 6)[: MAX_SELECTED + 1]})
        assert too_many["error"] == "bad_request"
        assert sock.call("answer", {**base, "selected": (refs * 6)[:MAX_SELECTED]})["ok"]  # duplicates collapse
        assert sock.call("answer", {**base, "seq": 2, "selected": ["x" * 17]})["error"] == "bad_request"
        # A frame just under the limit is read (and refused as a bad payload); one over it closes the connection.
        assert sock.call("clock", {"pad": "x" * (MAX_FRAME_BYTES - 200)})["ok"]
        sock.client.emit("answer", {**base, "pad": "x" * (MAX_FRAME_BYTES + 1)})
        end = time.monotonic() + 10
        while sock.client.connected and time.monotonic() < end:
            time.sleep(0.05)
        assert not sock.client.connected
    finally:
        if sock.client.connected:
            sock.close()


def test_answers_per_socket_are_rate_limited(live_server, server_factory, redis_url):
    app, keys, http, sock, attempt_id, questions = _joined(live_server, server_factory, redis_url)
    try:
        q = questions[0]
        acks, done = [], threading.Event()
        n = 100

        def collect(ack):
            acks.append(ack)
            if len(acks) == n:
                done.set()

        started = time.monotonic()
        for seq in range(1, n + 1):
            payload = {"attempt_id": attempt_id, "question_id": q["id"], "selected": keys[q["id"]], "seq": seq}
            sock.client.emit("answer", payload, callback=collect)
        assert done.wait(20)
        elapsed = time.monotonic() - started
        accepted = [a for a in acks if a["ok"]]
        limited = [a for a in acks if not a["ok"]]
        assert {a["error"] for a in limited} == {"rate_limited"} and limited[0]["message"]
        assert len(accepted) <= ANSWER_BURST + ANSWER_RATE * elapsed + 1, (len(accepted), elapsed)
        assert len(accepted) >= ANSWER_BURST
        # the bucket refills: after a pause answers go through again
        time.sleep(1.0)
        again = sock.call("answer", {"attempt_id": attempt_id, "question_id": q["id"], "selected": [], "seq": n + 1})
        assert again["ok"]
    finally:
        sock.close()


def test_deadline_passed_versus_attempt_closed(live_server, server_factory, redis_url):
    app, keys, http, sock, attempt_id, questions = _joined(live_server, server_factory, redis_url, time_limit_seconds=3)
    try:
        q = questions[0]

        def answer(seq):
            return sock.call(
                "answer", {"attempt_id": attempt_id, "question_id": q["id"], "selected": keys[q["id"]], "seq": seq}
            )

        assert answer(1)["ok"]
        state = sock.call("attempt:join", {"attempt_id": attempt_id})["state"]
        while time.time() * 1000 < state["deadline_ms"] + 50:
            time.sleep(0.05)
        assert answer(2)["error"] == "deadline_passed"  # late, still open
        with app.app_context():
            assert sweep_expired() == 1  # the worker's sweeper closes it (status expired)
            db.session.remove()
        assert answer(3)["error"] == "deadline_passed"  # late, closed meanwhile: still deadline_passed
        with app.app_context():
            get_redis().delete(attempt_key(attempt_id))  # the live state gone (TTL): SQL knows the deadline
            forget_deadline(attempt_id)
        assert answer(4)["error"] == "deadline_passed"
    finally:
        sock.close()


def test_answer_after_submit_before_the_deadline_is_attempt_closed(live_server, server_factory, redis_url):
    app, keys, http, sock, attempt_id, questions = _joined(live_server, server_factory, redis_url)
    try:
        q = questions[0]
        payload = {"attempt_id": attempt_id, "question_id": q["id"], "selected": keys[q["id"]], "seq": 1}
        assert sock.call("submit", {"attempt_id": attempt_id})["ok"]
        assert sock.call("answer", payload)["error"] == "attempt_closed"
        with app.app_context():
            get_redis().delete(attempt_key(attempt_id))  # also when only SQL remembers it
        assert sock.call("answer", {**payload, "seq": 2})["error"] == "attempt_closed"
        with app.app_context():  # and once its deadline has passed, a late answer is late
            db.session.execute(update(Attempt).where(Attempt.id == attempt_id).values(deadline_at=from_ms(0)))
            db.session.commit()
            db.session.remove()
        assert sock.call("answer", {**payload, "seq": 3})["error"] == "deadline_passed"
    finally:
        sock.close()


def test_seq_is_compared_per_question(live_server, server_factory, redis_url):
    app, keys, http, sock, attempt_id, questions = _joined(live_server, server_factory, redis_url)
    try:
        q1, q2 = questions[:2]

        def answer(q, selected, seq):
            return sock.call(
                "answer", {"attempt_id": attempt_id, "question_id": q["id"], "selected": selected, "seq": seq}
            )

        assert answer(q1, keys[q1["id"]], 5)["duplicate"] is False
        # a lower seq on another question is a new answer: seq is compared with that question's stored seq
        second = answer(q2, keys[q2["id"]], 3)
        assert second["ok"] and second["duplicate"] is False and second["seq"] == 3
        # on the same question, a lower or equal seq is a duplicate: the ack shows what the server holds
        stale = answer(q1, keys.wrong(q1["id"]), 4)
        assert stale["duplicate"] is True and stale["selected"] == keys[q1["id"]] and stale["seq"] == 5
        state = sock.call("attempt:join", {"attempt_id": attempt_id})["state"]
        assert state["seq"] == 5 and state["answers"][q2["id"]] == {"selected": keys[q2["id"]], "seq": 3}
    finally:
        sock.close()
