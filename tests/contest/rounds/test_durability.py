"""Nothing acknowledged is lost: the stream worker, and kill -9 of the worker, an app process and Redis."""

import os
import subprocess
import sys
import time

import pytest
import redis as redis_lib
from sqlalchemy import select

from contest.accounts.models import User
from contest.rounds.live_state import ANSWER_STREAM, answers_key
from contest.rounds.models import Attempt, AttemptAnswer
from contest.rounds.services import save_answer, start_attempt
from contest.rounds.worker import GROUP, drain_once, ensure_group
from infra.extensions import db, get_redis
from infra.localredis import LocalRedis
from tests.conftest import PASSWORD, create_account, make_app
from tests.contest.roundkit import key_of, make_round, wrong_of
from tests.harness import PROJECT_ROOT
from tests.live import http_login
from tests.realtime.test_play import Recorder, setup_round, start_over_http


def sql_answers(app):
    with app.app_context():
        rows = db.session.execute(
            select(AttemptAnswer.attempt_id, AttemptAnswer.question_id, AttemptAnswer.selected, AttemptAnswer.seq)
        ).all()
        db.session.remove()
        return {(a, q): (sorted(sel), seq) for a, q, sel, seq in rows}


def wait_until(predicate, timeout=20.0, what="condition"):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


class Worker:
    """`contest worker` in its own process, as production runs it."""

    def __init__(self, database_url, redis_url, log_path, *args):
        env = {
            **os.environ,
            "CONTEST_ENV": "testing",
            "DATABASE_URL": database_url,
            "REDIS_URL": redis_url,
            "SECRET_KEY": "t",
            "CCCD_HASH_KEY": "t",
        }
        self.process = subprocess.Popen(
            [sys.executable, "-c", "from server.cli import main; main()", "worker", *args],
            env=env,
            cwd=PROJECT_ROOT,
            stdout=open(log_path, "ab"),
            stderr=subprocess.STDOUT,
        )

    def kill9(self):
        self.process.kill()
        self.process.wait()

    def stop(self):
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.kill9()


def _players(app, rounds=1, players=20, answers_each=10):
    """Starts attempts and saves answers in-process; returns {(attempt, question): (selected, seq)} acked last."""
    acked = {}
    with app.app_context():
        rnd = make_round(prediction=False, count=10)
        for _ in range(players):
            user = db.session.get(User, create_account(app)[0])
            attempt = start_attempt(user, rnd)
            for seq, aq in enumerate(attempt.questions[:answers_each], start=1):
                choice = key_of(aq.question_id) if seq % 3 else wrong_of(aq.question_id)
                ack = save_answer(attempt.id, user.id, aq.question_id, choice, seq)
                acked[(attempt.id, aq.question_id)] = (sorted(ack.selected), ack.seq)
        db.session.remove()
    return acked


def test_worker_drains_in_batches_and_keeps_the_newest_answer(ctx):
    rnd = make_round(prediction=False)
    user = db.session.get(User, create_account(ctx)[0])
    attempt = start_attempt(user, rnd)
    q1, q2 = attempt.questions[0].question_id, attempt.questions[1].question_id
    save_answer(attempt.id, user.id, q1, wrong_of(q1), 1)
    save_answer(attempt.id, user.id, q1, key_of(q1), 2)
    save_answer(attempt.id, user.id, q2, key_of(q2), 3)
    assert drain_once("t1", count=2, block_ms=None) == 2
    assert drain_once("t1", count=2, block_ms=None) == 1
    assert drain_once("t1", count=2, block_ms=None) == 0
    rows = {a.question_id: a for a in db.session.scalars(select(AttemptAnswer))}
    assert rows[q1].selected == key_of(q1) and rows[q1].seq == 2 and rows[q2].seq == 3
    # acknowledged entries leave the stream; nothing is pending
    r = get_redis()
    assert r.xlen(ANSWER_STREAM) == 0 and r.xpending(ANSWER_STREAM, GROUP)["pending"] == 0


@pytest.mark.slow
def test_kill9_worker_mid_drain_then_restart(app, tmp_path, redis_url):
    acked = _players(app, players=40)
    r = redis_lib.Redis.from_url(redis_url, decode_responses=True)
    # A consumer that read entries and died before committing: exactly what kill -9 leaves behind.
    ensure_group(r)
    ghost = r.xreadgroup(GROUP, "ghost", {ANSWER_STREAM: ">"}, count=25)
    assert len(ghost[0][1]) == 25
    db_url = app.config["SQLALCHEMY_DATABASE_URI"]
    first = Worker(db_url, redis_url, tmp_path / "w1.log", "--batch", "3", "--consumer", "w1", "--claim-idle-ms", "300")
    try:
        wait_until(lambda: len(sql_answers(app)) > 0, what="the first batch")
        first.kill9()
    finally:
        first.stop()
    assert len(sql_answers(app)) < len(acked), "the worker finished before it could be killed mid-drain"
    second = Worker(
        db_url, redis_url, tmp_path / "w2.log", "--batch", "50", "--consumer", "w2", "--claim-idle-ms", "300"
    )
    try:
        wait_until(lambda: len(sql_answers(app)) == len(acked), what="all acked answers in SQL")
        wait_until(lambda: r.xpending(ANSWER_STREAM, GROUP)["pending"] == 0, what="no pending entries")
    finally:
        second.stop()
    assert sql_answers(app) == acked


@pytest.mark.slow
def test_kill9_redis_restarts_from_aof_without_losing_acked_answers(tmp_path, sqlite_url):
    server = LocalRedis(tmp_path / "redis", appendfsync="always").start()
    try:
        app = make_app(sqlite_url, server.url)
        acked = _players(app, players=10, answers_each=6)
        worker = Worker(sqlite_url, server.url, tmp_path / "w.log", "--batch", "20", "--claim-idle-ms", "300")
        try:
            server.kill()  # kill -9: only what the AOF already holds survives
            server.start()
            with app.app_context():
                # the live state came back too: every acked answer is still in the attempt's hash
                for (attempt_id, qid), (selected, seq) in acked.items():
                    assert get_redis().hget(answers_key(attempt_id), qid) == f"{seq}|{','.join(map(str, selected))}"
            # and the platform keeps taking answers after the restart
            more = _players(app, players=3, answers_each=4)
            acked.update(more)
            wait_until(lambda: len(sql_answers(app)) == len(acked), timeout=30, what="all acked answers in SQL")
        finally:
            worker.stop()
        assert sql_answers(app) == acked
    finally:
        server.stop()


@pytest.mark.slow
def test_kill9_app_process_mid_attempt_resumes_on_another(server_factory, redis_url, tmp_path):
    a = server_factory()
    b = server_factory()
    app, round_id, keys = setup_round(server_factory, redis_url, prediction=False)
    _, phone = create_account(app)
    http = http_login(a.url, phone, PASSWORD)
    attempt_id = start_over_http(a.url, http, round_id)
    worker = Worker(server_factory.database_url, redis_url, tmp_path / "w.log", "--batch", "10")
    acked = {}
    try:
        on_a = Recorder(a.url, http)
        qs = on_a.call("attempt:join", {"attempt_id": attempt_id})["state"]["questions"]
        for seq, q in enumerate(qs[:5], start=1):
            ack = on_a.call(
                "answer", {"attempt_id": attempt_id, "question_id": q["id"], "selected": keys[q["id"]], "seq": seq}
            )
            acked[(attempt_id, q["id"])] = (ack["selected"], ack["seq"])
        a.kill()  # kill -9 of the app process the contestant was on
        try:
            on_a.close()
        except Exception:
            pass
        on_b = Recorder(b.url, http)
        state = on_b.call("attempt:join", {"attempt_id": attempt_id})["state"]
        assert {(attempt_id, k): (v["selected"], v["seq"]) for k, v in state["answers"].items()} == acked
        for seq, q in enumerate(qs[5:8], start=state["seq"] + 1):
            ack = on_b.call(
                "answer", {"attempt_id": attempt_id, "question_id": q["id"], "selected": keys[q["id"]], "seq": seq}
            )
            acked[(attempt_id, q["id"])] = (ack["selected"], ack["seq"])
        wait_until(lambda: len(sql_answers(app)) == len(acked), what="acked answers in SQL")
        in_bank = {(a, keys.to_bank(q, s)[0]): (keys.to_bank(q, s)[1], n) for (a, q), (s, n) in acked.items()}
        assert sql_answers(app) == in_bank
        assert on_b.call("submit", {"attempt_id": attempt_id})["result"]["correct"] == 8
        on_b.close()
    finally:
        worker.stop()


@pytest.mark.slow
def test_worker_process_closes_an_expired_attempt_without_a_browser(app, tmp_path, redis_url):

    with app.app_context():
        rnd = make_round(prediction=False, time_limit_seconds=1)
        user = db.session.get(User, create_account(app)[0])
        attempt = start_attempt(user, rnd)
        q1 = attempt.questions[0].question_id
        save_answer(attempt.id, user.id, q1, key_of(q1), 1)
        attempt_id = attempt.id
        db.session.remove()
    worker = Worker(app.config["SQLALCHEMY_DATABASE_URI"], redis_url, tmp_path / "w.log")

    def closed():
        with app.app_context():
            row = db.session.get(Attempt, attempt_id)
            done = row.status == "expired" and row.correct_count == 1
            db.session.remove()
            return done

    try:
        wait_until(closed, what="the sweeper to close the attempt")
    finally:
        worker.stop()
