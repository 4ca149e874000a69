"""The ranking engine: each person's best attempt under the round's rule, ranked in SQL with window functions.

Ranks are competition ranks ("1, 2, 2, 4"): entries equal on every criterion of the rule share a rank;
within a tie the listing order is by user id so it is stable. Rows are streamed, never listed whole.
"""

from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import and_, exists, func, null, nulls_last, select

from contest.accounts.models import User
from contest.judging.models import RANKED_COLUMNS, Disqualification, JudgingSettings
from contest.rounds.models import Attempt, Round
from contest.rounds.ranking_rule import DEFAULT_RANKING_RULE, validate_rule
from infra.concurrent_reads import reads_in_parallel
from infra.extensions import db
from infra.i18n import N_

FINISHED = ("submitted", "expired")

# Criterion key (contest.rounds.ranking_rule.CRITERIA) -> label shown to judges (msgids; translated at render time).
CRITERIA_LABELS = {
    "correct_desc": N_("Số câu trả lời đúng (nhiều hơn xếp trên)"),
    "prediction_distance_asc": N_("Dự đoán gần số người đạt điểm tuyệt đối hơn"),
    "time_taken_asc": N_("Thời gian làm bài ngắn hơn"),
    "submitted_at_asc": N_("Nộp bài sớm hơn (tính đến giây)"),
    "attempts_used_asc": N_("Số lượt thi đã dùng ít hơn"),
    "registered_at_asc": N_("Đăng ký tài khoản sớm hơn"),
}
# Criteria that are constant for one person: they rank people, they cannot choose between one person's attempts.
PERSON_CRITERIA = {"attempts_used_asc", "registered_at_asc"}


@dataclass(slots=True)
class Entry:
    """A person's entry in a round: their best finished attempt and its place in the ranking.

    Rows become entries positionally (fast at a million): the first fields are models.RANKED_COLUMNS in order,
    then registered_at, then the person's fields (person_columns), then the prize."""

    position: int
    rank: int
    user_id: int
    attempt_id: int
    correct_count: int | None
    question_count: int
    time_taken_ms: int | None
    submitted_at: datetime | None
    prediction: int | None
    attempts_used: int
    registered_at: datetime | None
    full_name: str = ""
    phone: str = ""
    email: str | None = None
    date_of_birth: object = None
    cccd_last4: str | None = None
    unit_id: int | None = None
    prize: str | None = None

    @property
    def perfect(self):
        return bool(self.question_count) and self.correct_count == self.question_count


def person_columns(users):
    """The users-table columns of an Entry, in its field order after attempts_used."""
    return (
        users.c.created_at.label("registered_at"),
        users.c.full_name,
        users.c.phone,
        users.c.email,
        users.c.date_of_birth,
        users.c.cccd_last4,
        users.c.unit_id,
    )


def effective_rule(round_: Round) -> list[str]:
    rule = list(round_.ranking_rule or DEFAULT_RANKING_RULE)
    if not round_.prediction_enabled:
        rule = [key for key in rule if key != "prediction_distance_asc"]
    return rule


def _is_perfect(a):
    return and_(a.c.status.in_(FINISHED), a.c.question_count > 0, a.c.correct_count == a.c.question_count)


# Whose perfect scores the prediction's target counts (JudgingSettings.prediction_scope) -> label for judges.
PREDICTION_SCOPES = {
    "valid": N_("Bài dự thi hợp lệ (không tính bài bị loại)"),
    "all": N_("Tất cả bài dự thi (kể cả bài bị loại)"),
}
DEFAULT_PREDICTION_SCOPE = "valid"  # the published Vietnamese rules count valid entries


def prediction_scope(round_id: int) -> str:
    settings = db.session.get(JudgingSettings, round_id)
    scope = settings.prediction_scope if settings is not None else None
    return scope if scope in PREDICTION_SCOPES else DEFAULT_PREDICTION_SCOPE


def count_perfect(round_: Round) -> int:
    """The prediction's target: entries with every answer right (people by default, attempts if the round says so),
    without the disqualified people's unless the round's judges chose to count every entry."""
    a = Attempt.__table__
    where = [a.c.round_id == round_.id, _is_perfect(a)]
    if prediction_scope(round_.id) == "valid":
        d = Disqualification.__table__
        where.append(~exists().where(d.c.round_id == a.c.round_id, d.c.user_id == a.c.user_id))
    if round_.prediction_basis == "attempts":
        query = select(func.count()).where(*where)
    else:
        query = select(func.count(func.distinct(a.c.user_id))).where(*where)
    return db.session.execute(query).scalar_one()


def has_perfect_attempt(round_id: int, user_id: int) -> bool:
    a = Attempt.__table__
    return (
        db.session.execute(
            select(a.c.id).where(a.c.round_id == round_id, a.c.user_id == user_id, _is_perfect(a)).limit(1)
        ).first()
        is not None
    )


def prediction_target(round_: Round) -> int:
    """The fixed value once the round has closed; until then the current count (provisional)."""
    if round_.perfect_count_actual is not None:
        return round_.perfect_count_actual
    return count_perfect(round_)


def _whole_seconds(column):
    # The published rules compare submission times to the second: equal seconds are a tie.
    if db.engine.dialect.name == "sqlite":
        # SQLite stores "YYYY-MM-DD HH:MM:SS.ffffff": cutting the text is exact and far cheaper than strftime.
        return func.substr(column, 1, 19)
    return func.date_trunc("second", column)


def _order_terms(rule, cols, target, person_cols=True):
    terms = []
    for key in rule:
        if key == "correct_desc":
            terms.append(nulls_last(cols["correct_count"].desc()))
        elif key == "prediction_distance_asc":
            if target is not None:
                terms.append(nulls_last(func.abs(cols["prediction"] - target).asc()))
        elif key == "time_taken_asc":
            terms.append(nulls_last(cols["time_taken_ms"].asc()))
        elif key == "submitted_at_asc":
            terms.append(nulls_last(_whole_seconds(cols["submitted_at"]).asc()))
        elif key in PERSON_CRITERIA and person_cols:
            terms.append(nulls_last(cols[key.removesuffix("_asc")].asc()))
    return terms


def ranking_query(round_: Round, rule=None, target=None, include_disqualified=False, sql_rank=True, users=None):
    """The SQL of the ranking: one row per person (their best attempt: by GROUP BY and min() of a sort key on
    SQLite, by DISTINCT ON on PostgreSQL), in rank order.

    With sql_rank the rank comes from RANK(); without it the rank column is NULL and rank_entries derives it
    from the ordered rows (one sort fewer: at a million attempts that is a third of the time on SQLite). On
    PostgreSQL the rank is always computed (_ranking_query_pg).

    users: SQLite only, (first, last) user ids (either None for open): the ranking of those people alone, as
    rank_entries' halves read it.
    """
    rule = validate_rule(rule if rule is not None else effective_rule(round_))
    if "prediction_distance_asc" in rule and target is None:
        target = prediction_target(round_)
    if db.engine.dialect.name == "postgresql":
        return _ranking_query_pg(round_, rule, target, include_disqualified)
    a = Attempt.__table__
    people = []
    if users is not None:
        first, last = users
        people = [a.c.user_id >= first] if first is not None else []
        people += [a.c.user_id <= last] if last is not None else []
    # Each person's best attempt: SQLite gives a GROUP BY's other columns from the row that has the group's min()
    # when min() is the query's only min/max (documented "bare columns"); the key sorts as the rule ranks attempts.
    # Grouping streams through the (round, person) index: at a million attempts 4.7 s where a window took 8.7.
    finished = (
        select(
            func.min(_best_attempt_key(rule, a, target)).label("best_key"),
            *_attempt_columns(a),
            func.count().label("attempts_used"),
        )
        .where(a.c.round_id == round_.id, a.c.status.in_(FINISHED), *people)
        .group_by(a.c.user_id)
        .subquery("finished")
    )
    u = User.__table__
    cols = {
        "correct_count": finished.c.correct_count,
        "prediction": finished.c.prediction,
        "time_taken_ms": finished.c.time_taken_ms,
        "submitted_at": finished.c.submitted_at,
        "attempts_used": finished.c.attempts_used,
        "registered_at": u.c.created_at,
    }
    terms = _order_terms(rule, cols, target)
    rank = func.rank().over(order_by=terms) if sql_rank else null()
    query = (
        select(  # in Entry's field order after `position`: rows become entries positionally (fast at 10^6)
            rank.label("rank"),
            finished.c.user_id,
            finished.c.attempt_id,
            finished.c.correct_count,
            finished.c.question_count,
            finished.c.time_taken_ms,
            finished.c.submitted_at,
            finished.c.prediction,
            finished.c.attempts_used,
            *person_columns(u),
        )
        .join(u, u.c.id == finished.c.user_id)
        .order_by(*terms, finished.c.user_id)
    )
    if not include_disqualified:
        d = Disqualification.__table__
        query = query.where(~exists().where(d.c.round_id == round_.id, d.c.user_id == finished.c.user_id))
    return query


def _attempt_columns(a):
    """The attempt's columns that a best-attempt subquery carries (the ranking query picks them by name)."""
    return (
        a.c.id.label("attempt_id"),
        a.c.user_id,
        a.c.correct_count,
        a.c.question_count,
        a.c.time_taken_ms,
        a.c.submitted_at,
        a.c.prediction,
    )


_KEY_OFFSET = 2**62  # keeps every number of a key positive and 19 digits wide, so text order is number order


def _best_attempt_key(rule, a, target):
    """SQLite: one text per attempt that sorts (as text) the way the rule's attempt criteria rank attempts, then by
    the attempt's id: for each criterion "1" for NULL (last) or "0" and the value, fixed-width."""
    formats, values = [], []

    def number(column, descending=False):
        formats.append("%d%019d")
        values.extend(
            (column.is_(None), (_KEY_OFFSET - column) if descending else (column + _KEY_OFFSET)),
        )

    for key in rule:
        if key == "correct_desc":
            number(a.c.correct_count, descending=True)
        elif key == "prediction_distance_asc" and target is not None:
            number(func.abs(a.c.prediction - target))
        elif key == "time_taken_asc":
            number(a.c.time_taken_ms)
        elif key == "submitted_at_asc":
            formats.append("%d%s")  # whole seconds: "YYYY-MM-DD HH:MM:SS", fixed width
            values.extend((a.c.submitted_at.is_(None), func.coalesce(_whole_seconds(a.c.submitted_at), "")))
    number(a.c.id)
    return func.printf("".join(formats), *values)


# A ranking row's columns after `rank` that come from the attempt, in Entry's order.
_ATTEMPT_COLUMNS = RANKED_COLUMNS[2:]


def _ranking_query_pg(round_: Round, rule, target, include_disqualified):
    """PostgreSQL's form of ranking_query, always with RANK(). At a million attempts the full ranking took 12.5 s
    where the generic form took 13.7 (benchmarks/bench_results.py --pg):

    - Each person's best attempt by DISTINCT ON, their attempt count by a window over the same sort: one sort, and
      the planner estimates one row per person (ROW_NUMBER() = 1 looked like 5,000 rows to it, so it chose nested
      loops over 700,000 rows).
    - The ranking's sort carries only the ranked columns; RANK() and the position come from that sort, and the
      people's text columns are joined afterwards and put in order by the position alone.
    """
    a = Attempt.__table__
    attempt_cols = {name: a.c[name] for name in ("correct_count", "prediction", "time_taken_ms", "submitted_at")}
    best = (
        select(
            *_attempt_columns(a),
            func.count().over(partition_by=a.c.user_id).label("attempts_used"),
        )
        .distinct(a.c.user_id)
        .where(a.c.round_id == round_.id, a.c.status.in_(FINISHED))
        .order_by(a.c.user_id, *_order_terms(rule, attempt_cols, target, person_cols=False), a.c.id)
    )
    if not include_disqualified:
        d = Disqualification.__table__
        best = best.where(~exists().where(d.c.round_id == round_.id, d.c.user_id == a.c.user_id))
    best = best.subquery("best")
    registered = User.__table__.alias("registered")
    cols = {
        "correct_count": best.c.correct_count,
        "prediction": best.c.prediction,
        "time_taken_ms": best.c.time_taken_ms,
        "submitted_at": best.c.submitted_at,
        "attempts_used": best.c.attempts_used,
        "registered_at": registered.c.created_at,
    }
    terms = _order_terms(rule, cols, target)
    ranked = (
        select(
            func.row_number().over(order_by=[*terms, best.c.user_id]).label("position"),
            func.rank().over(order_by=terms).label("rank"),
            *(best.c[name] for name in _ATTEMPT_COLUMNS),
            registered.c.created_at.label("registered_at"),
        )
        .join(registered, registered.c.id == best.c.user_id)
        .subquery("ranked")
    )
    u = User.__table__
    return (
        select(
            ranked.c.rank,
            *(ranked.c[name] for name in _ATTEMPT_COLUMNS),
            ranked.c.registered_at,
            *person_columns(u)[1:],
        )
        .join(u, u.c.id == ranked.c.user_id)
        .order_by(ranked.c.position)
    )


def ranked_count(round_: Round) -> int:
    """How many entries the ranking has (people with a finished attempt, not disqualified), without ranking."""
    a = Attempt.__table__
    d = Disqualification.__table__
    return (
        db.session.scalar(
            select(func.count(func.distinct(a.c.user_id))).where(
                a.c.round_id == round_.id,
                a.c.status.in_(FINISHED),
                ~exists().where(d.c.round_id == round_.id, d.c.user_id == a.c.user_id),
            )
        )
        or 0
    )


def _criteria(rule, target):
    """[(column, how)] of a SQLite driver row of ranking_query (its column order, date-times as the stored text)
    that RANK() compares, in the rule's order: how is "desc" or "asc" (values), "distance" (to the target,
    ascending), "seconds" (the stored text to the second, ascending: what the query sorts by)."""
    criteria = []
    for key in rule:
        if key == "correct_desc":
            criteria.append((3, "desc"))
        elif key == "prediction_distance_asc" and target is not None:
            criteria.append((7, "distance"))
        elif key == "time_taken_asc":
            criteria.append((5, "asc"))
        elif key == "submitted_at_asc":
            criteria.append((6, "seconds"))
        elif key == "attempts_used_asc":
            criteria.append((8, "asc"))
        elif key == "registered_at_asc":
            criteria.append((9, "asc"))
    return criteria


def _comparison(rule, target):
    """compare(a, b): -1, 0 or 1 as row a comes before row b, ties with it or comes after it on the criteria RANK()
    compares (NULLs last on each), compared as SQLite compares them. Adjacent rows of the sorted stream usually
    differ on an early criterion, so the comparison stops there (cheaper at a million rows than building a key
    tuple per row)."""
    criteria = _criteria(rule, target)

    def compare(a, b):
        for column, how in criteria:
            x, y = a[column], b[column]
            if x == y:
                continue
            if x is None or y is None:
                return 1 if x is None else -1
            if how == "desc":
                return -1 if x > y else 1
            if how == "distance":
                x, y = abs(x - target), abs(y - target)
            elif how == "seconds":
                x, y = x[:19], y[:19]
            if x != y:
                return -1 if x < y else 1
        return 0

    return compare


def _merged(first, second, compare):
    """The rows of two streams sorted as ranking_query sorts them (by compare, then by user id) in one such stream."""
    second = iter(second)
    b = next(second, None)
    for a in first:
        while b is not None and ((order := compare(b, a)) < 0 or (order == 0 and b[1] < a[1])):
            yield b
            b = next(second, None)
        yield a
    if b is not None:
        yield b
        yield from second


def rank_entries(round_: Round, rule=None, target=None, limit=None, offset=0, batch=5000, include_disqualified=False):
    """Yields the round's entries in rank order (disqualified people excluded unless asked), streaming."""
    rule = validate_rule(rule if rule is not None else effective_rule(round_))
    if "prediction_distance_asc" in rule and target is None:
        target = prediction_target(round_)
    # A page further down cannot know the ranks above it: let SQL rank. On SQLite a stream from the top ranks as
    # it reads (one sort fewer); PostgreSQL's query has the rank from the sort it needs anyway.
    if offset or db.engine.dialect.name == "postgresql":
        query = ranking_query(round_, rule=rule, target=target, include_disqualified=include_disqualified)
        if limit is not None:
            query = query.limit(limit)
        if offset:
            query = query.offset(offset)
        for position, row in enumerate(db.session.execute(query.execution_options(yield_per=batch)), offset + 1):
            yield Entry(position, *row)
        return
    query = ranking_query(round_, rule=rule, target=target, sql_rank=False, include_disqualified=include_disqualified)
    if limit is not None:
        query = query.limit(limit)
    # The driver's rows, converted here (date-times) only once they are ranked: at a million rows SQLAlchemy's
    # row objects cost more than the work on them.
    dialect = db.engine.dialect
    convert = [
        (i, processor)
        for i, column in enumerate(query.selected_columns)
        if (processor := column.type.dialect_impl(dialect).result_processor(dialect, None)) is not None
    ]
    compare = _comparison(rule, target)
    with ExitStack() as opened:
        rows = None
        if limit is None:
            rows = _halves(round_, rule, target, include_disqualified, batch, opened, compare)
        if rows is None:
            cursor = _driver_cursor(db.session.connection(), query)
            opened.callback(cursor.close)
            rows = _driver_rows(cursor, batch)
        previous, rank = None, 0
        for position, row in enumerate(rows, start=1):
            if previous is None or compare(previous, row):
                rank = position
            previous = row
            values = list(row)
            for i, processor in convert:
                values[i] = processor(values[i])
            values[0] = rank
            yield Entry(position, *values)


def _driver_cursor(connection, query):
    """Runs query on the connection's DB-API connection (SQLite: the grouping and sorting happen here, before the
    first row, without the GIL); returns the cursor."""
    compiled = query.compile(dialect=connection.dialect, compile_kwargs={"render_postcompile": True})
    params = compiled.construct_params()
    return connection.connection.driver_connection.execute(
        str(compiled), tuple(params[name] for name in compiled.positiontup)
    )


def _driver_rows(cursor, batch):
    while rows := cursor.fetchmany(batch):
        yield from rows


# A whole ranking on SQLite whose people's ids span at least this many is read in two halves (_halves).
SPLIT_MIN_SPAN = 20_000


def _halves(round_, rule, target, include_disqualified, batch, opened, compare):
    """SQLite, a whole ranking: the rows of the people in each half of the round's user ids, each half grouped and
    sorted by its own connection on its own thread, at once, then merged into one sorted stream (None: read it
    whole). SQLite does a query's grouping and sorting before its first row, without the GIL, so the halves
    use both cores: at a million attempts 5.1 s where the whole took 8.5 (benchmarks/bench_results.py).

    Not under gevent (its threads are greenlets), and not after this session has written: the halves' connections
    see committed data only. Each half reads its own snapshot."""
    if not reads_in_parallel(db.engine):
        return None
    if db.session.connection().connection.driver_connection.in_transaction:
        return None
    a = Attempt.__table__
    first, last = db.session.execute(
        select(func.min(a.c.user_id), func.max(a.c.user_id)).where(a.c.round_id == round_.id)
    ).one()
    if first is None or last - first < SPLIT_MIN_SPAN:
        return None
    middle = (first + last) // 2
    queries = [
        ranking_query(
            round_, rule=rule, target=target, sql_rank=False, include_disqualified=include_disqualified, users=users
        )
        for users in ((None, middle), (middle + 1, None))
    ]
    engine = db.engine

    def execute(query):
        connection = engine.connect()
        try:
            return connection, _driver_cursor(connection, query)
        except BaseException:
            connection.close()
            raise

    with ThreadPoolExecutor(max_workers=2, thread_name_prefix="ranking") as pool:
        futures = [pool.submit(execute, query) for query in queries]
    halves, error = [], None
    for future in futures:
        try:
            connection, cursor = future.result()
        except BaseException as failure:
            error = failure
            continue
        opened.callback(connection.close)
        opened.callback(cursor.close)  # first: callbacks run last in, first out
        halves.append(_driver_rows(cursor, batch))
    if error is not None:
        raise error
    return _merged(*halves, compare)


def best_attempt(round_: Round, user_id: int, rule=None):
    """The id of a person's best attempt under the rule (disqualified or not), or None if none finished."""
    query = ranking_query(round_, rule=rule, include_disqualified=True)
    sub = query.subquery()
    row = db.session.execute(select(sub.c.attempt_id).where(sub.c.user_id == user_id)).first()
    return row.attempt_id if row else None
