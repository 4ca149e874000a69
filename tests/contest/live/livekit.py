"""Builds a contest, an approved bank and players for live-final tests, straight through the models."""

from contest.accounts.models import User
from contest.live import services
from contest.rounds.models import Contest
from infra.extensions import db
from question_bank.models import Question
from tests.conftest import create_account
from tests.contest.roundkit import make_bank


def make_live(app, mode="elimination", count=3, seconds=10, rescue="none", rescue_positions=(), late_join="watch"):
    """(session id, organiser id, the question ids) of a new session in its lobby."""
    organiser_id, _ = create_account(app, role="organiser", full_name="Trần Thị Dẫn")
    with app.app_context():
        category = make_bank(max(count, 4))
        contest = Contest(slug=f"chung-ket-{category.id}", title="Chung kết tìm hiểu pháp luật", published=True)
        db.session.add(contest)
        db.session.commit()
        ids = list(db.session.scalars(db.select(Question.id).where(Question.category_id == category.id)))[:count]
        session = services.create_session(
            contest,
            db.session.get(User, organiser_id),
            services.SessionInput(
                title="Rung chuông vàng",
                question_ids=ids,
                seconds_per_question=seconds,
                mode=mode,
                rescue=rescue,
                late_join=late_join,
                rescue_positions=tuple(rescue_positions),
            ),
        )
        return session.id, organiser_id, ids


def join_players(app, session_id, n, names=None):
    ids = []
    for i in range(n):
        uid, _ = create_account(app, full_name=names[i] if names else f"Người chơi {i + 1}")
        with app.app_context():
            services.join(services.get_session(session_id), db.session.get(User, uid))
        ids.append(uid)
    return ids


def key_index(session_id, position):
    """The correct option's index as shown (tests only: read from SQL)."""
    session = services.get_session(session_id)
    row = session.questions[position]
    correct = {o.id for o in row.question.options if o.is_correct}
    return next(i for i, oid in enumerate(row.option_order) if oid in correct)
