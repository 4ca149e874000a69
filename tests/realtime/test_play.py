"""The contestant protocol against a real server: clock, join, answers, errors, submit, leaderboard pushes."""

import json
import threading
import time

import redis as redis_lib
import requests
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import select

from contest.rounds.models import Attempt, AttemptQuestion
from infra.extensions import db
from question_bank.models import QuestionOption
from tests.conftest import PASSWORD, create_account, make_app
from tests.contest.roundkit import make_round
from tests.live import connect_socket, csrf_token, http_login


class Recorder:
    """A socket client that keeps every payload it receives, to scan for leaked keys."""

    def __init__(self, base_url, http):
        self.events = []
        self.lock = threading.Condition()
        self.client = connect_socket(base_url, http)
        self.client.on("*", self._on_any)
        self.payloads = []

    def _on_any(self, event, data=None):
        with self.lock:
            self.events.append((event, data))
            self.payloads.append(data)
            self.lock.notify_all()

    def call(self, event, data):
        reply = self.client.call(event, data, timeout=10)
        self.payloads.append(reply)
        return reply

    def wait_for(self, predicate, timeout=8.0):
        end = time.monotonic() + timeout
        with self.lock:
            while True:
                for event, data in self.events:
                    if predicate(event, data):
                        return data
                left = end - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"no matching event; got {[e for e, _ in self.events]}")
                self.lock.wait(left)

    def close(self):
        self.client.disconnect()


class RefKeys:
    """The key as a client would need it: keys[question ref] -> the correct options' references in that attempt.

    Clients only ever see per-attempt references; the test looks them up in SQL (attempt_questions) to play
    a contestant who knows the answers. keys.bank holds the key by bank ids (question id -> option ids)."""

    def __init__(self, app, bank):
        self.app = app
        self.bank = bank

    def _question(self, ref):
        with self.app.app_context():
            aq = db.session.scalar(select(AttemptQuestion).where(AttemptQuestion.ref == ref))
            assert aq is not None, f"no attempt question with reference {ref!r}"
            refs = dict(zip(aq.option_order, aq.option_refs, strict=True))
            question_id = aq.question_id
            db.session.remove()
        return question_id, refs

    def __getitem__(self, ref):
        question_id, refs = self._question(ref)
        return sorted(refs[o] for o in self.bank[question_id])

    def wrong(self, ref):
        question_id, refs = self._question(ref)
        return [r for o, r in refs.items() if o not in self.bank[question_id]][:1]

    def bank_id(self, ref):
        return self._question(ref)[0]

    def to_bank(self, ref, option_refs):
        """(question id, sorted option ids) of a question and options named by references."""
        question_id, refs = self._question(ref)
        ids = {r: o for o, r in refs.items()}
        return question_id, sorted(ids[r] for r in option_refs)


def setup_round(server_factory, redis_url, **kw):
    app = make_app(server_factory.database_url, redis_url)
    with app.app_context():
        rnd = make_round(**kw)
        bank = {}

        for o in db.session.query(QuestionOption).filter_by(is_correct=True):
            bank.setdefault(o.question_id, []).append(o.id)
        return app, rnd.id, RefKeys(app, bank)


def start_over_http(base_url, http, round_id):
    token = csrf_token(http.get(base_url + "/dang-nhap").text)
    response = http.post(
        f"{base_url}/vong-thi/{round_id}/bat-dau", data={"csrf_token": token, "confirm": "1"}, allow_redirects=False
    )
    assert response.status_code == 302 and "/luot-thi/" in response.headers["Location"], response.text[:300]
    return int(response.headers["Location"].rstrip("/").split("/")[-1])


def contestant(app, base_url):
    _, phone = create_account(app)
    return http_login(base_url, phone, PASSWORD)


def assert_no_key(payloads, keys):
    text = json.dumps(payloads, ensure_ascii=False)
    assert "is_correct" not in text and '"correct_option' not in text and '"key"' not in text


def test_full_attempt_over_socket_with_bad_payloads(live_server, server_factory, redis_url):
    app, round_id, keys = setup_round(server_factory, redis_url)
    http = contestant(app, live_server.url)
    attempt_id = start_over_http(live_server.url, http, round_id)
    page = http.get(f"{live_server.url}/luot-thi/{attempt_id}")
    assert page.status_code == 200 and 'id="attempt-state"' in page.text
    assert "is_correct" not in page.text
    sock = Recorder(live_server.url, http)
    try:
        t0 = time.time() * 1000
        clock = sock.call("clock", {})
        assert clock["ok"] and abs(clock["server_ms"] - t0) < 5000
        joined = sock.call("attempt:join", {"attempt_id": attempt_id})
        assert joined["ok"] and joined["state"]["status"] == "in_progress"
        questions = joined["state"]["questions"]
        assert len(questions) == 10
        # every bad payload gets an error ack and the connection stays usable
        bad = [
            ("answer", None),
            ("answer", "x"),
            ("answer", {"attempt_id": "1"}),
            ("answer", {"attempt_id": attempt_id, "question_id": questions[0]["id"], "selected": "1", "seq": 1}),
            ("answer", {"attempt_id": attempt_id, "question_id": questions[0]["id"], "selected": [True], "seq": 1}),
            ("answer", {"attempt_id": attempt_id, "question_id": questions[0]["id"], "selected": [], "seq": -1}),
            ("answer", {"attempt_id": attempt_id, "question_id": 10**30, "selected": [], "seq": 1}),
            ("submit", {"attempt_id": attempt_id, "prediction": -5}),
            ("attempt:join", {"attempt_id": attempt_id + 1000}),
            ("leaderboard:join", {"round_id": "abc"}),
        ]
        for event, payload in bad:
            reply = sock.call(event, payload)
            assert reply["ok"] is False and reply["error"] in ("bad_request", "attempt_not_found"), (event, reply)
            assert reply["message"]
        foreign = sock.call(
            "answer",
            {
                "attempt_id": attempt_id,
                "question_id": questions[0]["id"],
                "selected": [questions[1]["options"][0]["id"]],
                "seq": 1,
            },
        )
        assert foreign == {
            "ok": False,
            "error": "unknown_option",
            "message": "Phương án đã chọn không thuộc câu hỏi này.",
        }
        for seq, q in enumerate(questions[:6], start=1):
            ack = sock.call(
                "answer", {"attempt_id": attempt_id, "question_id": q["id"], "selected": keys[q["id"]], "seq": seq}
            )
            assert ack == {
                "ok": True,
                "question_id": q["id"],
                "selected": keys[q["id"]],
                "seq": seq,
                "duplicate": False,
            }
        no_prediction = sock.call("submit", {"attempt_id": attempt_id})
        assert no_prediction["error"] == "prediction_required"
        result = sock.call("submit", {"attempt_id": attempt_id, "prediction": 42})
        assert result["ok"] and result["result"]["correct"] == 6 and result["result"]["rank"] == 1
        late = sock.call(
            "answer", {"attempt_id": attempt_id, "question_id": questions[7]["id"], "selected": [], "seq": 99}
        )
        assert late["error"] == "attempt_closed"
        assert_no_key(sock.payloads, keys)
        html = http.get(f"{live_server.url}/luot-thi/{attempt_id}/ket-qua").text
        assert "6/10" in html and "đáp án đúng" not in html  # the round is still open: no key yet
    finally:
        sock.close()


def test_another_users_attempt_is_forbidden(live_server, server_factory, redis_url):
    app, round_id, _ = setup_round(server_factory, redis_url)
    owner = contestant(app, live_server.url)
    attempt_id = start_over_http(live_server.url, owner, round_id)
    intruder = Recorder(live_server.url, contestant(app, live_server.url))
    try:
        assert intruder.call("attempt:join", {"attempt_id": attempt_id})["error"] == "forbidden"
    finally:
        intruder.close()


def test_leaderboard_push_reaches_room_and_own_rank(live_server, server_factory, redis_url):
    app, round_id, keys = setup_round(server_factory, redis_url, prediction=False)
    watcher_http = contestant(app, live_server.url)
    watcher = Recorder(live_server.url, watcher_http)
    player_http = contestant(app, live_server.url)
    player = Recorder(live_server.url, player_http)
    try:
        first = watcher.call("leaderboard:join", {"round_id": round_id})
        assert first["ok"] and first["top"] == [] and first["me"] is None
        attempt_id = start_over_http(live_server.url, player_http, round_id)
        state = player.call("attempt:join", {"attempt_id": attempt_id})["state"]
        q = state["questions"][0]
        player.call("answer", {"attempt_id": attempt_id, "question_id": q["id"], "selected": keys[q["id"]], "seq": 1})
        assert player.call("submit", {"attempt_id": attempt_id})["ok"]
        board = watcher.wait_for(lambda e, d: e == "leaderboard" and d["top"])
        assert board["top"][0]["correct"] == 1 and board["top"][0]["name"] == "Nguyễn Văn An"
        rank = player.wait_for(lambda e, d: e == "rank")
        assert {k: rank[k] for k in ("round_id", "rank", "version")} == {
            "round_id": round_id,
            "rank": 1,
            "version": board["version"],
        }
        assert abs(rank["server_ms"] - time.time() * 1000) < 10_000
        # That an unchanged board is not pushed again is tested on one push cycle (test_pusher.py).
    finally:
        watcher.close()
        player.close()


def test_two_processes_share_attempts_and_leaderboard(server_factory, redis_url):
    a = server_factory()
    b = server_factory()
    app, round_id, keys = setup_round(server_factory, redis_url, prediction=False)
    watcher = Recorder(a.url, contestant(app, a.url))
    player_http = contestant(app, a.url)  # the session lives in Redis: the same cookie works on B
    try:
        watcher.call("leaderboard:join", {"round_id": round_id})
        attempt_id = start_over_http(a.url, player_http, round_id)
        on_a = Recorder(a.url, player_http)
        state = on_a.call("attempt:join", {"attempt_id": attempt_id})["state"]
        qs = state["questions"]
        for seq, q in enumerate(qs[:3], start=1):
            assert on_a.call(
                "answer", {"attempt_id": attempt_id, "question_id": q["id"], "selected": keys[q["id"]], "seq": seq}
            )["ok"]
        on_a.close()
        on_b = Recorder(b.url, player_http)
        resumed = on_b.call("attempt:join", {"attempt_id": attempt_id})["state"]
        assert resumed["deadline_ms"] == state["deadline_ms"]
        assert {k: v["selected"] for k, v in resumed["answers"].items()} == {q["id"]: keys[q["id"]] for q in qs[:3]}
        assert on_b.call(
            "answer",
            {
                "attempt_id": attempt_id,
                "question_id": qs[3]["id"],
                "selected": keys[qs[3]["id"]],
                "seq": resumed["seq"] + 1,
            },
        )["ok"]
        result = on_b.call("submit", {"attempt_id": attempt_id})
        assert result["result"]["correct"] == 4
        board = watcher.wait_for(lambda e, d: e == "leaderboard" and d["top"])
        assert board["top"][0]["correct"] == 4
        on_b.close()
        with app.app_context():
            assert db.session.get(Attempt, attempt_id).correct_count == 4
    finally:
        watcher.close()


def test_answers_neither_reread_the_session_nor_receive_boards_mid_attempt(live_server, server_factory, redis_url):
    """The hot path stays lean: one session read per connection, no leaderboard frames while answering."""

    app, round_id, keys = setup_round(server_factory, redis_url, prediction=False)
    r = redis_lib.Redis.from_url(redis_url)
    http = contestant(app, live_server.url)
    attempt_id = start_over_http(live_server.url, http, round_id)
    other_http = contestant(app, live_server.url)
    other_attempt = start_over_http(live_server.url, other_http, round_id)
    sock = Recorder(live_server.url, http)
    other = Recorder(live_server.url, other_http)
    try:
        questions = sock.call("attempt:join", {"attempt_id": attempt_id})["state"]["questions"]

        def gets():
            return int(r.info("commandstats").get("cmdstat_get", {}).get("calls", 0))

        before = gets()
        for seq, q in enumerate(questions, start=1):
            assert sock.call(
                "answer", {"attempt_id": attempt_id, "question_id": q["id"], "selected": keys[q["id"]], "seq": seq}
            )["ok"]
        assert gets() - before < len(questions) // 2  # it was one session GET per event
        # Someone else finishes: the board changes; the finisher follows it, the one still answering is not sent it.
        other.call("attempt:join", {"attempt_id": other_attempt})
        assert other.call("submit", {"attempt_id": other_attempt})["ok"]
        assert other.wait_for(lambda e, d: e == "rank")["rank"] == 1
        assert other.wait_for(lambda e, d: e == "leaderboard")["top"]
        # The push cycle has run. A socket's frames arrive in order, so once a call's ack is back any frame
        # that cycle sent this socket would have arrived before it.
        assert sock.call("clock", {})["ok"]
        assert [e for e, _ in sock.events if e in ("leaderboard", "rank")] == []
    finally:
        sock.close()
        other.close()


def test_live_answers_feed_the_metrics(live_server, server_factory, redis_url):
    """/metrics of the serving process counts accepted and refused answers, their ack times and contestants."""

    def scrape():
        out = {}
        for family in text_string_to_metric_families(requests.get(live_server.url + "/metrics", timeout=5).text):
            for sample in family.samples:
                out[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
        return out

    app, round_id, keys = setup_round(server_factory, redis_url, prediction=False)
    http = contestant(app, live_server.url)
    attempt_id = start_over_http(live_server.url, http, round_id)
    before = scrape()
    sock = Recorder(live_server.url, http)
    try:
        questions = sock.call("attempt:join", {"attempt_id": attempt_id})["state"]["questions"]
        assert scrape()[("contest_connected_contestants", ())] == before[("contest_connected_contestants", ())] + 1
        for seq, q in enumerate(questions[:3], start=1):
            assert sock.call(
                "answer", {"attempt_id": attempt_id, "question_id": q["id"], "selected": keys[q["id"]], "seq": seq}
            )["ok"]
        refused = sock.call("answer", {"attempt_id": attempt_id, "question_id": 10**9, "selected": [1], "seq": 9})
        assert refused["ok"] is False
        after = scrape()
        assert (
            after[("contest_answers_accepted_total", ())] - before.get(("contest_answers_accepted_total", ()), 0) == 3
        )
        reason = (("reason", refused["error"]),)
        assert (
            after[("contest_answers_refused_total", reason)] - before.get(("contest_answers_refused_total", reason), 0)
            == 1
        )
        assert (
            after[("contest_answer_ack_seconds_count", ())] - before.get(("contest_answer_ack_seconds_count", ()), 0)
            == 4
        )
        assert after[("contest_redis_command_seconds_count", (("command", "answer_script"),))] >= 3
    finally:
        sock.close()
    deadline = time.monotonic() + 5
    while scrape()[("contest_connected_contestants", ())] != before[("contest_connected_contestants", ())]:
        assert time.monotonic() < deadline, "the gauge did not go back down after the disconnect"
        time.sleep(0.1)


def test_socket_errors_follow_the_chosen_language(live_server, server_factory, redis_url):
    app, round_id, _ = setup_round(server_factory, redis_url)
    owner = contestant(app, live_server.url)
    attempt_id = start_over_http(live_server.url, owner, round_id)
    http = contestant(app, live_server.url)
    token = csrf_token(http.get(live_server.url + "/dang-nhap").text)
    http.post(live_server.url + "/ngon-ngu/en", data={"csrf_token": token, "next": "/"})
    intruder = Recorder(live_server.url, http)
    try:
        reply = intruder.call("attempt:join", {"attempt_id": attempt_id})
        assert reply == {"ok": False, "error": "forbidden", "message": "This attempt is not yours."}
        reply = intruder.call("answer", {"attempt_id": "x"})
        assert reply["error"] == "bad_request" and reply["message"].startswith("Invalid data sent")
    finally:
        intruder.close()
