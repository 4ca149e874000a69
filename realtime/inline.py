"""Events handled in the connection's own reader greenlet instead of a new greenlet each (issue 17).

python-socketio starts a greenlet per event (`async_handlers`): for an answer, whose usual path is one
EVALSHA (realtime/play.py, _answer_fast), that greenlet's creation and switches cost more than the handler.
The events listed here run inline: a socket's own events wait for each other (which they do anyway:
one contestant answers one question at a time), other sockets are not held up, since every connection has
its own reader greenlet and a Redis call yields to the event loop. Handlers that may block on SQL for long
(join, submit) keep their greenlet.
"""

import logging

log = logging.getLogger(__name__)


def inline_events(server, events: set[str], namespace: str = "/") -> None:
    """Routes `events` of `namespace` on this python-socketio Server around its per-event greenlet."""
    if getattr(server, "_contest_inline", None) is not None:
        server._contest_inline |= set(events)
        return
    server._contest_inline = set(events)
    spawn_per_event = server._handle_event

    def handle_event(eio_sid, ns, id, data):
        ns = ns or "/"
        if ns != namespace or not data or data[0] not in server._contest_inline:
            return spawn_per_event(eio_sid, ns, id, data)
        sid = server.manager.sid_from_eio_sid(eio_sid, ns)
        if not server.manager.is_connected(sid, ns):
            return None
        try:
            server._handle_event_internal(server, sid, eio_sid, data, ns, id)
        except Exception:  # the reader must survive a handler's failure, as a spawned greenlet's death would
            log.exception("inline socket event %s failed", data[0])
        return None

    server._handle_event = handle_event
