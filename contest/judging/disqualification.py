"""Disqualifying a person's entry from a round and reinstating it, each with a required reason (audited).

Two separate actions, each stating the state it expects: disqualifying expects an entry that is ranked, reinstating
expects the disqualification the judge saw (its id). A request made from a page that is out of date (another judge,
or another tab, decided in between) is refused with StaleDecision and changes nothing, so pressing a button twice or
in a stale tab never undoes someone else's decision.
"""

from flask_babel import gettext as _
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from contest.audit import record_action
from contest.judging.errors import JudgingError
from contest.judging.models import Disqualification
from contest.judging.publishing import sync_official_board
from contest.judging.ranking import has_perfect_attempt, prediction_scope
from contest.judging.settings import recount_target
from contest.rounds import leaderboard
from contest.rounds.models import Attempt, Round
from infra.clock import format_vn_time, utcnow
from infra.extensions import db

MIN_REASON_LENGTH = 5


class StaleDecision(JudgingError):
    """The entry is no longer in the state the judge's page showed: nothing was changed."""


def _clean_reason(reason):
    reason = (reason or "").strip()
    if len(reason) < MIN_REASON_LENGTH:
        raise JudgingError(_("Vui lòng ghi rõ lý do (ít nhất %(n)s ký tự).", n=MIN_REASON_LENGTH))
    return reason


def current_decision(round_id: int, user_id: int) -> Disqualification | None:
    return db.session.scalar(
        select(Disqualification).where(Disqualification.round_id == round_id, Disqualification.user_id == user_id)
    )


def already_disqualified(record: Disqualification) -> StaleDecision:
    return StaleDecision(
        _(
            "Bài dự thi này đã bị loại lúc %(time)s (%(who)s) — trang bạn đang xem đã cũ. Không có gì thay đổi; "
            "hãy xem trạng thái hiện tại bên dưới.",
            time=format_vn_time(record.decided_at, seconds=True),
            who=record.decided_by.full_name if record.decided_by else _("hệ thống"),
        )
    )


def decision_token(record: Disqualification) -> str:
    """Names one decision for a reinstate request: its id and when it was taken (SQLite may give a new row the id
    of a deleted one, so the id alone could not tell a newer decision from the one the judge saw)."""
    return f"{record.id}.{record.decided_at:%Y%m%d%H%M%S%f}"


def check_reinstatable(round_id: int, user_id: int, expected: str | None) -> Disqualification:
    """The disqualification to reinstate; StaleDecision when it is not the one the judge saw (`expected`, its
    decision_token)."""
    existing = current_decision(round_id, user_id)
    if existing is None:
        if expected is not None:
            raise StaleDecision(
                _(
                    "Bài dự thi này đã được khôi phục trước đó — trang bạn đang xem đã cũ. Không có gì thay đổi; "
                    "hãy xem trạng thái hiện tại bên dưới."
                )
            )
        raise JudgingError(_("Bài dự thi này không bị loại nên không cần khôi phục."))
    if expected is not None and decision_token(existing) != expected:
        raise StaleDecision(
            _(
                "Bài dự thi này đã được khôi phục rồi bị loại lại bằng một quyết định khác — trang bạn đang xem đã "
                "cũ. Không có gì thay đổi; hãy đọc quyết định hiện tại bên dưới."
            )
        )
    return existing


def _target_moves(round_: Round, user_id: int) -> bool:
    """Does this person's state change the prediction's target? Only a perfect score under the "valid" scope."""
    return prediction_scope(round_.id) == "valid" and has_perfect_attempt(round_.id, user_id)


def disqualify(round_: Round, user_id: int, reason: str, actor) -> Disqualification:
    """Disqualifies an entry that is ranked now; refuses (StaleDecision) if it is already disqualified."""
    reason = _clean_reason(reason)
    has_attempt = db.session.execute(
        select(Attempt.id).where(Attempt.round_id == round_.id, Attempt.user_id == user_id).limit(1)
    ).first()
    if not has_attempt:
        raise JudgingError(_("Người này không có lượt thi nào trong vòng thi này."))
    existing = current_decision(round_.id, user_id)
    if existing:
        raise already_disqualified(existing)
    record = Disqualification(
        round_id=round_.id, user_id=user_id, reason=reason, decided_by_id=actor.id, decided_at=utcnow()
    )
    db.session.add(record)
    try:
        db.session.flush()  # two judges at the same instant: the unique (round, person) lets one through
    except IntegrityError:
        db.session.rollback()
        raise already_disqualified(current_decision(round_.id, user_id)) from None
    record_action(actor, "disqualify", round_, subject_user_id=user_id, reason=reason)
    if _target_moves(round_, user_id):
        recount_target(round_, actor, cause="disqualify")
    db.session.commit()
    # Off every board (live, or the published one) within the next push.
    leaderboard.disqualify(round_.id, user_id)
    return record


def reinstate(round_: Round, user_id: int, reason: str, actor, expected: str | None = None) -> None:
    """Reinstates a disqualified entry. With `expected` (the decision_token of the disqualification the judge's page
    showed), a page that is out of date is refused (StaleDecision): the entry was reinstated, or disqualified again,
    meanwhile."""
    reason = _clean_reason(reason)
    existing = check_reinstatable(round_.id, user_id, expected)
    previous_reason, decision_id = existing.reason, existing.id
    db.session.expunge(existing)
    # A plain DELETE by id: of two judges reinstating at once, only one removes the row.
    removed = db.session.execute(delete(Disqualification).where(Disqualification.id == decision_id)).rowcount
    if removed != 1:
        db.session.rollback()
        raise StaleDecision(_("Bài dự thi này vừa được khôi phục bởi người khác. Không có gì thay đổi."))
    record_action(actor, "reinstate", round_, subject_user_id=user_id, reason=reason, previous_reason=previous_reason)
    if _target_moves(round_, user_id):
        recount_target(round_, actor, cause="reinstate")
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
