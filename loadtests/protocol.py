"""The contestant's live protocol as the load clients speak it: paths, event names, payloads, acks.

Kept in one small module so that a change of the live protocol (docs/realtime.md) is a change
here only. The shapes follow DESIGN.md's hot path; adjust them to docs/realtime.md when it lands:
  HTTP  POST START_PATH (round id)          -> JSON {"attempt_id": ...}
  SIO   JOIN   {"attempt_id"}               -> ack {"ok", "questions": [{"id", "options": [{"id"}...]}...],
                                                    "deadline_ms", "server_ms"}
  SIO   ANSWER {"attempt_id", "question_id", "selected": [option ids], "seq"}  -> ack {"ok", "seq"} | {"ok": False, "error"}
  SIO   PREDICTION {"attempt_id", "value"}  -> ack {"ok"}
  SIO   SUBMIT {"attempt_id"}               -> ack {"ok", "correct"?}
  push  LEADERBOARD {"round_id", "top": [...], "me"?, "server_ms"}
"""
from dataclasses import dataclass, field

START_PATH = "/vong-thi/{round_id}/bat-dau"
JOIN = "attempt:join"
ANSWER = "attempt:answer"
PREDICTION = "attempt:prediction"
SUBMIT = "attempt:submit"
LEADERBOARD = "leaderboard"


class ProtocolError(Exception):
    """The server answered with something the protocol does not allow (a bug, not a refusal)."""


@dataclass
class LiveQuestion:
    id: int
    option_ids: list[int]


@dataclass
class JoinedAttempt:
    attempt_id: int
    questions: list[LiveQuestion]
    deadline_ms: int | None = None
    server_ms: int | None = None
    extra: dict = field(default_factory=dict)


def start_path(round_id) -> str:
    return START_PATH.format(round_id=round_id)


def attempt_id_from_start(payload: dict) -> int:
    try:
        return int(payload["attempt_id"])
    except (KeyError, TypeError, ValueError):
        raise ProtocolError(f"start response without attempt_id: {payload!r}")


def join_payload(attempt_id) -> dict:
    return {"attempt_id": attempt_id}


def parse_join(attempt_id, ack) -> JoinedAttempt:
    if not isinstance(ack, dict) or not ack.get("ok"):
        raise ProtocolError(f"join refused: {ack!r}")
    questions = []
    for q in ack.get("questions") or []:
        options = [int(o["id"] if isinstance(o, dict) else o) for o in q.get("options", [])]
        if not options:
            raise ProtocolError(f"question {q!r} without options")
        questions.append(LiveQuestion(int(q["id"]), options))
    # Answer keys must never reach a client before the round closes.
    for q in ack.get("questions") or []:
        for o in q.get("options", []):
            if isinstance(o, dict) and ({"correct", "is_correct"} & o.keys()):
                raise ProtocolError("answer key leaked to the client")
    return JoinedAttempt(attempt_id, questions, ack.get("deadline_ms"), ack.get("server_ms"))


def answer_payload(attempt_id, question_id, selected, seq) -> dict:
    return {"attempt_id": attempt_id, "question_id": question_id, "selected": list(selected), "seq": seq}


def answer_accepted(ack) -> bool:
    """True for an ack that stored the answer; False for a refusal the protocol allows (deadline)."""
    if not isinstance(ack, dict) or "ok" not in ack:
        raise ProtocolError(f"malformed answer ack: {ack!r}")
    return bool(ack["ok"])


def refusal_reason(ack) -> str:
    return str((ack or {}).get("error") or "refused")


def prediction_payload(attempt_id, value) -> dict:
    return {"attempt_id": attempt_id, "value": int(value)}


def submit_payload(attempt_id) -> dict:
    return {"attempt_id": attempt_id}


def push_server_ms(payload) -> int | None:
    """The server's clock when it built the push, for push latency (same machine, same clock)."""
    if isinstance(payload, dict) and payload.get("server_ms") is not None:
        return int(payload["server_ms"])
    return None
