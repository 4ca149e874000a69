"""The set-up of the "live final" load scenario: a bank of single-choice questions, a contest, a host account (the
`host` role) and a session in its lobby. Called by `contest loadtest create-live` (loadtests/run.py runs it in the
stack) and by the live scenario's tests; the players are `seed_users`' synthetic contestants."""

from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select
from werkzeug.security import generate_password_hash

from contest.accounts.models import User
from contest.live import services
from contest.rounds.models import Contest
from infra.clock import utcnow
from infra.extensions import db
from loadtests.seed import LIGHT_HASH
from question_bank.models import Category, Question, QuestionOption

DEFAULT_HOST_PHONE = "0590000001"  # outside the players' 0599 block
CATEGORY_NAME = "Thử tải chung kết"


@dataclass
class LiveFinal:
    session_id: int
    pin: str
    host_phone: str


def _bank(questions: int) -> list[int]:
    """Ids of `questions` approved single-choice questions with four options, made once and reused."""
    category = db.session.scalar(select(Category).where(Category.name == CATEGORY_NAME))
    if category is None:
        category = Category(name=CATEGORY_NAME)
        db.session.add(category)
        db.session.flush()
        category.path = f"/{category.id}/"
    have = db.session.scalar(select(func.count(Question.id)).where(Question.category_id == category.id)) or 0
    for i in range(have, questions):
        question = Question(
            category_id=category.id,
            stem=f"Câu hỏi thử tải chung kết số {i + 1}: theo Luật Phổ biến, giáo dục pháp luật, điều nào đúng?",
            status="approved",
            is_current=True,
            multi_select=False,
        )
        question.options = [
            QuestionOption(position=p, text=f"Phương án {'ABCD'[p]} của câu {i + 1}", is_correct=p == 0)
            for p in range(4)
        ]
        db.session.add(question)
    db.session.commit()
    return list(
        db.session.scalars(
            select(Question.id).where(Question.category_id == category.id).order_by(Question.id).limit(questions)
        )
    )


def _host(phone: str, password: str) -> User:
    user = db.session.scalar(select(User).where(User.phone == phone))
    if user is None:
        user = User(
            phone=phone,
            password_hash=generate_password_hash(password, method=LIGHT_HASH),
            full_name="Người dẫn thử tải",
            date_of_birth=date(1990, 1, 1),
            role="host",
            consent_at=utcnow(),
        )
        db.session.add(user)
        db.session.commit()
    return user


def create_live_final(
    questions: int = 10,
    seconds: int = 10,
    mode: str = "points",
    host_phone: str = DEFAULT_HOST_PHONE,
    host_password: str = "thitai12345",
) -> LiveFinal:
    """A live session in its lobby (app context required); its host is an account with the `host` role."""
    ids = _bank(questions)
    host = _host(host_phone, host_password)
    number = (db.session.scalar(select(func.count(Contest.id))) or 0) + 1
    contest = Contest(slug=f"chung-ket-thu-tai-{number}", title=f"Chung kết thử tải {number}", published=True)
    db.session.add(contest)
    db.session.commit()
    session = services.create_session(
        contest,
        host,
        services.SessionInput(
            title=f"Chung kết thử tải {number}", question_ids=ids, seconds_per_question=seconds, mode=mode
        ),
    )
    return LiveFinal(session.id, session.pin, host_phone)
