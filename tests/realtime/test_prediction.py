"""Issue 13: the prediction is saved as it is typed (the `prediction` event) and counts when the server closes the
attempt, at the deadline, with no client connected (docs/realtime.md)."""

import time

from contest.accounts.models import User
from contest.rounds import live_state
from contest.rounds.live_state import attempt_key
from contest.rounds.models import Attempt
from contest.rounds.services import load_state, save_prediction, start_attempt, sweep_expired
from infra.extensions import db, get_redis
from realtime.play import MAX_PREDICTION
from tests.conftest import create_account
from tests.contest.roundkit import make_round
from tests.realtime.test_play import Recorder, contestant, setup_round, start_over_http


def _joined(live_server, server_factory, redis_url, **kw):
    app, round_id, keys = setup_round(server_factory, redis_url, **kw)
    http = contestant(app, live_server.url)
    attempt_id = start_over_http(live_server.url, http, round_id)
    sock = Recorder(live_server.url, http)
    sock.http = http
    state = sock.call("attempt:join", {"attempt_id": attempt_id})["state"]
    return app, sock, attempt_id, state


def _prediction(app, attempt_id):
    with app.app_context():
        value = db.session.get(Attempt, attempt_id).prediction
        db.session.remove()
    return value


def test_prediction_is_acknowledged_range_checked_and_kept_by_the_server_close(live_server, server_factory, redis_url):
    app, sock, attempt_id, state = _joined(live_server, server_factory, redis_url, time_limit_seconds=4)
    try:
        assert state["prediction"]["enabled"] and state["prediction"]["value"] is None
        base = {"attempt_id": attempt_id}
        assert sock.call("prediction", {**base, "prediction": 12, "seq": 1}) == {
            "ok": True,
            "prediction": 12,
            "seq": 1,
            "duplicate": False,
        }
        # a newer value replaces it; an older or repeated seq is a duplicate and gets what the server holds
        assert sock.call("prediction", {**base, "prediction": 150, "seq": 3})["prediction"] == 150
        assert sock.call("prediction", {**base, "prediction": 7, "seq": 2}) == {
            "ok": True,
            "prediction": 150,
            "seq": 3,
            "duplicate": True,
        }
        # out of range or of the wrong type: bad_request, nothing changes
        for value in (-1, MAX_PREDICTION + 1, "150", 1.5, True, [1]):
            reply = sock.call("prediction", {**base, "prediction": value, "seq": 10})
            assert reply["ok"] is False and reply["error"] == "bad_request" and reply["message"], value
        for payload in ({**base, "seq": 10}, {**base, "prediction": 5}, {**base, "prediction": 5, "seq": 0}, None):
            assert sock.call("prediction", payload)["error"] == "bad_request", payload
        assert sock.call("prediction", {"attempt_id": attempt_id + 1000, "prediction": 5, "seq": 10})["error"] == (
            "attempt_not_found"
        )
        # a reload sees the saved value, and join's seq covers it (a client resumes from there)
        joined = sock.call("attempt:join", base)["state"]
        assert joined["prediction"]["value"] == 150 and joined["prediction"]["seq"] == 3 and joined["seq"] == 3

        # the deadline passes: late values are refused, and the server's own close (the worker's sweeper, no
        # client involved) keeps the last value saved in time
        while time.time() * 1000 < state["deadline_ms"] + 50:
            time.sleep(0.05)
        late = sock.call("prediction", {**base, "prediction": 999, "seq": 20})
        assert late["ok"] is False and late["error"] == "deadline_passed" and late["message"]
        with app.app_context():
            assert sweep_expired() == 1
            db.session.remove()
        assert _prediction(app, attempt_id) == 150
        assert sock.call("prediction", {**base, "prediction": 999, "seq": 21})["error"] == "deadline_passed"
        html = sock.http.get(f"{live_server.url}/luot-thi/{attempt_id}/ket-qua").text
        assert "Dự đoán" in html and ">150<" in html
    finally:
        sock.close()


def test_prediction_refused_after_submit_and_saved_one_satisfies_submit(live_server, server_factory, redis_url):
    app, sock, attempt_id, state = _joined(live_server, server_factory, redis_url)
    try:
        base = {"attempt_id": attempt_id}
        assert sock.call("submit", base)["error"] == "prediction_required"
        assert sock.call("prediction", {**base, "prediction": 40, "seq": 1})["ok"]
        assert sock.call("prediction", {**base, "prediction": None, "seq": 2}) == {
            "ok": True,
            "prediction": None,
            "seq": 2,
            "duplicate": False,
        }
        assert sock.call("submit", base)["error"] == "prediction_required"  # cleared: asked again
        assert sock.call("prediction", {**base, "prediction": 41, "seq": 3})["ok"]
        assert sock.call("submit", base)["ok"]  # the saved prediction answers the question
        assert _prediction(app, attempt_id) == 41
        closed = sock.call("prediction", {**base, "prediction": 42, "seq": 4})
        assert closed["ok"] is False and closed["error"] == "attempt_closed"
        with app.app_context():
            get_redis().delete(attempt_key(attempt_id))  # also when only SQL remembers the attempt
        assert sock.call("prediction", {**base, "prediction": 42, "seq": 5})["error"] == "attempt_closed"
        assert _prediction(app, attempt_id) == 41
    finally:
        sock.close()


def test_prediction_in_a_submit_wins_and_a_round_without_prediction_refuses_it(live_server, server_factory, redis_url):
    app, sock, attempt_id, state = _joined(live_server, server_factory, redis_url)
    try:
        assert sock.call("prediction", {"attempt_id": attempt_id, "prediction": 10, "seq": 1})["ok"]
        assert sock.call("submit", {"attempt_id": attempt_id, "prediction": 11})["ok"]
        assert _prediction(app, attempt_id) == 11
    finally:
        sock.close()
    app, sock, attempt_id, state = _joined(live_server, server_factory, redis_url, prediction=False)
    try:
        reply = sock.call("prediction", {"attempt_id": attempt_id, "prediction": 10, "seq": 1})
        assert reply == {
            "ok": False,
            "error": "prediction_disabled",
            "message": "Tuần thi này không có câu hỏi dự đoán.",
        }
    finally:
        sock.close()


def test_a_prediction_sent_with_a_late_submit_does_not_count(live_server, server_factory, redis_url):
    app, sock, attempt_id, state = _joined(live_server, server_factory, redis_url, time_limit_seconds=3)
    try:
        assert sock.call("prediction", {"attempt_id": attempt_id, "prediction": 10, "seq": 1})["ok"]
        while time.time() * 1000 < state["deadline_ms"] + 50:
            time.sleep(0.05)
        late = sock.call("submit", {"attempt_id": attempt_id, "prediction": 999})
        assert late["ok"] and late["result"]["status"] == "expired"
        assert _prediction(app, attempt_id) == 10  # the last value saved in time, like a late answer
    finally:
        sock.close()


def test_a_rebuilt_live_state_keeps_the_newer_saved_prediction(ctx):
    """The codec, and load_state (a lost or refreshed live state) never overwrites a prediction Redis holds."""
    assert live_state.decode_prediction("3|150") == live_state.SavedPrediction(3, 150)
    assert live_state.decode_prediction("4|") == live_state.SavedPrediction(4, None)
    assert live_state.decode_prediction(None) is None
    user_id, _ = create_account(ctx)
    round_ = make_round()
    attempt = start_attempt(db.session.get(User, user_id), round_)
    assert live_state.read_prediction(attempt.id) is None
    assert save_prediction(attempt.id, user_id, 70, 2).to_dict() == {
        "ok": True,
        "prediction": 70,
        "seq": 2,
        "duplicate": False,
    }
    attempt.prediction = 5  # SQL holding an older value: Redis's newer one stays
    load_state(attempt, force=True)
    assert live_state.read_prediction(attempt.id) == live_state.SavedPrediction(2, 70)
    get_redis().delete(live_state.prediction_key(attempt.id), live_state.attempt_key(attempt.id))
    load_state(attempt)  # Redis lost it: SQL's value comes back (seq 0, so any new value replaces it)
    assert live_state.read_prediction(attempt.id) == live_state.SavedPrediction(0, 5)
    assert get_redis().pttl(live_state.prediction_key(attempt.id)) > 0
    assert save_prediction(attempt.id, user_id, 6, 1).prediction == 6
