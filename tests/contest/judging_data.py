"""Builders for judging tests: contests, rounds, people and finished attempts inserted directly with the models."""

import itertools
from datetime import date, datetime, timedelta

from contest.accounts.models import Unit, User
from contest.rounds.models import Attempt, Contest, Round
from infra.extensions import db

_serial = itertools.count(1)
BASE = datetime(2026, 11, 1, 8, 0, 0)


def make_round(questions=3, closed=True, rule=None, prediction_enabled=True, prediction_basis="people", **fields):
    n = next(_serial)
    contest = Contest(slug=f"cuoc-thi-{n}", title=f"Cuộc thi tìm hiểu pháp luật {n}")
    now = datetime.utcnow()
    opens, closes = (
        (now - timedelta(days=8), now - timedelta(hours=1))
        if closed
        else (now - timedelta(days=1), now + timedelta(days=6))
    )
    round_ = Round(
        contest=contest,
        number=1,
        title=f"Tuần thi số {n}",
        opens_at=opens,
        closes_at=closes,
        blueprint=[{"category_id": 1, "count": questions, "difficulty": None}],
        prediction_enabled=prediction_enabled,
        prediction_basis=prediction_basis,
        **fields,
    )
    if rule is not None:
        round_.ranking_rule = list(rule)
    db.session.add(round_)
    db.session.commit()
    return round_


def make_unit(name, parent=None, headcount=None):
    unit = Unit(name=name, parent_id=getattr(parent, "id", None), headcount=headcount)
    db.session.add(unit)
    db.session.commit()
    return unit


def make_person(
    full_name="Nguyễn Văn An",
    created_at=None,
    unit=None,
    dob=date(1990, 5, 17),
    role="contestant",
    cccd_last4=None,
    phone=None,
):
    n = next(_serial)
    user = User(
        phone=phone or f"08{n:08d}",
        password_hash="!",
        full_name=full_name,
        date_of_birth=dob,
        unit_id=getattr(unit, "id", unit),
        role=role,
        created_at=created_at or BASE - timedelta(days=30) + timedelta(seconds=n),
        cccd_last4=cccd_last4,
    )
    db.session.add(user)
    db.session.flush()
    return user


def add_attempt(
    round_,
    user,
    correct,
    time_ms=300_000,
    submitted_at=None,
    prediction=None,
    status="submitted",
    questions=None,
    number=None,
    ip=None,
    device=None,
):
    questions = round_.question_count if questions is None else questions
    if number is None:
        number = 1 + db.session.query(Attempt).filter_by(round_id=round_.id, user_id=user.id).count()
    submitted_at = submitted_at or BASE + timedelta(hours=1)
    attempt = Attempt(
        round_id=round_.id,
        user_id=user.id,
        number=number,
        seed="s",
        status=status,
        started_at=submitted_at - timedelta(milliseconds=time_ms or 0),
        deadline_at=submitted_at + timedelta(minutes=20),
        submitted_at=submitted_at if status != "in_progress" else None,
        question_count=questions,
        correct_count=correct if status != "in_progress" else None,
        time_taken_ms=time_ms if status != "in_progress" else None,
        prediction=prediction,
        client_ip=ip,
        device_id=device,
    )
    db.session.add(attempt)
    db.session.flush()
    return attempt
