"""The live state in Redis, in one place: key names, field formats, the answers stream and the Lua scripts.

Every reader and writer of these keys goes through this module; the Lua below is the other half of
the same format, so a change of a field is a change here only.

  att:<id>          hash    user, round, deadline (epoch ms), started (ms), status (open|submitted|expired),
                            closed (ms), o:<qid> ",<option ids>,", m:<qid> "1" if multi-select,
                            k:<qid> correct option ids csv (the key: read only by the server, never sent)
                            q:<ref> question id of the question the client knows as <ref>,
                            p:<ref> option id of the option the client knows as <ref>, r:<oid> that option's ref
                            (per-attempt random references: clients never see a bank id, see new_ref)
                            np "1" when the round has no prediction question (the prediction event is refused)
                            TTL: the deadline + STATE_TTL_AFTER_DEADLINE_S
  att:<id>:ans      hash    <qid> -> "<seq>|<option ids csv>" (same TTL)
  att:<id>:pred     string  the prediction as typed so far: "<seq>|<value>" (value empty: cleared), same TTL;
                            the close script returns it, so it counts when the server closes the attempt
  att:deadlines     zset    attempt id by deadline (ms), read by the sweeper
  answers           stream  one entry per accepted answer: a (attempt), q, s (option ids csv), n (seq), t (ms)
  lock:start:<round>:<user>  string  a start in progress (token; released by compare-and-delete)
  lb:<round>        zset    user id by composite score (leaderboard.composite_score)
  lb:<round>:who    hash    user id -> "<correct>|<time ms>|<full name>|<unit name>"
  lb:<round>:ver    string  bumped when the board changes (what the pushers watch)
  lb:<round>:out    set     user ids disqualified by the judges: never on the board (record_entry skips them)
  lb:<round>:official string  the published version once the judges published: the board then holds the official
                            standings (lb:<round> by position, lb:<round>:who as official_details) and no attempt
                            changes it any more; lb:<round>:next[:who] are the staging keys of that swap

Option id lists are stored sorted and without duplicates. Time is Redis's clock (`TIME`) in ms.
"""

import hashlib
import json
import secrets
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import redis
from redis.exceptions import NoScriptError

from infra.clock import redis_time_ms
from infra.extensions import get_redis

DEADLINES = "att:deadlines"
ANSWER_STREAM = "answers"
STATE_TTL_AFTER_DEADLINE_S = 6 * 3600

OPEN = "open"  # the live status of an attempt still answering; SQL calls it "in_progress"


def attempt_key(attempt_id: int | str) -> str:
    return f"att:{attempt_id}"


def answers_key(attempt_id: int | str) -> str:
    return f"att:{attempt_id}:ans"


def prediction_key(attempt_id: int | str) -> str:
    return f"att:{attempt_id}:pred"


def start_lock_key(round_id: int, user_id: int) -> str:
    return f"lock:start:{round_id}:{user_id}"


def board_key(round_id: int) -> str:
    return f"lb:{round_id}"


def details_key(round_id: int) -> str:
    return f"lb:{round_id}:who"


def version_key(round_id: int) -> str:
    return f"lb:{round_id}:ver"


def excluded_key(round_id: int) -> str:
    return f"lb:{round_id}:out"


def official_key(round_id: int) -> str:
    return f"lb:{round_id}:official"


def staging_keys(round_id: int) -> tuple[str, str]:
    return f"lb:{round_id}:next", f"lb:{round_id}:next:who"


def server_now_ms() -> int:
    """Redis's clock: the one every process and the Lua scripts agree on."""
    return redis_time_ms(get_redis().time())


# --- option id lists ----------------------------------------------------------------------------


def encode_ids(ids: Iterable[int]) -> str:
    return ",".join(str(i) for i in sorted(set(ids)))


def decode_ids(csv: str) -> list[int]:
    return [int(x) for x in csv.split(",") if x]


# --- att:<id> -----------------------------------------------------------------------------------


REF_BYTES = 8  # 11 url-safe characters
REF_MAX_LEN = 16
REF_ALPHABET = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")


def new_ref(taken: set[str]) -> str:
    """A fresh random reference (url-safe, 11 characters), not in `taken` (which it joins)."""
    while True:
        ref = secrets.token_urlsafe(REF_BYTES)
        if ref not in taken:
            taken.add(ref)
            return ref


def is_ref(value: object) -> bool:
    """The shape of a reference a client may send back (checked before it reaches Redis)."""
    return isinstance(value, str) and 0 < len(value) <= REF_MAX_LEN and REF_ALPHABET.issuperset(value)


@dataclass(frozen=True)
class LiveQuestion:
    """What the answer script checks a choice against, and the references the client knows it and its options by."""

    option_ids: list[int]
    correct_ids: list[int]
    multi: bool
    ref: str = ""
    option_refs: list[str] = field(default_factory=list)  # aligned with option_ids


@dataclass(frozen=True)
class LiveAttempt:
    user_id: int
    round_id: int
    deadline_ms: int
    started_ms: int
    status: str
    closed_ms: int | None
    questions: dict[int, LiveQuestion]
    no_prediction: bool = False  # the round has no prediction question


def live_status(sql_status: str) -> str:
    """The attempt row's status as the scripts spell it."""
    return OPEN if sql_status == "in_progress" else sql_status


def encode_attempt(attempt: LiveAttempt) -> dict[str, str | int]:
    fields: dict[str, str | int] = {
        "user": attempt.user_id,
        "round": attempt.round_id,
        "deadline": attempt.deadline_ms,
        "started": attempt.started_ms,
        "status": attempt.status,
    }
    if attempt.closed_ms is not None:
        fields["closed"] = attempt.closed_ms
    if attempt.no_prediction:
        fields["np"] = "1"
    for qid, question in attempt.questions.items():
        # Commas around the list let the script test membership with a plain find of ",<id>,".
        fields[f"o:{qid}"] = "," + ",".join(str(o) for o in question.option_ids) + ","
        fields[f"k:{qid}"] = encode_ids(question.correct_ids)
        if question.multi:
            fields[f"m:{qid}"] = "1"
        if question.ref:
            fields[f"q:{question.ref}"] = qid
        for oid, ref in zip(question.option_ids, question.option_refs):
            fields[f"p:{ref}"] = oid
            fields[f"r:{oid}"] = ref
    return fields


def decode_attempt(raw: Mapping[str, str]) -> LiveAttempt | None:
    """The hash as HGETALL returns it; None when the state is gone."""
    if not raw:
        return None
    questions = {}
    refs = {int(value): name[2:] for name, value in raw.items() if name.startswith("q:")}
    for name, value in raw.items():
        if name.startswith("o:"):
            qid = int(name[2:])
            option_ids = decode_ids(value)
            option_refs = [raw[f"r:{oid}"] for oid in option_ids if f"r:{oid}" in raw]
            questions[qid] = LiveQuestion(
                option_ids,
                decode_ids(raw.get(f"k:{qid}", "")),
                raw.get(f"m:{qid}") == "1",
                refs.get(qid, ""),
                option_refs if len(option_refs) == len(option_ids) else [],
            )
    closed = raw.get("closed")
    return LiveAttempt(
        int(raw["user"]),
        int(raw["round"]),
        int(raw["deadline"]),
        int(raw["started"]),
        raw["status"],
        int(closed) if closed is not None else None,
        questions,
        raw.get("np") == "1",
    )


# --- att:<id>:ans -------------------------------------------------------------------------------


@dataclass(frozen=True)
class SavedAnswer:
    seq: int
    selected: list[int]


def encode_saved(seq: int, selected: Iterable[int]) -> str:
    return f"{seq}|{encode_ids(selected)}"


def decode_saved(value: str) -> SavedAnswer:
    seq, _, csv = value.partition("|")
    return SavedAnswer(int(seq), decode_ids(csv))


def decode_saved_all(raw: Mapping[str, str]) -> dict[int, SavedAnswer]:
    """The answers hash (HGETALL) by question id."""
    return {int(qid): decode_saved(value) for qid, value in raw.items()}


@dataclass(frozen=True)
class SavedPrediction:
    seq: int
    value: int | None  # None: cleared


def encode_prediction(seq: int, value: int | None) -> str:
    return f"{seq}|{'' if value is None else value}"


def decode_prediction(raw: str | None) -> SavedPrediction | None:
    if not raw:
        return None
    seq, _, value = raw.partition("|")
    return SavedPrediction(int(seq), int(value) if value else None)


def read_prediction(attempt_id: int) -> SavedPrediction | None:
    return decode_prediction(get_redis().get(prediction_key(attempt_id)))


def read_saved(attempt_id: int) -> dict[int, SavedAnswer]:
    return decode_saved_all(get_redis().hgetall(answers_key(attempt_id)))


def write_attempt(
    attempt_id: int, state: LiveAttempt, saved: Mapping[int, SavedAnswer], prediction: int | None = None
) -> None:
    """Replaces the attempt's hash in one transaction; `saved` answers are added only where Redis has none
    (Redis may hold newer ones the worker has not written to SQL yet), and so is the `prediction` SQL holds.
    An open attempt joins the deadline set."""
    key, ans = attempt_key(attempt_id), answers_key(attempt_id)
    expire_at = state.deadline_ms + STATE_TTL_AFTER_DEADLINE_S * 1000
    pipe = get_redis().pipeline(transaction=True)
    pipe.delete(key)
    pipe.hset(key, mapping=encode_attempt(state))
    pipe.pexpireat(key, expire_at)
    if saved:
        for qid, value in saved.items():
            pipe.hsetnx(ans, qid, encode_saved(value.seq, value.selected))
        pipe.pexpireat(ans, expire_at)
    if prediction is not None:
        pipe.set(prediction_key(attempt_id), encode_prediction(0, prediction), nx=True, pxat=expire_at)
    if state.status == OPEN:
        pipe.zadd(DEADLINES, {attempt_id: state.deadline_ms})
    pipe.execute()


def has_attempt(attempt_id: int) -> bool:
    return bool(get_redis().exists(attempt_key(attempt_id)))


def read_attempt(attempt_id: int) -> LiveAttempt | None:
    return decode_attempt(get_redis().hgetall(attempt_key(attempt_id)))


def due_attempts(now_ms: int, limit: int) -> list[int]:
    """Attempts whose deadline is at or before now_ms, oldest first."""
    return [int(a) for a in get_redis().zrangebyscore(DEADLINES, "-inf", now_ms, start=0, num=limit)]


def forget_deadline(attempt_id: int) -> None:
    get_redis().zrem(DEADLINES, attempt_id)


# --- the answers stream -------------------------------------------------------------------------


@dataclass(frozen=True)
class StreamEntry:
    """One accepted answer, as the answer script appends it for the write-behind worker."""

    attempt_id: int
    question_id: int
    selected: list[int]
    seq: int
    answered_ms: int


def encode_entry(entry: StreamEntry) -> dict[str, str]:
    return {
        "a": str(entry.attempt_id),
        "q": str(entry.question_id),
        "s": encode_ids(entry.selected),
        "n": str(entry.seq),
        "t": str(entry.answered_ms),
    }


def decode_entry(fields: Mapping[str, str]) -> StreamEntry:
    return StreamEntry(int(fields["a"]), int(fields["q"]), decode_ids(fields["s"]), int(fields["n"]), int(fields["t"]))


# --- lb:<round>:who -----------------------------------------------------------------------------


def encode_details(correct: int | None, time_taken_ms: int | None, name: str, unit: str) -> str:
    return f"{correct}|{time_taken_ms}|{name}|{unit}"


def decode_details(detail: str | None) -> tuple[int, int, str, str]:
    """(correct, time ms, name, unit); a missing entry reads as zeros."""
    correct, time_ms, name, unit = (detail or "0|0||").split("|", 3)
    return int(correct), int(time_ms), name, unit


def encode_official_details(rank: int, correct: int | None, time_taken_ms: int | None, name: str, unit: str, prize):
    """An official entry: JSON (a prize name is free text) so it cannot be mistaken for the live format."""
    return json.dumps(
        {"rank": rank, "correct": correct, "time_ms": time_taken_ms, "name": name, "unit": unit, "prize": prize},
        ensure_ascii=False,
    )


def decode_official_details(detail: str | None) -> dict | None:
    """The official entry's fields, or None when `detail` is a live entry (or missing)."""
    if not detail or not detail.startswith("{"):
        return None
    return json.loads(detail)


# --- Lua ----------------------------------------------------------------------------------------


class LuaScript:
    """A script registered with the app's Redis client: EVALSHA, and redis-py loads it again after a
    SCRIPT FLUSH or a Redis restart (NOSCRIPT). Registered anew when the client changes (another app)."""

    def __init__(self, source: str):
        self.source = source
        self.sha = hashlib.sha1(source.encode()).hexdigest()
        self._script: Any = None  # redis.commands.core.Script of the client it was registered with

    def __call__(self, keys: Sequence[str], args: Sequence[str | int]):
        return self.call_on(get_redis(), keys, args)

    def _registered(self, r: redis.Redis):
        script = self._script
        if script is None or script.registered_client is not r:
            script = self._script = r.register_script(self.source)
        return script

    def call_on(self, r: redis.Redis, keys: Sequence[str], args: Sequence[str | int]):
        """EVALSHA straight on a pooled connection of `r`: the hot path skips redis-py's per-command layers (the
        Script wrapper, the client's retry and response-callback lookup), ~a quarter of an answer's CPU. A
        NOSCRIPT reply (Redis restarted or flushed its scripts) goes through the registered Script, which loads
        it; a connection error drops the connection and is raised as redis-py would."""
        pool = r.connection_pool
        conn = pool.get_connection()
        try:
            conn.send_command("EVALSHA", self.sha, len(keys), *keys, *args)
            return conn.read_response()
        except NoScriptError:
            pass
        except BaseException:
            conn.disconnect()
            raise
        finally:
            pool.release(conn)
        return self._registered(r)(keys=list(keys), args=list(args))


# KEYS: attempt hash, answers hash, stream. ARGV: user id, question, selected csv, seq, attempt id, mode.
# Mode 'id': question and options are bank ids (the server's own callers). Mode 'ref': they are the attempt's
# references as the client knows them (q:<ref>, p:<ref>); the script maps them to ids before anything else is
# checked or stored, and answers with references (r:<oid>). Inside, everything stays in bank ids.
# The deadline is checked before the status: an answer at or after the deadline is 'deadline_passed' whether
# or not the attempt has been closed meanwhile; 'attempt_closed' means submitted before its deadline.
ANSWER = LuaScript(r"""
local meta = redis.call('HMGET', KEYS[1], 'user', 'deadline', 'status')
if not meta[1] then return {'err', 'attempt_not_found'} end
if meta[1] ~= ARGV[1] then return {'err', 'forbidden'} end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
if now >= tonumber(meta[2]) then return {'err', 'deadline_passed'} end
if meta[3] ~= 'open' then return {'err', 'attempt_closed'} end
local by_ref = ARGV[6] == 'ref'
local qid = ARGV[2]
if by_ref then
  qid = redis.call('HGET', KEYS[1], 'q:' .. ARGV[2])
  if not qid then return {'err', 'unknown_question'} end
end
local q = redis.call('HMGET', KEYS[1], 'o:' .. qid, 'm:' .. qid)
if not q[1] then return {'err', 'unknown_question'} end
local ids, seen = {}, {}
for token in string.gmatch(ARGV[3], '[^,]+') do
  local oid = token
  if by_ref then
    oid = redis.call('HGET', KEYS[1], 'p:' .. token)
    if not oid then return {'err', 'unknown_option'} end
  end
  if not string.find(q[1], ',' .. oid .. ',', 1, true) then return {'err', 'unknown_option'} end
  if not seen[oid] then
    seen[oid] = true
    ids[#ids + 1] = tonumber(oid)
  end
end
if #ids > 1 and q[2] ~= '1' then return {'err', 'single_choice'} end
table.sort(ids)
local csv = table.concat(ids, ',')
local function shown(ids_csv)
  if not by_ref then return ids_csv end
  local out = {}
  for oid in string.gmatch(ids_csv, '[^,]+') do
    out[#out + 1] = redis.call('HGET', KEYS[1], 'r:' .. oid) or ''
  end
  return table.concat(out, ',')
end
local seq = tonumber(ARGV[4])
local prev = redis.call('HGET', KEYS[2], qid)
if prev then
  local sep = string.find(prev, '|', 1, true)
  local prev_seq = tonumber(string.sub(prev, 1, sep - 1))
  -- A retry (same seq) or an older write arriving late: keep what is stored, ack it again.
  if seq <= prev_seq then return {'dup', shown(string.sub(prev, sep + 1)), tostring(prev_seq)} end
end
redis.call('HSET', KEYS[2], qid, ARGV[4] .. '|' .. csv)
redis.call('PEXPIRE', KEYS[2], redis.call('PTTL', KEYS[1]))
redis.call('XADD', KEYS[3], '*', 'a', ARGV[5], 'q', qid, 's', csv, 'n', ARGV[4], 't', tostring(now))
return {'ok', shown(csv), ARGV[4]}
""")

# Closes an open attempt (submit by its owner, or the sweeper once the deadline passed) and returns
# what was saved; after this no answer script can change it. Closing twice returns the first result.
# KEYS: attempt hash, answers hash, prediction. ARGV: user id ('' for the server), mode ('submit' | 'sweep').
CLOSE = LuaScript(r"""
local meta = redis.call('HMGET', KEYS[1], 'user', 'deadline', 'status', 'closed')
if not meta[1] then return {'err', 'attempt_not_found'} end
if ARGV[1] ~= '' and meta[1] ~= ARGV[1] then return {'err', 'forbidden'} end
local status, closed = meta[3], meta[4]
if status == 'open' then
  local t = redis.call('TIME')
  local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
  local deadline = tonumber(meta[2])
  if now >= deadline then
    status, closed = 'expired', tostring(deadline)
  elseif ARGV[2] == 'sweep' then
    return {'err', 'not_due'}
  else
    status, closed = 'submitted', tostring(now)
  end
  redis.call('HSET', KEYS[1], 'status', status, 'closed', closed)
end
return {status, closed, redis.call('HGETALL', KEYS[2]), redis.call('GET', KEYS[3]) or ''}
""")

# Saves the prediction as typed so far, on the same terms as an answer: the deadline (Redis's clock) before the
# status, then the seq (a lower or equal one is a duplicate and gets what is stored).
# KEYS: attempt hash, prediction. ARGV: user id, value ('' clears it), seq.
PREDICT = LuaScript(r"""
local meta = redis.call('HMGET', KEYS[1], 'user', 'deadline', 'status', 'np')
if not meta[1] then return {'err', 'attempt_not_found'} end
if meta[1] ~= ARGV[1] then return {'err', 'forbidden'} end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
if now >= tonumber(meta[2]) then return {'err', 'deadline_passed'} end
if meta[3] ~= 'open' then return {'err', 'attempt_closed'} end
if meta[4] == '1' then return {'err', 'prediction_disabled'} end
local prev = redis.call('GET', KEYS[2])
if prev then
  local sep = string.find(prev, '|', 1, true)
  local prev_seq = tonumber(string.sub(prev, 1, sep - 1))
  if tonumber(ARGV[3]) <= prev_seq then return {'dup', string.sub(prev, sep + 1), tostring(prev_seq)} end
end
local ttl = redis.call('PTTL', KEYS[1])
if ttl > 0 then redis.call('SET', KEYS[2], ARGV[3] .. '|' .. ARGV[2], 'PX', ttl)
else redis.call('SET', KEYS[2], ARGV[3] .. '|' .. ARGV[2]) end
return {'ok', ARGV[2], ARGV[3]}
""")

# Keeps a contestant's best attempt on the round's sorted set; bumps the version only on a change,
# which is what the leaderboard pusher watches. A disqualified contestant (in the excluded set) is left off, and a
# published (official) board is not changed. KEYS: zset, details hash, version, excluded set, official marker.
# ARGV: member, score, details.
RECORD_ENTRY = LuaScript(r"""
if redis.call('EXISTS', KEYS[5]) == 1 or redis.call('SISMEMBER', KEYS[4], ARGV[1]) == 1 then return 0 end
local changed = redis.call('ZADD', KEYS[1], 'GT', 'CH', ARGV[2], ARGV[1])
if changed == 1 then
  redis.call('HSET', KEYS[2], ARGV[1], ARGV[3])
  redis.call('INCR', KEYS[3])
end
return changed
""")

# Releases a lock only if it still holds our token (a compare-and-delete). KEYS: lock. ARGV: token.
RELEASE_LOCK = LuaScript(r"""
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0
""")


@dataclass(frozen=True)
class AnswerReply:
    """The answer script's verdict: an error code, or what Redis now holds for the question."""

    error: str | None
    selected: list[int]
    seq: int
    duplicate: bool


def answer(attempt_id: int, user_id: int, question_id: int, selected: Iterable[int], seq: int) -> AnswerReply:
    """One Redis round trip: deadline check, idempotent store and stream append, atomically."""
    reply = ANSWER(
        keys=[attempt_key(attempt_id), answers_key(attempt_id), ANSWER_STREAM],
        args=[user_id, question_id, encode_ids(selected), seq, attempt_id, "id"],
    )
    if reply[0] == "err":
        return AnswerReply(reply[1], [], 0, False)
    return AnswerReply(None, decode_ids(reply[1]), int(reply[2]), duplicate=reply[0] == "dup")


@dataclass(frozen=True)
class RefAnswerReply:
    """The answer script's verdict in the client's terms: option references (sorted by option id)."""

    error: str | None
    selected: list[str]
    seq: int
    duplicate: bool


def answer_by_ref(
    attempt_id: int,
    user_id: int,
    question_ref: str,
    selected: Iterable[str],
    seq: int,
    client: redis.Redis | None = None,
) -> RefAnswerReply:
    """The same script, the question and options named by the attempt's references (mapped to ids inside it).
    References must be is_ref() (no commas): the caller checks their shape. `client`: the app's Redis client, for
    a caller outside an app context (the answer event's fast path)."""
    reply = ANSWER.call_on(
        client if client is not None else get_redis(),
        [attempt_key(attempt_id), answers_key(attempt_id), ANSWER_STREAM],
        [user_id, question_ref, ",".join(selected), seq, attempt_id, "ref"],
    )
    if reply[0] == "err":
        return RefAnswerReply(reply[1], [], 0, False)
    refs = [r for r in reply[1].split(",") if r]
    return RefAnswerReply(None, refs, int(reply[2]), duplicate=reply[0] == "dup")


@dataclass(frozen=True)
class CloseReply:
    """The close script's verdict: an error code, or the final status, when it closed, and what was saved."""

    error: str | None
    status: str = ""
    closed_ms: int = 0
    answers: dict[int, SavedAnswer] | None = None
    prediction: SavedPrediction | None = None


def close(attempt_id: int, user_id: int | None, mode: str) -> CloseReply:
    """Closes the live attempt (mode 'submit' by its owner, 'sweep' by the server once due)."""
    reply = CLOSE(
        keys=[attempt_key(attempt_id), answers_key(attempt_id), prediction_key(attempt_id)],
        args=[user_id if user_id is not None else "", mode],
    )
    if reply[0] == "err":
        return CloseReply(reply[1])
    flat = reply[2]
    return CloseReply(
        None,
        reply[0],
        int(reply[1]),
        decode_saved_all(dict(zip(flat[::2], flat[1::2]))),
        decode_prediction(reply[3] if len(reply) > 3 else None),
    )


def predict(attempt_id: int, user_id: int, value: int | None, seq: int) -> tuple[str | None, SavedPrediction]:
    """Stores the prediction typed so far: (error code or None, what Redis holds; duplicate when 'dup')."""
    reply = PREDICT(
        keys=[attempt_key(attempt_id), prediction_key(attempt_id)],
        args=[user_id, "" if value is None else str(value), seq],
    )
    if reply[0] == "err":
        return reply[1], SavedPrediction(0, None)
    saved = SavedPrediction(int(reply[2]), int(reply[1]) if reply[1] else None)
    return ("dup" if reply[0] == "dup" else None), saved


def record_entry(round_id: int, user_id: int, score: int, details: str) -> bool:
    """Puts the entry on the round's board if it beats the contestant's best; True when the board changed."""
    changed = RECORD_ENTRY(
        keys=[
            board_key(round_id),
            details_key(round_id),
            version_key(round_id),
            excluded_key(round_id),
            official_key(round_id),
        ],
        args=[user_id, str(score), details],
    )
    return bool(changed)


def try_lock(key: str, token: str, ttl_ms: int) -> bool:
    return bool(get_redis().set(key, token, nx=True, px=ttl_ms))


def release_lock(key: str, token: str) -> None:
    """Releases the lock only if it is still ours: it may have expired and been taken by someone else."""
    RELEASE_LOCK(keys=[key], args=[token])


# Brings an open attempt's deadline forward (an organiser stopped the round early): the answer script then refuses
# what comes after it and the sweeper finds it due. Never extends a deadline; a closed attempt is left alone.
# KEYS: attempt hash, deadlines zset. ARGV: attempt id, the new deadline (ms). Returns 1 if capped, 0 if not, -1 if
# the attempt has no live state.
CAP_DEADLINE = LuaScript(r"""
local meta = redis.call('HMGET', KEYS[1], 'deadline', 'status')
if not meta[1] then return -1 end
if meta[2] ~= 'open' or tonumber(meta[1]) <= tonumber(ARGV[2]) then return 0 end
redis.call('HSET', KEYS[1], 'deadline', ARGV[2])
redis.call('ZADD', KEYS[2], ARGV[2], ARGV[1])
return 1
""")


def cap_deadline(attempt_id: int, deadline_ms: int) -> int:
    """Moves an open live attempt's deadline to `deadline_ms` if it is later: 1 capped, 0 unchanged, -1 no state."""
    return int(CAP_DEADLINE(keys=[attempt_key(attempt_id), DEADLINES], args=[attempt_id, deadline_ms]))


# --- the published (official) board ---------------------------------------------------------------


def exclude_entry(round_id: int, user_id: int) -> bool:
    """Takes a disqualified contestant off the board (live or official) and keeps them off; True if it changed."""
    pipe = get_redis().pipeline(transaction=True)
    pipe.sadd(excluded_key(round_id), user_id)
    pipe.zrem(board_key(round_id), user_id)
    pipe.hdel(details_key(round_id), user_id)
    pipe.incr(version_key(round_id))
    return bool(pipe.execute()[1])


def include_entry(round_id: int, user_id: int) -> None:
    """Lets a reinstated contestant back on the board (the caller records their attempts again)."""
    get_redis().srem(excluded_key(round_id), user_id)


def is_official(round_id: int) -> bool:
    return bool(get_redis().exists(official_key(round_id)))


def replace_with_official(round_id: int, version: int, entries: Iterable[tuple[int, str]], batch: int = 5000) -> int:
    """Swaps the board for the published standings: `entries` are (user id, official_details) in position order.
    Written to staging keys in batches, then renamed in one transaction, so a reader sees the old or the new board."""
    r = get_redis()
    zkey, wkey = staging_keys(round_id)
    r.delete(zkey, wkey)
    count = 0
    pipe = r.pipeline(transaction=False)
    for user_id, detail in entries:
        count += 1
        pipe.zadd(zkey, {str(user_id): -count})  # ZREVRANGE reads the highest score first: position 1 is -1
        pipe.hset(wkey, str(user_id), detail)
        if count % batch == 0:
            pipe.execute()
    pipe.execute()
    swap = r.pipeline(transaction=True)
    if count:
        swap.rename(zkey, board_key(round_id))
        swap.rename(wkey, details_key(round_id))
    else:
        swap.delete(board_key(round_id), details_key(round_id))
    swap.set(official_key(round_id), version)
    swap.incr(version_key(round_id))
    swap.execute()
    return count
