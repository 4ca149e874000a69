"""Settling rounds in the background: the heavy work of a settled round is done by `contest worker`, not by a
judge's click.

Once a round has settled (close + the time limit + the margin, `settlement.settled_at`) the worker fixes the
prediction's target, computes the review flags and stores the ranking board (at 1,000,000 attempts that is
30-40 s). A judge's round page then only reads stored rows; until the worker is done the page says the results
are being settled. Every step checks what is already done (idempotent), and a Redis lock per round keeps
several workers from settling one round at the same time. The worker looks for work with one cheap query per
pass (no attempt is counted unless a round looks unsettled); a judge's "Tính lại" or a page that finds the
stored ranking out of date asks for a rebuild through a Redis set the worker reads.
"""

import logging
import uuid
from datetime import datetime, timedelta

from sqlalchemy import func, select

from contest.judging import board
from contest.judging.flags import refresh_review_flags, review_flags_stale
from contest.judging.models import JudgingSettings
from contest.judging.ranking import effective_rule
from contest.judging.settlement import fix_perfect_count, is_settled, settled_at
from contest.rounds.models import Attempt, Round
from infra.clock import utcnow
from infra.extensions import db, get_redis

log = logging.getLogger(__name__)

LOCK_KEY = "judging:settle-lock:{round_id}"
LOCK_TTL_MS = 30 * 60 * 1000  # far above a settle at 1,000,000 attempts; a dead worker's lock expires
REQUESTS_KEY = "judging:settle-requests"  # round ids whose stored ranking must be rebuilt (a judge asked)
_RELEASE = """
if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) end
return 0
"""


def _key_prefix(round_: Round) -> str:
    """The part of board.ranking_key that needs no query (rule and fixed target)."""
    return f"rule={','.join(effective_rule(round_))};target={round_.perfect_count_actual};"


def looks_unsettled(round_: Round, settings: JudgingSettings | None, now=None) -> bool:
    """Cheap: a settled round whose target, flags or stored ranking is missing or was made from other inputs."""
    if not is_settled(round_, now):
        return False
    return (
        round_.perfect_count_actual is None
        or settings is None
        or settings.flags_computed_at is None
        or settings.flags_computed_at < settled_at(round_)
        or not (settings.ranking_key or "").startswith(_key_prefix(round_))
    )


def ready_for_reading(round_: Round) -> bool:
    """What a judge's page asks of a settled round: target fixed, flags computed after settling, ranking stored for
    the current rule and target. No attempt is counted here (0.5 s at 10^6): an attempt finishing after the worker
    settled the round (a worker that was down) is caught by the worker's own full check (settle_due_rounds)."""
    return not looks_unsettled(round_, db.session.get(JudgingSettings, round_.id))


def settle_round(round_: Round, rebuild=False) -> bool:
    """Does what is missing for a settled round (target, flags, ranking board); True if it did anything.
    `rebuild` stores the ranking again even if its key matches (a judge's "Tính lại")."""
    if not is_settled(round_):
        return False
    did = False
    if round_.perfect_count_actual is None:
        fix_perfect_count(round_)  # audited, by the system
        did = True
    if review_flags_stale(round_):
        refresh_review_flags(round_)
        did = True
    key = board.ranking_key(round_)
    settings = db.session.get(JudgingSettings, round_.id)
    if rebuild or settings is None or settings.ranking_key != key:
        board.rebuild(round_, key)
        did = True
    return did


# A round with at most this many attempts is settled on the judge's own request (well under a second: a decision
# that changes the prediction's target, a first look before the worker's next pass); bigger ones by the worker.
INLINE_LIMIT = 20_000


def settle_if_small(round_: Round) -> bool:
    """Settles a small settled round now, under its lock, if it is not ready for reading (True if it did work).
    Counting stops at INLINE_LIMIT + 1 attempts, so a round of 10^6 costs one bounded index scan and is left to
    the worker."""
    if not is_settled(round_) or ready_for_reading(round_):
        return False
    bounded = select(Attempt.id).where(Attempt.round_id == round_.id).limit(INLINE_LIMIT + 1).subquery()
    if db.session.scalar(select(func.count()).select_from(bounded)) > INLINE_LIMIT:
        return False
    worked = _with_lock(round_.id, lambda: settle_round(round_))
    db.session.commit()
    return bool(worked)


FULL_CHECK_EVERY = timedelta(minutes=1)
FULL_CHECK_FOR = timedelta(days=1)
_full_checks: dict[int, datetime] = {}  # round id -> last full check by this process


def _stale_after_settling(round_: Round, now) -> bool:
    """For a day after a round settles, once a minute, the full ranking key (it counts the finished attempts): an
    attempt closed late (the worker was down at the deadline) makes the stored ranking out of date."""
    if not is_settled(round_, now) or now - settled_at(round_) > FULL_CHECK_FOR:
        return False
    last = _full_checks.get(round_.id)
    if last is not None and now - last < FULL_CHECK_EVERY:
        return False
    _full_checks[round_.id] = now
    return not board.is_current(round_)


def request_rebuild(round_id: int) -> None:
    """Asks the worker to store the round's ranking again (cheap: one Redis command)."""
    get_redis().sadd(REQUESTS_KEY, round_id)


def rebuild_requested(round_id: int) -> bool:
    return bool(get_redis().sismember(REQUESTS_KEY, round_id))


def _with_lock(round_id: int, work) -> bool | None:
    """Runs work() holding the round's lock; None if another worker holds it."""
    r = get_redis()
    key, token = LOCK_KEY.format(round_id=round_id), uuid.uuid4().hex
    if not r.set(key, token, nx=True, px=LOCK_TTL_MS):
        return None
    try:
        return work()
    finally:
        r.eval(_RELEASE, 1, key, token)


def settle_due_rounds(now=None) -> list[int]:
    """One pass of the worker: settles every round that needs it (and the rebuilds judges asked for); returns the
    ids of the rounds it worked on. Safe with several workers: each round is settled under its lock."""
    now = now or utcnow()
    r = get_redis()
    requested = {int(x) for x in r.smembers(REQUESTS_KEY) if str(x).isdigit()}
    rows = db.session.execute(
        select(Round, JudgingSettings)
        .outerjoin(JudgingSettings, JudgingSettings.round_id == Round.id)
        .where(Round.closes_at <= now)
    ).all()
    due = [
        (round_, round_.id in requested)
        for round_, settings in rows
        if round_.id in requested or looks_unsettled(round_, settings, now) or _stale_after_settling(round_, now)
    ]
    done = []
    for round_, rebuild in due:
        round_id = round_.id
        try:
            worked = _with_lock(round_id, lambda: settle_round(round_, rebuild=rebuild))
        except Exception:
            db.session.rollback()
            log.exception("settling round %s failed; next pass retries", round_id)
            continue
        if worked is None:
            continue  # another worker holds it
        if rebuild:
            r.srem(REQUESTS_KEY, round_id)
        if worked:
            log.info("settled round %s", round_id)
            done.append(round_id)
    # Requests for rounds that do not exist (deleted) or are not settled yet are dropped.
    known = {round_.id for round_, _ in rows}
    stale = [x for x in requested if x not in known]
    if stale:
        r.srem(REQUESTS_KEY, *stale)
    return done
