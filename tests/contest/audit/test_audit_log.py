"""Organiser and judge actions in the append-only audit log: who, when, what; refused edits in the ORM and in SQL."""

from datetime import datetime, timedelta

import pytest
from sqlalchemy import select, text

from contest.audit import record_action
from contest.audit.models import AuditEntry
from contest.rounds.models import Contest, Round
from infra.extensions import db
from question_bank.models import Question
from question_bank.services import add_category
from tests.conftest import create_account, login
from tests.contest.organise.test_organise_routes import _round_form
from tests.contest.organise.test_organise_services import seed_bank
from tests.question_bank.test_bank_routes import question_form


def _entries(app, **filters):
    with app.app_context():
        return [
            (e.action, e.actor_id, e.object_type, e.object_id, e.at, e.details)
            for e in AuditEntry.query.filter_by(**filters).order_by(AuditEntry.id)
        ]


def test_organiser_contest_and_round_actions_are_audited_with_actor_and_time(app, client):
    with app.app_context():
        category_id, _ = seed_bank()
    organiser_id, phone = create_account(app, role="organiser", full_name="Lê Tổ Chức")
    login(client, phone)
    before = datetime.utcnow() - timedelta(seconds=1)
    assert client.post("/quan-tri/cuoc-thi/moi", data={"title": "Tìm hiểu Luật Đất đai"}).status_code == 302
    with app.app_context():
        cid = db.session.scalar(select(Contest.id))
    assert client.post(f"/quan-tri/cuoc-thi/{cid}/tuan-thi/moi", data=_round_form(category_id)).status_code == 302
    with app.app_context():
        rid = db.session.scalar(select(Round.id))
    edited = _round_form(category_id, title="Tuần thi mở đầu", attempts_allowed="5")
    assert client.post(f"/quan-tri/cuoc-thi/{cid}/tuan-thi/{rid}", data=edited).status_code == 302
    client.post(f"/quan-tri/cuoc-thi/{cid}", data={"title": "Tìm hiểu Luật Đất đai 2024", "description": "Mô tả"})
    client.post(f"/quan-tri/cuoc-thi/{cid}/cong-bo", data={"published": "1"})
    client.post(f"/quan-tri/cuoc-thi/{cid}/cong-bo", data={"published": "0"})
    assert client.post(f"/quan-tri/cuoc-thi/{cid}/tuan-thi/{rid}/xoa").status_code == 302
    after = datetime.utcnow() + timedelta(seconds=1)

    rows = _entries(app)
    assert [(action, kind, obj) for action, _, kind, obj, _, _ in rows] == [
        ("contest_create", "contest", cid),
        ("round_create", "round", rid),
        ("round_update", "round", rid),
        ("contest_update", "contest", cid),
        ("contest_publish", "contest", cid),
        ("contest_unpublish", "contest", cid),
        ("round_delete", "round", rid),
    ]
    assert all(actor == organiser_id and before <= at <= after for _, actor, _, _, at, _ in rows)
    details = {action: d for action, _, _, _, _, d in rows}
    assert details["round_update"]["changes"]["title"] == ["Tuần thi thứ nhất", "Tuần thi mở đầu"]
    assert details["round_update"]["changes"]["attempts_allowed"] == [3, 5]
    assert "number" not in details["round_update"]["changes"]  # only what changed
    assert details["contest_update"]["changes"]["title"] == ["Tìm hiểu Luật Đất đai", "Tìm hiểu Luật Đất đai 2024"]
    assert details["round_delete"]["title"] == "Tuần thi mở đầu"
    with app.app_context():
        assert db.session.get(Round, rid) is None  # the round's history does not block deleting it

    # A refused change records nothing: the audit entry is in the same transaction as the change.
    count = len(rows)
    client.post(f"/quan-tri/cuoc-thi/{cid}/cong-bo", data={"published": "1"})  # no round left: refused
    assert len(_entries(app)) == count


def test_unit_and_question_bank_actions_are_audited(app, client):
    author_id, phone = create_account(app, role="organiser")
    login(client, phone)
    client.post("/quan-tri/don-vi/", data={"name": "Sở Tư pháp Hà Nội", "parent_id": "0", "headcount": "250"})
    with app.app_context():
        category_id = add_category("Phổ biến, giáo dục pháp luật").id
    assert client.post("/quan-tri/ngan-hang/cau-hoi/moi", data=question_form(category_id)).status_code == 302
    with app.app_context():
        qid = db.session.scalar(select(Question.id))
    client.post("/dang-xuat")
    reviewer_id, phone = create_account(app, role="organiser")
    login(client, phone)
    client.post("/quan-tri/ngan-hang/hang-loat", data={"ids": str(qid), "action": "approve"})
    client.post("/quan-tri/ngan-hang/hang-loat", data={"ids": str(qid), "action": "retire"})

    rows = _entries(app)
    assert [(a, actor, kind) for a, actor, kind, _, _, _ in rows] == [
        ("unit_create", author_id, "unit"),
        ("question_create", author_id, "question"),
        ("questions_approve", reviewer_id, "question"),
        ("questions_retire", reviewer_id, "question"),
    ]
    assert rows[0][5]["name"] == "Sở Tư pháp Hà Nội" and rows[0][5]["headcount"] == 250
    assert rows[1][3] == qid and rows[2][5] == {"ids": [qid], "approved": 1, "problems": []}


def test_audit_log_page_for_organisers_and_judges(app, client):
    with app.app_context():
        record_action(None, "contest_create", object_type="contest", object_id=7, title="Cuộc thi bảy")
        record_action(None, "unit_create", object_type="unit", object_id=3, name="Phường Bến Nghé")
        db.session.commit()
    _, contestant = create_account(app)
    login(client, contestant)
    assert client.get("/quan-tri/nhat-ky").status_code == 403
    client.post("/dang-xuat")
    for role in ("organiser", "judge"):
        _, phone = create_account(app, role=role)
        login(client, phone)
        page = client.get("/quan-tri/nhat-ky").get_data(as_text=True)
        assert "contest_create" in page and "Cuộc thi #7" in page and "Phường Bến Nghé" in page
        only_units = client.get("/quan-tri/nhat-ky?doi-tuong=unit").get_data(as_text=True)
        assert "Phường Bến Nghé" in only_units and "Cuộc thi bảy" not in only_units
        client.post("/dang-xuat")


def test_audit_log_refuses_updates_and_deletes_in_sql(any_db_app):
    with any_db_app.app_context():
        entry = record_action(None, "contest_create", object_type="contest", object_id=1, title="Gốc")
        db.session.commit()
        entry_id = entry.id
        for statement in (
            "UPDATE judging_audit_log SET action = 'sửa' WHERE id = :id",
            "DELETE FROM judging_audit_log WHERE id = :id",
        ):
            with pytest.raises(Exception, match="append-only"):
                db.session.execute(text(statement), {"id": entry_id})
            db.session.rollback()
        entry = db.session.get(AuditEntry, entry_id)
        entry.reason = "sửa lại"
        with pytest.raises(PermissionError):
            db.session.commit()
        db.session.rollback()
        assert db.session.get(AuditEntry, entry_id).action == "contest_create"
        assert db.session.get(AuditEntry, entry_id).reason is None
