"""Seeded, reproducible random draws of questions for one attempt.

Contract used by the contest package:
    draw_questions(blueprint, seed, seen_counts=None) -> list[DrawnQuestion]
A blueprint is a list of BlueprintRule; the same seed and bank state give the same draw.
"""
import random
from dataclasses import dataclass

from sqlalchemy import select

from contest.extensions import db
from question_bank.models import Category, Question, QuestionOption


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


def candidate_ids(rule: BlueprintRule) -> list[int]:
    stmt = select(Question.id).where(Question.status == "approved", Question.is_current.is_(True))
    if rule.difficulty:
        stmt = stmt.where(Question.difficulty == rule.difficulty)
    if rule.category_id is not None:
        path = db.session.scalar(select(Category.path).where(Category.id == rule.category_id))
        if path is None:
            raise BlueprintError(f"Không tìm thấy chủ đề #{rule.category_id}.")
        subtree = select(Category.id).where(Category.path.startswith(path))
        stmt = stmt.where(Question.category_id.in_(subtree))
    return list(db.session.scalars(stmt.order_by(Question.id)))


def check_blueprint(blueprint: list[BlueprintRule]) -> None:
    """Raises BlueprintError when the approved bank cannot fill every rule with distinct questions."""
    taken: set[int] = set()
    for n, rule in enumerate(blueprint, start=1):
        if rule.count < 1:
            raise BlueprintError(f"Quy tắc {n}: số câu phải lớn hơn 0.")
        available = [q for q in candidate_ids(rule) if q not in taken]
        if len(available) < rule.count:
            raise BlueprintError(
                f"Quy tắc {n}: cần {rule.count} câu nhưng ngân hàng chỉ còn {len(available)} câu đã duyệt phù hợp."
            )
        taken.update(available[: rule.count])


def draw_questions(blueprint, seed, seen_counts=None, shuffle_options=True) -> list[DrawnQuestion]:
    """Distinct approved questions for one attempt; least-seen questions first (as Moodle does)."""
    rng = random.Random(str(seed))
    seen_counts = seen_counts or {}
    chosen: list[int] = []
    taken: set[int] = set()
    for rule in blueprint:
        pool = [q for q in candidate_ids(rule) if q not in taken]
        if len(pool) < rule.count:
            raise BlueprintError(f"Ngân hàng câu hỏi không đủ {rule.count} câu cho một quy tắc của đề.")
        keyed = sorted(pool, key=lambda q: (seen_counts.get(q, 0), rng.random()))
        picked = keyed[: rule.count]
        chosen.extend(picked)
        taken.update(picked)
    rng.shuffle(chosen)
    options = {}
    for qid, oid in db.session.execute(
        select(QuestionOption.question_id, QuestionOption.id)
        .where(QuestionOption.question_id.in_(chosen))
        .order_by(QuestionOption.question_id, QuestionOption.position)
    ):
        options.setdefault(qid, []).append(oid)
    drawn = []
    for qid in chosen:
        order = list(options.get(qid, []))
        if shuffle_options:
            rng.shuffle(order)
        drawn.append(DrawnQuestion(qid, tuple(order)))
    return drawn
