"""Contestant events: clock sync, joining an attempt, answers, submit, leaderboard subscriptions.

Every payload is validated here; a bad one gets an error acknowledgement, never an exception.
The protocol is documented in docs/realtime.md.
"""

import logging
import time

from flask import request
from flask_babel import gettext as _
from flask_login import current_user
from flask_socketio import join_room

from contest.rounds import leaderboard
from contest.rounds.live_state import answer_by_ref as store_answer_by_ref
from contest.rounds.live_state import is_ref, server_now_ms
from contest.rounds.models import Attempt, Round
from contest.rounds.services import (
    AnswerAck,
    AttemptError,
    answer_by_ref,
    attempt_view,
    save_prediction,
    submit_attempt,
)
from infra import metrics
from infra.extensions import db
from realtime import pusher
from realtime.acks import BadPayload, error_ack, payload_int
from realtime.acks import guarded as guarded_by

log = logging.getLogger(__name__)
MAX_SELECTED = 20  # option references in one answer (docs/realtime.md)
# Answers per socket: a token bucket of ANSWER_BURST answers, refilled at ANSWER_RATE a second (docs/realtime.md).
ANSWER_RATE = 10.0
ANSWER_BURST = 20.0
MAX_PREDICTION = 10**9  # the prediction is an integer 0..MAX_PREDICTION (docs/realtime.md)


# sid -> user id, set at connect: the hot events then need no user row from SQL (Flask-Login would
# load it on every event, a blocking query on the event loop).
_users: dict[str, int] = {}


def remember_user(sid, user_id):
    _users[sid] = user_id


def sids_of(user_ids: set[int]) -> list[str]:
    """This process's sockets of these accounts."""
    return [sid for sid, uid in list(_users.items()) if uid in user_ids]


class AnswerBucket:
    """A token bucket per socket, counted in this process (a socket lives on one process)."""

    __slots__ = ("tokens", "at")

    def __init__(self, now: float):
        self.tokens = ANSWER_BURST
        self.at = now

    def take(self, now: float) -> bool:
        self.tokens = min(ANSWER_BURST, self.tokens + (now - self.at) * ANSWER_RATE)
        self.at = now
        if self.tokens < 1.0:
            return False
        self.tokens -= 1.0
        return True


_buckets: dict[str, AnswerBucket] = {}


def _answer_allowed(sid) -> bool:
    now = time.monotonic()
    bucket = _buckets.get(sid)
    if bucket is None:
        bucket = _buckets[sid] = AnswerBucket(now)
    return bucket.take(now)


def _uid():
    return _users.get(request.sid) or current_user.id


# Sockets whose current answer the fast path already rate-limited: sid -> whether it was allowed (_answer_fast).
_prechecked: dict[str, bool] = {}


def _answer_fast(server, sid, data):
    """An answer's usual path without Flask (issue 17): no request context (URL matching, session, Babel) and,
    with inline_events(), no greenlet of its own; the payload checks, the rate limit and one EVALSHA. Returns the
    ack, or None for anything else (a bad payload, a refusal, an attempt Redis no longer holds, an unknown
    socket), which then takes the full path in a request context: its messages are translated and SQL may
    answer. The script refuses before it writes anything, so running it again there changes nothing."""
    user_id = _users.get(sid)
    if user_id is None or not isinstance(data, dict):
        return None
    selected = data.get("selected")
    question = data.get("question_id")
    attempt_id, seq = data.get("attempt_id"), data.get("seq")
    if (
        not isinstance(selected, list)
        or len(selected) > MAX_SELECTED
        or not all(is_ref(v) for v in selected)
        or not is_ref(question)
        or any(isinstance(v, bool) or not isinstance(v, int) or not 1 <= v <= 2**53 - 1 for v in (attempt_id, seq))
    ):
        return None
    environ = server.get_environ(sid)
    if not environ:
        return None
    allowed = _prechecked[sid] = _answer_allowed(sid)
    if not allowed:
        return None
    client = environ["flask.app"].extensions["redis"]
    with metrics.redis_timer("answer_script"):
        reply = store_answer_by_ref(attempt_id, user_id, question, selected, seq, client=client)
    if reply.error is not None:
        return None
    del _prechecked[sid]
    return AnswerAck(question, reply.selected, reply.seq, duplicate=reply.duplicate).to_dict()


guarded = guarded_by(AttemptError)


def _own_attempt(data):
    attempt = db.session.get(Attempt, payload_int(data, "attempt_id"))
    if attempt is None:
        raise AttemptError("attempt_not_found")
    if attempt.user_id != _uid():
        raise AttemptError("forbidden")
    return attempt


def register(socketio):
    @socketio.on("clock")
    def on_clock(data=None):
        # The client measures the round trip and takes server_ms as the time at its midpoint.
        try:
            return {"ok": True, "server_ms": server_now_ms()}
        except Exception:
            log.exception("clock failed")
            return error_ack("server_error", _("Máy chủ đang bận, vui lòng thử lại."))

    @socketio.on("attempt:join")
    @guarded
    def on_attempt_join(data):
        # No leaderboard subscription while answering: the attempt page shows none, and a top-10
        # frame a second to every contestant would be the biggest cost of a large round.
        attempt = _own_attempt(data)
        return {"ok": True, "state": attempt_view(attempt)}

    @socketio.on("answer")
    def on_answer(data=None, *extra):
        started = time.perf_counter()
        reply = _answer(data)
        if reply.get("ok"):
            metrics.answer_accepted(time.perf_counter() - started)
        else:
            metrics.answer_refused(reply.get("error"), time.perf_counter() - started)
        return reply

    # The fast path first; the handler above when it declines (realtime/inline.py runs both without a greenlet).
    full_path = socketio.server.handlers["/"]["answer"]

    def answer_event(sid, data=None, *extra):
        started = time.perf_counter()
        try:
            reply = _answer_fast(socketio.server, sid, data)
        except Exception:  # e.g. Redis unreachable: the full path answers with its error acknowledgement
            log.warning("answer fast path failed", exc_info=True)
            reply = None
        if reply is None:
            return full_path(sid, data, *extra)
        metrics.answer_accepted(time.perf_counter() - started)
        return reply

    socketio.server.on("answer", answer_event)

    @guarded
    def _answer(data):
        allowed = _prechecked.pop(request.sid, None)  # the fast path's verdict on this very answer, if it ran
        if not (_answer_allowed(request.sid) if allowed is None else allowed):
            return error_ack(
                "rate_limited",
                _(
                    "Bạn gửi câu trả lời quá nhanh (tối đa %(rate)d câu mỗi giây): câu trả lời này chưa được lưu.",
                    rate=int(ANSWER_RATE),
                ),
            )
        selected = data.get("selected")
        if not isinstance(selected, list) or len(selected) > MAX_SELECTED or not all(is_ref(v) for v in selected):
            raise BadPayload("selected")
        question = data.get("question_id")
        if not is_ref(question):
            raise BadPayload("question_id")
        attempt_id, seq = payload_int(data, "attempt_id"), payload_int(data, "seq")
        with metrics.redis_timer("answer_script"):
            ack = answer_by_ref(attempt_id, _uid(), question, selected, seq)
        return ack.to_dict()

    @socketio.on("prediction")
    @guarded
    def on_prediction(data):
        # The prediction as it is typed (the page sends it debounced): it counts when the server closes the attempt.
        # Counted against the same per-socket bucket as answers.
        if not _answer_allowed(request.sid):
            return error_ack(
                "rate_limited",
                _(
                    "Bạn gửi câu trả lời quá nhanh (tối đa %(rate)d câu mỗi giây): câu trả lời này chưa được lưu.",
                    rate=int(ANSWER_RATE),
                ),
            )
        if "prediction" not in data:
            raise BadPayload("prediction")
        value = payload_int(data, "prediction", lo=0, hi=MAX_PREDICTION, required=False)
        attempt_id, seq = payload_int(data, "attempt_id"), payload_int(data, "seq")
        return save_prediction(attempt_id, _uid(), value, seq).to_dict()

    @socketio.on("submit")
    @guarded
    def on_submit(data):
        attempt_id = payload_int(data, "attempt_id")
        prediction = payload_int(data, "prediction", lo=0, hi=MAX_PREDICTION, required=False)
        attempt = submit_attempt(attempt_id, _uid(), prediction)
        # Once submitted, a socket that stays open follows the board and its own rank.
        _subscribe(attempt.round_id)
        return {"ok": True, "result": leaderboard.result_payload(attempt)}

    @socketio.on("leaderboard:join")
    @guarded
    def on_leaderboard_join(data):
        round_ = _round(data)
        _subscribe(round_.id)
        return {"ok": True, **leaderboard.board_payload(round_.id), "me": leaderboard.rank_of(round_.id, _uid())}

    @socketio.on("leaderboard:join", namespace="/public")
    @guarded
    def on_public_join(data):
        round_ = _round(data)
        pusher.watch(request.sid, "/public", round_.id, None)
        join_room(f"round:{round_.id}", namespace="/public")
        return {"ok": True, **leaderboard.board_payload(round_.id, public=True)}

    @socketio.on("*")
    def on_unknown(event, *args):
        # Only events without a handler of their own come here: acknowledged, so a client never waits for nothing.
        return error_ack("unknown_event", _("Sự kiện không được hỗ trợ."))

    @socketio.on("*", namespace="/public")
    def on_public_unknown(event, *args):
        return error_ack("unknown_event", _("Sự kiện không được hỗ trợ."))

    @socketio.on("disconnect")
    def on_disconnect(*args):
        pusher.forget(request.sid)
        _buckets.pop(request.sid, None)
        _prechecked.pop(request.sid, None)
        if _users.pop(request.sid, None) is not None:
            metrics.contestant_disconnected()

    @socketio.on("disconnect", namespace="/public")
    def on_public_disconnect(*args):
        pusher.forget(request.sid)


def _subscribe(round_id):
    pusher.watch(request.sid, "/", round_id, _uid())
    join_room(f"round:{round_id}")


def _round(data):
    round_ = db.session.get(Round, payload_int(data, "round_id"))
    if round_ is None or not round_.contest.published:
        raise AttemptError("round_not_open")
    return round_
