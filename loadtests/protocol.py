"""The contestant's live protocol as the load clients speak it: paths, event names, payloads, acks.

Kept in one small module so that a change of the live protocol (docs/realtime.md, the contract;
served by realtime/play.py) is a change here only:
  HTTP  POST /vong-thi/<round_id>/bat-dau (form: CSRF, confirm=1)  -> 302 Location /luot-thi/<attempt_id>
  SIO   "attempt:join" {"attempt_id"}  -> {"ok", "state": {"questions": [{"id", "options": [{"id", "text"}]}],
                                           "answers", "seq", "deadline_ms", "server_ms", ...}}
        (question and option "id"s are the attempt's opaque references: strings, never bank ids)
  SIO   "answer" {"attempt_id", "question_id": ref, "selected": [option refs], "seq"}
                                       -> {"ok": True, "seq", ...} | {"ok": False, "error", "message"}
  SIO   "submit" {"attempt_id", "prediction"}  -> {"ok", "result": {...}}
  SIO   "leaderboard:join" {"round_id"}  -> {"ok", "round_id", "version", "top", "me"} (after a reconnect, once submitted)
  push  "leaderboard" {"round_id", "version", "server_ms", "top"} to sockets following the round (at most 1/s)
  push  "rank" {"round_id", "rank", "version", "server_ms"} to each such contestant whose rank changed
"leaderboard push" latency runs from a board's server_ms (when its push cycle started) to its arrival (server
and clients share the machine's clock); "rank push after submit" from the submit ack to the contestant's first
"rank" push after it: the time until a submitted result shows on the live board.
"""

import re
from dataclasses import dataclass, field

START_PATH = "/vong-thi/{round_id}/bat-dau"
START_CONFIRM = {"confirm": "1"}  # without it the start route only asks for confirmation (uses no attempt)
ATTEMPT_LOCATION = re.compile(r"/luot-thi/(\d+)")
JOIN = "attempt:join"
ANSWER = "answer"
SUBMIT = "submit"
LEADERBOARD = "leaderboard"
LEADERBOARD_JOIN = "leaderboard:join"
RANK = "rank"


class ProtocolError(Exception):
    """The server answered with something the protocol does not allow (a bug, not a refusal)."""


@dataclass
class LiveQuestion:
    id: str  # the attempt's reference of the question (opaque)
    option_ids: list[str]  # the option references, in the order shown


@dataclass
class JoinedAttempt:
    attempt_id: int
    questions: list[LiveQuestion]
    seq: int = 0
    deadline_ms: int | None = None
    server_ms: int | None = None
    answered: set = field(default_factory=set)


def start_path(round_id) -> str:
    return START_PATH.format(round_id=round_id)


def attempt_id_from_start(location: str | None) -> int:
    """The attempt id from the start route's redirect; a redirect elsewhere is a refusal (flash)."""
    match = ATTEMPT_LOCATION.search(location or "")
    if not match:
        raise ProtocolError(f"start refused (redirected to {location!r})")
    return int(match.group(1))


def join_payload(attempt_id) -> dict:
    return {"attempt_id": attempt_id}


def parse_join(attempt_id, ack) -> JoinedAttempt:
    if not isinstance(ack, dict) or not ack.get("ok") or not isinstance(ack.get("state"), dict):
        raise ProtocolError(f"join refused: {ack!r}")
    state = ack["state"]
    questions = []
    for q in state.get("questions") or []:
        options = q.get("options") or []
        # Answer keys must never reach a client before the round closes.
        if any(isinstance(o, dict) and ({"correct", "is_correct"} & o.keys()) for o in options):
            raise ProtocolError("answer key leaked to the client")
        ids = [o["id"] if isinstance(o, dict) else o for o in options]
        # Questions and options are named by opaque per-attempt references (strings), never by bank ids.
        if not all(isinstance(i, str) for i in [*ids, q.get("id")]):
            raise ProtocolError(f"question {q.get('id')!r}: ids are not opaque references")
        if not ids:
            raise ProtocolError(f"question {q.get('id')!r} without options")
        questions.append(LiveQuestion(q["id"], ids))
    answered = {str(qid) for qid in (state.get("answers") or {})}
    return JoinedAttempt(
        attempt_id, questions, int(state.get("seq") or 0), state.get("deadline_ms"), state.get("server_ms"), answered
    )


def answer_payload(attempt_id, question_id, selected, seq) -> dict:
    return {"attempt_id": attempt_id, "question_id": question_id, "selected": list(selected), "seq": seq}


def answer_accepted(ack) -> bool:
    """True for an ack that stored the answer; False for a refusal the protocol allows (deadline)."""
    if not isinstance(ack, dict) or "ok" not in ack:
        raise ProtocolError(f"malformed answer ack: {ack!r}")
    return bool(ack["ok"])


def refusal_reason(ack) -> str:
    return str((ack or {}).get("error") or "refused") if isinstance(ack, dict) else f"malformed ack {ack!r}"


def submit_payload(attempt_id, prediction) -> dict:
    return {"attempt_id": attempt_id, "prediction": int(prediction)}


def push_server_ms(payload) -> int | None:
    """The server's clock in a push, when the protocol carries one (same machine, same clock)."""
    if isinstance(payload, dict) and payload.get("server_ms") is not None:
        return int(payload["server_ms"])
    return None


def leaderboard_join_payload(round_id) -> dict:
    return {"round_id": int(round_id)}
