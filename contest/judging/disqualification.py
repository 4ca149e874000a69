"""Disqualifying a person's entry from a round and reinstating it, each with a required reason (audited)."""

from flask_babel import gettext as _
from sqlalchemy import select

from contest.audit import record_action
from contest.judging.errors import JudgingError
from contest.judging.models import Disqualification
from contest.judging.publishing import sync_official_board
from contest.rounds import leaderboard
from contest.rounds.models import Attempt, Round
from infra.clock import utcnow
from infra.extensions import db

MIN_REASON_LENGTH = 5


def _clean_reason(reason):
    reason = (reason or "").strip()
    if len(reason) < MIN_REASON_LENGTH:
        raise JudgingError(_("Vui lòng ghi rõ lý do (ít nhất %(n)s ký tự).", n=MIN_REASON_LENGTH))
    return reason


def disqualify(round_: Round, user_id: int, reason: str, actor) -> Disqualification:
    reason = _clean_reason(reason)
    has_attempt = db.session.execute(
        select(Attempt.id).where(Attempt.round_id == round_.id, Attempt.user_id == user_id).limit(1)
    ).first()
    if not has_attempt:
        raise JudgingError(_("Người này không có lượt thi nào trong vòng thi này."))
    existing = db.session.scalar(
        select(Disqualification).where(Disqualification.round_id == round_.id, Disqualification.user_id == user_id)
    )
    if existing:
        raise JudgingError(_("Bài dự thi này đã bị loại trước đó."))
    record = Disqualification(
        round_id=round_.id, user_id=user_id, reason=reason, decided_by_id=actor.id, decided_at=utcnow()
    )
    db.session.add(record)
    record_action(actor, "disqualify", round_, subject_user_id=user_id, reason=reason)
    db.session.commit()
    # Off every board (live, or the published one) within the next push.
    leaderboard.disqualify(round_.id, user_id)
    return record


def reinstate(round_: Round, user_id: int, reason: str, actor) -> None:
    reason = _clean_reason(reason)
    existing = db.session.scalar(
        select(Disqualification).where(Disqualification.round_id == round_.id, Disqualification.user_id == user_id)
    )
    if existing is None:
        raise JudgingError(_("Bài dự thi này không bị loại nên không cần khôi phục."))
    record_action(actor, "reinstate", round_, subject_user_id=user_id, reason=reason, previous_reason=existing.reason)
    db.session.delete(existing)
    db.session.commit()
    if leaderboard.is_official(round_.id):
        leaderboard.reinstate(round_.id, user_id, [])
        sync_official_board(round_)  # back on the published board only if the published ranking has them
    else:
        finished = db.session.scalars(
            select(Attempt).where(
                Attempt.round_id == round_.id, Attempt.user_id == user_id, Attempt.status != "in_progress"
            )
        ).all()
        leaderboard.reinstate(round_.id, user_id, finished)


def disqualifications(round_id):
    return db.session.scalars(
        select(Disqualification).where(Disqualification.round_id == round_id).order_by(Disqualification.decided_at)
    ).all()
