"""What a contestant may read of a round's outcome on the contest page: whether the results are published (and
where), and the prize list. Lent to the templates by the composition root (play may not import judging)."""

from dataclasses import dataclass, field
from datetime import datetime

from flask import url_for

from contest.judging.prizes import prize_tiers
from contest.judging.publishing import latest_snapshot
from contest.rounds.models import Round


@dataclass
class Prize:
    name: str
    winners: int
    perfect_required: bool
    min_correct: int | None


@dataclass
class RoundOutcome:
    published: bool
    published_at: datetime | None
    results_url: str
    prizes: list[Prize] = field(default_factory=list)


def round_outcome(round_: Round) -> RoundOutcome:
    """Two primary-key-ordered reads; the public results page (/ket-qua/vong/ROUND) says "not published" too."""
    snapshot = latest_snapshot(round_.id)
    prizes = [Prize(t.name, t.winners, t.perfect_required, t.min_correct) for t in prize_tiers(round_.id)]
    return RoundOutcome(
        published=snapshot is not None,
        published_at=snapshot.published_at if snapshot is not None else None,
        results_url=url_for("judging.public_results", round_id=round_.id),
        prizes=prizes,
    )
