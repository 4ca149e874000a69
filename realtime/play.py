"""Contestant events: clock sync, joining an attempt, answers, submit, leaderboard subscriptions.

Every payload is validated here; a bad one gets an error acknowledgement, never an exception.
The protocol is documented in docs/realtime.md.
"""

import logging
import time
from functools import wraps

from flask import request
from flask_babel import gettext as _
from flask_login import current_user
from flask_socketio import join_room

from contest.rounds import leaderboard
from contest.rounds.live_state import server_now_ms
from contest.rounds.models import Attempt, Round
from contest.rounds.services import AttemptError, attempt_view, save_answer, submit_attempt
from infra import metrics
from infra.extensions import db
from realtime import pusher

log = logging.getLogger(__name__)
MAX_INT = 2**53 - 1


class BadPayload(Exception):
    pass


# sid -> user id, set at connect: the hot events then need no user row from SQL (Flask-Login would
# load it on every event, a blocking query on the event loop).
_users: dict[str, int] = {}


def remember_user(sid, user_id):
    _users[sid] = user_id


def _uid():
    return _users.get(request.sid) or current_user.id


def _int(data, name, lo=1, hi=MAX_INT, required=True):
    value = data.get(name)
    if value is None and not required:
        return None
    # bool is an int in Python; a client sending true for an id is a bug, not id 1
    if isinstance(value, bool) or not isinstance(value, int) or not lo <= value <= hi:
        raise BadPayload(name)
    return value


def _error(code, message):
    return {"ok": False, "error": code, "message": message}


def guarded(handler):
    """Turns bad payloads and domain errors into error acks; logs anything unexpected."""

    @wraps(handler)
    def wrapped(data=None, *extra):
        try:
            if not isinstance(data, dict):
                raise BadPayload("payload")
            return handler(data)
        except BadPayload as exc:
            return _error("bad_request", _("Dữ liệu gửi lên không hợp lệ (trường %(field)s).", field=str(exc)))
        except AttemptError as exc:
            return _error(exc.code, exc.message)
        except Exception:
            db.session.rollback()
            log.exception("socket event %s failed", handler.__name__)
            return _error("server_error", _("Máy chủ đang bận, vui lòng thử lại."))

    return wrapped


def _own_attempt(data):
    attempt = db.session.get(Attempt, _int(data, "attempt_id"))
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
            return _error("server_error", _("Máy chủ đang bận, vui lòng thử lại."))

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

    @guarded
    def _answer(data):
        selected = data.get("selected")
        if not isinstance(selected, list) or len(selected) > 20:
            raise BadPayload("selected")
        selected = [_int({"v": v}, "v") for v in selected]
        with metrics.redis_timer("answer_script"):
            ack = save_answer(_int(data, "attempt_id"), _uid(), _int(data, "question_id"), selected, _int(data, "seq"))
        return ack.to_dict()

    @socketio.on("submit")
    @guarded
    def on_submit(data):
        attempt_id = _int(data, "attempt_id")
        prediction = _int(data, "prediction", lo=0, hi=10**9, required=False)
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

    @socketio.on("disconnect")
    def on_disconnect(*args):
        pusher.forget(request.sid)
        if _users.pop(request.sid, None) is not None:
            metrics.contestant_disconnected()

    @socketio.on("disconnect", namespace="/public")
    def on_public_disconnect(*args):
        pusher.forget(request.sid)


def _subscribe(round_id):
    pusher.watch(request.sid, "/", round_id, _uid())
    join_room(f"round:{round_id}")


def _round(data):
    round_ = db.session.get(Round, _int(data, "round_id"))
    if round_ is None or not round_.contest.published:
        raise AttemptError("round_not_open")
    return round_
