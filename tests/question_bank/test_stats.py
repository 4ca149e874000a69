"""Item statistics against a hand-computed example."""

import pytest

from question_bank.stats import item_statistics

# Ten attempts, three questions. Totals: a1..a3 = 3, a4..a7 = 2, a8..a10 = 1 or 0.
# 27% of 10 attempts = 2.7 -> groups of 3: upper {a1, a2, a3}, lower {a8, a9, a10}.
ROWS = []
KEY = {  # attempt -> (q1, q2, q3) correct?
    1: (1, 1, 1),
    2: (1, 1, 1),
    3: (1, 1, 1),
    4: (1, 1, 0),
    5: (1, 0, 1),
    6: (1, 1, 0),
    7: (0, 1, 1),
    8: (1, 0, 0),
    9: (0, 0, 0),
    10: (0, 0, 0),
}
for attempt, answers in KEY.items():
    for qid, ok in zip((101, 102, 103), answers):
        ROWS.append((attempt, qid, bool(ok)))


def test_facility_and_discrimination_match_hand_computation():
    stats = item_statistics(ROWS)
    # q1: 7 of 10 correct; upper 3/3, lower 1/3 -> D = 1 - 1/3
    assert stats[101].responses == 10
    assert stats[101].facility == pytest.approx(0.7)
    assert stats[101].discrimination == pytest.approx(2 / 3)
    # q2: 6/10; upper 3/3, lower 0/3 -> D = 1
    assert stats[102].facility == pytest.approx(0.6) and stats[102].discrimination == pytest.approx(1.0)
    # q3: 5/10; upper 3/3, lower 0/3 -> D = 1
    assert stats[103].facility == pytest.approx(0.5) and stats[103].discrimination == pytest.approx(1.0)


def test_given_totals_rows_may_come_in_any_order():
    totals = {a: sum(ans) for a, ans in KEY.items()}
    shuffled = sorted(ROWS, key=lambda r: (r[1], -r[0]))
    assert item_statistics(iter(shuffled), totals=totals) == item_statistics(iter(ROWS))


def test_without_totals_rows_must_be_ordered_by_attempt():
    with pytest.raises(ValueError, match="ordered by attempt_id"):
        item_statistics([(2, 1, True), (1, 1, False)])


def test_ties_at_the_group_boundary_count_fractionally():
    # Five attempts with totals 2, 2, 1, 0, 0 -> groups of round(1.35) = 1 attempt.
    # Upper: the two attempts with total 2 share the single place (half each).
    # Question 9 is right in attempt 1 only: p_upper = 0.5; lower (one of the two zero-total attempts) = 0.
    rows = [
        (1, 9, True),
        (1, 8, True),
        (2, 9, False),
        (2, 8, True),
        (2, 7, True),
        (3, 9, False),
        (3, 8, True),
        (4, 9, False),
        (5, 9, False),
    ]
    stats = item_statistics(rows)
    assert stats[9].facility == pytest.approx(0.2) and stats[9].discrimination == pytest.approx(0.5)
    # question 8: both total-2 attempts right -> 1.0; never seen by the lower group -> no index
    assert stats[8].discrimination is None


def test_too_few_attempts_gives_no_discrimination():
    stats = item_statistics([(1, 5, True), (1, 6, False)])  # one attempt: no upper and lower group
    assert stats[5].facility == 1.0 and stats[6].facility == 0.0 and stats[5].discrimination is None
