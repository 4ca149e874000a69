"""TO BE REPLACED by the question-bank engineer's question_bank.stats.item_statistics (same signature).

Used only while question_bank.stats does not exist on this branch: facility = share of correct responses;
discrimination = point-biserial correlation of the item with the attempt's score on the other items.
"""
from collections import defaultdict
from dataclasses import dataclass
from math import sqrt


@dataclass(frozen=True)
class ItemStatistic:
    question_id: int
    responses: int
    facility: float
    discrimination: float | None


def item_statistics(rows):
    """rows: iterable of (attempt_id, question_id, is_correct) -> {question_id: ItemStatistic}."""
    by_attempt = defaultdict(list)
    for attempt_id, question_id, is_correct in rows:
        by_attempt[attempt_id].append((question_id, 1 if is_correct else 0))
    pairs = defaultdict(list)  # question -> [(item score, rest score)]
    for answers in by_attempt.values():
        total = sum(score for _, score in answers)
        for question_id, score in answers:
            pairs[question_id].append((score, total - score))
    result = {}
    for question_id, values in pairs.items():
        n = len(values)
        facility = sum(x for x, _ in values) / n
        result[question_id] = ItemStatistic(question_id, n, facility, _correlation(values))
    return result


def _correlation(values):
    n = len(values)
    if n < 2:
        return None
    mean_x = sum(x for x, _ in values) / n
    mean_y = sum(y for _, y in values) / n
    cov = sum((x - mean_x) * (y - mean_y) for x, y in values)
    var_x = sum((x - mean_x) ** 2 for x, _ in values)
    var_y = sum((y - mean_y) ** 2 for _, y in values)
    if var_x == 0 or var_y == 0:
        return None
    return cov / sqrt(var_x * var_y)
