"""Leaderboard pushes: one background task per process, at most once a second per round.

Each process pushes only to its own sockets (ignore_queue), driven by the round's version counter
in Redis; a submit on any process bumps it, so every process sees the change without the
message queue carrying a broadcast that every worker would have to decode.

Fan-out is the cost that grows with the crowd: every watching socket gets a frame per change.
A process therefore sends at most LEADERBOARD_PUSH_BUDGET messages a second on average: after a cycle that
sent M messages it waits max(1 s, M / budget) before the next, so with 6,000 watchers and a
budget of 2,000 a board refreshes every 3 s instead of starving answers of CPU. A contestant's
own rank is sent only when it changed since the last one that socket got.
"""

import logging
import threading

from contest.rounds import leaderboard
from contest.rounds.live_state import server_now_ms

log = logging.getLogger(__name__)
INTERVAL_S = 1.0
DEFAULT_BUDGET = 2000  # messages a second per process (LEADERBOARD_PUSH_BUDGET)

_lock = threading.Lock()
_sockets: dict[str, tuple[str, int, int | None]] = {}  # sid -> (namespace, round id, user id)
_last_rank: dict[str, int] = {}  # sid -> the rank it was last sent
_started = False


def watch(sid, namespace, round_id, user_id):
    with _lock:
        _sockets[sid] = (namespace, round_id, user_id)


def forget(sid):
    with _lock:
        _sockets.pop(sid, None)
        _last_rank.pop(sid, None)


def start(socketio, app):
    global _started
    with _lock:
        if _started:
            return
        _started = True
    socketio.start_background_task(_run, socketio, app)


def next_delay(sent: int, budget: int) -> float:
    """Seconds to wait after a cycle that sent `sent` messages, to stay within `budget` a second."""
    return max(INTERVAL_S, sent / max(budget, 1))


def _run(socketio, app):
    pushed: dict[int, int] = {}
    budget = int(app.config.get("LEADERBOARD_PUSH_BUDGET") or DEFAULT_BUDGET)
    delay = INTERVAL_S
    while True:
        socketio.sleep(delay)
        sent = 0
        try:
            with app.app_context():
                sent = push_once(socketio, pushed)
        except Exception:
            log.exception("leaderboard push failed")
        delay = next_delay(sent, budget)


def push_once(socketio, pushed) -> int:
    """One cycle over the rounds this process's sockets watch; returns the number of messages sent."""
    with _lock:
        by_round: dict[int, list[tuple[str, str, int | None]]] = {}
        for sid, (namespace, round_id, user_id) in _sockets.items():
            by_round.setdefault(round_id, []).append((sid, namespace, user_id))
    sent = 0
    for round_id, sockets in by_round.items():
        version = leaderboard.version(round_id)
        if pushed.get(round_id) == version:
            continue
        pushed[round_id] = version
        now_ms = server_now_ms()
        for namespace, public in (("/", False), ("/public", True)):
            watchers = sum(1 for _, ns, _ in sockets if ns == namespace)
            if watchers:
                socketio.emit(
                    "leaderboard",
                    {**leaderboard.board_payload(round_id, public=public), "server_ms": now_ms},
                    to=f"round:{round_id}",
                    namespace=namespace,
                    ignore_queue=True,
                )
                sent += watchers
        contestants = [(sid, uid) for sid, ns, uid in sockets if ns == "/" and uid is not None]
        ranks = leaderboard.ranks_of(round_id, sorted({uid for _, uid in contestants}))
        for sid, uid in contestants:
            rank = ranks.get(uid)
            if rank is None or _last_rank.get(sid) == rank or sid not in _sockets:
                continue
            _last_rank[sid] = rank
            socketio.emit(
                "rank",
                {"round_id": round_id, "rank": rank, "version": version, "server_ms": now_ms},
                to=sid,
                namespace="/",
                ignore_queue=True,
            )
            sent += 1
    return sent
