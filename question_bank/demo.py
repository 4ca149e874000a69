"""Loads the shipped demo bank (data/demo_bank.gift), approved under the two-person rule."""

from pathlib import Path

from sqlalchemy import select

from infra.extensions import db
from question_bank.formats import gift
from question_bank.models import Question
from question_bank.normalize import normalize_stem
from question_bank.services import import_questions

DEMO_BANK = Path(__file__).parent / "data" / "demo_bank.gift"


def load_demo_bank(author_id: int | None = None, reviewer_id: int | None = None) -> int:
    """Imports the demo questions unless they are already there (other demo data may share the bank);
    returns how many were created (0 if skipped)."""
    parsed = gift.parse(DEMO_BANK.read_text(encoding="utf-8"))
    stems = [normalize_stem(q.stem) for q in parsed.questions]
    if db.session.scalar(select(Question.id).where(Question.stem_normalized.in_(stems)).limit(1)) is not None:
        return 0
    report = import_questions(
        DEMO_BANK.read_bytes(), "gift", author_id=author_id, status="approved", reviewer_id=reviewer_id
    )
    if report.refused:
        raise RuntimeError("demo bank is invalid: " + "; ".join(i.message for i in report.errors + report.unsupported))
    return report.created
