"""When a contestant may see answer keys: only once they no longer count.

A question's key stays hidden while it can still score somewhere:
- a round that has not closed yet (open or upcoming, of any contest, published or not) can draw it: one of the
  round's blueprint rules matches the question's category (that category or a subcategory) and difficulty, as
  question_bank.draw picks candidates; the question's status is not looked at (a draft or retired question can
  be approved again before the round opens), so the check errs on the side of hiding;
- an attempt still in progress has it (of any round: also one stopped early whose attempts are not closed yet).

A round's own review waits until the round has closed and every attempt of it has ended (`round_review_block`).
Every page that could show a key asks here; the answers are computed with a handful of queries, whatever the
number of questions.
"""

from collections.abc import Iterable

from sqlalchemy import select

from contest.rounds.models import Attempt, AttemptQuestion, Round
from infra.clock import utcnow
from infra.extensions import db
from question_bank.models import Category, Question

# Why a key is hidden (the pages map these to Vietnamese text).
REVIEW_DISABLED = "disabled"  # the organisers do not show keys for this round
ROUND_OPEN = "round_open"  # the round has not closed yet
ATTEMPTS_RUNNING = "attempts_running"  # the round closed (or was stopped) but some attempt has not ended yet


def _rules(blueprint) -> list[tuple[int | None, str | None]]:
    rules: list[tuple[int | None, str | None]] = []
    for rule in blueprint or []:
        if not isinstance(rule, dict):
            rules.append((None, None))  # unknown shape: treat as "the whole bank" (hide rather than leak)
            continue
        rules.append((rule.get("category_id"), rule.get("difficulty")))
    return rules


def keys_withheld(question_ids: Iterable[int]) -> set[int]:
    """The ids among `question_ids` whose correct options must not be shown to a contestant now."""
    wanted = set(question_ids)
    if not wanted:
        return set()
    now = utcnow()
    # A running attempt of a round still open holds questions its blueprint matches (handled below); those of closed
    # rounds (started just before the close, or a stopped round not swept yet) are few: found through the
    # (round_id, status) index, then their questions by attempt.
    running = (
        select(Attempt.id)
        .join(Round, Round.id == Attempt.round_id)
        .where(Round.closes_at <= now, Attempt.status == "in_progress")
    )
    withheld: set[int] = set(
        db.session.scalars(
            select(AttemptQuestion.question_id)
            .where(AttemptQuestion.attempt_id.in_(running), AttemptQuestion.question_id.in_(wanted))
            .distinct()
        )
    )
    rules = {
        rule
        for blueprint in db.session.scalars(select(Round.blueprint).where(Round.closes_at > now))
        for rule in _rules(blueprint)
    }
    if not rules or withheld == wanted:
        return withheld
    paths: dict[int, str] = {row.id: row.path for row in db.session.execute(select(Category.id, Category.path))}
    questions = db.session.execute(
        select(Question.id, Question.category_id, Question.difficulty).where(Question.id.in_(wanted - withheld))
    ).all()
    for qid, category_id, difficulty in questions:
        path = paths.get(category_id) or ""
        for rule_category, rule_difficulty in rules:
            if rule_difficulty is not None and rule_difficulty != difficulty:
                continue
            if rule_category is not None:
                rule_path = paths.get(rule_category)
                if rule_path is None or not path.startswith(rule_path):
                    continue
            withheld.add(qid)
            break
    return withheld


def round_review_block(round_: Round) -> str | None:
    """Why no key of this round may be shown yet (REVIEW_DISABLED, ROUND_OPEN, ATTEMPTS_RUNNING), or None."""
    if not round_.show_key_after_close:
        return REVIEW_DISABLED
    if utcnow() < round_.closes_at:
        return ROUND_OPEN
    running = db.session.execute(
        select(Attempt.id).where(Attempt.round_id == round_.id, Attempt.status == "in_progress").limit(1)
    ).first()
    return ATTEMPTS_RUNNING if running else None
