"""Seeded, reproducible random draws of questions for one attempt.

Contract used by the contest package:
    draw_questions(blueprint, seed, seen_counts=None) -> list[DrawnQuestion]
A blueprint is a list of BlueprintRule; the same seed and bank state give the same draw.

The cost of a draw does not grow with the bank: the approved bank's question, category and option
ids are loaded once per process into memory under a bank version token kept in Redis (about 40 MB
for 100,000 questions), and candidate ids per rule are computed once from that. Every commit that touches
questions, options or categories replaces the token (see the session hooks at the end), so every
process drops its cache at the next draw.
"""

import itertools
import logging
import random
import threading
import uuid
from dataclasses import dataclass

import redis
from flask_babel import gettext as _
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from infra.extensions import db, get_redis
from question_bank.models import DIFFICULTIES, Category, Question, QuestionOption

BANK_VERSION_KEY = "qb:bank-version"
logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class BlueprintRule:
    category_id: int | None  # None: the whole bank; otherwise this category and its subcategories
    count: int
    difficulty: str | None = None  # None: any difficulty

    @classmethod
    def from_dict(cls, data):
        return cls(category_id=data.get("category_id"), count=int(data["count"]), difficulty=data.get("difficulty"))

    def to_dict(self):
        return {"category_id": self.category_id, "count": self.count, "difficulty": self.difficulty}


@dataclass(frozen=True)
class DrawnQuestion:
    question_id: int
    option_order: tuple[int, ...]  # option ids in the order the contestant sees them


class BlueprintError(ValueError):
    """The bank cannot satisfy the blueprint; the message is shown to organisers."""


# ---------------------------------------------------------------- bank version and cache


def bank_version() -> str:
    redis = get_redis()
    token = redis.get(BANK_VERSION_KEY)
    if token is None:
        # Redis lost the key (flushed, new instance): start a fresh token so no process trusts an old cache.
        redis.set(BANK_VERSION_KEY, uuid.uuid4().hex, nx=True)
        token = redis.get(BANK_VERSION_KEY)
    return token


def bump_bank_version() -> None:
    """Tells every process that the bank changed. A Redis outage must not fail the database write
    that caused it: this process drops its own snapshot and the failure is logged."""
    try:
        get_redis().set(BANK_VERSION_KEY, uuid.uuid4().hex)
    except redis.RedisError:
        with _lock:
            _snapshots.clear()
        logger.warning("could not bump the question bank version in Redis", exc_info=True)


class _Snapshot:
    """The approved, current bank of one database at one bank version: loaded in one query, then
    every draw is answered from memory."""

    def __init__(self):
        self.loaded = False
        self.load_lock = threading.Lock()
        self.questions: list[tuple[int, int, str]] = []  # (question id, category id, difficulty), by id
        self.options: dict[int, tuple[int, ...]] = {}  # question id -> option ids by position
        self.paths: dict[int, str] = {}  # category id -> materialised path
        self.candidates: dict[tuple, tuple[int, ...]] = {}

    def load(self):
        with self.load_lock:
            if self.loaded:
                return
            current = (Question.status == "approved") & Question.is_current.is_(True)
            self.paths = dict(_raw_rows(select(Category.id, Category.path)))
            self.questions = _raw_rows(
                select(Question.id, Question.category_id, Question.difficulty).where(current).order_by(Question.id)
            )
            option_rows = _raw_rows(
                select(QuestionOption.question_id, QuestionOption.id)
                .join(Question, QuestionOption.question_id == Question.id)
                .where(current)
                .order_by(QuestionOption.question_id, QuestionOption.position)
            )
            self.options = {
                qid: tuple(oid for _q, oid in group)
                for qid, group in itertools.groupby(option_rows, key=lambda row: row[0])
            }
            # A question without options cannot be shown: leave it out of every pool.
            self.questions = [row for row in self.questions if row[0] in self.options]
            self.loaded = True


def _raw_rows(stmt) -> list[tuple]:
    """Plain tuples from the DB-API cursor of the session's own connection (so flushed, uncommitted
    rows are seen): building 500,000 SQLAlchemy Row objects costs more than the query itself."""
    connection = db.session.connection()
    sql = str(stmt.compile(dialect=connection.dialect, compile_kwargs={"literal_binds": True}))
    cursor = connection.connection.cursor()
    try:
        cursor.execute(sql)
        return [tuple(row) for row in cursor.fetchall()]
    finally:
        cursor.close()


_snapshots: dict[str, tuple[str, _Snapshot]] = {}  # database url -> (token, snapshot)
_lock = threading.Lock()


def _snapshot() -> _Snapshot:
    # As autoflush would before a query: pending bank rows reach the database (and bump the token)
    # before the token is read, because the snapshot reads through the raw DB-API cursor.
    if db.session.new or db.session.dirty or db.session.deleted:
        db.session.flush()
    token = bank_version()
    url = db.engine.url.render_as_string(hide_password=True)
    with _lock:
        current = _snapshots.get(url)
        if current is None or current[0] != token:
            current = _snapshots[url] = (token, _Snapshot())
    snapshot = current[1]
    if not snapshot.loaded:
        snapshot.load()
    return snapshot


def _candidates(rule: BlueprintRule, snapshot: _Snapshot) -> tuple[int, ...]:
    key = (rule.category_id, rule.difficulty)
    ids = snapshot.candidates.get(key)
    if ids is None:
        categories = None
        if rule.category_id is not None:
            path = snapshot.paths.get(rule.category_id)
            if path is None:
                raise BlueprintError(_("Không tìm thấy chủ đề #%(id)s.", id=rule.category_id))
            categories = {cid for cid, p in snapshot.paths.items() if p.startswith(path)}
        ids = snapshot.candidates[key] = tuple(
            qid
            for qid, category_id, difficulty in snapshot.questions
            if (categories is None or category_id in categories)
            and (rule.difficulty is None or difficulty == rule.difficulty)
        )
    return ids


def candidate_ids(rule: BlueprintRule) -> list[int]:
    return list(_candidates(rule, _snapshot()))


# ---------------------------------------------------------------- blueprint check and draw


def _check_rule_shape(n: int, rule: BlueprintRule) -> None:
    if rule.count < 1:
        raise BlueprintError(_("Quy tắc %(n)s: số câu phải lớn hơn 0.", n=n))
    if rule.difficulty is not None and rule.difficulty not in DIFFICULTIES:
        raise BlueprintError(_("Quy tắc %(n)s: độ khó không hợp lệ.", n=n))


def check_blueprint(blueprint: list[BlueprintRule]) -> None:
    """Raises BlueprintError when the approved bank cannot fill every rule with distinct questions."""
    snapshot = _snapshot()
    taken: set[int] = set()
    for n, rule in enumerate(blueprint, start=1):
        _check_rule_shape(n, rule)
        available = [q for q in _candidates(rule, snapshot) if q not in taken]
        if len(available) < rule.count:
            raise BlueprintError(
                _(
                    "Quy tắc %(n)s: cần %(count)s câu nhưng ngân hàng chỉ còn %(available)s câu đã duyệt phù hợp.",
                    n=n,
                    count=rule.count,
                    available=len(available),
                )
            )
        taken.update(available[: rule.count])


def _pick(pool: tuple[int, ...], count: int, taken: set[int], seen_counts: dict, rng: random.Random) -> list[int]:
    seen = [q for q, n in seen_counts.items() if n > 0]
    if count + len(taken) + len(seen) <= len(pool) // 2:
        # Enough never-seen candidates: sample indices and reject the few taken or seen ones.
        # Expected tries stay under 2 * count whatever the size of the pool.
        excluded = taken.union(seen)
        picked: list[int] = []
        picked_set: set[int] = set()
        while len(picked) < count:
            q = pool[rng.randrange(len(pool))]
            if q in excluded or q in picked_set:
                continue
            picked.append(q)
            picked_set.add(q)
        return picked
    # Small pool or a contestant who has seen much of it: least seen first, ties broken by the seed.
    available = [q for q in pool if q not in taken]
    if len(available) < count:
        raise BlueprintError(_("Ngân hàng câu hỏi không đủ %(count)s câu cho một quy tắc của đề.", count=count))
    keyed = sorted(available, key=lambda q: (seen_counts.get(q, 0), rng.random()))
    return keyed[:count]


def draw_questions(blueprint, seed, seen_counts=None, shuffle_options=True) -> list[DrawnQuestion]:
    """Distinct approved questions for one attempt; least-seen questions first (as Moodle does)."""
    rng = random.Random(str(seed))
    seen_counts = seen_counts or {}
    snapshot = _snapshot()
    chosen: list[int] = []
    taken: set[int] = set()
    for rule in blueprint:
        picked = _pick(_candidates(rule, snapshot), rule.count, taken, seen_counts, rng)
        chosen.extend(picked)
        taken.update(picked)
    rng.shuffle(chosen)
    drawn = []
    for qid in chosen:
        order = list(snapshot.options[qid])
        if shuffle_options:
            rng.shuffle(order)
        drawn.append(DrawnQuestion(qid, tuple(order)))
    return drawn


# ---------------------------------------------------------------- invalidation on commit

_BANK_MODELS = (Question, QuestionOption, Category)


def _try_bump():
    try:
        bump_bank_version()
    except RuntimeError:  # no app context (e.g. a script's own session): nothing to invalidate here
        pass


@event.listens_for(Session, "after_flush")
def _note_bank_change(session, flush_context):
    if any(isinstance(obj, _BANK_MODELS) for obj in itertools.chain(session.new, session.dirty, session.deleted)):
        session.info["qb_changed"] = True
        # Bumped now too, so a draw later in the same transaction sees the flushed rows...
        _try_bump()


@event.listens_for(Session, "after_commit")
def _bump_after_commit(session):
    # ...and again at commit, because another process may have cached the pre-commit bank meanwhile.
    if session.info.pop("qb_changed", False):
        _try_bump()


@event.listens_for(Session, "after_rollback")
def _forget_rolled_back(session):
    session.info.pop("qb_changed", None)
