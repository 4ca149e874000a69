"""The `host` role: drives a live final's console and projector, and nothing else of the organisers' pages."""

import pytest
from sqlalchemy.exc import IntegrityError

from contest.accounts.models import ROLES, User
from contest.audit.models import AuditEntry
from contest.live import services
from contest.live.models import LivePlayer
from infra.extensions import db
from tests.conftest import PASSWORD, create_account, login, make_app
from tests.contest.live.livekit import make_live
from tests.live import http_login
from tests.realtime.test_play import Recorder


def test_host_is_a_role_the_database_accepts(app):
    assert "host" in ROLES
    host_id, _ = create_account(app, role="host")  # the CHECK on users.role (migration 0009) allows it
    with app.app_context():
        user = db.session.get(User, host_id)
        assert user.has_role("organiser", "host") and not user.has_role("organiser") and not user.has_role("judge")


def test_host_opens_the_console_and_projector_but_not_the_set_up_or_the_bank(app, client):
    sid, _, _ = make_live(app)
    _, phone = create_account(app, role="host")
    login(client, phone)
    index = client.get("/quan-tri/chung-ket/dieu-khien")
    assert index.status_code == 200 and f"/quan-tri/chung-ket/{sid}/dieu-khien" in index.text
    console = client.get(f"/quan-tri/chung-ket/{sid}/dieu-khien")
    assert console.status_code == 200 and f"/quan-tri/chung-ket/{sid}/ket-qua" not in console.text
    assert client.get(f"/quan-tri/chung-ket/{sid}/man-hinh").status_code == 200
    assert "Dẫn chung kết" in client.get("/").text  # the way in, in the menu
    assert "Người dẫn chương trình" in client.get("/tai-khoan").text
    for url in (
        "/quan-tri/chung-ket/",  # setting up a session
        "/quan-tri/ngan-hang/",  # the bank
        "/quan-tri/ngan-hang/cau-hoi/moi",
        "/quan-tri/cuoc-thi/",
        f"/quan-tri/chung-ket/{sid}/ket-qua",  # judging the result
    ):
        assert client.get(url).status_code == 403, url
    created = client.post("/quan-tri/ngan-hang/cau-hoi/moi", data={"stem": "Câu hỏi của người dẫn?"})
    assert created.status_code == 403


def test_contestant_cannot_open_the_console(app, client):
    sid, _, _ = make_live(app)
    _, phone = create_account(app)
    login(client, phone)
    for url in ("/quan-tri/chung-ket/dieu-khien", f"/quan-tri/chung-ket/{sid}/dieu-khien"):
        assert client.get(url).status_code == 403


def test_host_drives_over_socketio_and_a_contestant_cannot(server_factory, redis_url):
    server = server_factory()
    app = make_app(server_factory.database_url, redis_url)
    sid, _, _ = make_live(app, mode="points", count=2, seconds=5)
    host_id, host_phone = create_account(app, role="host", full_name="Ngô Thị Dẫn")
    _, player_phone = create_account(app, full_name="Lê Văn Chơi")
    with app.app_context():
        pin = services.get_session(sid).pin
    host = Recorder(server.url, http_login(server.url, host_phone, PASSWORD))
    player = Recorder(server.url, http_login(server.url, player_phone, PASSWORD))
    try:
        assert player.call("live:join", {"pin": pin})["ok"]
        for action in ("next", "state", "end"):
            refused = player.call("live:host", {"session_id": sid, "action": action})
            assert refused["ok"] is False and refused["error"] == "forbidden"
        assert player.call("live:screen", {"session_id": sid})["error"] == "forbidden"
        assert host.call("live:screen", {"session_id": sid})["ok"]
        shown = host.call("live:host", {"session_id": sid, "action": "next"})
        assert shown["ok"] and shown["state"]["phase"] == "question"
        player.wait_for(lambda e, d: e == "live:question")
        assert host.call("live:host", {"session_id": sid, "action": "close"})["ok"]
        assert host.call("live:host", {"session_id": sid, "action": "reveal"})["ok"]
        assert host.call("live:host", {"session_id": sid, "action": "end"})["ok"]
        player.wait_for(lambda e, d: e == "live:ended")
    finally:
        host.close()
        player.close()
    with app.app_context():
        actions = list(
            db.session.scalars(
                db.select(AuditEntry.action).where(AuditEntry.object_id == sid, AuditEntry.actor_id == host_id)
            )
        )
        assert {"live.show", "live.close", "live.reveal", "live.end"} <= set(actions)
        # the player's address at joining is kept for the judges' review flags
        assert db.session.scalar(db.select(LivePlayer.client_ip).where(LivePlayer.session_id == sid)) == "127.0.0.1"


def test_the_role_check_allows_host_and_still_refuses_others(any_db_app):
    """Migration 0009 widens users.role's CHECK on SQLite (schema edit) and PostgreSQL (drop + create)."""
    user_id, _ = create_account(any_db_app)
    with any_db_app.app_context():
        db.session.execute(db.text("UPDATE users SET role = 'host' WHERE id = :id"), {"id": user_id})
        db.session.commit()
        with pytest.raises(IntegrityError):
            db.session.execute(db.text("UPDATE users SET role = 'superuser' WHERE id = :id"), {"id": user_id})
            db.session.commit()
        db.session.rollback()
        assert db.session.get(User, user_id).role == "host"
