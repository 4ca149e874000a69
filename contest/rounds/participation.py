"""How many people have taken part in a round so far, for the projector: participants and attempts started.

One indexed count over `attempts` (ix_attempts_round_user), kept in this process for a few seconds, so that projectors
polling the public numbers cost one query per round per process every CACHE_SECONDS, whatever their number.
"""

import time
from dataclasses import dataclass

from sqlalchemy import distinct, func, select

from contest.rounds.models import Attempt
from infra.extensions import db

CACHE_SECONDS = 5.0
_cache: dict[int, tuple[float, "Participation"]] = {}


@dataclass(frozen=True)
class Participation:
    participants: int  # distinct contestants with at least one attempt (running or closed)
    attempts: int  # attempts started, running ones included


def participation(round_id: int) -> Participation:
    now = time.monotonic()
    cached = _cache.get(round_id)
    if cached is not None and now - cached[0] < CACHE_SECONDS:
        return cached[1]
    people, attempts = db.session.execute(
        select(func.count(distinct(Attempt.user_id)), func.count(Attempt.id)).where(Attempt.round_id == round_id)
    ).one()
    value = Participation(participants=int(people or 0), attempts=int(attempts or 0))
    if len(_cache) > 1000:  # rounds are few; a bound all the same
        _cache.clear()
    _cache[round_id] = (now, value)
    return value


def forget() -> None:
    """Drops the cached counts (tests)."""
    _cache.clear()
