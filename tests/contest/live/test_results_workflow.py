"""A live final's result through the judges' workflow: review flags, disqualify, publish (with a digest), exports
(masked by default, full data on a post, every export audited) and every player's answers auditable."""

import csv
import io
import time

from contest.accounts.models import User
from contest.audit.models import AuditEntry
from contest.live import services
from contest.live.models import LivePlayer, LiveSession
from infra.extensions import db
from tests.conftest import create_account, login
from tests.contest.live.livekit import key_index, make_live


def _game(app, crowd_ip=None):
    """Points mode, 2 questions; players: quick (answers at once), slow (after 1.1 s), twin1/twin2 (same name and
    birth date, slow), wrong; with crowd_ip, 6 more players joined from one address."""
    sid, organiser_id, _ = make_live(app, mode="points", count=2, seconds=5)
    names = ["Nhanh Tay", "Chậm Rãi", "Nguyễn Văn Sinh Đôi", "Nguyễn Văn Sinh Đôi", "Trả Lời Sai"]
    ids = []
    for name in names:
        uid, _ = create_account(app, full_name=name)
        ids.append(uid)
    crowd = []
    for i in range(6 if crowd_ip else 0):
        uid, _ = create_account(app, full_name=f"Cùng Mạng {i}")
        crowd.append(uid)
    with app.app_context():
        session = services.get_session(sid)
        for uid in ids:
            services.join(session, db.session.get(User, uid), f"10.0.0.{uid % 250}")
        for uid in crowd:
            services.join(session, db.session.get(User, uid), crowd_ip)
        host = db.session.get(User, organiser_id)
        quick, slow, twin1, twin2, wrong = ids
        for position in range(2):
            services.show_next(session, host)
            k = key_index(sid, position)
            services.answer(sid, quick, position, k)
            services.answer(sid, wrong, position, (k + 1) % 4)
            time.sleep(1.1)
            for uid in (slow, twin1, twin2, *crowd):
                services.answer(sid, uid, position, k)
            services.close(session, host)
            services.reveal(session, host)
        services.end(session, host)
    return sid, ids, crowd


def test_review_flags(app):
    sid, (quick, slow, twin1, twin2, wrong), crowd = _game(app, crowd_ip="203.0.113.7")
    with app.app_context():
        flags = services.review_flags(services.get_session(sid))
    assert flags.get(quick) == {"fast"} and wrong in flags and "fast" in flags[wrong]
    assert slow not in flags
    assert flags[twin1] == flags[twin2] == {"shared_identity"}
    assert all(flags[uid] == {"shared_ip"} for uid in crowd)  # 6 accounts from one address (more than 5)


def test_publication_digest_verifies_and_detects_a_change(app):
    sid, (quick, *_), _ = _game(app)
    judge_id, _ = create_account(app, role="judge")
    with app.app_context():
        session = services.get_session(sid)
        assert services.verify_publication(session) is None
        services.disqualify(session, db.session.get(User, judge_id), quick, "Trả lời bằng công cụ tự động")
        services.publish(session, db.session.get(User, judge_id))
        session = services.get_session(sid)
        assert len(session.published_digest) == 64 and services.verify_publication(session) is True
        entry = db.session.scalar(
            db.select(AuditEntry).where(AuditEntry.action == "live.publish", AuditEntry.object_id == sid)
        )
        assert session.published_digest in str(entry.details)
        db.session.execute(db.update(LivePlayer).where(LivePlayer.user_id == quick).values(score=99999))
        db.session.commit()
        assert services.verify_publication(services.get_session(sid)) is False


def _audit_actions(app, sid):
    with app.app_context():
        return list(
            db.session.scalars(db.select(AuditEntry.action).where(AuditEntry.object_id == sid).order_by(AuditEntry.id))
        )


def test_exports_are_masked_by_default_full_on_a_post_and_audited(app, client):
    sid, (quick, slow, *_), _ = _game(app)
    _, phone = create_account(app, role="judge")
    login(client, phone)
    with app.app_context():
        quick_phone = db.session.get(User, quick).phone
    masked = client.get(f"/quan-tri/chung-ket/{sid}/ket-qua.csv").data.decode("utf-8-sig")
    assert quick_phone not in masked and f"{quick_phone[:3]}****{quick_phone[-3:]}" in masked
    assert _audit_actions(app, sid)[-1] == "live.export"
    full = client.post(f"/quan-tri/chung-ket/{sid}/ket-qua.csv", data={"full_data": "1"}).data.decode("utf-8-sig")
    assert quick_phone in full
    assert _audit_actions(app, sid)[-1] == "live.export_full_data"

    text = client.get(f"/quan-tri/chung-ket/{sid}/cau-tra-loi.csv").data.decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert _audit_actions(app, sid)[-1] == "live.export"
    assert len(rows) == 2 * 5  # every player, every question
    with app.app_context():
        keys = {p: "ABCD"[key_index(sid, p)] for p in range(2)}
    for row in rows:
        if int(row["user_id"]) in (quick, slow):
            assert row["letter"] == keys[int(row["question_number"]) - 1] and row["correct"] == "1"
            assert int(row["points"]) >= 500 and row["elapsed_ms"] != ""
    slow_times = [int(r["elapsed_ms"]) for r in rows if int(r["user_id"]) == slow]
    assert all(t >= 1000 for t in slow_times)


def test_results_page_lists_flags_and_one_players_answers(app, client):
    sid, (quick, slow, *_), _ = _game(app)
    _, phone = create_account(app, role="judge")
    login(client, phone)
    page = client.get(f"/quan-tri/chung-ket/{sid}/ket-qua").text
    assert "Trả lời dưới 1 giây ở từ một nửa số câu trở lên" in page and "Trùng họ tên và ngày sinh" in page
    flagged = client.get(f"/quan-tri/chung-ket/{sid}/ket-qua?can-kiem-tra=1").text
    assert "Nhanh Tay" in flagged and "Chậm Rãi" not in flagged.split('id="answers"')[0]
    one = client.get(f"/quan-tri/chung-ket/{sid}/ket-qua?nguoi-choi={slow}").text
    answers = one.split('id="live-answers"')[1]
    assert answers.count("Chậm Rãi") == 2 and "Nhanh Tay" not in answers
    assert client.get(f"/quan-tri/chung-ket/{sid}/ket-qua?nguoi-choi=99999999999").status_code == 200
    judging = client.get("/giam-khao/").text
    assert "/quan-tri/chung-ket/ket-qua" in judging


def test_a_contestant_cannot_export(app, client):
    sid, _, _ = _game(app)
    _, phone = create_account(app)
    login(client, phone)
    assert client.get(f"/quan-tri/chung-ket/{sid}/cau-tra-loi.csv").status_code == 403
    assert client.post(f"/quan-tri/chung-ket/{sid}/ket-qua.csv", data={"full_data": "1"}).status_code == 403
    with app.app_context():
        assert db.session.get(LiveSession, sid).status == "ended"
