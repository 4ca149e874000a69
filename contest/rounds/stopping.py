"""Stopping a round early (the organiser's "Dừng khẩn cấp", or a closing time moved into the past or nearer).

Every running attempt's deadline is capped at the new closing time, first in Redis (the answer script on every
process refuses later answers at once: `deadline_passed`, or `attempt_closed` once it is closed) and then in SQL (a
state rebuilt from SQL keeps the cap). When the new closing time has passed, the attempts are closed right away with
what was saved, as the sweeper would; otherwise the sweeper closes them at the capped deadline. Keys of the round
stay hidden until every attempt has ended (contest.rounds.keys).
"""

import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select

from contest.rounds import live_state
from contest.rounds.models import Attempt, Round
from contest.rounds.services import AttemptError, close_attempt
from infra.clock import from_ms, to_ms
from infra.extensions import db

log = logging.getLogger(__name__)

PASSES = 3  # an attempt started while the round was being stopped is caught by the next pass


@dataclass
class StopResult:
    closes_at: datetime  # the round's closing time now
    capped: int  # running attempts whose deadline was brought forward
    closed: int  # attempts closed right away (the new closing time had passed)


def _running(round_id: int, after: datetime) -> list[Attempt]:
    return list(
        db.session.scalars(
            select(Attempt)
            .where(Attempt.round_id == round_id, Attempt.status == "in_progress", Attempt.deadline_at > after)
            .execution_options(populate_existing=True)
        )
    )


def cap_attempts(round_: Round, closes_at: datetime) -> int:
    """Caps the deadline of every running attempt of the round at `closes_at` (Redis first, then SQL; commits)."""
    cap_ms = to_ms(closes_at)
    capped = 0
    for _ in range(PASSES):
        attempts = _running(round_.id, closes_at)
        if not attempts:
            break
        for attempt in attempts:
            live_state.cap_deadline(attempt.id, cap_ms)
            attempt.deadline_at = closes_at
            capped += 1
        db.session.commit()
    return capped


def close_due_attempts(round_: Round, now_ms: int) -> int:
    """Closes the round's running attempts whose deadline has passed, with their saved answers."""
    closed = 0
    ids = db.session.scalars(
        select(Attempt.id).where(
            Attempt.round_id == round_.id, Attempt.status == "in_progress", Attempt.deadline_at <= from_ms(now_ms)
        )
    ).all()
    for attempt_id in ids:
        try:
            close_attempt(attempt_id, mode="sweep")
            closed += 1
        except AttemptError as exc:  # the sweeper will retry
            db.session.rollback()
            log.warning("stopping round %s: closing attempt %s: %s", round_.id, attempt_id, exc.code)
    return closed


def running_count(round_: Round) -> int:
    """Attempts of the round not closed yet (in SQL)."""
    return (
        db.session.scalar(
            select(func.count())
            .select_from(Attempt)
            .where(Attempt.round_id == round_.id, Attempt.status == "in_progress")
        )
        or 0
    )


def stop_round(round_: Round, closes_at: datetime | None = None) -> StopResult:
    """Brings the round's close forward to `closes_at` (Redis's now when None; a later time than the current close
    changes nothing) and caps every running attempt at it; the attempts already due are closed now. Commits: an
    audit entry the caller added to the session goes in with the new closing time."""
    target = from_ms(live_state.server_now_ms()) if closes_at is None else closes_at
    if round_.closes_at > target:
        round_.closes_at = target
    db.session.commit()
    capped = cap_attempts(round_, round_.closes_at)
    closed = close_due_attempts(round_, live_state.server_now_ms())
    return StopResult(round_.closes_at, capped, closed)
