"""Statistics: per day, per province and unit, score distribution, unit ranking, item statistics."""

from datetime import datetime

from contest.judging import board
from contest.judging.disqualification import disqualify
from contest.judging.prizes import TierSpec, set_prize_tiers, winners
from contest.judging.stats import round_statistics, statistics_csv_chunks
from contest.rounds.models import AttemptAnswer
from infra.extensions import db
from question_bank.models import Category, Question
from tests.contest.judging_data import add_attempt, make_person, make_round, make_unit


def _questions(n):
    category = Category(name="Hiến pháp")
    db.session.add(category)
    db.session.flush()
    questions = [Question(category_id=category.id, stem=f"Câu hỏi số {i}", title=f"Câu {i}") for i in range(n)]
    db.session.add_all(questions)
    db.session.flush()
    return questions


def test_round_statistics(any_db_app):
    with any_db_app.app_context():
        hanoi = make_unit("Thành phố Hà Nội")
        school = make_unit("Trường THPT Chu Văn An", parent=hanoi, headcount=4)
        ward = make_unit("UBND phường Ba Đình", parent=hanoi)
        hue = make_unit("Thành phố Huế", headcount=10)
        round_ = make_round(questions=2)
        judge = make_person(role="judge")
        questions = _questions(2)
        a, b, c, d, cheat = (
            make_person(unit=school),
            make_person(unit=school),
            make_person(unit=ward),
            make_person(unit=hue),
            make_person(unit=hue),
        )
        # 2026-11-01 17:30 UTC is 2 Nov in Việt Nam: days are counted in local time
        plan = [
            (a, 2, datetime(2026, 11, 1, 3, 0)),
            (a, 1, datetime(2026, 11, 1, 17, 30)),
            (b, 2, datetime(2026, 11, 2, 2, 0)),
            (c, 0, datetime(2026, 11, 2, 3, 0)),
            (d, 1, datetime(2026, 11, 2, 4, 0)),
            (cheat, 2, datetime(2026, 11, 2, 5, 0)),
        ]
        answers = {2: (True, True), 1: (True, False), 0: (False, False)}
        for person, correct, at in plan:
            attempt = add_attempt(round_, person, correct, submitted_at=at)
            for question, ok in zip(questions, answers[correct]):
                db.session.add(
                    AttemptAnswer(
                        attempt_id=attempt.id, question_id=question.id, selected=[1], answered_at=at, is_correct=ok
                    )
                )
        add_attempt(round_, make_person(unit=ward), None, status="in_progress")
        db.session.commit()
        set_prize_tiers(round_, [TierSpec("Giải Nhất", 1), TierSpec("Khuyến khích", 1)], judge)
        disqualify(round_, cheat.id, "Dùng chung thiết bị", judge)

        stats = round_statistics(round_)
        assert (stats.attempts, stats.participants) == (6, 5)  # totals: everyone's finished attempts
        assert (stats.disqualified_attempts, stats.disqualified_people) == (1, 1)
        assert (stats.valid_attempts, stats.ranked_people, stats.perfect_attempts) == (5, 4, 2)
        # breakdowns: valid entries only (the cheat left out), so they add up to the valid totals
        assert stats.by_day == [("2026-11-01", 1, 1), ("2026-11-02", 4, 4)]
        # people are counted by their best attempt; attempts are all their finished ones
        assert stats.distribution == [(2, 2, 2), (1, 1, 2), (0, 1, 1)]
        assert stats.perfect_people == 2 and abs(stats.perfect_rate - 2 / 4) < 1e-9
        by_unit = {r.name: r for r in stats.by_unit}
        assert (
            by_unit["Trường THPT Chu Văn An"].participants,
            by_unit["Trường THPT Chu Văn An"].score_sum,
            by_unit["Trường THPT Chu Văn An"].winners,
        ) == (2, 4, 2)
        assert by_unit["Trường THPT Chu Văn An"].participation_rate == 0.5
        assert by_unit["UBND phường Ba Đình"].participation_rate is None
        assert by_unit["Thành phố Huế"].attempts == 1 and by_unit["Thành phố Huế"].participants == 1
        by_province = {r.name: r for r in stats.by_province}
        assert (by_province["Thành phố Hà Nội"].participants, by_province["Thành phố Hà Nội"].score_sum) == (3, 4)
        assert stats.by_province[0].name == "Thành phố Hà Nội"

        # With the judge's stored ranking current, the same figures come from it (no window sort).
        live_winners = [(e.user_id, e.rank, e.prize) for e in winners(round_)]
        assert not board.is_current(round_)
        board.rebuild(round_)
        assert board.is_current(round_)
        stored = round_statistics(round_, include_items=False)
        assert stored.distribution == stats.distribution and stored.perfect_people == stats.perfect_people
        totals = ("attempts", "participants", "disqualified_attempts", "disqualified_people", "by_day")
        assert [getattr(stored, name) for name in totals] == [getattr(stats, name) for name in totals]
        assert [vars(r) for r in stored.by_unit] == [vars(r) for r in stats.by_unit]
        assert [vars(r) for r in stored.by_province] == [vars(r) for r in stats.by_province]
        assert [(e.user_id, e.rank, e.prize) for e in winners(round_)] == live_winners

        items = {stat.question_id: (stat, weak) for stat, _, weak in stats.items}
        first, second = items[questions[0].id], items[questions[1].id]
        assert first[0].responses == 6 and abs(first[0].facility - 5 / 6) < 1e-9
        assert abs(second[0].facility - 3 / 6) < 1e-9
        csv_text = "".join(statistics_csv_chunks(stats))
        assert csv_text.startswith("\ufeff") and "Tỷ lệ đạt điểm tuyệt đối (%),50.0" in csv_text
        db.session.remove()


def test_statistics_csv_quotes_formula_like_names(app):
    """Issue 12, finding 9: a unit named `=HYPERLINK(...)` was written raw (the results exports were safe)."""
    with app.app_context():
        province = make_unit('=HYPERLINK("http://evil.example","Bấm")')
        unit = make_unit("+SUM(1,2)", parent=province, headcount=3)
        round_ = make_round(questions=2)
        add_attempt(round_, make_person(unit=unit), 2)
        db.session.commit()
        text = "".join(statistics_csv_chunks(round_statistics(round_)))
    assert '\'=HYPERLINK(""http://evil.example"",""Bấm"")' in text
    assert "'+SUM(1,2)" in text
    for line in text.splitlines():
        for cell in line.split(","):
            assert not cell.lstrip('"').startswith(("=", "+", "@")), line


def test_statistics_totals_reconcile_with_every_breakdown(any_db_app):
    """Issue 14, finding 7: "Tổng số người dự thi 3" while the province table summed to 2, and "3 câu: 0 người /
    1 lượt" unexplained. Data with disqualified people, several attempts per person, people without a unit and an
    attempt still running: every breakdown adds up to the valid totals, and the totals are those plus the
    disqualified ones."""
    with any_db_app.app_context():
        north = make_unit("Thành phố Hà Nội")
        school = make_unit("Trường THPT Chu Văn An", parent=north, headcount=40)
        south = make_unit("Thành phố Hồ Chí Minh")
        office = make_unit("Sở Tư pháp", parent=south)
        round_ = make_round(questions=3)
        judge = make_person(role="judge")
        plan = {  # person's unit -> their attempts' scores, in order
            "a": (school, [3, 1, 2]),
            "b": (school, [2]),
            "c": (office, [0, 3]),
            "d": (None, [1, 1]),
            "cheat1": (office, [3, 3]),
            "cheat2": (None, [2]),
            "e": (south, [3]),
        }
        people = {}
        for key, (unit, scores) in plan.items():
            people[key] = make_person(unit=unit)
            for i, score in enumerate(scores):
                add_attempt(round_, people[key], score, number=i + 1, submitted_at=datetime(2026, 11, 1 + i, 3, 0))
        add_attempt(round_, make_person(unit=school), None, status="in_progress")
        db.session.commit()
        set_prize_tiers(round_, [TierSpec("Giải Nhất", 2)], judge)
        disqualify(round_, people["cheat1"].id, "Thi hộ người khác", judge)
        disqualify(round_, people["cheat2"].id, "Nhiều tài khoản", judge)

        for stored in (False, True):
            if stored:
                board.rebuild(round_)  # the same figures read from the judge's stored ranking
            stats = round_statistics(round_, include_items=False)
            assert (stats.attempts, stats.participants) == (12, 7)
            assert (stats.disqualified_attempts, stats.disqualified_people) == (3, 2)
            assert (stats.valid_attempts, stats.ranked_people) == (9, 5)
            assert stats.attempts == stats.valid_attempts + stats.disqualified_attempts
            assert stats.participants == stats.ranked_people + stats.disqualified_people
            assert sum(n for _, n, _ in stats.by_day) == stats.valid_attempts
            assert sum(people for _, people, _ in stats.distribution) == stats.ranked_people
            assert sum(attempts for _, _, attempts in stats.distribution) == stats.valid_attempts
            for table in (stats.by_province, stats.by_unit):
                assert sum(r.participants for r in table) == stats.ranked_people
                assert sum(r.attempts for r in table) == stats.valid_attempts
                assert sum(r.winners for r in table) == len(list(winners(round_)))
            # a score reached only by attempts that were not someone's best: 0 people, but attempts (explained)
            assert (1, 1, 3) in stats.distribution and (0, 0, 1) in stats.distribution
            assert stats.perfect_people == 3 and stats.perfect_rate == 3 / 5
            assert stats.perfect_attempts == 3  # a's, c's and e's; the cheat's two perfect attempts are left out

        text = "".join(statistics_csv_chunks(stats))
        totals = [line for line in text.splitlines() if line.startswith("Tổng,")]
        assert totals[1] == "Tổng,5,9" and totals[2].startswith("Tổng,5,9,")
        db.session.remove()
