"""Attempts through the domain functions: start under concurrency, answers in Redis, scoring, expiry."""

import json
import threading
import time
from datetime import timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import func, select

from contest.accounts.models import Unit, User
from contest.rounds import leaderboard
from contest.rounds.live_state import ANSWER_STREAM, DEADLINES, answers_key, attempt_key
from contest.rounds.models import Attempt, AttemptAnswer, AttemptQuestion, Round
from contest.rounds.services import (
    AttemptError,
    attempt_view,
    save_answer,
    server_now_ms,
    start_attempt,
    submit_attempt,
    sweep_expired,
)
from infra.clock import to_ms, utcnow
from infra.extensions import db, get_redis
from tests.conftest import create_account, login
from tests.contest.roundkit import key_of, make_round, wrong_of


def _user(app):
    user_id, _ = create_account(app)
    return db.session.get(User, user_id)


def test_start_draws_questions_and_writes_redis_state_with_ttl(ctx):
    rnd = make_round(count=10)
    user = _user(ctx)
    attempt = start_attempt(user, rnd, client_ip="203.0.113.5")
    assert attempt.number == 1 and attempt.status == "in_progress"
    assert attempt.question_count == 10
    rows = db.session.scalars(select(AttemptQuestion).where(AttemptQuestion.attempt_id == attempt.id)).all()
    assert len({r.question_id for r in rows}) == 10
    assert all(len(r.option_order) == 4 for r in rows)
    r = get_redis()
    state = r.hgetall(attempt_key(attempt.id))
    assert state["status"] == "open" and int(state["deadline"]) == to_ms(attempt.deadline_at)
    # The state outlives the deadline, so a late sweeper still finds what was saved.
    assert r.pttl(attempt_key(attempt.id)) > to_ms(attempt.deadline_at) - int(time.time() * 1000)
    assert r.zscore(DEADLINES, attempt.id) == to_ms(attempt.deadline_at)


def test_second_start_resumes_and_limit_is_enforced_after_submit(ctx):
    rnd = make_round(attempts_allowed=1, prediction=False)
    user = _user(ctx)
    first = start_attempt(user, rnd)
    assert start_attempt(user, rnd).id == first.id
    submit_attempt(first.id, user.id)
    with pytest.raises(AttemptError) as exc:
        start_attempt(user, rnd)
    assert exc.value.code == "attempt_limit"
    assert "hết số lượt thi" in exc.value.message


def test_round_not_open_refuses_start(ctx):

    rnd = make_round(opens_in=timedelta(hours=2))
    with pytest.raises(AttemptError) as exc:
        start_attempt(_user(ctx), rnd)
    assert exc.value.code == "round_not_open"


def test_concurrent_starts_create_exactly_one_attempt(any_db_app):
    app = any_db_app
    with app.app_context():
        rnd_id = make_round(attempts_allowed=2).id
        user_id = create_account(app)[0]
    results, errors = [], []
    barrier = threading.Barrier(8)

    def click():
        with app.app_context():
            barrier.wait()
            try:
                attempt = start_attempt(db.session.get(User, user_id), db.session.get(Round, rnd_id))
                results.append(attempt.id)
            except Exception as exc:
                errors.append(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=click) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(set(results)) == 1 and len(results) == 8
    with app.app_context():
        assert db.session.scalar(select(func.count(Attempt.id)).where(Attempt.user_id == user_id)) == 1


def test_answer_is_acked_idempotent_and_ordered_by_seq(ctx):
    rnd = make_round()
    user = _user(ctx)
    attempt = start_attempt(user, rnd)
    q1 = attempt.questions[0].question_id
    right, wrong = key_of(q1), wrong_of(q1)
    ack = save_answer(attempt.id, user.id, q1, wrong, 1)
    assert ack.to_dict() == {"ok": True, "question_id": q1, "selected": wrong, "seq": 1, "duplicate": False}
    # a retry of the same seq is acknowledged again without a second stream entry
    assert save_answer(attempt.id, user.id, q1, wrong, 1).duplicate is True
    assert save_answer(attempt.id, user.id, q1, right, 2).selected == right
    # an older write arriving late never wins
    late = save_answer(attempt.id, user.id, q1, wrong, 1)
    assert late.duplicate and late.selected == right and late.seq == 2
    r = get_redis()
    assert r.hget(answers_key(attempt.id), q1) == f"2|{right[0]}"
    assert r.xlen(ANSWER_STREAM) == 2


@pytest.mark.parametrize(
    "change, code",
    [
        ("other_user", "forbidden"),
        ("foreign_question", "unknown_question"),
        ("foreign_option", "unknown_option"),
        ("two_options", "single_choice"),
        ("missing_attempt", "attempt_not_found"),
    ],
)
def test_bad_answers_are_refused_and_change_nothing(ctx, change, code):
    rnd = make_round(bank_size=12, count=10)
    user = _user(ctx)
    attempt = start_attempt(user, rnd)
    drawn = [aq.question_id for aq in attempt.questions]
    q1 = drawn[0]
    args = dict(attempt_id=attempt.id, user_id=user.id, question_id=q1, selected=key_of(q1), seq=1)
    if change == "other_user":
        args["user_id"] = _user(ctx).id
    elif change == "foreign_question":
        args["question_id"] = next(q for q in range(1, 13) if q not in drawn)
    elif change == "foreign_option":
        args["selected"] = key_of(attempt.questions[1].question_id)
    elif change == "two_options":
        args["selected"] = key_of(q1) + wrong_of(q1)
    elif change == "missing_attempt":
        args["attempt_id"] = attempt.id + 999
    with pytest.raises(AttemptError) as exc:
        save_answer(**args)
    assert exc.value.code == code
    assert get_redis().hlen(answers_key(attempt.id)) == 0
    assert get_redis().xlen(ANSWER_STREAM) == 0


def test_submit_scores_on_server_writes_sql_and_leaderboard(ctx):
    rnd = make_round(count=10)
    user = _user(ctx)
    attempt = start_attempt(user, rnd)
    qids = [aq.question_id for aq in attempt.questions]
    for seq, qid in enumerate(qids[:7], start=1):
        save_answer(attempt.id, user.id, qid, key_of(qid), seq)
    save_answer(attempt.id, user.id, qids[7], wrong_of(qids[7]), 8)
    with pytest.raises(AttemptError) as exc:
        submit_attempt(attempt.id, user.id)  # the prediction question is on
    assert exc.value.code == "prediction_required"
    done = submit_attempt(attempt.id, user.id, prediction=1234)
    assert done.status == "submitted" and done.correct_count == 7 and done.prediction == 1234
    assert 0 <= done.time_taken_ms < 60_000
    rows = db.session.scalars(select(AttemptAnswer).where(AttemptAnswer.attempt_id == attempt.id)).all()
    assert len(rows) == 8 and sum(r.is_correct for r in rows) == 7
    assert leaderboard.rank_of(rnd.id, user.id)["rank"] == 1
    assert leaderboard.top_entries(rnd.id)[0]["correct"] == 7
    with pytest.raises(AttemptError) as exc:
        save_answer(attempt.id, user.id, qids[9], key_of(qids[9]), 9)
    assert exc.value.code == "attempt_closed"
    # submitting twice changes nothing
    assert submit_attempt(attempt.id, user.id, prediction=1).prediction == 1234


def test_multi_select_is_right_only_with_the_exact_set(ctx):
    rnd = make_round(count=10, multi_every=1, prediction=False)
    user = _user(ctx)
    attempt = start_attempt(user, rnd)
    q1, q2 = attempt.questions[0].question_id, attempt.questions[1].question_id
    save_answer(attempt.id, user.id, q1, key_of(q1), 1)
    save_answer(attempt.id, user.id, q2, key_of(q2)[:1], 2)
    assert submit_attempt(attempt.id, user.id).correct_count == 1


def _wait_past(deadline_at):
    """Until the deadline has passed on Redis's clock, the one the deadline checks and the sweeper read."""
    end = time.monotonic() + 10
    while server_now_ms() <= to_ms(deadline_at):
        assert time.monotonic() < end, "Redis's clock did not reach the deadline"
        time.sleep(0.01)


def test_deadline_refuses_late_answers_and_sweeper_closes_without_a_browser(ctx):
    rnd = make_round(time_limit_seconds=1)
    user = _user(ctx)
    attempt = start_attempt(user, rnd)
    q1, q2 = attempt.questions[0].question_id, attempt.questions[1].question_id
    save_answer(attempt.id, user.id, q1, key_of(q1), 1)
    _wait_past(attempt.deadline_at)
    with pytest.raises(AttemptError) as exc:
        save_answer(attempt.id, user.id, q2, key_of(q2), 2)
    assert exc.value.code == "deadline_passed"
    assert "hết giờ" in exc.value.message
    assert sweep_expired() == 1
    db.session.expire_all()
    closed = db.session.get(Attempt, attempt.id)
    assert closed.status == "expired" and closed.correct_count == 1
    # closed at the deadline, not when the sweeper happened to run
    assert abs((closed.submitted_at - closed.deadline_at).total_seconds()) < 0.002
    assert closed.time_taken_ms == 1000
    assert get_redis().zscore(DEADLINES, attempt.id) is None
    assert leaderboard.rank_of(rnd.id, user.id)["correct"] == 1


def test_sweeper_closes_attempts_whose_redis_state_is_gone(ctx):
    rnd = make_round(time_limit_seconds=1)
    user = _user(ctx)
    attempt = start_attempt(user, rnd)
    get_redis().delete(attempt_key(attempt.id), DEADLINES)
    _wait_past(attempt.deadline_at)
    assert sweep_expired() == 1
    db.session.expire_all()
    assert db.session.get(Attempt, attempt.id).status == "expired"


def test_attempt_view_never_carries_the_key(ctx):
    rnd = make_round()
    user = _user(ctx)
    attempt = start_attempt(user, rnd)
    view = attempt_view(attempt)
    text = json.dumps(view, ensure_ascii=False)
    assert "correct" not in text and "is_correct" not in text and "k:" not in text
    assert [q["id"] for q in view["questions"]] == [aq.ref for aq in attempt.questions]
    assert all(set(o) == {"id", "text"} for q in view["questions"] for o in q["options"])
    # No bank id reaches the client: references are random strings, unique within the attempt.
    refs = [q["id"] for q in view["questions"]] + [o["id"] for q in view["questions"] for o in q["options"]]
    assert all(isinstance(r, str) and len(r) == 11 and not r.isdigit() for r in refs)
    assert len(set(refs)) == len(refs)


@given(
    a=st.tuples(st.integers(0, 255), st.integers(0, 8_000_000), st.integers(0, 4_000_000)),
    b=st.tuples(st.integers(0, 255), st.integers(0, 8_000_000), st.integers(0, 4_000_000)),
)
def test_composite_score_is_exact_and_orders_like_the_rules(a, b):
    sa, sb = leaderboard.composite_score(*a), leaderboard.composite_score(*b)
    assert sa < 2**53 and float(sa) == sa
    key_a = (-a[0], a[1], a[2])
    key_b = (-b[0], b[1], b[2])
    if key_a < key_b:
        assert sa > sb
    elif key_a == key_b:
        assert sa == sb


def test_best_attempt_counts_on_the_board(ctx):
    rnd = make_round(attempts_allowed=2, prediction=False)
    user = _user(ctx)
    first = start_attempt(user, rnd)
    for seq, aq in enumerate(first.questions[:5], start=1):
        save_answer(first.id, user.id, aq.question_id, key_of(aq.question_id), seq)
    submit_attempt(first.id, user.id)
    version = leaderboard.version(rnd.id)
    second = start_attempt(user, rnd)
    assert second.number == 2
    save_answer(second.id, user.id, second.questions[0].question_id, key_of(second.questions[0].question_id), 1)
    submit_attempt(second.id, user.id)
    assert leaderboard.rank_of(rnd.id, user.id)["correct"] == 5
    assert leaderboard.version(rnd.id) == version  # a worse attempt is no change: nothing to push


def test_result_page_shows_the_key_only_after_the_round_closes(ctx, client):

    rnd = make_round(prediction=False)
    user_id, phone = create_account(ctx)
    user = db.session.get(User, user_id)
    attempt = start_attempt(user, rnd)
    q1 = attempt.questions[0].question_id
    save_answer(attempt.id, user.id, q1, key_of(q1), 1)
    submit_attempt(attempt.id, user.id)
    login(client, phone)
    html = client.get(f"/luot-thi/{attempt.id}/ket-qua").get_data(as_text=True)
    assert "1/10" in html and "(đáp án đúng)" not in html
    assert "Đáp án sẽ được công bố sau khi tuần thi kết thúc." in html
    rnd.opens_at, rnd.closes_at = utcnow() - timedelta(days=8), utcnow() - timedelta(seconds=1)
    db.session.commit()
    html = client.get(f"/luot-thi/{attempt.id}/ket-qua").get_data(as_text=True)
    assert html.count("(đáp án đúng)") == 10
    # someone else's result is not found
    _, other = create_account(ctx)
    client.post("/dang-xuat")
    login(client, other)
    assert client.get(f"/luot-thi/{attempt.id}/ket-qua").status_code == 404


def test_only_eligible_units_may_start(ctx):

    rnd = make_round()
    province = Unit(name="Tỉnh Nghệ An")
    other = Unit(name="Thành phố Hà Nội")
    db.session.add_all([province, other])
    db.session.flush()
    school = Unit(name="Trường Đại học Vinh", parent_id=province.id)
    db.session.add(school)
    rnd.contest.eligible_units = [province]
    db.session.commit()
    outsider = db.session.get(User, create_account(ctx, unit_id=other.id)[0])
    with pytest.raises(AttemptError) as exc:
        start_attempt(outsider, rnd)
    assert exc.value.code == "not_eligible"
    student = db.session.get(User, create_account(ctx, unit_id=school.id)[0])
    assert start_attempt(student, rnd).status == "in_progress"


def test_contest_page_counts_down_to_an_upcoming_round(ctx, client):

    rnd = make_round(opens_in=timedelta(hours=3))
    html = client.get(f"/cuoc-thi/{rnd.contest.slug}").get_data(as_text=True)
    assert "Tuần thi sẽ mở sau" in html
    assert f'data-countdown-to="{to_ms(rnd.opens_at)}"' in html
    assert "Bắt đầu thi" not in html
