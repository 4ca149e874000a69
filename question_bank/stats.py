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


# --- where the correct option sits ----------------------------------------------------------------

LETTERS = "ABCDEFGH"
# chi-square critical values at p = 0.01 by degrees of freedom (positions - 1)
_CHI2_CRITICAL_1PCT = {1: 6.63, 2: 9.21, 3: 11.34, 4: 13.28, 5: 15.09, 6: 16.81, 7: 18.48}
MIN_QUESTIONS_FOR_SKEW = 10


@dataclass(frozen=True)
class PositionDistribution:
    """How often the correct option of a single-answer question is authored at each position (A, B, C, ...).

    Authors tend to write the right answer first; with option shuffling off, contestants see this order."""

    counts: tuple[int, ...]  # by position, A first
    expected: tuple[float, ...]  # what uniform positions would give (each question spreads 1/n over its n)
    questions: int
    chi2: float

    @property
    def shares(self) -> tuple[float, ...]:
        return tuple(c / self.questions if self.questions else 0.0 for c in self.counts)

    @property
    def skewed(self) -> bool:
        """True when the positions are unlikely to be uniform (chi-square at 1 %, at least 10 questions)."""
        used = sum(1 for e in self.expected if e > 0)
        critical = _CHI2_CRITICAL_1PCT.get(min(max(used - 1, 1), 7), 18.48)
        return self.questions >= MIN_QUESTIONS_FOR_SKEW and self.chi2 > critical

    def most_common(self) -> tuple[str, int]:
        """(letter, share in whole percent) of the position that holds the correct option most often."""
        if not self.questions:
            return "", 0
        i = max(range(len(self.counts)), key=lambda k: self.counts[k])
        return LETTERS[i], round(100 * self.counts[i] / self.questions)

    def rows(self) -> list[tuple[str, int, float]]:
        """(letter, count, share) for each position some question has."""
        return [(LETTERS[i], c, s) for i, (c, s) in enumerate(zip(self.counts, self.shares, strict=True))]


def position_distribution(questions) -> PositionDistribution:
    """questions: iterable of (option count, 0-based position of the correct option) of single-answer questions."""
    width = len(LETTERS)
    counts = [0] * width
    expected = [0.0] * width
    n = 0
    for option_count, position in questions:
        if not 0 < option_count <= width or not 0 <= position < option_count:
            continue
        n += 1
        counts[position] += 1
        for p in range(option_count):
            expected[p] += 1 / option_count
    chi2 = sum((c - e) ** 2 / e for c, e in zip(counts, expected, strict=True) if e > 0)
    used = max((i + 1 for i, e in enumerate(expected) if e > 0), default=0)
    return PositionDistribution(tuple(counts[:used]), tuple(expected[:used]), n, chi2)
