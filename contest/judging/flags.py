"""Review flags: entries a judge should check by hand, computed with GROUP BY once and stored; their thresholds."""

from flask_babel import gettext as _
from sqlalchemy import delete, func, insert, select

from contest.accounts.models import User
from contest.audit import record_action
from contest.judging.errors import JudgingError
from contest.judging.models import JudgingSettings, ReviewFlag
from contest.judging.settings import settings_for
from contest.judging.settlement import is_settled, settled_at
from contest.rounds.models import Attempt, Round
from infra.clock import utcnow
from infra.extensions import db
from infra.i18n import N_

FLAG_LABELS = {
    "fast": N_("Thời gian làm bài quá ngắn"),
    "shared_ip": N_("Nhiều tài khoản dùng chung địa chỉ IP"),
    "shared_device": N_("Nhiều tài khoản dùng chung thiết bị"),
    "shared_identity": N_("Trùng họ tên và ngày sinh với tài khoản khác"),
}


def review_flags(round_: Round) -> dict[int, set[str]]:
    """Entries to check by hand, keyed by user id. Computed with GROUP BY in SQL; only flagged people come back."""
    settings = settings_for(round_)
    a = Attempt.__table__
    u = User.__table__
    in_round = a.c.round_id == round_.id
    flags: dict[int, set[str]] = {}

    def add(user_ids, flag):
        for user_id in user_ids:
            flags.setdefault(user_id, set()).add(flag)

    fast = (
        select(a.c.user_id)
        .where(in_round, a.c.status.in_(("submitted", "expired")), a.c.time_taken_ms < settings.min_time_seconds * 1000)
        .distinct()
    )
    add(db.session.scalars(fast), "fast")
    for column, limit, flag in (
        (a.c.client_ip, settings.max_accounts_per_ip, "shared_ip"),
        (a.c.device_id, settings.max_accounts_per_device, "shared_device"),
    ):
        crowded = (
            select(column)
            .where(in_round, column.is_not(None))
            .group_by(column)
            .having(func.count(func.distinct(a.c.user_id)) > limit)
            .subquery()
        )
        users = select(a.c.user_id).where(in_round, column.in_(select(crowded.c[0]))).distinct()
        add(db.session.scalars(users), flag)
    people = select(a.c.user_id).where(in_round).distinct().subquery()
    twins = (
        select(u.c.full_name, u.c.date_of_birth)
        .where(u.c.id.in_(select(people.c.user_id)))
        .group_by(u.c.full_name, u.c.date_of_birth)
        .having(func.count() > 1)
        .subquery()
    )
    same = (
        select(u.c.id)
        .join(twins, (twins.c.full_name == u.c.full_name) & (twins.c.date_of_birth == u.c.date_of_birth))
        .where(u.c.id.in_(select(people.c.user_id)))
    )
    add(db.session.scalars(same), "shared_identity")
    return flags


def _thresholds(settings):
    return dict(
        min_time_seconds=settings.min_time_seconds,
        max_accounts_per_ip=settings.max_accounts_per_ip,
        max_accounts_per_device=settings.max_accounts_per_device,
    )


def refresh_review_flags(round_: Round, actor=None, batch=5000) -> int:
    """Computes the review flags (review_flags) and stores them in judging_review_flags, replacing the round's
    previous ones; audited. Returns how many people are flagged. Seconds at a million attempts: run once when
    the round is settled, when the thresholds change, or on a judge's "Tính lại"."""
    settings = settings_for(round_)
    flags = review_flags(round_)
    table = ReviewFlag.__table__
    db.session.execute(delete(table).where(table.c.round_id == round_.id))
    rows = []
    for user_id, kinds in flags.items():
        rows.extend(dict(round_id=round_.id, user_id=user_id, flag=kind) for kind in kinds)
        if len(rows) >= batch:
            db.session.execute(insert(table), rows)
            rows = []
    if rows:
        db.session.execute(insert(table), rows)
    settings.flags_computed_at = utcnow()
    settings.flags_thresholds = _thresholds(settings)
    db.session.add(settings)
    record_action(actor, "review_flags", round_, flagged=len(flags), **_thresholds(settings))
    db.session.commit()
    return len(flags)


def review_flags_stale(round_: Round, now=None) -> bool:
    """True when the stored flags should be computed: never computed, or computed before every attempt of the
    round was final (the flags of a settled round are computed once more, then kept)."""
    settings = db.session.get(JudgingSettings, round_.id)
    if settings is None or settings.flags_computed_at is None:
        return True
    return is_settled(round_, now) and settings.flags_computed_at < settled_at(round_)


def ensure_review_flags(round_: Round):
    if review_flags_stale(round_):
        refresh_review_flags(round_)


def stored_flags(round_id, user_ids=None) -> dict[int, set[str]]:
    """The stored flags by person (for the given people only, e.g. one page of the ranking)."""
    query = select(ReviewFlag.user_id, ReviewFlag.flag).where(ReviewFlag.round_id == round_id)
    if user_ids is not None:
        user_ids = list(user_ids)
        if not user_ids:
            return {}
        query = query.where(ReviewFlag.user_id.in_(user_ids))
    flags: dict[int, set[str]] = {}
    for user_id, flag in db.session.execute(query):
        flags.setdefault(user_id, set()).add(flag)
    return flags


def flag_counts(round_id) -> tuple[int, dict[str, int]]:
    """(flagged people, people per flag) from the stored flags."""
    people = (
        db.session.scalar(select(func.count(func.distinct(ReviewFlag.user_id))).where(ReviewFlag.round_id == round_id))
        or 0
    )
    per_flag = dict(
        db.session.execute(
            select(ReviewFlag.flag, func.count()).where(ReviewFlag.round_id == round_id).group_by(ReviewFlag.flag)
        ).all()
    )
    return people, per_flag


def flagged_people(round_id, flag=None, limit=50, offset=0):
    """One page of flagged people (by user id) with their flags: [(User, {flags})]."""
    ids = select(ReviewFlag.user_id).where(ReviewFlag.round_id == round_id)
    if flag:
        ids = ids.where(ReviewFlag.flag == flag)
    ids = db.session.scalars(ids.distinct().order_by(ReviewFlag.user_id).limit(limit).offset(offset)).all()
    people = {u.id: u for u in db.session.scalars(select(User).where(User.id.in_(ids)))} if ids else {}
    flags = stored_flags(round_id, ids)
    return [(people[i], flags.get(i, set())) for i in ids if i in people]


def update_thresholds(round_: Round, actor, min_time_seconds, max_accounts_per_ip, max_accounts_per_device):
    """Sets the round's review thresholds (audited); flags already stored are recomputed under the new ones."""
    values = dict(
        min_time_seconds=min_time_seconds,
        max_accounts_per_ip=max_accounts_per_ip,
        max_accounts_per_device=max_accounts_per_device,
    )
    if any(not isinstance(v, int) or v < 0 for v in values.values()):
        raise JudgingError(_("Các ngưỡng phải là số nguyên không âm."))
    if max_accounts_per_ip < 1 or max_accounts_per_device < 1:
        raise JudgingError(_("Số tài khoản tối đa phải từ 1 trở lên."))
    settings = settings_for(round_)
    for key, value in values.items():
        setattr(settings, key, value)
    db.session.add(settings)
    record_action(actor, "review_settings", round_, **values)
    db.session.commit()
    if settings.flags_computed_at is not None:
        # Stored flags were computed under the old thresholds: recompute them now, once.
        refresh_review_flags(round_, actor)
    return settings
