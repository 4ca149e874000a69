"""Closes the open sockets of an account whose sessions ended (password change, sign out everywhere).

Pages see an ended session at once (the account's session version), but a socket opened its session at
connect (SocketSessionCache) and would keep using it until it reconnects. So the `sessions_ended` signal
appends the account to a Redis stream, and every process reads that stream about once a second and
disconnects its own sockets of those accounts. A client whose cookie is still valid (the browser that
changed the password) reconnects at once; one whose session ended is refused with `unauthorized`.
"""

import logging

from contest.accounts.services import sessions_ended
from infra.clock import redis_time_ms
from infra.extensions import get_redis
from realtime import play

STREAM = "sessions:ended"
INTERVAL_S = 1.0
log = logging.getLogger(__name__)
_started = False


@sessions_ended.connect
def _announce(user, **_):
    get_redis().xadd(STREAM, {"u": str(user.id)}, maxlen=10_000, approximate=True)


def close_ended_sockets(socketio, since: str) -> str:
    """One pass: disconnects this process's sockets of the accounts announced after stream id `since`;
    returns the last id read."""
    reply = get_redis().xread({STREAM: since}, count=1000)
    if not reply:
        return since
    entries = reply[0][1]
    ended = {int(fields["u"]) for _, fields in entries}
    for sid in play.sids_of(ended):
        socketio.server.disconnect(sid, namespace="/")
    return entries[-1][0]


def start(socketio, app):
    global _started
    if _started:
        return
    _started = True
    socketio.start_background_task(_run, socketio, app)


def _run(socketio, app):
    with app.app_context():
        since = f"{redis_time_ms(get_redis().time())}-0"  # only what is announced from now on
    while True:
        socketio.sleep(INTERVAL_S)
        try:
            with app.app_context():
                since = close_ended_sockets(socketio, since)
        except Exception:
            log.exception("closing the sockets of ended sessions failed")
