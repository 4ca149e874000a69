"""The live-final pages: set-up form, host console, projector (PIN + QR as inline SVG), player page, results."""

import json

from contest.live.models import LiveSession, LiveSessionQuestion
from infra.extensions import db
from tests.conftest import create_account, login
from tests.contest.live.livekit import make_live
from tests.contest.live.test_services import _ended_points_game


def test_organiser_creates_a_session_from_the_form(app, client):
    sid, _, ids = make_live(app)
    _, phone = create_account(app, role="organiser")
    login(client, phone)
    page = client.get("/quan-tri/chung-ket/")
    assert page.status_code == 200 and "Tạo phiên chung kết" in page.text and "round(1000" in page.text
    with app.app_context():
        contest_id = db.session.get(LiveSession, sid).contest_id
    response = client.post(
        "/quan-tri/chung-ket/",
        data={
            "contest_id": contest_id,
            "title": "Chung kết toàn tỉnh",
            "mode": "elimination",
            "seconds_per_question": 15,
            "rescue": "question",
            "rescue_positions": "2",
            "late_join": "watch",
            "question_ids": ", ".join(str(i) for i in reversed(ids)),
            "draw_category_id": 0,
        },
    )
    assert response.status_code == 302, response.text
    with app.app_context():
        session = db.session.scalar(db.select(LiveSession).where(LiveSession.title == "Chung kết toàn tỉnh"))
        rows = db.session.scalars(
            db.select(LiveSessionQuestion).where(LiveSessionQuestion.session_id == session.id)
        ).all()
        assert [r.question_id for r in rows] == list(reversed(ids))
        assert [r.is_rescue for r in rows] == [False, True, False]
    host = client.get(response.headers["Location"])
    assert host.status_code == 200 and session.pin in host.text
    screen = client.get(f"/quan-tri/chung-ket/{session.id}/man-hinh")
    assert screen.status_code == 200 and "<svg" in screen.text and session.pin in screen.text
    assert "<script>" not in screen.text  # no inline script: only src= and JSON blocks
    results = client.get(f"/quan-tri/chung-ket/{session.id}/ket-qua")
    assert results.status_code == 200


def test_bad_form_input_gets_a_clear_error_and_changes_nothing(app, client):
    sid, _, ids = make_live(app)
    _, phone = create_account(app, role="organiser")
    login(client, phone)
    with app.app_context():
        contest_id = db.session.get(LiveSession, sid).contest_id
        before = db.session.scalar(db.select(db.func.count(LiveSession.id)))
    data = {
        "contest_id": contest_id,
        "title": "Phiên lỗi",
        "mode": "points",
        "seconds_per_question": 20,
        "rescue": "none",
        "late_join": "watch",
        "question_ids": "1; drop",
        "draw_category_id": 0,
    }
    response = client.post("/quan-tri/chung-ket/", data=data)
    assert response.status_code == 200 and "Chỉ nhập các số" in response.text
    data["question_ids"] = "999999"
    response = client.post("/quan-tri/chung-ket/", data=data)
    assert response.status_code == 200 and "không có trong ngân hàng đã duyệt" in response.text
    data["question_ids"], data["seconds_per_question"] = str(ids[0]), 500
    response = client.post("/quan-tri/chung-ket/", data=data)
    assert response.status_code == 200 and 'aria-invalid="true"' in response.text
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count(LiveSession.id))) == before


def test_pages_are_guarded(app, client):
    sid, _, _ = make_live(app)
    _, phone = create_account(app)
    assert client.get("/chung-ket").status_code == 302  # log in first
    login(client, phone)
    assert client.get("/chung-ket?pin=123456").status_code == 200
    for url in ("/quan-tri/chung-ket/", f"/quan-tri/chung-ket/{sid}/dieu-khien", f"/quan-tri/chung-ket/{sid}/man-hinh"):
        assert client.get(url).status_code == 403


def test_judge_pages_export_and_disqualify(app, client):
    sid, (first, _second, _third) = _ended_points_game(app)
    _, phone = create_account(app, role="judge")
    login(client, phone)
    index = client.get("/quan-tri/chung-ket/ket-qua")
    assert index.status_code == 200 and f"/quan-tri/chung-ket/{sid}/ket-qua" in index.text
    page = client.get(f"/quan-tri/chung-ket/{sid}/ket-qua")
    assert page.status_code == 200 and "Truất quyền" in page.text
    response = client.post(f"/quan-tri/chung-ket/{sid}/loai", data={"user_id": first, "reason": "Dùng hai tài khoản"})
    assert response.status_code == 302
    response = client.post(f"/quan-tri/chung-ket/{sid}/loai", data={"user_id": "abc", "reason": "Lý do"})
    assert response.status_code == 302  # refused with a message, nothing changed
    assert "Bạn chưa tham gia" in client.get(f"/quan-tri/chung-ket/{sid}/ket-qua").text
    csv_text = client.get(f"/quan-tri/chung-ket/{sid}/ket-qua.csv").data.decode("utf-8-sig")
    lines = csv_text.splitlines()
    assert lines[0].startswith("rank,order,full_name")
    assert lines[-1].startswith(",1,'=HYPERLINK(1)") and "Dùng hai tài khoản" in lines[-1]
    assert client.post(f"/quan-tri/chung-ket/{sid}/cong-bo").status_code == 302
    assert "Đã công bố" in client.get(f"/quan-tri/chung-ket/{sid}/ket-qua").text


def test_player_page_carries_the_points_formula_and_the_result_texts(app, client):
    _, phone = create_account(app)
    login(client, phone)
    page = client.get("/chung-ket").text
    assert "Cách tính điểm: mỗi câu đúng được round(1000 × (1 − t ÷ T ÷ 2)) điểm" in page
    texts = json.loads(page.split('id="live-text">')[1].split("</script>")[0])
    assert (
        texts["gained"] == "+{n} điểm ở câu này" and texts["total"] == "tổng {n} điểm" and texts["rank"] == "Hạng {n}"
    )
