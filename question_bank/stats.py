"""Item statistics from attempt data: facility (share correct) and the discrimination index D.

D = p(correct among the upper 27% of attempts by total correct) - p(correct among the lower 27%).
Two streaming passes over the rows: the first counts each attempt's total, the second tallies per
question. Memory is one integer per attempt plus a few counters per question, never the rows.
"""
from dataclasses import dataclass

GROUP_SHARE = 0.27


@dataclass(frozen=True)
class ItemStatistic:
    question_id: int
    responses: int
    facility: float | None
    discrimination: float | None  # None when the attempts are too few to form upper and lower groups


def _groups(totals: dict[int, int]) -> tuple[set[int], set[int]]:
    n = len(totals)
    size = int(round(n * GROUP_SHARE))
    if size < 1 or 2 * size > n:
        return set(), set()
    # Ties at the boundaries are broken by attempt id so the result is deterministic.
    ranked = sorted(totals, key=lambda a: (-totals[a], a))
    return set(ranked[:size]), set(ranked[-size:])


def item_statistics(rows, totals: dict[int, int] | None = None) -> dict[int, "ItemStatistic"]:
    """rows: iterable of (attempt_id, question_id, is_correct). If it is a one-shot iterator, pass
    `totals` ({attempt_id: total correct}) or a re-iterable (a list, or a callable returning a fresh iterator)."""
    source = rows
    if totals is None:
        if callable(source):
            first = source()
        else:
            source = source if isinstance(source, (list, tuple)) else list(source)
            first = source
        totals = {}
        for attempt_id, _qid, is_correct in first:
            totals[attempt_id] = totals.get(attempt_id, 0) + (1 if is_correct else 0)
    upper, lower = _groups(totals)
    counts: dict[int, list[int]] = {}  # question -> [responses, correct, upper n, upper correct, lower n, lower correct]
    for attempt_id, qid, is_correct in (source() if callable(source) else source):
        c = counts.get(qid)
        if c is None:
            c = counts[qid] = [0, 0, 0, 0, 0, 0]
        ok = 1 if is_correct else 0
        c[0] += 1
        c[1] += ok
        if attempt_id in upper:
            c[2] += 1
            c[3] += ok
        elif attempt_id in lower:
            c[4] += 1
            c[5] += ok
    stats = {}
    for qid, (n, correct, un, uc, ln, lc) in counts.items():
        discrimination = (uc / un - lc / ln) if un and ln else None
        stats[qid] = ItemStatistic(qid, n, correct / n if n else None, discrimination)
    return stats
