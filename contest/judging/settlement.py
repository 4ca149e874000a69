"""When a round's results can be fixed: closed, then settled (every attempt final); fixing the prediction's target."""

from datetime import timedelta

from flask_babel import gettext as _

from contest.audit import record_action
from contest.judging.errors import JudgingError
from contest.judging.ranking import count_perfect
from contest.rounds.models import Round
from infra.clock import to_vn_time, utcnow
from infra.extensions import db

SETTLE_GRACE = timedelta(minutes=2)


def is_closed(round_: Round, now=None):
    return (now or utcnow()) >= round_.closes_at


def settled_at(round_: Round):
    """When every attempt of a closed round is final: an attempt started just before the close may run its
    full time limit, and its answers are written behind from Redis; only then can the target be fixed."""
    return round_.closes_at + timedelta(seconds=round_.time_limit_seconds or 0) + SETTLE_GRACE


def is_settled(round_: Round, now=None):
    return (now or utcnow()) >= settled_at(round_)


def fix_perfect_count(round_: Round, actor=None) -> int:
    """Fixes the prediction's target when the round closes (idempotent once fixed)."""
    if round_.perfect_count_actual is not None:
        return round_.perfect_count_actual
    if not is_closed(round_):
        raise JudgingError(_("Vòng thi chưa kết thúc: chưa thể chốt số người đạt điểm tuyệt đối."))
    if not is_settled(round_):
        ready = to_vn_time(settled_at(round_)).strftime("%H:%M %d/%m/%Y")
        raise JudgingError(
            _(
                "Vòng thi vừa kết thúc, các lượt thi cuối còn đang được ghi nhận: có thể chốt kết quả từ %(ready)s.",
                ready=ready,
            )
        )
    round_.perfect_count_actual = count_perfect(round_)
    record_action(actor, "fix_perfect_count", round_, value=round_.perfect_count_actual, basis=round_.prediction_basis)
    db.session.commit()
    return round_.perfect_count_actual
