"""The lost-answers check: acknowledged answers (the clients' log) against SQL, on SQLite and PostgreSQL."""

from datetime import date, datetime, timedelta

from contest.accounts.models import User
from contest.rounds.models import Attempt, AttemptAnswer, AttemptQuestion, Contest, Round
from infra.extensions import db
from loadtests.answer_check import AckLog, check_answers, read_acks
from question_bank.models import Category, Question


def _attempt_with_questions(n=3):
    user = User(phone="0599000001", password_hash="x", full_name="Thí sinh thử tải", date_of_birth=date(1990, 1, 1))
    category = Category(name="Luật Giao thông")
    questions = [Question(category=category, stem=f"Câu {i}") for i in range(n)]
    now = datetime(2026, 11, 23, 9, 0)
    round_ = Round(
        contest=Contest(slug="thu-tai", title="Thử tải"),
        title="Tuần 1",
        opens_at=now,
        closes_at=now + timedelta(days=7),
    )
    db.session.add_all([user, category, *questions, round_])
    db.session.flush()
    attempt = Attempt(round_id=round_.id, user_id=user.id, seed="s", deadline_at=now + timedelta(minutes=20))
    # Clients know questions and options by the attempt's references only (here: q<i> and o<option id>).
    attempt.questions = [
        AttemptQuestion(
            position=i + 1,
            question_id=q.id,
            option_order=[10 * (i + 1) + 1, 10 * (i + 1) + 2],
            ref=f"q{i + 1}",
            option_refs=[f"o{10 * (i + 1) + 1}", f"o{10 * (i + 1) + 2}"],
        )
        for i, q in enumerate(questions)
    ]
    db.session.add(attempt)
    db.session.commit()
    return attempt.id, [q.id for q in questions]


def _store(attempt_id, question_id, selected, seq):
    db.session.add(
        AttemptAnswer(
            attempt_id=attempt_id,
            question_id=question_id,
            selected=selected,
            seq=seq,
            answered_at=datetime(2026, 11, 23, 9, 1),
        )
    )
    db.session.commit()


def test_check_finds_missing_and_stale_answers_and_accepts_exact_ones(any_db_app, tmp_path):
    with any_db_app.app_context():
        url = db.engine.url.render_as_string(hide_password=False)
        attempt_id, (q1, q2, q3) = _attempt_with_questions()
        log = AckLog(tmp_path / "acks")
        log.record(attempt_id, "q1", ["o11"], 1)
        log.record(attempt_id, "q1", ["o12"], 3)  # changed their mind: the later ack is what must be stored
        log.record(attempt_id, "q2", ["o21"], 2)
        log.close()
        assert read_acks(tmp_path / "acks") == {(attempt_id, "q1"): (3, ["o12"]), (attempt_id, "q2"): (2, ["o21"])}

        # Nothing written yet: both acknowledged answers are missing.
        result = check_answers(url, tmp_path / "acks", wait_s=0)
        assert result.lost == 2 and sorted(result.missing) == [[attempt_id, "q1"], [attempt_id, "q2"]]

        _store(attempt_id, q1, [11], 1)  # an older answer than the acknowledged one: still lost
        _store(attempt_id, q2, [21], 2)
        result = check_answers(url, tmp_path / "acks", wait_s=0)
        assert result.lost == 1 and result.different == [[attempt_id, "q1"]] and not result.missing

        row = db.session.query(AttemptAnswer).filter_by(attempt_id=attempt_id, question_id=q1).one()
        row.selected, row.seq = [12], 3
        _store(attempt_id, q3, [31], 4)  # stored, its ack never reached the client: not a loss
        result = check_answers(url, tmp_path / "acks", wait_s=0)
        assert result.ok and result.acknowledged == 2 and result.stored == 3 and result.unacknowledged == 1
        assert result.as_dict()["lost"] == 0


def test_no_acks_is_a_clean_check(tmp_path, sqlite_url):
    result = check_answers(sqlite_url, tmp_path / "none", wait_s=0)
    assert result.ok and result.acknowledged == 0
