"""Publishing results: a frozen, versioned snapshot of the ranking with a SHA-256 digest over canonical lines."""

import hashlib
from operator import attrgetter

from flask_babel import gettext as _
from sqlalchemy import func, insert, select

from contest.accounts.models import Unit, User
from contest.audit import record_action
from contest.audit.models import AuditEntry
from contest.judging.errors import JudgingError
from contest.judging.models import RANKED_COLUMNS, Disqualification, ResultSnapshot, SnapshotEntry
from contest.judging.prizes import award_prizes, prize_tiers
from contest.judging.ranking import Entry, effective_rule, person_columns, rank_entries
from contest.judging.settlement import fix_perfect_count, is_closed
from contest.rounds import leaderboard
from contest.rounds.models import Round
from infra.clock import to_vn_time, utcnow
from infra.csv_text import csv_chunks
from infra.extensions import db
from question_bank.formats.table import quote_formula

# Actions that change what a published ranking would show: after one, the page asks for a new version.
CHANGING_ACTIONS = (
    "disqualify",
    "reinstate",
    "prize_tiers",
    "ranking_rule",
    "fix_perfect_count",
    "prediction_target_update",
)


def canonical_header(round_id, rule, target, question_count):
    """The first line of a digest_format 1 digest (versions published before the public file): what the ranking
    was computed from."""
    return f"round={round_id};rule={','.join(rule)};perfect_count_actual={target};questions={question_count}\n"


def canonical_line(entry) -> str:
    """One entry as the digest reads it. Its fields are spelled out rather than taken from RANKED_COLUMNS: a
    published digest must stay verifiable whatever columns the tables gain later."""
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


# The public file of a published ranking (docs/exports.md): its SHA-256 is the published digest (digest_format 2).
# UTF-8 with a BOM (Excel), RFC 4180 (comma, CRLF, quotes only where needed), header row first, one row per entry
# in ranking order; no internal ids, times in Việt Nam time to the second, durations in seconds with 3 decimals.
PUBLIC_COLUMNS = (
    "Hạng",
    "Họ và tên",
    "Đơn vị",
    "Tỉnh/Thành phố",
    "Số câu đúng",
    "Số câu hỏi",
    "Thời gian làm bài (giây)",
    "Nộp bài lúc (giờ Việt Nam)",
    "Dự đoán",
    "Số lượt thi",
    "Giải",
)
_FORMULA_STARTS = frozenset("=+-@\t\r'")


def unit_names() -> dict[int, tuple[str, str]]:
    """unit id -> (unit name, province name); the unit tree is small (thousands), the ranking is not."""
    rows = db.session.execute(select(Unit.id, Unit.parent_id, Unit.name)).all()
    parent = {r.id: r.parent_id for r in rows}
    name = {r.id: r.name for r in rows}
    result = {}
    for unit_id in name:
        top, seen = unit_id, 0
        while parent.get(top) is not None and seen < 50:
            top, seen = parent[top], seen + 1
        result[unit_id] = (name[unit_id], name.get(top, ""))
    return result


def _public_text(value):
    # Typed by contestants: a cell starting like a formula stays text in a spreadsheet (OWASP CSV injection).
    return quote_formula(value) if value and value[0] in _FORMULA_STARTS else (value or "")


def public_row(rank, name, unit, province, correct, questions, time_ms, submitted, prediction, attempts, prize):
    """One entry's fields as text, exactly as the public file writes them."""
    return (
        str(rank),
        _public_text(name),
        _public_text(unit),
        _public_text(province),
        "" if correct is None else str(correct),
        str(questions),
        "" if time_ms is None else f"{time_ms // 1000}.{time_ms % 1000:03d}",
        to_vn_time(submitted).strftime("%Y-%m-%d %H:%M:%S") if submitted else "",
        "" if prediction is None else str(prediction),
        str(attempts),
        _public_text(prize),
    )


def public_csv_chunks(snapshot: ResultSnapshot, batch=5000):
    """The public file of a published version, as text chunks (encode as UTF-8); read from the names and units
    stored when it was published, so the bytes, and therefore the digest, never change."""
    s = SnapshotEntry.__table__
    query = (
        select(
            s.c.rank,
            s.c.public_name,
            s.c.public_unit,
            s.c.public_province,
            s.c.correct_count,
            s.c.question_count,
            s.c.time_taken_ms,
            s.c.submitted_at,
            s.c.prediction,
            s.c.attempts_used,
            s.c.prize,
        )
        .where(s.c.snapshot_id == snapshot.id)
        .order_by(s.c.position)
    )
    rows = (public_row(*row) for row in db.session.execute(query.execution_options(yield_per=batch)))
    yield from csv_chunks(PUBLIC_COLUMNS, rows, batch)


def public_filename(snapshot: ResultSnapshot) -> str:
    return f"ket-qua-vong-{snapshot.round_id}-v{snapshot.version}.csv"


def latest_snapshot(round_id) -> ResultSnapshot | None:
    return db.session.scalar(
        select(ResultSnapshot)
        .where(ResultSnapshot.round_id == round_id)
        .order_by(ResultSnapshot.version.desc())
        .limit(1)
    )


def snapshot_version(round_id, version) -> ResultSnapshot | None:
    return db.session.scalar(
        select(ResultSnapshot).where(ResultSnapshot.round_id == round_id, ResultSnapshot.version == version)
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
    # The digest is the SHA-256 of the public file, written here by the same csv_chunks as public_csv_chunks while
    # the ranking streams; the names and units are stored with the rows so the file can be served identically later.
    units = unit_names()
    tiers = prize_tiers(round_.id)
    table = SnapshotEntry.__table__
    ranked_values = attrgetter(*RANKED_COLUMNS)
    count = winner_count = 0

    def public_rows():
        nonlocal count, winner_count
        # Insert in batches while the ranking streams: memory stays bounded at a million entries.
        rows = []
        for entry in award_prizes(rank_entries(round_, rule=rule, target=target), tiers):
            count += 1
            winner_count += entry.prize is not None
            unit, province = units.get(entry.unit_id, ("", ""))
            row = dict(zip(RANKED_COLUMNS, ranked_values(entry)))
            row["snapshot_id"] = snapshot.id
            row["prize"] = entry.prize
            row["public_name"], row["public_unit"], row["public_province"] = entry.full_name, unit, province
            rows.append(row)
            if len(rows) >= batch:
                db.session.execute(insert(table), rows)
                rows = []
            yield public_row(
                entry.rank,
                entry.full_name,
                unit,
                province,
                entry.correct_count,
                entry.question_count,
                entry.time_taken_ms,
                entry.submitted_at,
                entry.prediction,
                entry.attempts_used,
                entry.prize,
            )
        if rows:
            db.session.execute(insert(table), rows)

    digest = hashlib.sha256()
    for chunk in csv_chunks(PUBLIC_COLUMNS, public_rows(), batch):
        digest.update(chunk.encode())
    # The digest is known only after the rows: set it with a plain UPDATE before the first commit.
    db.session.execute(
        ResultSnapshot.__table__.update()
        .where(ResultSnapshot.__table__.c.id == snapshot.id)
        .values(digest=digest.hexdigest(), entry_count=count, winner_count=winner_count, digest_format=2)
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
    sync_official_board(round_, snapshot)
    return snapshot


def sync_official_board(round_: Round, snapshot: ResultSnapshot | None = None) -> int:
    """Puts the published standings on the round's live board (Redis), so the board, the projector page, the pushes
    and each contestant's result page show the official ranking and prize; people disqualified since are left off.
    Returns the number of entries (0 when nothing is published)."""
    snapshot = snapshot or latest_snapshot(round_.id)
    if snapshot is None:
        return 0
    units = dict(db.session.execute(select(Unit.id, Unit.name)).tuples().all())
    out = set(db.session.scalars(select(Disqualification.user_id).where(Disqualification.round_id == round_.id)))
    entries = (
        leaderboard.OfficialEntry(
            e.user_id, e.rank, e.correct_count, e.time_taken_ms, e.full_name, units.get(e.unit_id, ""), e.prize
        )
        for e in snapshot_entries(snapshot)
        if e.user_id not in out
    )
    return leaderboard.publish_official(round_.id, snapshot.version, entries)


def ensure_official_board(round_: Round) -> None:
    """Writes the official board again if Redis lost it (a restart without persistence, a flush)."""
    if not leaderboard.is_official(round_.id) and latest_snapshot(round_.id) is not None:
        sync_official_board(round_)


def snapshot_entries(snapshot: ResultSnapshot, winners_only=False, batch=5000):
    """Streams a published snapshot's entries (with the person's current name/unit for display)."""
    s = SnapshotEntry.__table__
    u = User.__table__
    query = (
        select(
            *(s.c[name] for name in RANKED_COLUMNS),
            *person_columns(u),
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
    if snapshot.digest_format == 2:
        digest = hashlib.sha256()
        for chunk in public_csv_chunks(snapshot):
            digest.update(chunk.encode())
        return digest.hexdigest() == snapshot.digest
    digest = hashlib.sha256(
        canonical_header(
            snapshot.round_id, snapshot.ranking_rule, snapshot.perfect_count_actual, snapshot.question_count
        ).encode()
    )
    for entry in snapshot_entries(snapshot):
        digest.update(canonical_line(entry).encode())
    return digest.hexdigest() == snapshot.digest
