"""Leaderboard pushes: one background task per process, at most once a second per round.

Each process pushes only to its own sockets (ignore_queue), driven by the round's version counter
in Redis; a submit on any process bumps it, so every process sees the change without the
message queue carrying a broadcast that every worker would have to decode.
"""
import logging
import threading

log = logging.getLogger(__name__)
INTERVAL_S = 1.0

_lock = threading.Lock()
_sockets: dict[str, tuple[str, int, int | None]] = {}  # sid -> (namespace, round id, user id)
_started = False


def watch(sid, namespace, round_id, user_id):
    with _lock:
        _sockets[sid] = (namespace, round_id, user_id)


def forget(sid):
    with _lock:
        _sockets.pop(sid, None)


def start(socketio, app):
    global _started
    with _lock:
        if _started:
            return
        _started = True
    socketio.start_background_task(_run, socketio, app)


def _run(socketio, app):
    pushed: dict[int, int] = {}
    while True:
        socketio.sleep(INTERVAL_S)
        try:
            with app.app_context():
                push_once(socketio, pushed)
        except Exception:  # noqa: BLE001  (a Redis hiccup must not end the loop)
            log.exception("leaderboard push failed")


def push_once(socketio, pushed):
    from contest.rounds import leaderboard
    from realtime.play import board_payload

    with _lock:
        by_round: dict[int, list[tuple[str, str, int | None]]] = {}
        for sid, (namespace, round_id, user_id) in _sockets.items():
            by_round.setdefault(round_id, []).append((sid, namespace, user_id))
    for round_id, sockets in by_round.items():
        version = leaderboard.version(round_id)
        if pushed.get(round_id) == version:
            continue
        pushed[round_id] = version
        namespaces = {ns for _, ns, _ in sockets}
        if "/" in namespaces:
            socketio.emit("leaderboard", board_payload(round_id), to=f"round:{round_id}", namespace="/",
                          ignore_queue=True)
        if "/public" in namespaces:
            socketio.emit("leaderboard", board_payload(round_id, public=True), to=f"round:{round_id}",
                          namespace="/public", ignore_queue=True)
        contestants = [(sid, uid) for sid, ns, uid in sockets if ns == "/" and uid is not None]
        ranks = leaderboard.ranks_of(round_id, sorted({uid for _, uid in contestants}))
        for sid, uid in contestants:
            if ranks.get(uid) is not None:
                socketio.emit("rank", {"round_id": round_id, "rank": ranks[uid], "version": version}, to=sid,
                              namespace="/", ignore_queue=True)
