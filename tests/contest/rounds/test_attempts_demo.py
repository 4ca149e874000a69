"""The demo contest is seeded once, is open now, and a demo contestant can take it."""

from sqlalchemy import func, select

from contest.accounts.models import User
from contest.rounds.models import Contest
from contest.rounds.services import round_state, start_attempt
from infra.extensions import db
from server.demo import DEMO_CONTEST_SLUG, seed_demo


def test_demo_contest_is_idempotent_open_and_playable(ctx):
    seed_demo()
    seed_demo()
    assert db.session.scalar(select(func.count(Contest.id))) == 1
    contest = db.session.scalar(select(Contest).where(Contest.slug == DEMO_CONTEST_SLUG))
    assert contest.title == "Cuộc thi tìm hiểu pháp luật về phổ biến, giáo dục pháp luật"
    (round_,) = contest.rounds
    assert round_state(round_) == "open" and round_.question_count == 10
    user = db.session.scalar(select(User).where(User.phone == "0912345678"))
    attempt = start_attempt(user, round_)
    assert len(attempt.questions) == 10


def test_contest_page_lists_the_open_round(ctx, client):
    seed_demo()
    html = client.get(f"/cuoc-thi/{DEMO_CONTEST_SLUG}").get_data(as_text=True)
    assert "Tuần thi thứ nhất" in html and "Đăng nhập để dự thi" in html and "Thể lệ" in html
    assert DEMO_CONTEST_SLUG in client.get("/").get_data(as_text=True)
