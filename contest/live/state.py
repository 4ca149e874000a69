"""A live session's game state in Redis: key names, formats and the Lua scripts, in one place.

Any app process can serve the host, a player or the projector: everything that moves lives here.

  live:<sid>            hash  phase (lobby|question|closed|revealed|ended), idx (current position, -1 in the
                              lobby), start/end (the answer window, epoch ms on Redis's clock), n (options of
                              the current question), k (its correct option index: read by the server only),
                              resq ("1" on a rescue question), mode, window (ms), total (questions)
  live:<sid>:players    hash  user id -> full name (players; watchers are not here)
  live:<sid>:out        hash  user id -> 1-based number of the question that eliminated the player
  live:<sid>:score      hash  user id -> points
  live:<sid>:time       hash  user id -> total answer time (ms)
  live:<sid>:correct    hash  user id -> correct answers
  live:<sid>:board      zset  user id by composite rank score (higher is better)
  live:<sid>:a:<idx>    hash  user id -> "<option index>|<elapsed ms>" (set once: HSETNX)
  live:<sid>:c:<idx>    hash  option index -> answers so far (HINCRBY as they arrive)

Options are sent and answered as indexes 0..n-1 of the order shuffled at creation, never as option ids.
"""

from dataclasses import dataclass

from contest.rounds.live_state import LuaScript, server_now_ms
from infra.extensions import get_redis

TTL_S = 7 * 24 * 3600
PHASES = ("lobby", "question", "closed", "revealed", "ended")


def key(sid: int) -> str:
    return f"live:{sid}"


def sub(sid: int, name: str) -> str:
    return f"live:{sid}:{name}"


def answers_key(sid: int, idx: int) -> str:
    return f"live:{sid}:a:{idx}"


def counts_key(sid: int, idx: int) -> str:
    return f"live:{sid}:c:{idx}"


def now_ms() -> int:
    return server_now_ms()


def init(sid: int, mode: str, window_ms: int, total: int) -> None:
    """The lobby of a new session (idempotent: an existing state is left alone)."""
    r = get_redis()
    if r.hsetnx(key(sid), "phase", "lobby"):
        r.hset(key(sid), mapping={"idx": -1, "mode": mode, "window": window_ms, "total": total, "start": 0, "end": 0})
        r.expire(key(sid), TTL_S)


def read(sid: int) -> dict[str, str]:
    return get_redis().hgetall(key(sid))


def add_player(sid: int, user_id: int, name: str) -> None:
    r = get_redis()
    pipe = r.pipeline()
    pipe.hset(sub(sid, "players"), user_id, name)
    pipe.zadd(sub(sid, "board"), {user_id: 0}, nx=True)
    pipe.expire(sub(sid, "players"), TTL_S)
    pipe.expire(sub(sid, "board"), TTL_S)
    pipe.execute()


def player_count(sid: int) -> int:
    return int(get_redis().hlen(sub(sid, "players")))


def is_player(sid: int, user_id: int) -> bool:
    return bool(get_redis().hexists(sub(sid, "players"), user_id))


# Moves the phase if it is one of the allowed ones, optionally opening an answer window on Redis's clock.
# KEYS: session hash. ARGV: allowed phases ",a,b,", new phase, window ms (0: keep), then field/value pairs.
TRANSITION = LuaScript(r"""
local phase = redis.call('HGET', KEYS[1], 'phase')
if not phase then return {'err', 'no_session'} end
if not string.find(ARGV[1], ',' .. phase .. ',', 1, true) then return {'err', 'bad_phase', phase} end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('HSET', KEYS[1], 'phase', ARGV[2])
local window = tonumber(ARGV[3])
if window > 0 then
  redis.call('HSET', KEYS[1], 'start', tostring(now), 'end', tostring(now + window))
end
for i = 4, #ARGV, 2 do redis.call('HSET', KEYS[1], ARGV[i], ARGV[i + 1]) end
return {'ok', tostring(now)}
""")

# Records one answer: the window is checked on Redis's clock, in the same script that stores it.
# KEYS: session, players, out, answers of the question, counts of the question.
# ARGV: user id, question index, option index.
ANSWER = LuaScript(r"""
local m = redis.call('HMGET', KEYS[1], 'phase', 'idx', 'start', 'end', 'n', 'mode', 'resq')
if not m[1] then return {'err', 'no_session'} end
if m[1] ~= 'question' or m[2] ~= ARGV[2] then return {'err', 'question_closed'} end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
if now >= tonumber(m[4]) then return {'err', 'window_closed'} end
if redis.call('HEXISTS', KEYS[2], ARGV[1]) == 0 then return {'err', 'not_player'} end
if m[6] == 'elimination' then
  local out = redis.call('HEXISTS', KEYS[3], ARGV[1])
  if m[7] == '1' then
    if out == 0 then return {'err', 'rescue_only'} end
  elseif out == 1 then
    return {'err', 'eliminated'}
  end
end
local choice = tonumber(ARGV[3])
if not choice or choice < 0 or choice >= tonumber(m[5]) then return {'err', 'unknown_option'} end
local elapsed = now - tonumber(m[3])
if redis.call('HSETNX', KEYS[4], ARGV[1], ARGV[3] .. '|' .. tostring(elapsed)) == 0 then
  return {'dup', redis.call('HGET', KEYS[4], ARGV[1])}
end
redis.call('HINCRBY', KEYS[5], ARGV[3], 1)
redis.call('EXPIRE', KEYS[4], 604800)
redis.call('EXPIRE', KEYS[5], 604800)
return {'ok', ARGV[3] .. '|' .. tostring(elapsed)}
""")


@dataclass(frozen=True)
class AnswerReply:
    error: str | None
    choice: int = -1
    elapsed_ms: int = 0
    duplicate: bool = False


def answer(sid: int, user_id: int, idx: int, choice: int) -> AnswerReply:
    reply = ANSWER(
        keys=[key(sid), sub(sid, "players"), sub(sid, "out"), answers_key(sid, idx), counts_key(sid, idx)],
        args=[user_id, idx, choice],
    )
    if reply[0] == "err":
        return AnswerReply(reply[1])
    choice_s, _, elapsed = reply[1].partition("|")
    return AnswerReply(None, int(choice_s), int(elapsed), duplicate=reply[0] == "dup")


@dataclass(frozen=True)
class TransitionReply:
    error: str | None
    now_ms: int = 0
    phase: str = ""


def transition(sid: int, allowed: tuple[str, ...], phase: str, window_ms: int = 0, **fields) -> TransitionReply:
    args: list[str | int] = ["," + ",".join(allowed) + ",", phase, window_ms]
    for name, value in fields.items():
        args += [name, str(value)]
    reply = TRANSITION(keys=[key(sid)], args=args)
    if reply[0] == "err":
        return TransitionReply(reply[1], phase=reply[2] if len(reply) > 2 else "")
    return TransitionReply(None, int(reply[1]))


def counts(sid: int, idx: int, n: int) -> list[int]:
    raw = get_redis().hgetall(counts_key(sid, idx))
    return [int(raw.get(str(i), 0)) for i in range(n)]


def answers(sid: int, idx: int) -> dict[int, tuple[int, int]]:
    """user id -> (option index, elapsed ms)."""
    out = {}
    for uid, value in get_redis().hgetall(answers_key(sid, idx)).items():
        choice, _, elapsed = value.partition("|")
        out[int(uid)] = (int(choice), int(elapsed))
    return out


def my_answer(sid: int, idx: int, user_id: int) -> tuple[int, int] | None:
    value = get_redis().hget(answers_key(sid, idx), user_id)
    if value is None:
        return None
    choice, _, elapsed = value.partition("|")
    return int(choice), int(elapsed)


def hash_ints(sid: int, name: str) -> dict[int, int]:
    return {int(k): int(v) for k, v in get_redis().hgetall(sub(sid, name)).items()}


def players(sid: int) -> dict[int, str]:
    return {int(k): v for k, v in get_redis().hgetall(sub(sid, "players")).items()}


def count(sid: int, name: str) -> int:
    return int(get_redis().hlen(sub(sid, name)))


def values(sid: int, name: str, user_ids: list[int]) -> list[str | None]:
    """HMGET of one of the per-player hashes."""
    return list(get_redis().hmget(sub(sid, name), user_ids)) if user_ids else []


def rank_of(sid: int, user_id: int) -> int | None:
    rank = get_redis().zrevrank(sub(sid, "board"), user_id)
    return None if rank is None else int(rank) + 1


def top(sid: int, n: int) -> list[int]:
    return [int(u) for u in get_redis().zrevrange(sub(sid, "board"), 0, n - 1)]


def ranking(sid: int) -> list[int]:
    return [int(u) for u in get_redis().zrevrange(sub(sid, "board"), 0, -1)]


def write_results(
    sid: int,
    scores: dict[int, int],
    times: dict[int, int],
    correct: dict[int, int],
    eliminated: dict[int, int],
    rescued: list[int],
    board: dict[int, int],
) -> None:
    """Applies one reveal's outcome in one transaction."""
    pipe = get_redis().pipeline(transaction=True)
    for name, values in (("score", scores), ("time", times), ("correct", correct), ("out", eliminated)):
        if values:
            pipe.hset(sub(sid, name), mapping=values)
            pipe.expire(sub(sid, name), TTL_S)
    if rescued:
        pipe.hdel(sub(sid, "out"), *rescued)
    if board:
        pipe.zadd(sub(sid, "board"), board)
    pipe.execute()


def forget(sid: int) -> None:
    r = get_redis()
    names = [key(sid)] + [sub(sid, n) for n in ("players", "out", "score", "time", "correct", "board")]
    names += list(r.scan_iter(match=f"live:{sid}:a:*")) + list(r.scan_iter(match=f"live:{sid}:c:*"))
    r.delete(*names)
