"""The Socket.IO face of the platform: thin handlers that validate, call contest's domain code and emit."""

from flask import current_app, request
from flask_login import current_user
from socketio.exceptions import ConnectionRefusedError  # the builtin one would reach the client without its message

from infra import metrics
from infra.extensions import socketio
from realtime import inline, live, play, pusher, revocation

# The largest Engine.IO packet the server accepts (docs/realtime.md); a larger one closes the connection.
MAX_FRAME_BYTES = 16 * 1024


class SocketSessionCache:
    """Opens a Socket.IO connection's Flask session once, not on every event.

    Flask-SocketIO pushes a request context per event on the connection's environ and, with
    manage_session=False, opens the Flask session each time: a Redis read per answer. The session
    a socket needs (who logged in) is settled at connect; later events reuse that object, kept in
    the connection's environ. Pages are untouched. A logout is seen by a socket when it reconnects.
    """

    def __init__(self, inner, path):
        self.inner = inner
        self.prefix = "/" + path.strip("/")

    def open_session(self, app, request):
        environ = request.environ
        if not environ.get("PATH_INFO", "").startswith(self.prefix):
            return self.inner.open_session(app, request)
        cached = environ.get("contest.socket_session")
        if cached is None:
            cached = environ["contest.socket_session"] = self.inner.open_session(app, request)
        return cached

    def __getattr__(self, name):
        return getattr(self.inner, name)


def init_app(app):
    if not isinstance(app.session_interface, SocketSessionCache):
        app.session_interface = SocketSessionCache(
            app.session_interface, socketio.server_options.get("path", "socket.io")
        )
    # Handlers are registered on the shared SocketIO object once per process.
    if getattr(socketio, "_contest_handlers", False):
        return
    socketio._contest_handlers = True

    @socketio.on("connect")
    def on_connect(auth=None):
        # Sockets carry the same Redis-backed session as pages; anonymous sockets are refused with the
        # documented message (connect_error "unauthorized").
        if not current_user.is_authenticated:
            raise ConnectionRefusedError("unauthorized")
        pusher.start(socketio, current_app._get_current_object())
        revocation.start(socketio, current_app._get_current_object())
        play.remember_user(request.sid, current_user.id)
        metrics.contestant_connected()
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
    live.register(socketio)
    inline.inline_events(socketio.server, {"answer"})  # its usual path is one EVALSHA: no greenlet per answer
