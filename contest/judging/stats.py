"""Round statistics: participation by day, province and unit; score distribution; unit ranking; item statistics.

Everything is aggregated in SQL (GROUP BY over the attempts and over the best-attempt-per-person subquery);
Python only sees one row per day, per unit or per score.
"""

import csv
import io
from dataclasses import dataclass, field

from sqlalchemy import Date, cast, exists, func, select, text

from contest.accounts.models import Unit, User
from contest.judging import board
from contest.judging.models import Disqualification
from contest.judging.prizes import winners
from contest.judging.ranking import FINISHED, ranking_query
from contest.rounds.models import Attempt, AttemptAnswer, Round
from infra.concurrent_reads import read_concurrently
from infra.extensions import db
from question_bank.formats.table import quote_formula
from question_bank.models import Question
from question_bank.stats import item_statistics

WEAK_FACILITY_LOW = 0.2  # almost nobody gets it right: ambiguous or wrong key?
WEAK_FACILITY_HIGH = 0.95  # almost everybody does: tells nothing
WEAK_DISCRIMINATION = 0.15  # strong contestants do no better than weak ones


def _local_day(column):
    if db.engine.dialect.name == "sqlite":
        return func.date(column, "+7 hours")
    return cast(column + text("interval '7 hours'"), Date)


@dataclass
class UnitRow:
    unit_id: int | None
    name: str
    province: str
    participants: int = 0
    attempts: int = 0
    score_sum: int = 0
    perfect: int = 0
    winners: int = 0
    headcount: int | None = None

    @property
    def participation_rate(self):
        return self.participants / self.headcount if self.headcount else None


@dataclass
class RoundStatistics:
    """A round's figures. Totals count every finished attempt and everyone who finished one; each breakdown (days,
    score distribution, provinces, units) counts valid entries only: people not disqualified, each once at their
    best attempt, and those people's finished attempts. So each breakdown adds up to `ranked_people` and
    `valid_attempts`, and the totals are those plus the disqualified ones."""

    attempts: int = 0  # finished attempts, everyone's
    participants: int = 0  # people with a finished attempt
    disqualified_attempts: int = 0
    disqualified_people: int = 0
    perfect_attempts: int = 0  # valid attempts with every answer right
    perfect_people: int = 0  # ranked people whose best attempt is perfect
    question_count: int = 0
    by_day: list = field(default_factory=list)  # [(day, valid attempts, ranked people who finished one that day)]
    distribution: list = field(default_factory=list)  # [(correct or None, people by best attempt, attempts)]
    by_unit: list = field(default_factory=list)  # [UnitRow], by participants desc
    by_province: list = field(default_factory=list)  # [UnitRow], by participants desc
    items: list = field(default_factory=list)  # [(ItemStatistic, question title, weak: bool)]

    @property
    def valid_attempts(self):
        return self.attempts - self.disqualified_attempts

    @property
    def ranked_people(self):
        return self.participants - self.disqualified_people

    @property
    def perfect_rate(self):
        """Ranked people with a perfect best attempt, over ranked people (both without the disqualified)."""
        return self.perfect_people / self.ranked_people if self.ranked_people else 0.0

    @property
    def perfect_attempt_rate(self):
        return self.perfect_attempts / self.valid_attempts if self.valid_attempts else 0.0


def _not_disqualified(a):
    d = Disqualification.__table__
    return ~exists().where(d.c.round_id == a.c.round_id, d.c.user_id == a.c.user_id)


def round_statistics(round_: Round, include_items=True) -> RoundStatistics:
    a = Attempt.__table__
    d = Disqualification.__table__
    finished = (a.c.round_id == round_.id) & a.c.status.in_(FINISHED)
    valid = finished & _not_disqualified(a)
    stats = RoundStatistics(question_count=round_.question_count)
    stored = board.is_current(round_)

    # The disqualified are few: their attempts through the (round, person) index.
    stats.disqualified_attempts, stats.disqualified_people = db.session.execute(
        select(func.count(), func.count(func.distinct(a.c.user_id)))
        .select_from(d.join(a, (a.c.round_id == d.c.round_id) & (a.c.user_id == d.c.user_id)))
        .where(d.c.round_id == round_.id, a.c.status.in_(FINISHED))
    ).one()

    # The three passes over the round (attempts by day, people and attempts by unit and score) run at once, each on
    # its own connection (infra/concurrent_reads.py): at a million attempts 4.0 s where one after another took 8.4.
    day = _local_day(a.c.submitted_at).label("day")
    by_day_query = (
        select(day, func.count().label("attempts"), func.count(func.distinct(a.c.user_id)).label("participants"))
        .where(valid)
        .group_by(day)
        .order_by(day)
    )
    # People: each person's best attempt (the ranking's entries, disqualified people excluded).
    # One pass over the best attempts gives both the score distribution and the per-unit figures: the stored
    # ranking when it is current (a scan, no window sort), else the best-attempt subquery.
    if stored:
        people_query = board.people_by_unit_and_score(round_.id)
    else:
        entries = ranking_query(round_, sql_rank=False).order_by(None).subquery("entries")
        people_query = select(entries.c.unit_id, entries.c.correct_count, func.count()).group_by(
            entries.c.unit_id, entries.c.correct_count
        )
    # Valid attempts by unit and score in one pass: both breakdowns are sums of it.
    u = User.__table__
    attempts_query = (
        select(u.c.unit_id, a.c.correct_count, func.count())
        .select_from(a.join(u, u.c.id == a.c.user_id))
        .where(valid)
        .group_by(u.c.unit_id, a.c.correct_count)
    )
    by_day_rows, people_by_unit_score, attempts_by_unit_score = read_concurrently(
        db.engine, [by_day_query, people_query, attempts_query]
    )
    stats.by_day = [(str(r.day), r.attempts, r.participants) for r in by_day_rows]
    if stored:
        # The stored ranking has everyone who finished an attempt, one row each; the finished attempts are the
        # valid ones (counted by day just now) and the disqualified ones: no pass over a million attempts.
        stats.participants = board.people(round_.id)
        stats.attempts = sum(attempts for _, attempts, _ in stats.by_day) + stats.disqualified_attempts
    else:
        stats.attempts, stats.participants = db.session.execute(
            select(func.count(), func.count(func.distinct(a.c.user_id))).where(finished)
        ).one()

    people_by_score: dict = {}
    for _, score, people in people_by_unit_score:
        people_by_score[score] = people_by_score.get(score, 0) + people
    attempts_by_score: dict = {}
    for _, score, attempts in attempts_by_unit_score:
        attempts_by_score[score] = attempts_by_score.get(score, 0) + attempts
    scores: list = sorted({*people_by_score, *attempts_by_score} - {None}, reverse=True)
    if None in people_by_score or None in attempts_by_score:
        scores.append(None)  # finished without a score (should not happen): shown, so the columns still add up
    stats.distribution = [(s, people_by_score.get(s, 0), attempts_by_score.get(s, 0)) for s in scores]
    if round_.question_count:
        stats.perfect_people = people_by_score.get(round_.question_count, 0)
        stats.perfect_attempts = attempts_by_score.get(round_.question_count, 0)

    stats.by_unit, stats.by_province = _unit_tables(round_, people_by_unit_score, attempts_by_unit_score, stored)
    if include_items:
        stats.items = _items(round_)
    return stats


def _unit_tables(round_, people_by_unit_score, attempts_by_unit_score, stored):
    units = {r.id: r for r in db.session.execute(select(Unit.id, Unit.parent_id, Unit.name, Unit.headcount))}

    def province_of(unit_id):
        seen = 0
        while unit_id in units and units[unit_id].parent_id is not None and seen < 50:
            unit_id, seen = units[unit_id].parent_id, seen + 1
        return unit_id

    rows: dict = {}

    def unit_row(unit_id):
        if unit_id not in rows:
            info = units.get(unit_id)
            top = units.get(province_of(unit_id)) if info else None
            rows[unit_id] = UnitRow(
                unit_id,
                info.name if info else "Chưa chọn đơn vị",
                top.name if top else "",
                headcount=info.headcount if info else None,
            )
        return rows[unit_id]

    question_count = round_.question_count
    for unit_id, score, people in people_by_unit_score:
        row = unit_row(unit_id)
        row.participants += people
        row.score_sum += (score or 0) * people
        row.perfect += people if question_count and score == question_count else 0
    for unit_id, _, attempts in attempts_by_unit_score:
        unit_row(unit_id).attempts += attempts
    for entry in winners(round_, stored=stored):
        unit_row(entry.unit_id).winners += 1

    provinces: dict = {}
    for unit_id, row in rows.items():
        top = province_of(unit_id) if unit_id in units else None
        info = units.get(top)
        agg = provinces.setdefault(
            top, UnitRow(top, info.name if info else "Chưa chọn đơn vị", "", headcount=info.headcount if info else None)
        )
        agg.participants += row.participants
        agg.attempts += row.attempts
        agg.score_sum += row.score_sum
        agg.perfect += row.perfect
        agg.winners += row.winners

    def order(items):
        return sorted(items, key=lambda r: (-r.participants, -r.score_sum, r.name))

    return order(rows.values()), order(provinces.values())


def _items(round_):
    a = Attempt.__table__
    aa = AttemptAnswer.__table__
    query = (
        select(aa.c.attempt_id, aa.c.question_id, aa.c.is_correct)
        .join(a, a.c.id == aa.c.attempt_id)
        .where(a.c.round_id == round_.id, a.c.status.in_(FINISHED), aa.c.is_correct.is_not(None))
        .order_by(aa.c.attempt_id)
    )
    result = db.session.execute(query.execution_options(yield_per=10000))
    statistics = item_statistics((r.attempt_id, r.question_id, r.is_correct) for r in result)
    if not statistics:
        return []
    titles = dict(
        db.session.execute(
            select(Question.id, func.coalesce(Question.title, Question.stem)).where(Question.id.in_(list(statistics)))
        ).all()
    )
    items = []
    for question_id, stat in sorted(statistics.items(), key=lambda kv: kv[1].facility):
        weak = (
            stat.facility < WEAK_FACILITY_LOW
            or stat.facility > WEAK_FACILITY_HIGH
            or (stat.discrimination is not None and stat.discrimination < WEAK_DISCRIMINATION)
        )
        items.append((stat, (titles.get(question_id) or "")[:160], weak))
    return items


class _FormulaSafeWriter:
    """A csv writer whose text cells are formula-safe, like the results exports: unit and province names and
    question stems are typed by people, and `=HYPERLINK(...)` must stay text when a spreadsheet opens the file."""

    def __init__(self, writer):
        self.writer = writer

    def writerow(self, row):
        self.writer.writerow([quote_formula(v) if isinstance(v, str) else v for v in row])

    def writerows(self, rows):
        for row in rows:
            self.writerow(row)


def statistics_csv_chunks(stats: RoundStatistics):
    """The statistics as one CSV (UTF-8 with BOM): sections separated by a blank line."""
    buffer = io.StringIO()
    w = _FormulaSafeWriter(csv.writer(buffer))
    buffer.write("\ufeff")
    w.writerow(["Tổng số lượt thi đã nộp", stats.attempts])
    w.writerow(["— của người bị loại", stats.disqualified_attempts])
    w.writerow(["— hợp lệ (tính trong các bảng dưới)", stats.valid_attempts])
    w.writerow(["Tổng số người dự thi", stats.participants])
    w.writerow(["— bị loại", stats.disqualified_people])
    w.writerow(["— được xếp hạng (tính trong các bảng dưới)", stats.ranked_people])
    w.writerow(["Số người đạt điểm tuyệt đối (trong số người được xếp hạng)", stats.perfect_people])
    w.writerow(["Tỷ lệ đạt điểm tuyệt đối (%)", round(stats.perfect_rate * 100, 2)])
    w.writerow([])
    w.writerow(["Ngày", "Số lượt thi", "Số người dự thi trong ngày"])
    w.writerows(stats.by_day)
    w.writerow(["Tổng", stats.valid_attempts, ""])
    w.writerow([])
    w.writerow(["Số câu đúng", "Số người (bài tốt nhất)", "Số lượt thi"])
    w.writerows([(s if s is not None else "", people, attempts) for s, people, attempts in stats.distribution])
    w.writerow(["Tổng", stats.ranked_people, stats.valid_attempts])
    w.writerow([])
    w.writerow(["Tỉnh/Thành phố", "Số người dự thi", "Số lượt thi", "Tổng điểm", "Số người đạt giải"])
    w.writerows([(r.name, r.participants, r.attempts, r.score_sum, r.winners) for r in stats.by_province])
    w.writerow(
        [
            "Tổng",
            stats.ranked_people,
            stats.valid_attempts,
            sum(r.score_sum for r in stats.by_province),
            sum(r.winners for r in stats.by_province),
        ]
    )
    w.writerow([])
    w.writerow(
        [
            "Đơn vị",
            "Tỉnh/Thành phố",
            "Số người dự thi",
            "Quân số",
            "Tỷ lệ tham gia (%)",
            "Số lượt thi",
            "Tổng điểm",
            "Số người đạt giải",
        ]
    )
    w.writerows(
        [
            (
                r.name,
                r.province,
                r.participants,
                r.headcount or "",
                round(r.participation_rate * 100, 2) if r.participation_rate is not None else "",
                r.attempts,
                r.score_sum,
                r.winners,
            )
            for r in stats.by_unit
        ]
    )
    w.writerow(
        [
            "Tổng",
            "",
            stats.ranked_people,
            "",
            "",
            stats.valid_attempts,
            sum(r.score_sum for r in stats.by_unit),
            sum(r.winners for r in stats.by_unit),
        ]
    )
    if stats.items:
        w.writerow([])
        w.writerow(["Mã câu hỏi", "Câu hỏi", "Số lượt trả lời", "Độ khó (tỷ lệ đúng)", "Độ phân biệt", "Cần xem lại"])
        w.writerows(
            [
                (
                    s.question_id,
                    title,
                    s.responses,
                    round(s.facility, 4),
                    round(s.discrimination, 4) if s.discrimination is not None else "",
                    "x" if weak else "",
                )
                for s, title, weak in stats.items
            ]
        )
    yield buffer.getvalue()
