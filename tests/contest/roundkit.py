"""Builds a published contest with one open round and an approved bank, straight through the models."""

from datetime import timedelta

from contest.rounds.models import Contest, Round
from infra.clock import utcnow
from infra.extensions import db
from question_bank.models import Category, Question, QuestionOption


def make_bank(n=12, options=4, multi_every=0):
    category = Category(name="Pháp luật về phổ biến, giáo dục pháp luật")
    db.session.add(category)
    db.session.flush()
    category.path = f"/{category.id}/"
    for i in range(n):
        multi = bool(multi_every) and i % multi_every == 0
        q = Question(
            category_id=category.id,
            stem=f"Câu hỏi số {i + 1} về Luật Phổ biến, giáo dục pháp luật?",
            status="approved",
            is_current=True,
            multi_select=multi,
        )
        q.options = [
            QuestionOption(
                position=p, text=f"Phương án {'ABCD'[p % 4]} của câu {i + 1}", is_correct=(p == 0 or (multi and p == 1))
            )
            for p in range(options)
        ]
        db.session.add(q)
    db.session.commit()
    return category


def make_round(
    count=10,
    attempts_allowed=1,
    time_limit_seconds=600,
    opens_in=None,
    prediction=True,
    slug=None,
    bank_size=12,
    multi_every=0,
):
    category = make_bank(bank_size, multi_every=multi_every)
    now = utcnow()
    contest = Contest(
        slug=slug or f"cuoc-thi-{category.id}",
        title="Cuộc thi tìm hiểu pháp luật về PBGDPL",
        description="Mô tả cuộc thi",
        rules_text="Thể lệ: mỗi người dự thi tối đa một lượt.",
        published=True,
    )
    opens = now + opens_in if opens_in else now - timedelta(hours=1)
    rnd = Round(
        contest=contest,
        number=1,
        title="Tuần thi thứ nhất",
        opens_at=opens,
        closes_at=opens + timedelta(days=7),
        time_limit_seconds=time_limit_seconds,
        blueprint=[{"category_id": category.id, "count": count}],
        attempts_allowed=attempts_allowed,
        prediction_enabled=prediction,
    )
    db.session.add(contest)
    db.session.commit()
    return rnd


def key_of(question_id):
    return sorted(o.id for o in db.session.get(Question, question_id).options if o.is_correct)


def wrong_of(question_id):
    return [o.id for o in db.session.get(Question, question_id).options if not o.is_correct][:1]
