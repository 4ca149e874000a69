"""Item statistics from attempt data: facility (share correct) and the discrimination index D.

D = p(correct in the upper 27% of attempts by total correct) - p(correct in the lower 27%).
One streaming pass: each question keeps a small histogram {attempt total: [responses, correct]}
(at most one entry per possible score), so memory does not grow with the number of rows or
attempts. Attempts tied at a group boundary count fractionally (the classic proportional rule),
so the result never depends on the order of ties.
"""

from dataclasses import dataclass

GROUP_SHARE = 0.27


@dataclass(frozen=True)
class ItemStatistic:
    question_id: int
    responses: int
    facility: float | None
    discrimination: float | None  # None when the attempts are too few to form upper and lower groups


def _group_weights(attempts_by_total: dict[int, int], descending: bool) -> dict[int, float]:
    """{total: share of the attempts with this total that fall in the group}."""
    n = sum(attempts_by_total.values())
    size = int(round(n * GROUP_SHARE))
    if size < 1 or 2 * size > n:
        return {}
    weights, left = {}, float(size)
    for total in sorted(attempts_by_total, reverse=descending):
        if left <= 0:
            break
        count = attempts_by_total[total]
        take = min(count, left)
        weights[total] = take / count
        left -= take
    return weights


def item_statistics(rows, totals: dict[int, int] | None = None) -> dict[int, ItemStatistic]:
    """rows: iterable of (attempt_id, question_id, is_correct).

    Without `totals` ({attempt_id: total correct}) the rows must come ordered by attempt_id (e.g.
    `ORDER BY attempt_id`), so each attempt's total is known when its last row has been read.
    """
    hist: dict[int, dict[int, list[int]]] = {}  # question -> total -> [responses, correct]
    attempts_by_total: dict[int, int] = {}

    def add(total, answers):
        attempts_by_total[total] = attempts_by_total.get(total, 0) + 1
        for qid, ok in answers:
            cell = hist.setdefault(qid, {}).setdefault(total, [0, 0])
            cell[0] += 1
            cell[1] += ok

    if totals is not None:
        seen_attempts = set()
        for attempt_id, qid, is_correct in rows:
            total = totals[attempt_id]
            cell = hist.setdefault(qid, {}).setdefault(total, [0, 0])
            cell[0] += 1
            cell[1] += 1 if is_correct else 0
            seen_attempts.add(attempt_id)
        for attempt_id in seen_attempts:
            total = totals[attempt_id]
            attempts_by_total[total] = attempts_by_total.get(total, 0) + 1
    else:
        current: int | None = None
        answers: list[tuple[int, int]] = []  # (question, 1 if correct else 0)
        for attempt_id, qid, is_correct in rows:
            if attempt_id != current:
                if current is not None:
                    if attempt_id < current:
                        raise ValueError("rows must be ordered by attempt_id when totals are not given")
                    add(sum(ok for _q, ok in answers), answers)
                current, answers = attempt_id, []
            answers.append((qid, 1 if is_correct else 0))
        if current is not None:
            add(sum(ok for _q, ok in answers), answers)

    upper = _group_weights(attempts_by_total, descending=True)
    lower = _group_weights(attempts_by_total, descending=False)
    stats = {}
    for qid, by_total in hist.items():
        n = sum(cell[0] for cell in by_total.values())
        correct = sum(cell[1] for cell in by_total.values())
        un = sum(by_total[t][0] * w for t, w in upper.items() if t in by_total)
        uc = sum(by_total[t][1] * w for t, w in upper.items() if t in by_total)
        ln = sum(by_total[t][0] * w for t, w in lower.items() if t in by_total)
        lc = sum(by_total[t][1] * w for t, w in lower.items() if t in by_total)
        discrimination = (uc / un - lc / ln) if un and ln else None
        stats[qid] = ItemStatistic(qid, n, correct / n if n else None, discrimination)
    return stats
