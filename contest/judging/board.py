"""The judge's ranking board: a settled round's provisional ranking, stored once and read a page at a time.

Ranking a million attempts takes seconds (a window sort over every attempt), and a deep page (OFFSET) needs the
whole sort again. Once a round is settled its attempts no longer change, so the ranking is computed once into
judging_ranking_entries, keyed by what it depends on (the rule, the prediction's target, the finished attempts);
a page is then a primary-key range read. Disqualified people stay in the stored ranking: a page skips them and
shifts positions and ranks by the disqualified entries above (competition ranks: an entry's rank is 1 + the
number of entries strictly better, so each removed entry strictly better lowers it by one). Disqualifying or
reinstating therefore needs no recomputation; a new rule or target does (the key changes).
"""

from bisect import bisect_left
from operator import attrgetter

from sqlalchemy import delete, func, select

from contest.accounts.models import User
from contest.judging.models import RANKED_COLUMNS, Disqualification, JudgingSettings, RankingEntry
from contest.judging.ranking import FINISHED, Entry, effective_rule, person_columns, prediction_target, rank_entries
from contest.judging.settings import settings_for
from contest.judging.settlement import is_settled
from contest.rounds.models import Attempt, Round
from infra.clock import utcnow
from infra.extensions import db

# The stored ranking's columns in table order; a row is the round's id, then the entry's ranked fields.
_COLUMNS = ("round_id", *RANKED_COLUMNS)
_ranked_values = attrgetter(*RANKED_COLUMNS)


def ranking_key(round_: Round) -> str:
    a = Attempt.__table__
    finished, last = db.session.execute(
        select(func.count(), func.max(a.c.id)).where(a.c.round_id == round_.id, a.c.status.in_(FINISHED))
    ).one()
    return (
        f"rule={','.join(effective_rule(round_))};target={prediction_target(round_)};finished={finished};last={last}"
    )[:255]


def rebuild(round_: Round, key=None, batch=5000) -> int:
    """Stores the round's ranking, disqualified people included; returns the number of entries."""
    key = key or ranking_key(round_)
    table = RankingEntry.__table__
    db.session.execute(delete(table).where(table.c.round_id == round_.id))
    write = _copy_writer(table) if db.engine.dialect.name == "postgresql" else _insert_writer(table)
    rows, count = [], 0
    for entry in rank_entries(round_, include_disqualified=True):
        count += 1
        rows.append((round_.id, *_ranked_values(entry)))
        if len(rows) >= batch:
            write(rows)
            rows = []
    if rows:
        write(rows)
    settings = settings_for(round_)
    settings.ranking_key = key
    settings.ranking_computed_at = utcnow()
    db.session.add(settings)
    db.session.commit()
    return count


def is_current(round_: Round) -> bool:
    """True when the round is settled and its stored ranking matches the current inputs (readers that must not
    trigger a recomputation, e.g. statistics, use the stored ranking only then)."""
    if not is_settled(round_):
        return False
    settings = db.session.get(JudgingSettings, round_.id)
    return settings is not None and settings.ranking_key == ranking_key(round_)


def people_by_unit_and_score(round_id):
    """The statement of [(unit_id, correct_count, people)] over the stored ranking without the disqualified."""
    r = RankingEntry.__table__
    u = User.__table__
    d = Disqualification.__table__
    return (
        select(u.c.unit_id, r.c.correct_count, func.count())
        .join(u, u.c.id == r.c.user_id)
        .where(
            r.c.round_id == round_id,
            ~select(d.c.id).where(d.c.round_id == round_id, d.c.user_id == r.c.user_id).exists(),
        )
        .group_by(u.c.unit_id, r.c.correct_count)
    )


def _insert_writer(table):
    """SQLite: one prepared INSERT run over the batch's tuples (executemany), without building a dict per row."""
    sql = f"INSERT INTO {table.name} ({', '.join(_COLUMNS)}) VALUES ({', '.join('?' for _ in _COLUMNS)})"

    def write(rows):
        db.session.connection().exec_driver_sql(sql, rows)

    return write


def _copy_writer(table):
    """PostgreSQL: COPY each batch through the session's own connection (same transaction), several times faster
    than INSERTs at 700,000 rows. One COPY per batch: the ranking is read from a server-side cursor on the same
    connection, which cannot fetch while a COPY is open."""

    def write(rows):
        raw = db.session.connection().connection.driver_connection
        with raw.cursor() as cursor:
            with cursor.copy(f"COPY {table.name} ({', '.join(_COLUMNS)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)

    return write


def ensure(round_: Round) -> bool:
    """For a settled round, makes sure the stored ranking is current (computing it if not) and returns True;
    for a round still taking attempts returns False: its pages rank live."""
    if not is_settled(round_):
        return False
    key = ranking_key(round_)
    settings = db.session.get(JudgingSettings, round_.id)
    if settings is None or settings.ranking_key != key:
        rebuild(round_, key)
    return True


def removed(round_id):
    """(sorted positions, sorted ranks) of the disqualified people in the stored ranking (a few dozen)."""
    # The few disqualified ids first, then an index lookup each (round_id, user_id): a join let SQLite scan the
    # whole stored ranking of the round (0.2 s at 140,000 entries, on every page view).
    user_ids = list(db.session.scalars(select(Disqualification.user_id).where(Disqualification.round_id == round_id)))
    if not user_ids:
        return [], []
    r = RankingEntry.__table__
    rows = db.session.execute(
        select(r.c.position, r.c.rank).where(r.c.round_id == round_id, r.c.user_id.in_(user_ids))
    ).all()
    return sorted(p for p, _ in rows), sorted(rank for _, rank in rows)


def people(round_id) -> int:
    """Everyone in the stored ranking, the disqualified included: the people who finished an attempt."""
    return db.session.scalar(select(func.max(RankingEntry.position)).where(RankingEntry.round_id == round_id)) or 0


def total(round_id) -> int:
    return people(round_id) - len(removed(round_id)[0])


def page(round_id, offset, limit) -> list[Entry]:
    """Entries offset+1 .. offset+limit of the ranking without the disqualified, with their positions and ranks."""
    positions, ranks = removed(round_id)
    removed_users = set(
        db.session.scalars(select(Disqualification.user_id).where(Disqualification.round_id == round_id))
    )
    start = offset + 1  # the stored position of the start-th kept entry: skip every removed one at or before it
    for position in positions:
        if position <= start:
            start += 1
    r = RankingEntry.__table__
    u = User.__table__
    query = (
        select(*(r.c[name] for name in RANKED_COLUMNS), *person_columns(u))  # Entry's field order
        .join(u, u.c.id == r.c.user_id)
        .where(r.c.round_id == round_id, r.c.position >= start)
        .order_by(r.c.position)
        .limit(limit + len(positions))
    )
    entries = []
    for row in db.session.execute(query):
        if row.user_id in removed_users:
            continue
        entry = Entry(*row)
        entry.position -= bisect_left(positions, entry.position)
        entry.rank -= bisect_left(ranks, entry.rank)
        entries.append(entry)
        if len(entries) == limit:
            break
    return entries


def entries(round_id, batch=5000):
    """Every entry of the stored ranking without the disqualified, in order, with positions and ranks shifted as
    page() does: an export of a settled round reads this instead of ranking a million attempts again."""
    positions, ranks = removed(round_id)
    removed_users = set(
        db.session.scalars(select(Disqualification.user_id).where(Disqualification.round_id == round_id))
    )
    r = RankingEntry.__table__
    u = User.__table__
    query = (
        select(*(r.c[name] for name in RANKED_COLUMNS), *person_columns(u))  # Entry's field order
        .join(u, u.c.id == r.c.user_id)
        .where(r.c.round_id == round_id)
        .order_by(r.c.position)
    )
    for row in db.session.execute(query.execution_options(yield_per=batch)):
        if removed_users and row.user_id in removed_users:
            continue
        entry = Entry(*row)
        if positions:
            entry.position -= bisect_left(positions, entry.position)
            entry.rank -= bisect_left(ranks, entry.rank)
        yield entry
