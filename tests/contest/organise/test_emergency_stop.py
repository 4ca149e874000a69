"""Stopping a round early (issue 11, finding 3): "Dừng khẩn cấp" and a closing time moved into the past cap every
running attempt at once (the answer script refuses what comes later), close them with what was saved, are audited,
and keys stay hidden until every attempt of the round has ended."""

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from contest.accounts.models import User
from contest.audit.models import AuditEntry
from contest.organise.forms import RoundForm
from contest.organise.services import RoundInput
from contest.rounds import live_state
from contest.rounds.models import Attempt, AttemptAnswer
from contest.rounds.services import AttemptError, save_answer, start_attempt, submit_attempt
from contest.rounds.stopping import cap_attempts, close_due_attempts, stop_round
from infra.clock import to_ms, to_vn_time, utcnow
from infra.extensions import db
from tests.conftest import create_account, login
from tests.contest.roundkit import key_of, make_round


@pytest.fixture
def db_ctx(any_db_app):
    """An app context on SQLite and on PostgreSQL."""
    with any_db_app.app_context():
        yield any_db_app
        db.session.remove()


def _organiser(app):
    client = app.test_client()
    _, phone = create_account(app, role="organiser")
    login(client, phone)
    return client


def _running(app, rnd, answer=True):
    user_id, phone = create_account(app)
    attempt = start_attempt(db.session.get(User, user_id), rnd)
    qid = attempt.questions[0].question_id
    if answer:
        save_answer(attempt.id, user_id, qid, key_of(qid), 1)
    return attempt.id, user_id, qid, phone


def test_emergency_stop_refuses_later_answers_closes_attempts_with_saved_answers_and_is_audited(db_ctx):
    ctx = db_ctx
    rnd = make_round(count=4, bank_size=4)
    attempt_id, user_id, qid, _ = _running(ctx, rnd)
    client = _organiser(ctx)
    url = f"/quan-tri/cuoc-thi/{rnd.contest_id}/tuan-thi/{rnd.id}"
    page = client.get(url).get_data(as_text=True)
    assert 'id="emergency-stop"' in page and "Dừng khẩn cấp" in page

    # Without the confirmation (or a reason) nothing changes.
    response = client.post(url + "/dung-khan-cap", data={"stop-reason": "Lộ đề thi"})
    assert response.status_code == 422 and "Vui lòng đánh dấu ô xác nhận" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(Attempt, attempt_id).status == "in_progress"
    save_answer(attempt_id, user_id, qid, key_of(qid), 2)  # still accepted

    response = client.post(url + "/dung-khan-cap", data={"stop-confirm": "y", "stop-reason": "Phát hiện lộ đề thi"})
    assert response.status_code == 302
    db.session.expire_all()
    with pytest.raises(AttemptError) as refused:
        save_answer(attempt_id, user_id, qid, key_of(qid), 3)
    assert refused.value.code in ("deadline_passed", "attempt_closed")
    attempt = db.session.get(Attempt, attempt_id)
    assert attempt.status == "expired" and attempt.correct_count == 1
    saved = db.session.scalars(select(AttemptAnswer).where(AttemptAnswer.attempt_id == attempt_id)).all()
    assert [(a.question_id, a.seq, a.is_correct) for a in saved] == [(qid, 2, True)]
    assert db.session.get(type(rnd), rnd.id).closes_at <= utcnow()
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "round_stop"))
    assert entry is not None and entry.round_id == rnd.id and entry.reason == "Phát hiện lộ đề thi"
    assert entry.details["via"] == "emergency_stop" and entry.details["running_attempts"] == 1


def test_closing_time_moved_into_the_past_needs_confirmation_then_stops_the_round(ctx):
    rnd = make_round(count=4, bank_size=4, prediction=False)
    rnd.ranking_rule = [k for k in rnd.ranking_rule if "prediction" not in k]
    db.session.commit()
    attempt_id, user_id, qid, _ = _running(ctx, rnd)
    client = _organiser(ctx)
    url = f"/quan-tri/cuoc-thi/{rnd.contest_id}/tuan-thi/{rnd.id}"
    with ctx.test_request_context():
        form = RoundForm.for_input(RoundInput.from_round(rnd), formdata=None)
        data = {}
        for f in form:
            if f.type in ("CSRFTokenField", "SubmitField"):
                continue
            if f.type == "FieldList":
                for sub in f:
                    if hasattr(sub, "form"):
                        for g in sub.form:
                            if g.type != "CSRFTokenField" and g.data is not None:
                                data[g.name] = str(g.data)
                    elif sub.data:
                        data[sub.name] = sub.data
            elif f.type == "BooleanField":
                if f.data:
                    data[f.name] = "y"
            elif f.data is not None:
                data[f.name] = f.data.strftime("%Y-%m-%dT%H:%M") if hasattr(f.data, "strftime") else str(f.data)
    data["closes_at"] = to_vn_time(utcnow() - timedelta(minutes=1)).strftime("%Y-%m-%dT%H:%M")
    response = client.post(url, data=data)
    assert response.status_code == 422, response.get_data(as_text=True)
    assert "Đánh dấu ô xác nhận" in response.get_data(as_text=True)
    save_answer(attempt_id, user_id, qid, key_of(qid), 2)  # nothing changed

    response = client.post(url, data={**data, "confirm_stop": "y"})
    assert response.status_code == 302, re.findall(r'role="alert">([^<]*)<', response.get_data(as_text=True))
    db.session.expire_all()
    with pytest.raises(AttemptError) as refused:
        save_answer(attempt_id, user_id, qid, key_of(qid), 3)
    assert refused.value.code in ("deadline_passed", "attempt_closed")
    assert db.session.get(Attempt, attempt_id).status == "expired"
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "round_stop"))
    assert entry is not None and entry.details["via"] == "form"


def test_keys_stay_hidden_while_an_attempt_of_the_stopped_round_is_running(ctx):
    rnd = make_round(count=4, bank_size=4, prediction=False)
    finished_id, finished_user, _, phone = _running(ctx, rnd)
    submit_attempt(finished_id, finished_user)
    running_id, running_user, qid, _ = _running(ctx, rnd)
    # Stop as "Dừng khẩn cấp" does, but leave the attempt running (as if its close failed until the next sweep).
    now = utcnow()
    rnd.closes_at = now
    db.session.commit()
    assert cap_attempts(rnd, now) == 1
    assert live_state.read_attempt(running_id).deadline_ms == to_ms(now)
    with pytest.raises(AttemptError) as refused:
        save_answer(running_id, running_user, qid, key_of(qid), 2)
    assert refused.value.code == "deadline_passed"
    client = ctx.test_client()
    login(client, phone)
    page = client.get(f"/luot-thi/{finished_id}/ket-qua").get_data(as_text=True)
    assert "đáp án đúng" not in page and "vẫn còn lượt thi của vòng này chưa kết thúc" in page

    assert close_due_attempts(rnd, live_state.server_now_ms()) == 1
    db.session.expire_all()
    assert db.session.get(Attempt, running_id).status == "expired"
    page = client.get(f"/luot-thi/{finished_id}/ket-qua").get_data(as_text=True)
    assert "đáp án đúng" in page


def test_emergency_stop_is_not_offered_or_accepted_before_the_round_opens(ctx):
    rnd = make_round(count=4, bank_size=4, opens_in=timedelta(days=1))
    client = _organiser(ctx)
    url = f"/quan-tri/cuoc-thi/{rnd.contest_id}/tuan-thi/{rnd.id}"
    assert 'id="emergency-stop"' not in client.get(url).get_data(as_text=True)
    response = client.post(url + "/dung-khan-cap", data={"stop-confirm": "y", "stop-reason": "Thử dừng sớm"})
    assert response.status_code == 422 and "Tuần thi chưa mở" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.get(type(rnd), rnd.id).closes_at > utcnow()
    assert db.session.scalar(select(AuditEntry).where(AuditEntry.action == "round_stop")) is None


def test_a_nearer_closing_time_caps_running_attempts_without_closing_them(db_ctx):
    rnd = make_round(count=4, bank_size=4, prediction=False, time_limit_seconds=3600)
    attempt_id, user_id, qid, _ = _running(db_ctx, rnd)
    nearer = utcnow() + timedelta(minutes=5)
    result = stop_round(rnd, nearer)
    assert (result.capped, result.closed) == (1, 0) and result.closes_at == nearer
    db.session.expire_all()
    attempt = db.session.get(Attempt, attempt_id)
    assert attempt.status == "in_progress" and attempt.deadline_at == nearer
    assert live_state.read_attempt(attempt_id).deadline_ms == to_ms(nearer)
    save_answer(attempt_id, user_id, qid, key_of(qid), 2)  # still before the new close
    # A later closing time never extends a deadline.
    assert stop_round(rnd, nearer + timedelta(hours=1)).capped == 0
    assert live_state.read_attempt(attempt_id).deadline_ms == to_ms(nearer)
