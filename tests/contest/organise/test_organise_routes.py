"""Organiser pages through the Flask test client: guards, Vietnamese errors, times in Asia/Ho_Chi_Minh, banners."""

import io
import re
from datetime import datetime

import pytest
from sqlalchemy import event, func, select

from contest.rounds.models import Contest, Round
from infra.extensions import db
from tests.conftest import create_account, login
from tests.contest.organise.test_organise_services import add_attempt, png_bytes, seed_bank

PAGES = [
    ("get", "/quan-tri/cuoc-thi/"),
    ("get", "/quan-tri/cuoc-thi/moi"),
    ("post", "/quan-tri/cuoc-thi/moi"),
    ("get", "/quan-tri/cuoc-thi/{cid}"),
    ("post", "/quan-tri/cuoc-thi/{cid}"),
    ("post", "/quan-tri/cuoc-thi/{cid}/cong-bo"),
    ("get", "/quan-tri/cuoc-thi/{cid}/tuan-thi/moi"),
    ("post", "/quan-tri/cuoc-thi/{cid}/tuan-thi/moi"),
    ("get", "/quan-tri/cuoc-thi/{cid}/tuan-thi/{rid}"),
    ("post", "/quan-tri/cuoc-thi/{cid}/tuan-thi/{rid}"),
    ("post", "/quan-tri/cuoc-thi/{cid}/tuan-thi/{rid}/xoa"),
]


def _organiser(app, client):
    _, phone = create_account(app, role="organiser")
    login(client, phone)


def _contest_with_round(app):
    """A contest with one round over a seeded bank; returns (contest_id, round_id, category_id)."""
    from contest.organise.services import create_contest, create_round
    from tests.contest.organise.test_organise_services import round_input

    with app.app_context():
        category_id, _ = seed_bank()
        contest = create_contest(title="Tìm hiểu Hiến pháp")
        rnd = create_round(contest, round_input(category_id))
        return contest.id, rnd.id, category_id


def _round_form(category_id, **overrides):
    data = {
        "number": "1",
        "title": "Tuần thi thứ nhất",
        "opens_at": "2026-12-01T08:00",
        "closes_at": "2026-12-07T20:00",
        "time_limit_minutes": "20",
        "attempts_allowed": "3",
        "blueprint-0-category_id": str(category_id),
        "blueprint-0-difficulty": "easy",
        "blueprint-0-count": "4",
        "blueprint-1-category_id": "0",
        "blueprint-1-difficulty": "hard",
        "blueprint-1-count": "2",
        "blueprint-2-category_id": "0",
        "blueprint-2-difficulty": "",
        "blueprint-2-count": "",
        "prediction_enabled": "y",
        "prediction_text": "Có bao nhiêu người trả lời đúng tất cả?",
        "prediction_basis": "people",
        "shuffle_questions": "y",
        "shuffle_options": "y",
        "show_score_after_submit": "y",
        "show_key_after_close": "y",
        "ranking_rule-0": "correct_desc",
        "ranking_rule-1": "prediction_distance_asc",
        "ranking_rule-2": "time_taken_asc",
        "ranking_rule-3": "submitted_at_asc",
        "ranking_rule-4": "",
        "ranking_rule-5": "",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


@pytest.mark.parametrize("role", ["contestant", "judge"])
def test_contestants_and_judges_get_403_everywhere(app, client, role):
    cid, rid, _ = _contest_with_round(app)
    _, phone = create_account(app, role=role)
    login(client, phone)
    for method, path in PAGES:
        response = getattr(client, method)(path.format(cid=cid, rid=rid), data={"title": "x", "published": "1"})
        assert response.status_code == 403, (method, path)
    with app.app_context():
        assert db.session.get(Contest, cid).title == "Tìm hiểu Hiến pháp"
        assert db.session.get(Contest, cid).published is False
        assert db.session.get(Round, rid) is not None


def test_anonymous_visitors_are_sent_to_login(app, client):
    cid, rid, _ = _contest_with_round(app)
    for method, path in PAGES:
        response = getattr(client, method)(path.format(cid=cid, rid=rid))
        assert response.status_code == 302 and "/dang-nhap" in response.headers["Location"], (method, path)


def test_admin_passes_the_organiser_guard(app, client):
    _, phone = create_account(app, role="admin")
    login(client, phone)
    assert client.get("/quan-tri/cuoc-thi/").status_code == 200


def test_create_contest_with_banner_and_units(app, client, tmp_path):
    app.config["UPLOAD_DIR"] = str(tmp_path)
    from contest.accounts.models import Unit

    with app.app_context():
        province = Unit(name="Tỉnh Nghệ An")
        db.session.add(province)
        db.session.flush()
        db.session.add(Unit(name="Sở Tư pháp Nghệ An", parent_id=province.id))
        db.session.commit()
        province_id = province.id
    _organiser(app, client)
    page = client.get("/quan-tri/cuoc-thi/moi").get_data(as_text=True)
    assert "Sở Tư pháp Nghệ An" in page and 'name="unit_ids"' in page

    response = client.post(
        "/quan-tri/cuoc-thi/moi",
        content_type="multipart/form-data",
        data={
            "title": "Tìm hiểu pháp luật về đất đai",
            "description": "Cuộc thi dành cho mọi người dân.",
            "rules_text": "Điều 1. Đối tượng dự thi.\nMọi công dân.\n\nĐiều 2. <script>alert('x')</script>",
            "unit_ids": [str(province_id)],
            "banner": (io.BytesIO(png_bytes()), "anh-bia.png"),
        },
    )
    assert response.status_code == 302
    with app.app_context():
        contest = db.session.scalar(select(Contest))
        assert contest.slug == "tim-hieu-phap-luat-ve-dat-dai"
        assert [u.id for u in contest.eligible_units] == [province_id]
        assert re.fullmatch(rf"{contest.id}-[0-9a-f]{{16}}\.png", contest.banner_path)
        banner_name, contest_id = contest.banner_path, contest.id

    page = client.get(f"/quan-tri/cuoc-thi/{contest_id}").get_data(as_text=True)
    assert "Đã tạo cuộc thi" in page
    # the rules are shown as text: the script tag is escaped, paragraphs and line breaks kept
    assert "<script>alert" not in page
    assert "<p>Điều 1. Đối tượng dự thi.<br>Mọi công dân.</p><p>Điều 2. &lt;script&gt;" in page
    assert f'src="/anh-bia/{banner_name}"' in page

    client.post("/dang-xuat")
    served = client.get(f"/anh-bia/{banner_name}")  # public: contestants' pages show it
    assert served.status_code == 200 and served.mimetype == "image/png"
    assert served.data == png_bytes()
    assert client.get("/anh-bia/..%2Fcontest.db").status_code == 404
    assert client.get("/anh-bia/1-0123456789abcdef.png").status_code == 404


def test_bad_banner_is_refused_and_creates_nothing(app, client, tmp_path):
    app.config["UPLOAD_DIR"] = str(tmp_path)
    _organiser(app, client)
    response = client.post(
        "/quan-tri/cuoc-thi/moi",
        content_type="multipart/form-data",
        data={
            "title": "Cuộc thi",
            "banner": (io.BytesIO(b"MZ\x90\x00 not an image"), "anh.png"),
        },
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Tệp tải lên không phải ảnh hợp lệ. Chỉ nhận ảnh JPEG, PNG hoặc WebP." in page
    assert 'id="banner-error"' in page
    with app.app_context():
        assert db.session.scalar(select(func.count(Contest.id))) == 0
    assert not list(tmp_path.rglob("*.png"))


def test_replace_and_remove_banner_on_edit(app, client, tmp_path):
    app.config["UPLOAD_DIR"] = str(tmp_path)
    cid, _, _ = _contest_with_round(app)
    _organiser(app, client)
    url = f"/quan-tri/cuoc-thi/{cid}"
    assert (
        client.post(
            url,
            content_type="multipart/form-data",
            data={"title": "Tên mới", "banner": (io.BytesIO(png_bytes(fmt="WEBP")), "x.webp")},
        ).status_code
        == 302
    )
    with app.app_context():
        contest = db.session.get(Contest, cid)
        assert contest.title == "Tên mới" and contest.banner_path.endswith(".webp")
    assert client.post(url, data={"title": "Tên mới", "remove_banner": "y"}).status_code == 302
    with app.app_context():
        assert db.session.get(Contest, cid).banner_path is None
    assert not list((tmp_path / "banners").iterdir())


def test_publish_and_unpublish(app, client):
    _organiser(app, client)
    client.post("/quan-tri/cuoc-thi/moi", data={"title": "Chưa có tuần thi"})
    with app.app_context():
        empty_id = db.session.scalar(select(Contest.id))
    refused = client.post(f"/quan-tri/cuoc-thi/{empty_id}/cong-bo", data={"published": "1"}, follow_redirects=True)
    assert "Cuộc thi cần ít nhất một tuần thi trước khi công bố." in refused.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Contest, empty_id).published is False

    cid, _, _ = _contest_with_round(app)
    page = client.post(f"/quan-tri/cuoc-thi/{cid}/cong-bo", data={"published": "1"}, follow_redirects=True)
    assert "Đã công bố cuộc thi." in page.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Contest, cid).published is True
    client.post(f"/quan-tri/cuoc-thi/{cid}/cong-bo", data={"published": "0"})
    with app.app_context():
        assert db.session.get(Contest, cid).published is False


def test_round_times_are_entered_and_shown_in_vietnam_time(app, client):
    with app.app_context():
        category_id, _ = seed_bank()
    _organiser(app, client)
    client.post("/quan-tri/cuoc-thi/moi", data={"title": "Cuộc thi"})
    with app.app_context():
        cid = db.session.scalar(select(Contest.id))
    new_page = client.get(f"/quan-tri/cuoc-thi/{cid}/tuan-thi/moi").get_data(as_text=True)
    assert 'value="Tuần thi thứ 1"' in new_page and 'value="1"' in new_page

    # 05:30 on 2 December in Hà Nội is still 1 December in UTC
    form = _round_form(category_id, opens_at="2026-12-02T05:30", closes_at="2026-12-09T05:30", attempts_allowed="")
    response = client.post(f"/quan-tri/cuoc-thi/{cid}/tuan-thi/moi", data=form)
    assert response.status_code == 302, response.get_data(as_text=True)
    with app.app_context():
        rnd = db.session.scalar(select(Round))
        assert (rnd.opens_at, rnd.closes_at) == (datetime(2026, 12, 1, 22, 30), datetime(2026, 12, 8, 22, 30))
        assert rnd.attempts_allowed is None
        assert rnd.blueprint == [
            {"category_id": category_id, "count": 4, "difficulty": "easy"},
            {"category_id": None, "count": 2, "difficulty": "hard"},
        ]
        assert rnd.ranking_rule == ["correct_desc", "prediction_distance_asc", "time_taken_asc", "submitted_at_asc"]
        rid = rnd.id
    edit = client.get(f"/quan-tri/cuoc-thi/{cid}/tuan-thi/{rid}").get_data(as_text=True)
    assert 'value="2026-12-02T05:30"' in edit and 'value="2026-12-09T05:30"' in edit
    listing = client.get(f"/quan-tri/cuoc-thi/{cid}").get_data(as_text=True)
    assert "02/12/2026 05:30 – 09/12/2026 05:30" in listing
    assert "Không giới hạn" in listing


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"closes_at": "2026-11-30T08:00"}, "Thời gian đóng phải sau thời gian mở."),
        ({"opens_at": "mai"}, "Thời gian không hợp lệ. Nhập theo dạng ngày/tháng/năm giờ:phút."),
        ({"time_limit_minutes": "hai mươi"}, "Thời gian làm bài phải là số phút (số nguyên)."),
        ({"blueprint-0-count": "9"}, "Quy tắc 1: cần 9 câu nhưng ngân hàng chỉ còn 6 câu đã duyệt phù hợp."),
        ({"blueprint-0-count": "", "blueprint-1-count": ""}, "Đề thi cần ít nhất một quy tắc chọn câu hỏi."),
        (
            {"ranking_rule-0": "time_taken_asc", "ranking_rule-2": "correct_desc"},
            "Tiêu chí xếp hạng đầu tiên phải là “Nhiều câu trả lời đúng hơn”.",
        ),
        ({"prediction_enabled": None}, "Câu hỏi dự đoán đang tắt nên không thể dùng tiêu chí “Dự đoán gần đúng hơn”."),
    ],
)
def test_round_form_errors_are_vietnamese_and_save_nothing(app, client, overrides, message):
    with app.app_context():
        category_id, _ = seed_bank()
    _organiser(app, client)
    client.post("/quan-tri/cuoc-thi/moi", data={"title": "Cuộc thi"})
    with app.app_context():
        cid = db.session.scalar(select(Contest.id))
    response = client.post(f"/quan-tri/cuoc-thi/{cid}/tuan-thi/moi", data=_round_form(category_id, **overrides))
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert message in page
    assert "Chưa lưu. Vui lòng sửa các lỗi được đánh dấu bên dưới." in page
    with app.app_context():
        assert db.session.scalar(select(func.count(Round.id))) == 0


def test_unsatisfiable_blueprint_keeps_what_was_typed(app, client):
    with app.app_context():
        category_id, _ = seed_bank()
    _organiser(app, client)
    client.post("/quan-tri/cuoc-thi/moi", data={"title": "Cuộc thi"})
    with app.app_context():
        cid = db.session.scalar(select(Contest.id))
    page = client.post(
        f"/quan-tri/cuoc-thi/{cid}/tuan-thi/moi", data=_round_form(category_id, **{"blueprint-1-count": "3"})
    ).get_data(as_text=True)
    assert "Quy tắc 2: cần 3 câu nhưng ngân hàng chỉ còn 2 câu đã duyệt phù hợp." in page
    assert 'value="2026-12-01T08:00"' in page and 'name="blueprint-1-count" type="number" value="3"' in page


def test_round_with_attempts_refuses_blueprint_change_but_accepts_a_new_title(app, client):
    cid, rid, category_id = _contest_with_round(app)
    user_id, _ = create_account(app)
    with app.app_context():
        add_attempt(db.session.get(Round, rid), user_id)
    _organiser(app, client)
    url = f"/quan-tri/cuoc-thi/{cid}/tuan-thi/{rid}"
    page = client.get(url).get_data(as_text=True)
    assert "Tuần thi này đã có 1 lượt thi" in page
    assert "Tuần thi đã có lượt thi nên không thể xóa." in page

    base = _round_form(
        category_id,
        **{
            "blueprint-0-category_id": str(category_id),
            "blueprint-0-difficulty": "",
            "blueprint-0-count": "5",
            "blueprint-1-count": "",
            "attempts_allowed": "1",
        },
    )
    changed = client.post(url, data={**base, "blueprint-0-count": "4", "time_limit_minutes": "30"})
    assert changed.status_code == 422
    text = changed.get_data(as_text=True)
    assert "Tuần thi đã có lượt thi nên không thể thay đổi đề thi (cấu trúc câu hỏi)." in text
    assert "Tuần thi đã có lượt thi nên không thể thay đổi thời gian làm bài." in text
    with app.app_context():
        rnd = db.session.get(Round, rid)
        assert rnd.question_count == 5 and rnd.time_limit_seconds == 1200

    renamed = client.post(url, data={**base, "title": "Tuần thi thứ nhất (gia hạn)", "closes_at": "2026-12-08T20:00"})
    assert renamed.status_code == 302, renamed.get_data(as_text=True)
    with app.app_context():
        rnd = db.session.get(Round, rid)
        assert rnd.title == "Tuần thi thứ nhất (gia hạn)" and rnd.closes_at == datetime(2026, 12, 8, 13, 0)

    assert client.post(f"{url}/xoa").status_code == 302
    with app.app_context():
        assert db.session.get(Round, rid) is not None


def test_delete_round_without_attempts(app, client):
    cid, rid, _ = _contest_with_round(app)
    _organiser(app, client)
    page = client.post(f"/quan-tri/cuoc-thi/{cid}/tuan-thi/{rid}/xoa", follow_redirects=True).get_data(as_text=True)
    assert "Đã xóa tuần thi số 1." in page
    with app.app_context():
        assert db.session.get(Round, rid) is None


def test_a_round_of_another_contest_is_not_found(app, client):
    cid, rid, _ = _contest_with_round(app)
    _organiser(app, client)
    client.post("/quan-tri/cuoc-thi/moi", data={"title": "Cuộc thi khác"})
    with app.app_context():
        other = db.session.scalar(select(Contest.id).where(Contest.id != cid))
    assert client.get(f"/quan-tri/cuoc-thi/{other}/tuan-thi/{rid}").status_code == 404
    assert client.get("/quan-tri/cuoc-thi/999999").status_code == 404


def test_contest_list_shows_status_and_round_count(app, client):
    _contest_with_round(app)
    _organiser(app, client)
    page = client.get("/quan-tri/cuoc-thi/").get_data(as_text=True)
    assert "Tìm hiểu Hiến pháp" in page and "Chưa công bố" in page
    assert re.search(r"<td>1</td>", page)
    assert 'href="/quan-tri/cuoc-thi/"' in client.get("/").get_data(as_text=True)  # nav link for organisers


def test_same_round_number_saved_at_once_gets_a_field_error_not_a_500(any_db_app):
    """Two organisers save round 1 of one contest at the same moment. Each save's check sees no round 1
    (the other is not committed yet); the database's unique constraint refuses the second INSERT. That
    organiser gets the number field's error and nothing of the refused round is written."""
    import threading

    from contest.organise.services import create_contest, create_round
    from tests.contest.organise.test_organise_services import round_input

    app = any_db_app
    with app.app_context():
        category_id, _ = seed_bank()
        contest_id = create_contest(title="Tìm hiểu Hiến pháp").id
    client = app.test_client()
    _organiser(app, client)
    replies = []

    def second_organiser():
        form = _round_form(
            category_id,
            number="1",
            title="Tuần thi của người thứ hai",
            opens_at="2026-12-10T08:00",
            closes_at="2026-12-15T20:00",
        )
        try:
            replies.append(client.post(f"/quan-tri/cuoc-thi/{contest_id}/tuan-thi/moi", data=form))
        except Exception as exc:  # the testing app propagates what would be a 500
            replies.append(exc)

    sent_insert = threading.Event()

    def note_insert(conn, cursor, statement, parameters, context, executemany):
        if threading.current_thread() is thread and statement.lstrip().upper().startswith("INSERT INTO ROUNDS"):
            sent_insert.set()

    with app.app_context():
        # the first organiser's round 1 is written but not committed: it holds the unique index entry
        create_round(db.session.get(Contest, contest_id), round_input(category_id, number=1), commit=False)
        thread = threading.Thread(target=second_organiser)
        event.listen(db.engine, "before_cursor_execute", note_insert)
        try:
            thread.start()
            # the second save passed its checks (they saw no round 1) and sends its INSERT, which waits on the row
            assert sent_insert.wait(30), "the second save never reached its INSERT"
        finally:
            event.remove(db.engine, "before_cursor_execute", note_insert)
        assert thread.is_alive(), "the second save should be waiting on the first one's uncommitted row"
        db.session.commit()
        thread.join(30)
    [response] = replies
    assert not isinstance(response, Exception), repr(response)
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert re.search(r'id="number-error"[^>]*>\s*Cuộc thi đã có tuần thi số 1\.', html), html[:3000]
    assert "Tuần thi của người thứ hai" in html  # what the organiser typed is kept
    with app.app_context():
        rounds = db.session.execute(select(Round.number, Round.title).where(Round.contest_id == contest_id)).all()
        assert rounds == [(1, "Tuần thi thứ nhất")]
