"""Live-final events: players join by PIN and answer, the host drives the pace, the projector follows.

Thin handlers: validate, call contest.live.services, acknowledge, broadcast to the session's room
(`live:<id>`; through the Redis message queue the broadcast reaches sockets on every process).
The protocol is documented in docs/realtime.md ("Live finals").
"""

import logging

import gevent
from flask import current_app, request
from flask_login import current_user
from flask_socketio import join_room

from contest.live import services, state
from contest.live.models import LivePlayer
from infra.extensions import db
from realtime import play
from realtime.acks import BadPayload, payload_int
from realtime.acks import guarded as guarded_by

log = logging.getLogger(__name__)
MAX_INT = 2**31 - 1
HOST_ROLES = ("organiser", "host")  # the roles that drive a session (contest.live.routes.HOSTS)
HOST_ACTIONS = ("next", "close", "reveal", "rescue", "end", "state")
LOBBY_THROTTLE_S = 1.0

_lobby_pending: set[int] = set()  # sessions with a lobby count broadcast already scheduled in this process


def room(session_id: int) -> str:
    return f"live:{session_id}"


def _int(data, name, lo=0, hi=MAX_INT):
    return payload_int(data, name, lo, hi)


guarded = guarded_by(services.LiveError)


def _is_host():
    return current_user.has_role(*HOST_ROLES)


def _session(data):
    return services.get_session(_int(data, "session_id", lo=1))


def register(socketio):
    def broadcast(event, session_id, payload):
        socketio.emit(event, payload, to=room(session_id))

    def schedule_lobby(app, session_id):
        if session_id in _lobby_pending:
            return
        _lobby_pending.add(session_id)

        def push():
            gevent.sleep(LOBBY_THROTTLE_S)
            _lobby_pending.discard(session_id)
            with app.app_context():
                count = state.player_count(session_id)
            broadcast("live:lobby", session_id, {"players": count})

        socketio.start_background_task(push)

    def schedule_close(app, session_id, position, end_ms):
        def auto_close():
            with app.app_context():
                # Redis's clock, the one the answer script checks the window against
                gevent.sleep(max(0, end_ms - state.now_ms()) / 1000 + 0.05)
                try:
                    result = services.close(services.get_session(session_id), None, position)
                except services.LiveError:
                    result = None  # the host closed it already, or moved on
                except Exception:
                    log.exception("auto close of live session %s failed", session_id)
                    result = None
                finally:
                    db.session.remove()
            if result is not None:
                broadcast("live:closed", session_id, result)

        socketio.start_background_task(auto_close)

    @socketio.on("live:join")
    @guarded
    def on_join(data):
        pin = data.get("pin")
        if not isinstance(pin, str) or len(pin) > 12:
            raise BadPayload("pin")
        session = services.find_by_pin(pin)
        player = services.join(session, current_user, request.remote_addr)
        join_room(room(session.id))
        if not player.watch_only:
            schedule_lobby(current_app._get_current_object(), session.id)
        return {"ok": True, "watch_only": player.watch_only, "state": services.view(session, current_user.id)}

    @socketio.on("live:state")
    @guarded
    def on_state(data):
        """A player's (or watcher's) state after a reload or a broadcast: the own answer, result and rank."""
        session = _session(data)
        uid = play._uid()
        # Players are in Redis (asked first: every player sends this after each reveal); watchers only in SQL.
        joined = state.is_player(session.id, uid) or db.session.scalar(
            db.select(LivePlayer.id).where(LivePlayer.session_id == session.id, LivePlayer.user_id == uid)
        )
        if not joined:
            raise services.LiveError("not_player")
        join_room(room(session.id))
        return {"ok": True, "state": services.view(session, uid)}

    @socketio.on("live:answer")
    @guarded
    def on_answer(data):
        reply = services.answer(
            _int(data, "session_id", lo=1), play._uid(), _int(data, "position", hi=1000), _int(data, "choice", hi=9)
        )
        return {"ok": True, "position": data["position"], "choice": reply.choice, "duplicate": reply.duplicate}

    @socketio.on("live:screen")
    @guarded
    def on_screen(data):
        """The projector (an organiser's screen): everything a player sees, plus the PIN."""
        if not _is_host():
            raise services.LiveError("forbidden")
        session = _session(data)
        join_room(room(session.id))
        view = services.view(session, None)
        view["pin"] = session.open_pin
        return {"ok": True, "state": view}

    @socketio.on("live:host")
    @guarded
    def on_host(data):
        if not _is_host():
            raise services.LiveError("forbidden")
        session = _session(data)
        action = data.get("action")
        if action not in HOST_ACTIONS:
            raise BadPayload("action")
        join_room(room(session.id))
        app = current_app._get_current_object()
        if action == "next":
            question = services.show_next(session, current_user)
            broadcast("live:question", session.id, question)
            schedule_close(app, session.id, question["position"], question["end_ms"])
        elif action == "close":
            result = services.close(session, current_user)
            if result is not None:
                broadcast("live:closed", session.id, result)
        elif action == "reveal":
            broadcast("live:revealed", session.id, services.reveal(session, current_user))
        elif action == "rescue":
            broadcast("live:rescued", session.id, services.rescue_last(session, current_user, _int(data, "n", lo=1)))
        elif action == "end":
            broadcast("live:ended", session.id, services.end(session, current_user))
        return {"ok": True, "state": services.view(session, None, host=True)}
