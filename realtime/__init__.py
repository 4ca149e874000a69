"""The Socket.IO face of the platform: thin handlers that validate, call contest's domain code and emit."""
from flask import current_app, request
from flask_login import current_user

from contest.extensions import socketio


def init_app(app):
    # Handlers are registered on the shared SocketIO object once per process.
    if getattr(socketio, "_contest_handlers", False):
        return
    socketio._contest_handlers = True

    from realtime import play, pusher

    @socketio.on("connect")
    def on_connect(auth=None):
        # Sockets carry the same Redis-backed session as pages; anonymous sockets are refused.
        if not current_user.is_authenticated:
            raise ConnectionRefusedError("unauthorized")
        pusher.start(socketio, current_app._get_current_object())
        play.remember_user(request.sid, current_user.id)
        return True

    @socketio.on("connect", namespace="/public")
    def on_public_connect(auth=None):
        # The projector leaderboard is public: it only ever receives names, scores and times.
        pusher.start(socketio, current_app._get_current_object())
        return True

    @socketio.on("whoami")
    def on_whoami(data=None):
        return {"ok": True, "user_id": current_user.id, "role": current_user.role}

    play.register(socketio)
