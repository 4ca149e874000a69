"""The live-final protocol on two real app processes sharing Redis and SQL: a host on A drives players on B."""

import json

from contest.accounts.models import User
from contest.live import services
from infra.extensions import db
from tests.conftest import PASSWORD, create_account, make_app
from tests.contest.live.livekit import key_index, make_live
from tests.live import http_login
from tests.realtime.test_play import Recorder


def _stems(app, sid):
    with app.app_context():
        return [row.question.stem for row in services.get_session(sid).questions]


def test_host_on_one_process_drives_players_on_another(server_factory, redis_url):
    a = server_factory()
    b = server_factory()
    app = make_app(server_factory.database_url, redis_url)
    sid, organiser_id, _ = make_live(app, mode="elimination", count=2, seconds=5)
    with app.app_context():
        pin = services.get_session(sid).pin
    stems = _stems(app, sid)
    with app.app_context():
        organiser_phone = db.session.get(User, organiser_id).phone
    host_http = http_login(a.url, organiser_phone, PASSWORD)
    host = Recorder(a.url, host_http)
    players = []
    for name in ("Lê Văn Bình", "Phạm Thị Cúc"):
        _, phone = create_account(app, full_name=name)
        players.append(Recorder(b.url, http_login(b.url, phone, PASSWORD)))
    try:
        bad = players[0].call("live:join", {"pin": "000000"})
        assert bad["ok"] is False and bad["error"] == "bad_pin" and bad["message"]
        assert players[0].call("live:join", {"pin": 123456})["error"] == "bad_request"
        for p in players:
            reply = p.call("live:join", {"pin": pin})
            assert reply["ok"] and reply["state"]["phase"] == "lobby" and "question" not in reply["state"]
        # the lobby count reaches a player on B (throttled to one broadcast a second)
        players[0].wait_for(lambda e, d: e == "live:lobby" and d["players"] == 2)
        # a player is not a host
        assert players[0].call("live:host", {"session_id": sid, "action": "next"})["error"] == "forbidden"
        # nothing of any question has reached anyone before it is shown
        assert not any(stem in json.dumps(p.payloads, ensure_ascii=False) for p in players for stem in stems)

        shown = host.call("live:host", {"session_id": sid, "action": "next"})
        assert shown["ok"] and shown["state"]["phase"] == "question"
        question = players[1].wait_for(lambda e, d: e == "live:question")
        assert question["stem"] == stems[0] and "correct" not in question and len(question["options"]) == 4
        assert stems[1] not in json.dumps(players[1].payloads, ensure_ascii=False)
        with app.app_context():
            k = key_index(sid, 0)
        ack = players[0].call("live:answer", {"session_id": sid, "position": 0, "choice": k})
        assert ack == {"ok": True, "position": 0, "choice": k, "duplicate": False}
        again = players[0].call("live:answer", {"session_id": sid, "position": 0, "choice": (k + 1) % 4})
        assert again["ok"] and again["duplicate"] and again["choice"] == k
        # no key in anything a player received before the reveal
        assert all("correct" not in json.dumps(x) for x in players[0].payloads if isinstance(x, dict))

        # the host's console reloaded on another device served by the other process: the same game
        console = Recorder(b.url, host_http)
        try:
            again_state = console.call("live:host", {"session_id": sid, "action": "state"})["state"]
            assert again_state["phase"] == "question" and again_state["question"]["stem"] == stems[0]
            assert again_state["counts"][k] == 1 and again_state["pin"] == pin
        finally:
            console.close()
        assert host.call("live:host", {"session_id": sid, "action": "close"})["ok"]
        closed = players[1].wait_for(lambda e, d: e == "live:closed")
        assert sum(closed["counts"]) == 1
        late = players[1].call("live:answer", {"session_id": sid, "position": 0, "choice": k})
        assert late["ok"] is False and late["error"] == "question_closed"

        assert host.call("live:host", {"session_id": sid, "action": "reveal"})["ok"]
        revealed = players[1].wait_for(lambda e, d: e == "live:revealed")
        assert revealed["correct"] == k and revealed["survivors"] == 1
        mine = players[1].call("live:state", {"session_id": sid})["state"]["me"]
        assert mine["eliminated"] is True and mine["answered"] is False

        # question 2 closes by itself at the end of its window (the host's process runs the timer)
        host.call("live:host", {"session_id": sid, "action": "next"})
        players[0].wait_for(lambda e, d: e == "live:question" and d["position"] == 1)
        out = players[1].call("live:answer", {"session_id": sid, "position": 1, "choice": 0})
        assert out["error"] == "eliminated"
        players[0].wait_for(lambda e, d: e == "live:closed" and d["position"] == 1, timeout=10)
        host.call("live:host", {"session_id": sid, "action": "reveal"})
        ended = host.call("live:host", {"session_id": sid, "action": "end"})
        assert ended["ok"] and ended["state"]["phase"] == "ended"
        podium = players[1].wait_for(lambda e, d: e == "live:ended")["podium"]
        assert [p["name"] for p in podium] == ["Lê Văn Bình", "Phạm Thị Cúc"]
    finally:
        for client in (host, *players):
            client.close()
