"""A round's live leaderboard: a Redis sorted set of each contestant's best attempt.

Order: more correct answers, then shorter time taken, then earlier submission (to the second).
The three are packed into one integer below 2**53, so the float Redis stores stays exact:
    correct (8 bits) | 2**23-1 - time taken in ms (23 bits) | 2**22-1 - seconds since opening (22 bits)
The prediction tiebreak needs the actual number of perfect scores, known only when the round
closes; the judges' final ranking applies it (DOMAIN.md), the live board does not.
"""

from contest.rounds.redis_scripts import RECORD_ENTRY
from infra.extensions import get_redis

TIME_BITS = 23
SUBMIT_BITS = 22
TIME_MAX = (1 << TIME_BITS) - 1  # ~2.3 hours in ms
SUBMIT_MAX = (1 << SUBMIT_BITS) - 1  # ~48 days in seconds
CORRECT_MAX = (1 << 8) - 1


def board_key(round_id):
    return f"lb:{round_id}"


def details_key(round_id):
    return f"lb:{round_id}:who"


def version_key(round_id):
    return f"lb:{round_id}:ver"


def composite_score(correct: int, time_taken_ms: int, submitted_s_since_open: int) -> int:
    correct = min(max(correct, 0), CORRECT_MAX)
    time_part = TIME_MAX - min(max(time_taken_ms, 0), TIME_MAX)
    submit_part = SUBMIT_MAX - min(max(submitted_s_since_open, 0), SUBMIT_MAX)
    return (correct << (TIME_BITS + SUBMIT_BITS)) | (time_part << SUBMIT_BITS) | submit_part


def record(attempt) -> bool:
    """Puts the attempt on the board if it beats the contestant's best; True when the board changed."""
    round_ = attempt.round
    user = attempt.user
    since_open = int((attempt.submitted_at - round_.opens_at).total_seconds())
    value = composite_score(attempt.correct_count or 0, attempt.time_taken_ms or 0, since_open)
    unit = user.unit.name if user.unit is not None else ""
    details = f"{attempt.correct_count}|{attempt.time_taken_ms}|{user.full_name}|{unit}"
    r = get_redis()
    changed = r.eval(
        RECORD_ENTRY,
        3,
        board_key(round_.id),
        details_key(round_.id),
        version_key(round_.id),
        user.id,
        str(value),
        details,
    )
    return bool(changed)


def version(round_id) -> int:
    return int(get_redis().get(version_key(round_id)) or 0)


def top_entries(round_id, n=10) -> list[dict]:
    r = get_redis()
    members = r.zrevrange(board_key(round_id), 0, n - 1)
    if not members:
        return []
    details = r.hmget(details_key(round_id), members)
    return [_entry(rank, member, detail) for rank, (member, detail) in enumerate(zip(members, details), start=1)]


def _entry(rank, member, detail):
    correct, time_ms, name, unit = (detail or "0|0||").split("|", 3)
    return {
        "rank": rank,
        "user_id": int(member),
        "name": name,
        "unit": unit,
        "correct": int(correct),
        "time_ms": int(time_ms),
    }


def rank_of(round_id, user_id) -> dict | None:
    r = get_redis()
    pipe = r.pipeline(transaction=False)
    pipe.zrevrank(board_key(round_id), user_id)
    pipe.hget(details_key(round_id), user_id)
    pipe.zcard(board_key(round_id))
    rank, detail, total = pipe.execute()
    if rank is None:
        return None
    entry = _entry(rank + 1, user_id, detail)
    entry["total"] = total
    return entry


def ranks_of(round_id, user_ids) -> dict[int, int | None]:
    """Many contestants' ranks in one round trip (the pusher's per-contestant message)."""
    pipe = get_redis().pipeline(transaction=False)
    for uid in user_ids:
        pipe.zrevrank(board_key(round_id), uid)
    return {uid: (None if rank is None else rank + 1) for uid, rank in zip(user_ids, pipe.execute())}


def public_entry(entry: dict) -> dict:
    """What a public page may show: no user id."""
    return {k: v for k, v in entry.items() if k != "user_id"}
