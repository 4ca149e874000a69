"""The judge's workflow: audit log, disqualify/reinstate, prize tiers, review flags, fixing the target, publishing."""

import hashlib
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta

from flask_babel import gettext as _
from sqlalchemy import and_, delete, func, insert, or_, select

from contest.accounts.models import User
from contest.judging.models import (
    AuditEntry,
    Disqualification,
    JudgingSettings,
    PrizeTier,
    ResultSnapshot,
    ReviewFlag,
    SnapshotEntry,
)
from contest.judging.ranking import Entry, count_perfect, effective_rule, rank_entries, validate_rule
from contest.rounds.models import Attempt, Round
from infra.clock import utcnow
from infra.extensions import db
from infra.i18n import N_

# Actions that change what a published ranking would show: after one, the page asks for a new version.
CHANGING_ACTIONS = ("disqualify", "reinstate", "prize_tiers", "ranking_rule", "fix_perfect_count")
MIN_REASON_LENGTH = 5


class JudgingError(ValueError):
    """A refused judging action, with a message for the judge (Vietnamese msgid)."""


def record_action(
    actor, action, round_=None, subject_user_id=None, reason=None, object_type=None, object_id=None, **details
):
    """Appends one entry to the audit log, in the caller's transaction (it commits with the change it records).

    Judging actions pass round_ (a foreign key: the round's judging history). Organiser actions pass the object
    they changed as object_type/object_id ("contest", "round", "unit", "question", "bank_import"...), kept without a
    foreign key so deleting a round or a draft does not have to delete its history. `actor` is a user, a user
    id, or None for the system; `details` is any JSON-serialisable summary of the change.
    """
    entry = AuditEntry(
        actor_id=getattr(actor, "id", actor),
        action=action,
        round_id=getattr(round_, "id", round_),
        subject_user_id=subject_user_id,
        reason=reason,
        details=details,
        at=utcnow(),
        object_type=object_type,
        object_id=getattr(object_id, "id", object_id),
    )
    db.session.add(entry)
    return entry


def _jsonable(value):
    if isinstance(value, datetime):
        return value.isoformat(timespec="seconds")
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if hasattr(value, "__dataclass_fields__"):
        return _jsonable(asdict(value))
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)


def audit_changes(before: dict, after: dict) -> dict:
    """{field: [old, new]} for the fields that differ, as JSON values (for an audit entry's details)."""
    return {
        key: [_jsonable(before.get(key)), _jsonable(after.get(key))]
        for key in after
        if _jsonable(before.get(key)) != _jsonable(after.get(key))
    }


def audit_log(round_id, limit=200):
    """A round's history: judging actions on it and organiser actions on the round itself, newest first."""
    return db.session.scalars(
        select(AuditEntry)
        .where(
            or_(
                AuditEntry.round_id == round_id,
                and_(AuditEntry.object_type == "round", AuditEntry.object_id == round_id),
            )
        )
        .order_by(AuditEntry.id.desc())
        .limit(limit)
    ).all()


def audit_entries(action_prefix=None, object_type=None, object_id=None, limit=100, offset=0):
    """The whole log (organisers' and judges' actions), newest first, optionally filtered; one page."""
    query = select(AuditEntry)
    if action_prefix:
        query = query.where(AuditEntry.action.startswith(action_prefix, autoescape=True))
    if object_type:
        query = query.where(AuditEntry.object_type == object_type)
    if object_id is not None:
        query = query.where(AuditEntry.object_id == object_id)
    return db.session.scalars(query.order_by(AuditEntry.id.desc()).limit(limit).offset(offset)).all()


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


def disqualifications(round_id):
    return db.session.scalars(
        select(Disqualification).where(Disqualification.round_id == round_id).order_by(Disqualification.decided_at)
    ).all()


def settings_for(round_: Round) -> JudgingSettings:
    settings = db.session.get(JudgingSettings, round_.id)
    if settings is None:
        settings = JudgingSettings(
            round_id=round_.id, min_time_seconds=60, max_accounts_per_ip=5, max_accounts_per_device=1
        )
    return settings


def update_settings(round_: Round, actor, min_time_seconds, max_accounts_per_ip, max_accounts_per_device):
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


def set_ranking_rule(round_: Round, rule, actor):
    rule = validate_rule(rule)
    previous = list(round_.ranking_rule or [])
    round_.ranking_rule = rule
    record_action(actor, "ranking_rule", round_, rule=rule, previous=previous)
    db.session.commit()


# ---- prize tiers -------------------------------------------------------------------------------------------


@dataclass
class TierSpec:
    name: str
    winners: int
    perfect_required: bool = False


def prize_tiers(round_id) -> list[PrizeTier]:
    return db.session.scalars(
        select(PrizeTier).where(PrizeTier.round_id == round_id).order_by(PrizeTier.position)
    ).all()


def set_prize_tiers(round_: Round, specs: list[TierSpec], actor) -> list[PrizeTier]:
    cleaned = []
    for spec in specs:
        name = (spec.name or "").strip()
        if not name:
            raise JudgingError(_("Mỗi giải phải có tên."))
        if not isinstance(spec.winners, int) or spec.winners < 1:
            raise JudgingError(_("Số lượng giải “%(name)s” phải là số nguyên dương.", name=name))
        cleaned.append(TierSpec(name, spec.winners, bool(spec.perfect_required)))
    if len({spec.name for spec in cleaned}) != len(cleaned):
        raise JudgingError(_("Tên các giải không được trùng nhau."))
    for tier in prize_tiers(round_.id):
        db.session.delete(tier)
    db.session.flush()
    tiers = [
        PrizeTier(round_id=round_.id, position=i, name=s.name, winners=s.winners, perfect_required=s.perfect_required)
        for i, s in enumerate(cleaned, start=1)
    ]
    db.session.add_all(tiers)
    record_action(actor, "prize_tiers", round_, tiers=[s.__dict__ for s in cleaned])
    db.session.commit()
    return tiers


def parse_tiers(text: str) -> list[TierSpec]:
    """One tier per line: `Tên giải; số lượng[; tuyệt đối]` (the form's textarea)."""
    specs = []
    for number, line in enumerate((text or "").splitlines(), start=1):
        if not line.strip():
            continue
        parts = [p.strip() for p in line.split(";")]
        if len(parts) < 2 or not parts[1].isdigit():
            raise JudgingError(_("Dòng %(line)s: cần dạng “Tên giải; số lượng” (ví dụ: Giải Nhất; 1).", line=number))
        perfect = len(parts) > 2 and parts[2].lower() in ("tuyệt đối", "tuyet doi", "x", "1", "có")
        specs.append(TierSpec(parts[0], int(parts[1]), perfect))
    return specs


def award_prizes(entries, tiers):
    """Marks each entry with its prize. An entry takes the first tier whose cumulative count reaches its rank,
    so people tied across a tier boundary all get the higher prize; a tier that requires a perfect score
    is not given to an entry without one. Yields every entry (streams)."""
    bounds, total = [], 0
    for tier in tiers:
        total += tier.winners
        bounds.append((total, tier))
    for entry in entries:
        entry.prize = None
        for bound, tier in bounds:
            if entry.rank <= bound:
                if not tier.perfect_required or entry.perfect:
                    entry.prize = tier.name
                break
        yield entry


def winners(round_: Round):
    """The prize winners in rank order. Reads only the top of the ranking (LIMIT lets the database keep a
    top-N heap instead of sorting everyone), widening the window while ties run past it."""
    tiers = prize_tiers(round_.id)
    total = sum(t.winners for t in tiers)
    if not total:
        return []
    from contest.judging import board

    stored = board.is_current(round_)  # the stored ranking: a primary-key read instead of a window sort
    window = total * 2 + 10
    while True:
        ranked = board.page(round_.id, 0, window) if stored else rank_entries(round_, limit=window)
        entries = list(award_prizes(ranked, tiers))
        if len(entries) < window or entries[-1].rank > total:
            return [e for e in entries if e.rank <= total and e.prize]
        window *= 4


# ---- review flags ------------------------------------------------------------------------------------------

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


# ---- closing and publishing ----------------------------------------------------------------------------

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
        ready = (settled_at(round_) + timedelta(hours=7)).strftime("%H:%M %d/%m/%Y")
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


def canonical_header(round_id, rule, target, question_count):
    return f"round={round_id};rule={','.join(rule)};perfect_count_actual={target};questions={question_count}\n"


def canonical_line(entry) -> str:
    submitted = entry.submitted_at.isoformat(timespec="microseconds") if entry.submitted_at else ""
    fields = (
        entry.position,
        entry.rank,
        entry.user_id,
        entry.attempt_id,
        entry.correct_count,
        entry.question_count,
        entry.time_taken_ms,
        submitted,
        entry.prediction,
        entry.attempts_used,
        entry.prize or "",
    )
    return "\t".join("" if value is None else str(value) for value in fields) + "\n"


def latest_snapshot(round_id) -> ResultSnapshot | None:
    return db.session.scalar(
        select(ResultSnapshot)
        .where(ResultSnapshot.round_id == round_id)
        .order_by(ResultSnapshot.version.desc())
        .limit(1)
    )


def snapshots(round_id):
    return db.session.scalars(
        select(ResultSnapshot).where(ResultSnapshot.round_id == round_id).order_by(ResultSnapshot.version.desc())
    ).all()


def changed_since_publication(round_: Round) -> bool:
    snapshot = latest_snapshot(round_.id)
    if snapshot is None:
        return False
    return (
        db.session.execute(
            select(AuditEntry.id)
            .where(
                AuditEntry.round_id == round_.id,
                AuditEntry.action.in_(CHANGING_ACTIONS),
                AuditEntry.at > snapshot.published_at,
            )
            .limit(1)
        ).first()
        is not None
    )


def publish(round_: Round, actor, note="", batch=5000) -> ResultSnapshot:
    """Freezes the current ranking as a new version with its SHA-256 digest. Earlier versions stay untouched."""
    if not is_closed(round_):
        raise JudgingError(_("Vòng thi chưa kết thúc: chưa thể công bố kết quả."))
    target = fix_perfect_count(round_, actor)
    rule = effective_rule(round_)
    version = (
        db.session.scalar(select(func.max(ResultSnapshot.version)).where(ResultSnapshot.round_id == round_.id)) or 0
    ) + 1
    snapshot = ResultSnapshot(
        round_id=round_.id,
        version=version,
        published_by_id=actor.id,
        ranking_rule=rule,
        perfect_count_actual=target,
        question_count=round_.question_count,
        digest="0" * 64,
        note=note or "",
        published_at=utcnow(),
    )
    db.session.add(snapshot)
    db.session.flush()
    digest = hashlib.sha256(canonical_header(round_.id, rule, target, round_.question_count).encode())
    tiers = prize_tiers(round_.id)
    rows, count, winner_count = [], 0, 0
    table = SnapshotEntry.__table__
    # Insert in batches while the ranking streams: memory stays bounded at a million entries.
    for entry in award_prizes(rank_entries(round_, rule=rule, target=target), tiers):
        digest.update(canonical_line(entry).encode())
        count += 1
        winner_count += entry.prize is not None
        rows.append(
            dict(
                snapshot_id=snapshot.id,
                position=entry.position,
                rank=entry.rank,
                user_id=entry.user_id,
                attempt_id=entry.attempt_id,
                correct_count=entry.correct_count,
                question_count=entry.question_count,
                time_taken_ms=entry.time_taken_ms,
                submitted_at=entry.submitted_at,
                prediction=entry.prediction,
                attempts_used=entry.attempts_used,
                prize=entry.prize,
            )
        )
        if len(rows) >= batch:
            db.session.execute(insert(table), rows)
            rows = []
    if rows:
        db.session.execute(insert(table), rows)
    # The digest is known only after the rows: set it with a plain UPDATE before the first commit.
    db.session.execute(
        ResultSnapshot.__table__.update()
        .where(ResultSnapshot.__table__.c.id == snapshot.id)
        .values(digest=digest.hexdigest(), entry_count=count, winner_count=winner_count)
    )
    record_action(
        actor,
        "publish",
        round_,
        version=version,
        digest=digest.hexdigest(),
        entries=count,
        winners=winner_count,
        note=note or "",
    )
    db.session.commit()
    db.session.refresh(snapshot)
    return snapshot


def snapshot_entries(snapshot: ResultSnapshot, winners_only=False, batch=5000):
    """Streams a published snapshot's entries (with the person's current name/unit for display)."""
    s = SnapshotEntry.__table__
    u = User.__table__
    query = (
        select(
            s.c.position,
            s.c.rank,
            s.c.user_id,
            s.c.attempt_id,
            s.c.correct_count,
            s.c.question_count,
            s.c.time_taken_ms,
            s.c.submitted_at,
            s.c.prediction,
            s.c.attempts_used,
            u.c.created_at.label("registered_at"),
            u.c.full_name,
            u.c.phone,
            u.c.email,
            u.c.date_of_birth,
            u.c.cccd_last4,
            u.c.unit_id,
            s.c.prize,
        )  # Entry's field order
        .join(u, u.c.id == s.c.user_id)
        .where(s.c.snapshot_id == snapshot.id)
        .order_by(s.c.position)
    )
    if winners_only:
        query = query.where(s.c.prize.is_not(None))
    for row in db.session.execute(query.execution_options(yield_per=batch)):
        yield Entry(*row)


def verify_snapshot(snapshot: ResultSnapshot) -> bool:
    """Recomputes the digest from the stored rows: True if nothing was altered."""
    digest = hashlib.sha256(
        canonical_header(
            snapshot.round_id, snapshot.ranking_rule, snapshot.perfect_count_actual, snapshot.question_count
        ).encode()
    )
    for entry in snapshot_entries(snapshot):
        digest.update(canonical_line(entry).encode())
    return digest.hexdigest() == snapshot.digest
