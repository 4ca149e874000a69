"""The Socket.IO face of the platform: thin handlers that validate, call contest's domain code and emit."""
from flask_login import current_user

from contest.extensions import socketio


def init_app(app):
    # Handlers are registered on the shared SocketIO object once per process.
    if getattr(socketio, "_contest_handlers", False):
        return
    socketio._contest_handlers = True

    @socketio.on("connect")
    def on_connect(auth=None):
        # Sockets carry the same Redis-backed session as pages; anonymous sockets are refused.
        if not current_user.is_authenticated:
            raise ConnectionRefusedError("unauthorized")
        return True

    @socketio.on("whoami")
    def on_whoami(data=None):
        return {"ok": True, "user_id": current_user.id, "role": current_user.role}
