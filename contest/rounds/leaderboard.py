"""A round's live leaderboard: a Redis sorted set of each contestant's best attempt.

Order: more correct answers, then shorter time taken, then earlier submission (to the second).
The three are packed into one integer below 2**53, so the float Redis stores stays exact:
    correct (8 bits) | 2**23-1 - time taken in ms (23 bits) | 2**22-1 - seconds since opening (22 bits)
The prediction tiebreak needs the actual number of perfect scores, known only when the round
closes; the judges' final ranking applies it (DOMAIN.md), the live board does not.

Once the judges publish, the board holds the official standings instead (publish_official): their order, ranks
(ties share one), correct answers and prizes, and attempts no longer change it. A disqualified contestant is taken
off the board at once (disqualify) and kept off; reinstating records their attempts again (before publication).

The Redis keys and the details format are in live_state; the payloads the sockets carry
(docs/realtime.md) are built here, next to the data they show.
"""

from collections.abc import Iterable
from dataclasses import dataclass

from contest.rounds import live_state
from contest.rounds.live_state import board_key, decode_details, details_key, encode_details, record_entry, version_key
from contest.rounds.models import Attempt
from infra.extensions import get_redis

TIME_BITS = 23
SUBMIT_BITS = 22
TIME_MAX = (1 << TIME_BITS) - 1  # ~2.3 hours in ms
SUBMIT_MAX = (1 << SUBMIT_BITS) - 1  # ~48 days in seconds
CORRECT_MAX = (1 << 8) - 1


def composite_score(correct: int, time_taken_ms: int, submitted_s_since_open: int) -> int:
    correct = min(max(correct, 0), CORRECT_MAX)
    time_part = TIME_MAX - min(max(time_taken_ms, 0), TIME_MAX)
    submit_part = SUBMIT_MAX - min(max(submitted_s_since_open, 0), SUBMIT_MAX)
    return (correct << (TIME_BITS + SUBMIT_BITS)) | (time_part << SUBMIT_BITS) | submit_part


def record(attempt: Attempt) -> bool:
    """Puts a closed attempt on the board if it beats the contestant's best; True when the board changed."""
    round_ = attempt.round
    user = attempt.user
    assert attempt.submitted_at is not None, "only a closed attempt is ranked"
    since_open = int((attempt.submitted_at - round_.opens_at).total_seconds())
    value = composite_score(attempt.correct_count or 0, attempt.time_taken_ms or 0, since_open)
    unit = user.unit.name if user.unit is not None else ""
    details = encode_details(attempt.correct_count, attempt.time_taken_ms, user.full_name, unit)
    return record_entry(round_.id, user.id, value, details)


def version(round_id: int) -> int:
    return int(get_redis().get(version_key(round_id)) or 0)


def top_entries(round_id: int, n: int = 10) -> list[dict]:
    r = get_redis()
    members = r.zrevrange(board_key(round_id), 0, n - 1)
    if not members:
        return []
    details = r.hmget(details_key(round_id), members)
    return [_entry(rank, member, detail) for rank, (member, detail) in enumerate(zip(members, details), start=1)]


def _entry(rank: int, member: int | str, detail: str | None) -> dict:
    official = live_state.decode_official_details(detail)
    if official is not None:
        return {
            "rank": official["rank"],
            "user_id": int(member),
            "name": official["name"],
            "unit": official["unit"],
            "correct": official["correct"],
            "time_ms": official["time_ms"],
            "prize": official["prize"],
        }
    correct, time_ms, name, unit = decode_details(detail)
    return {
        "rank": rank,
        "user_id": int(member),
        "name": name,
        "unit": unit,
        "correct": correct,
        "time_ms": time_ms,
    }


def rank_of(round_id: int, user_id: int) -> dict | None:
    r = get_redis()
    pipe = r.pipeline(transaction=False)
    pipe.zrevrank(board_key(round_id), user_id)
    pipe.hget(details_key(round_id), user_id)
    pipe.zcard(board_key(round_id))
    pipe.exists(live_state.official_key(round_id))
    rank, detail, total, official = pipe.execute()
    if rank is None:
        return None
    entry = _entry(rank + 1, user_id, detail)
    entry["total"] = total
    entry["official"] = bool(official)
    return entry


def ranks_of(round_id: int, user_ids: list[int]) -> dict[int, int | None]:
    """Many contestants' ranks in one round trip (the pusher's per-contestant message)."""
    if live_state.is_official(round_id):  # official ranks share ties: read them from the entries
        details = get_redis().hmget(details_key(round_id), user_ids) if user_ids else []
        return {uid: (None if d is None else _entry(0, uid, d)["rank"]) for uid, d in zip(user_ids, details)}
    pipe = get_redis().pipeline(transaction=False)
    for uid in user_ids:
        pipe.zrevrank(board_key(round_id), uid)
    return {uid: (None if rank is None else rank + 1) for uid, rank in zip(user_ids, pipe.execute())}


def is_official(round_id: int) -> bool:
    """True once the judges published: the board holds the official standings."""
    return live_state.is_official(round_id)


def disqualify(round_id: int, user_id: int) -> bool:
    """Takes a disqualified contestant off the board (the next push shows it) and keeps them off."""
    return live_state.exclude_entry(round_id, user_id)


def reinstate(round_id: int, user_id: int, finished: Iterable[Attempt]) -> None:
    """Lets a reinstated contestant back: their finished attempts are recorded again (their best counts). After
    publication the official board changes only by publishing again (publish_official)."""
    live_state.include_entry(round_id, user_id)
    for attempt in finished:
        if attempt.submitted_at is not None:
            record(attempt)


@dataclass(frozen=True)
class OfficialEntry:
    user_id: int
    rank: int
    correct: int | None
    time_taken_ms: int | None
    name: str
    unit: str
    prize: str | None


def publish_official(round_id: int, version: int, entries: Iterable[OfficialEntry]) -> int:
    """Replaces the board with the published standings (in position order); returns how many entries it holds."""
    return live_state.replace_with_official(
        round_id,
        version,
        (
            (e.user_id, live_state.encode_official_details(e.rank, e.correct, e.time_taken_ms, e.name, e.unit, e.prize))
            for e in entries
        ),
    )


def public_entry(entry: dict) -> dict:
    """What a public page may show: no user id."""
    return {k: v for k, v in entry.items() if k != "user_id"}


# --- what the sockets carry (docs/realtime.md) ----------------------------------------------------


def board_payload(round_id: int, public: bool = False) -> dict:
    """The top 10 as the `leaderboard` push and the `leaderboard:join` ack carry it; no user ids when public.
    `official` is true once the judges published: the entries are then the official standings, with their prize."""
    top = top_entries(round_id, 10)
    if public:
        top = [public_entry(e) for e in top]
    return {"round_id": round_id, "version": version(round_id), "official": is_official(round_id), "top": top}


def result_payload(attempt: Attempt) -> dict:
    """The `submit` ack's result: score and rank only if the round shows them after submitting; time taken always."""
    shown = attempt.round.show_score_after_submit
    me = rank_of(attempt.round_id, attempt.user_id) if shown else None
    return {
        "attempt_id": attempt.id,
        "status": attempt.status,
        "correct": attempt.correct_count if shown else None,
        "question_count": attempt.question_count,
        "time_taken_ms": attempt.time_taken_ms,
        "rank": me["rank"] if me else None,
        "result_url": f"/luot-thi/{attempt.id}/ket-qua",
    }
