"""One leaderboard push cycle, called directly: what it sends, to whom, and that an unchanged board sends nothing."""

from contest.accounts.models import User
from contest.rounds import leaderboard
from contest.rounds.services import save_answer, start_attempt, submit_attempt
from infra.extensions import db
from realtime import pusher
from tests.conftest import create_account
from tests.contest.roundkit import key_of, make_round


class RecordingSocketIO:
    """Stands in for Flask-SocketIO: keeps what a cycle emits."""

    def __init__(self):
        self.sent = []

    def emit(self, event, data, to, namespace, ignore_queue):
        assert ignore_queue is True  # each process pushes to its own sockets only
        self.sent.append((event, data, to, namespace))


def _finish(user, rnd, right):
    attempt = start_attempt(user, rnd)
    for seq, aq in enumerate(attempt.questions[:right], start=1):
        save_answer(attempt.id, user.id, aq.question_id, key_of(aq.question_id), seq)
    return submit_attempt(attempt.id, user.id)


def test_a_cycle_pushes_a_changed_board_once_and_a_rank_only_when_it_moved(ctx):
    rnd = make_round(count=4, attempts_allowed=3, prediction=False)
    first = db.session.get(User, create_account(ctx)[0])
    second = db.session.get(User, create_account(ctx)[0])
    _finish(first, rnd, right=2)
    socketio, pushed = RecordingSocketIO(), {}
    pusher.watch("sid-first", "/", rnd.id, first.id)
    pusher.watch("sid-projector", "/public", rnd.id, None)
    try:
        assert pusher.push_once(socketio, pushed) == 3
        (_, board, room, ns), (_, public, _, public_ns), (event, rank, to, _) = socketio.sent
        assert (room, ns, public_ns) == (f"round:{rnd.id}", "/", "/public")
        assert board == {**leaderboard.board_payload(rnd.id), "server_ms": board["server_ms"]}
        assert board["top"][0]["user_id"] == first.id and "user_id" not in public["top"][0]
        assert (event, to) == ("rank", "sid-first")
        assert rank == {"round_id": rnd.id, "rank": 1, "version": board["version"], "server_ms": board["server_ms"]}

        # Nothing changed: the next cycle sends nothing.
        socketio.sent.clear()
        assert pusher.push_once(socketio, pushed) == 0 and socketio.sent == []

        # A better attempt by someone else: the board goes out again and the first contestant's rank moved.
        _finish(second, rnd, right=4)
        assert pusher.push_once(socketio, pushed) == 3
        assert [(e, d.get("rank")) for e, d, _, _ in socketio.sent if e == "rank"] == [("rank", 2)]

        # A worse attempt changes nothing on the board: no push.
        socketio.sent.clear()
        _finish(second, rnd, right=0)
        assert pusher.push_once(socketio, pushed) == 0 and socketio.sent == []
    finally:
        pusher.forget("sid-first")
        pusher.forget("sid-projector")


def test_a_forgotten_socket_is_sent_nothing(ctx):
    rnd = make_round(count=2, prediction=False)
    user = db.session.get(User, create_account(ctx)[0])
    _finish(user, rnd, right=1)
    pusher.watch("sid-gone", "/", rnd.id, user.id)
    pusher.forget("sid-gone")
    socketio = RecordingSocketIO()
    assert pusher.push_once(socketio, {}) == 0 and socketio.sent == []
