"""Keys appear only when they no longer count (issue 11, finding 2): the review of a closed round hides the key of
every question an open or upcoming round can still draw, and says why; once no round can draw them, it shows."""

import itertools
from datetime import timedelta

import pytest
from sqlalchemy import select

from contest.accounts.models import User
from contest.rounds.keys import ATTEMPTS_RUNNING, ROUND_OPEN, keys_withheld, round_review_block
from contest.rounds.models import AttemptQuestion, Contest, Round
from contest.rounds.services import save_answer, start_attempt, submit_attempt
from infra.clock import utcnow
from infra.extensions import db
from question_bank.models import Category, Question
from tests.conftest import create_account, login
from tests.contest.roundkit import key_of, make_round


@pytest.fixture
def db_ctx(any_db_app):
    """An app context on SQLite and on PostgreSQL."""
    with any_db_app.app_context():
        yield any_db_app
        db.session.remove()


_slugs = itertools.count(1)


def _second_round(first: Round, **times) -> Round:
    """Another contest's round drawing from the same bank category as `first`."""
    now = utcnow()
    contest = Contest(slug=f"khac-{first.id}-{next(_slugs)}", title="Cuộc thi khác", published=True)
    second = Round(
        contest=contest,
        number=1,
        title="Vòng thi khác",
        opens_at=times.get("opens_at", now - timedelta(hours=1)),
        closes_at=times.get("closes_at", now + timedelta(days=3)),
        blueprint=list(first.blueprint),
        attempts_allowed=1,
        prediction_enabled=False,
    )
    db.session.add(contest)
    db.session.commit()
    return second


def _finished_attempt(app, rnd):
    user_id, phone = create_account(app)
    user = db.session.get(User, user_id)
    attempt = start_attempt(user, rnd)
    qid = attempt.questions[0].question_id
    save_answer(attempt.id, user.id, qid, key_of(qid), 1)
    submit_attempt(attempt.id, user.id, prediction=1)
    return attempt, phone


def _close(rnd):
    rnd.closes_at = utcnow() - timedelta(minutes=1)
    db.session.commit()


def test_closed_round_review_hides_keys_an_open_round_can_draw_then_shows_them(db_ctx):
    ctx = db_ctx
    first = make_round(count=5, bank_size=6)
    attempt, phone = _finished_attempt(ctx, first)
    _close(first)
    second = _second_round(first)
    client = ctx.test_client()
    login(client, phone)
    page = client.get(f"/luot-thi/{attempt.id}/ket-qua").get_data(as_text=True)
    assert "đáp án đúng" not in page and 'class="right"' not in page
    assert 'id="key-withheld-reason"' in page and "vòng thi đang mở hoặc sắp mở" in page
    assert "bạn chọn" in page  # the contestant still sees their own choices

    # An upcoming round drawing the same questions keeps them hidden too.
    _close(second)
    upcoming = _second_round(first, opens_at=utcnow() + timedelta(days=1), closes_at=utcnow() + timedelta(days=2))
    page = client.get(f"/luot-thi/{attempt.id}/ket-qua").get_data(as_text=True)
    assert "đáp án đúng" not in page

    # Once no round can draw them, the key shows.
    db.session.delete(upcoming)
    db.session.commit()
    page = client.get(f"/luot-thi/{attempt.id}/ket-qua").get_data(as_text=True)
    assert "đáp án đúng" in page and 'id="key-withheld-reason"' not in page


def test_keys_withheld_follows_category_subtree_and_difficulty(db_ctx):
    first = make_round(count=3, bank_size=4)
    _close(first)
    category = db.session.get(Category, first.blueprint[0]["category_id"])
    ids = set(db.session.scalars(select(Question.id).where(Question.category_id == category.id)))
    assert keys_withheld(ids) == set()
    # A round on a parent category draws from its subcategories: move the questions under a child.
    child = Category(name="Chủ đề con", parent_id=category.id)
    db.session.add(child)
    db.session.flush()
    child.path = f"{category.path}{child.id}/"
    for q in db.session.scalars(select(Question).where(Question.id.in_(ids))):
        q.category_id = child.id
        q.difficulty = "medium"
    db.session.commit()
    open_round = _second_round(first)
    assert keys_withheld(ids) == ids
    open_round.blueprint = [{"category_id": category.id, "count": 1, "difficulty": "hard"}]
    db.session.commit()
    assert keys_withheld(ids) == set()  # no medium question can be drawn by a "hard" rule
    open_round.blueprint = [{"category_id": child.id, "count": 1, "difficulty": "medium"}]
    db.session.commit()
    assert keys_withheld(ids) == ids
    open_round.blueprint = [{"category_id": None, "count": 1}]  # the whole bank
    db.session.commit()
    assert keys_withheld(ids) == ids


def test_running_attempt_withholds_its_questions_and_blocks_the_round_review(db_ctx):
    ctx = db_ctx
    rnd = make_round(count=4, bank_size=4)
    user_id, _ = create_account(ctx)
    attempt = start_attempt(db.session.get(User, user_id), rnd)
    assert round_review_block(rnd) == ROUND_OPEN
    _close(rnd)
    ids = {aq.question_id for aq in db.session.scalars(select(AttemptQuestion))}
    assert keys_withheld(ids) == ids
    assert round_review_block(rnd) == ATTEMPTS_RUNNING
    submit_attempt(attempt.id, user_id, prediction=1)
    assert keys_withheld(ids) == set() and round_review_block(rnd) is None
