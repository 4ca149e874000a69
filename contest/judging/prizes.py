"""Prize tiers of a round (e.g. 1 × Giải Nhất, 2 × Giải Nhì), awarding them by rank, and the winners."""

import re
from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import select

from contest.audit import record_action
from contest.judging import board
from contest.judging.errors import JudgingError
from contest.judging.models import PrizeTier
from contest.judging.ranking import rank_entries
from contest.rounds.models import Round
from infra.extensions import db
from infra.web_input import MAX_DB_INT, parse_int

MAX_WINNERS = 1_000_000  # winners of one tier: more than any contest's entries, far below an INTEGER column's limit


@dataclass
class TierSpec:
    name: str
    winners: int
    perfect_required: bool = False
    min_correct: int | None = None  # fewer correct answers than this: not this tier


PERFECT_WORDS = ("tuyệt đối", "tuyet doi", "x", "1", "có", "perfect")
MIN_CORRECT = re.compile(r"^(?:tối thiểu|toi thieu|ít nhất|it nhat|min|>=|≥)\s*(\d{1,4})(?:\s*câu(?: đúng)?)?$", re.I)
MAX_MIN_CORRECT = 1000


def tier_line(tier) -> str:
    """A tier as the form's textarea shows it (parse_tiers reads it back)."""
    parts = [tier.name, str(tier.winners)]
    if tier.min_correct is not None:
        parts.append(f"tối thiểu {tier.min_correct}")
    if tier.perfect_required:
        parts.append("tuyệt đối")
    return "; ".join(parts)


def prize_tiers(round_id) -> list[PrizeTier]:
    return db.session.scalars(
        select(PrizeTier).where(PrizeTier.round_id == round_id).order_by(PrizeTier.position)
    ).all()


def set_prize_tiers(round_: Round, specs: list[TierSpec], actor) -> list[PrizeTier]:
    cleaned = []
    for spec in specs:
        name = (spec.name or "").strip()
        if not name:
            raise JudgingError(_("Mỗi giải phải có tên."))
        if not isinstance(spec.winners, int) or spec.winners < 1:
            raise JudgingError(_("Số lượng giải “%(name)s” phải là số nguyên dương.", name=name))
        if spec.winners > MAX_WINNERS:
            raise JudgingError(_("Số lượng giải “%(name)s” tối đa là %(n)s.", name=name, n=MAX_WINNERS))
        minimum = spec.min_correct
        if minimum is not None and (not isinstance(minimum, int) or not 0 <= minimum <= MAX_MIN_CORRECT):
            raise JudgingError(_("Số câu đúng tối thiểu của giải “%(name)s” không hợp lệ.", name=name))
        if minimum is not None and round_.question_count and minimum > round_.question_count:
            raise JudgingError(
                _(
                    "Giải “%(name)s” yêu cầu tối thiểu %(min)s câu đúng, nhiều hơn số câu của vòng thi (%(n)s).",
                    name=name,
                    min=minimum,
                    n=round_.question_count,
                )
            )
        cleaned.append(TierSpec(name, spec.winners, bool(spec.perfect_required), minimum))
    if len({spec.name for spec in cleaned}) != len(cleaned):
        raise JudgingError(_("Tên các giải không được trùng nhau."))
    for tier in prize_tiers(round_.id):
        db.session.delete(tier)
    db.session.flush()
    tiers = [
        PrizeTier(
            round_id=round_.id,
            position=i,
            name=s.name,
            winners=s.winners,
            perfect_required=s.perfect_required,
            min_correct=s.min_correct,
        )
        for i, s in enumerate(cleaned, start=1)
    ]
    db.session.add_all(tiers)
    record_action(actor, "prize_tiers", round_, tiers=[s.__dict__ for s in cleaned])
    db.session.commit()
    return tiers


def parse_tiers(text: str) -> list[TierSpec]:
    """One tier per line: `Tên giải; số lượng[; tối thiểu N][; tuyệt đối]` (the form's textarea)."""
    specs = []
    for number, line in enumerate((text or "").splitlines(), start=1):
        if not line.strip():
            continue
        parts = [p.strip() for p in line.split(";")]
        if len(parts) < 2 or parse_int(parts[1], 0, MAX_DB_INT) is None:
            raise JudgingError(_("Dòng %(line)s: cần dạng “Tên giải; số lượng” (ví dụ: Giải Nhất; 1).", line=number))
        perfect, minimum = False, None
        for option in parts[2:]:
            match = MIN_CORRECT.match(option)
            if option.lower() in PERFECT_WORDS:
                perfect = True
            elif match:
                minimum = int(match.group(1))
            elif option:
                raise JudgingError(
                    _(
                        "Dòng %(line)s: không hiểu “%(option)s” (dùng “tối thiểu 15” cho số câu đúng tối thiểu "
                        "hoặc “tuyệt đối” cho điểm tuyệt đối).",
                        line=number,
                        option=option,
                    )
                )
        specs.append(TierSpec(parts[0], parse_int(parts[1], 0, MAX_DB_INT), perfect, minimum))
    return specs


def award_prizes(entries, tiers):
    """Marks each entry with its prize. An entry takes the first tier whose cumulative count reaches its rank,
    so people tied across a tier boundary all get the higher prize; a tier that requires a perfect score
    is not given to an entry without one, nor a tier with a minimum of correct answers to an entry below it (the
    entry gets no prize: its rank placed it in that tier). Yields every entry (streams)."""
    bounds, total = [], 0
    for tier in tiers:
        total += tier.winners
        bounds.append((total, tier))
    for entry in entries:
        entry.prize = None
        for bound, tier in bounds:
            if entry.rank <= bound:
                enough = tier.min_correct is None or (entry.correct_count or 0) >= tier.min_correct
                if enough and (not tier.perfect_required or entry.perfect):
                    entry.prize = tier.name
                break
        yield entry


def winners(round_: Round, stored=None):
    """The prize winners in rank order. Reads only the top of the ranking (LIMIT lets the database keep a
    top-N heap instead of sorting everyone), widening the window while ties run past it. `stored`: whether the
    stored ranking is current, when the caller has just checked (board.is_current)."""
    tiers = prize_tiers(round_.id)
    total = sum(t.winners for t in tiers)
    if not total:
        return []
    if stored is None:
        stored = board.is_current(round_)  # the stored ranking: a primary-key read instead of a window sort
    window = total * 2 + 10
    while True:
        ranked = board.page(round_.id, 0, window) if stored else rank_entries(round_, limit=window)
        entries = list(award_prizes(ranked, tiers))
        if len(entries) < window or entries[-1].rank > total:
            return [e for e in entries if e.rank <= total and e.prize]
        window *= 4
