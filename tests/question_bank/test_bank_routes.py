"""Organiser pages: role guard, create with preview, two-person approval, search, bulk, import, export."""

import io

from sqlalchemy import func, select

from infra.extensions import db
from question_bank.models import Category, Question
from question_bank.services import add_category, import_questions
from tests.conftest import create_account, login


def organiser(app, client):
    uid, phone = create_account(app, role="organiser")
    login(client, phone)
    return uid


def question_form(category_id, **extra):
    data = {
        "category_id": category_id,
        "stem": "Ngày Pháp luật Việt Nam là ngày nào?",
        "difficulty": "easy",
        "option_0": "Ngày 9 tháng 11",
        "correct_0": "y",
        "option_1": "Ngày 2 tháng 9",
        "legal_document": "Luật Phổ biến, giáo dục pháp luật năm 2012",
        "legal_article": "Điều 8",
        "tags": "ngày pháp luật, luật pbgdpl",
    }
    data.update(extra)
    return data


def test_contestants_are_refused(app, client):
    _uid, phone = create_account(app)
    login(client, phone)
    assert client.get("/quan-tri/ngan-hang/").status_code == 403
    assert client.post("/quan-tri/ngan-hang/hang-loat", data={"ids": "1", "action": "approve"}).status_code == 403


def test_create_preview_then_save_and_second_organiser_approves(app, client):
    with app.app_context():
        cat_id = add_category("Phổ biến, giáo dục pháp luật").id
    author = organiser(app, client)
    page = client.post("/quan-tri/ngan-hang/cau-hoi/moi", data=question_form(cat_id, preview="y"))
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "Xem trước (như thí sinh thấy)" in html and "Ngày 9 tháng 11" in html
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Question)) == 0  # preview saves nothing

    bad = client.post("/quan-tri/ngan-hang/cau-hoi/moi", data=question_form(cat_id, correct_0=""))
    assert bad.status_code == 422 and "Chưa có phương án đúng." in bad.get_data(as_text=True)

    saved = client.post("/quan-tri/ngan-hang/cau-hoi/moi", data=question_form(cat_id))
    assert saved.status_code == 302
    with app.app_context():
        q = db.session.scalar(select(Question))
        assert (q.author_id, q.status, q.tags, q.correct_positions) == (
            author,
            "draft",
            "ngày pháp luật,luật pbgdpl",
            [0],
        )
        qid = q.id
    own = client.get(f"/quan-tri/ngan-hang/cau-hoi/{qid}").get_data(as_text=True)
    assert "cần một thành viên khác" in own and "Duyệt câu hỏi" not in own
    refused = client.post(
        "/quan-tri/ngan-hang/hang-loat", data={"ids": str(qid), "action": "approve"}, follow_redirects=True
    )
    assert "không được tự duyệt" in refused.get_data(as_text=True)

    client.post("/dang-xuat")
    reviewer = organiser(app, client)
    done = client.post(
        "/quan-tri/ngan-hang/hang-loat", data={"ids": str(qid), "action": "approve"}, follow_redirects=True
    )
    assert "Đã duyệt 1 câu hỏi." in done.get_data(as_text=True)
    with app.app_context():
        q = db.session.get(Question, qid)
        assert (q.status, q.reviewer_id) == ("approved", reviewer)

    again = client.post(
        "/quan-tri/ngan-hang/cau-hoi/moi",
        data=question_form(cat_id, preview="y", stem="NGÀY PHÁP LUẬT Việt Nam là ngày nào"),
    )
    assert "Nội dung gần trùng với câu hỏi đã có:" in again.get_data(as_text=True) and f"#{qid}" in again.get_data(
        as_text=True
    )

    found = client.get("/quan-tri/ngan-hang/?q=ngay+phap+luat&status=approved").get_data(as_text=True)
    assert "Ngày Pháp luật Việt Nam là ngày nào?" in found
    none = client.get("/quan-tri/ngan-hang/?q=ngay+phap+luat&status=draft").get_data(as_text=True)
    assert "Không có câu hỏi nào phù hợp." in none


def test_bulk_move_and_retire_and_paging(app, client):
    organiser(app, client)
    lines = "\n".join(f"Câu số {i}? {{=Đúng ~Sai}}\n" for i in range(55))
    with app.app_context():
        import_questions(lines.encode(), "gift", default_category=["Cũ"])
        target = add_category("Mới").id
        ids = list(db.session.scalars(select(Question.id).order_by(Question.id)))
    first = client.get("/quan-tri/ngan-hang/").get_data(as_text=True)
    assert "Câu số 54?" in first and "Câu số 0?" not in first and "Trang sau" in first
    second = client.get("/quan-tri/ngan-hang/?page=2").get_data(as_text=True)
    assert "Câu số 0?" in second and "Trang sau" not in second
    client.post(
        "/quan-tri/ngan-hang/hang-loat", data={"ids": [str(i) for i in ids[:3]], "action": "move", "target": target}
    )
    client.post("/quan-tri/ngan-hang/hang-loat", data={"ids": [str(ids[0])], "action": "retire"})
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Question).where(Question.category_id == target)) == 3
        assert db.session.get(Question, ids[0]).status == "retired"
    listed = client.get(f"/quan-tri/ngan-hang/?category={target}").get_data(as_text=True)
    assert listed.count('name="ids"') == 3


def test_upload_refuses_with_line_numbers_then_imports(app, client):
    organiser(app, client)
    broken = io.BytesIO("Câu một {=A ~B}\n\nCâu hai không có đáp án\n".encode())
    page = client.post(
        "/quan-tri/ngan-hang/nhap", data={"file": (broken, "bo-de.gift")}, content_type="multipart/form-data"
    )
    html = page.get_data(as_text=True)
    assert page.status_code == 422 and "Dòng 3" in html and "Không nhập câu nào" in html
    ok = io.BytesIO("Câu một {=A ~B}\n\nViết cảm nghĩ. {}\n".encode())
    page = client.post(
        "/quan-tri/ngan-hang/nhap",
        data={"file": (ok, "bo-de.gift"), "skip_unsupported": "y"},
        content_type="multipart/form-data",
    )
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "Kiểm tra xong: sẽ tạo 1 câu hỏi." in html
    marker = 'name="token" type="hidden" value="'
    token = html[html.index(marker) + len(marker) :].split('"', 1)[0]
    page = client.post("/quan-tri/ngan-hang/nhap/xac-nhan", data={"token": token})
    assert page.status_code == 200 and "Đã nhập 1 câu hỏi" in page.get_data(as_text=True)


def test_template_download_imports_back_and_export(app, client):
    organiser(app, client)
    for fmt in ("xlsx", "csv"):
        response = client.get(f"/quan-tri/ngan-hang/mau/{fmt}")
        assert response.status_code == 200
        with app.app_context():
            report = import_questions(response.data, fmt, dry_run=True)
            assert report.parsed == 0 and report.examples == [2, 3]  # the examples are skipped
    with app.app_context():
        import_questions("Thủ đô của Việt Nam? {=Hà Nội ~Huế}\n".encode(), "gift", default_category=["Địa lý"])
    for page in ("/quan-tri/ngan-hang/xuat", "/quan-tri/ngan-hang/nhap"):
        html = client.get(page).get_data(as_text=True)
        assert "Định dạng" in html and "Địa lý" in html if page.endswith("xuat") else "mau-cau-hoi.xlsx" in html
    exported = client.get("/quan-tri/ngan-hang/xuat?format=gift&category_id=0")
    assert exported.status_code == 200 and "Thủ đô của Việt Nam?" in exported.get_data(as_text=True)
    assert "$CATEGORY: $course$/top/Địa lý" in exported.get_data(as_text=True)


def test_category_tree_add_and_move(app, client):
    organiser(app, client)
    client.post("/quan-tri/ngan-hang/chu-de", data={"add-name": "Hiến pháp", "add-parent_id": 0, "add-submit": "y"})
    with app.app_context():
        root = db.session.scalar(select(Category).where(Category.name == "Hiến pháp")).id
    client.post(
        "/quan-tri/ngan-hang/chu-de", data={"add-name": "Quyền con người", "add-parent_id": root, "add-submit": "y"}
    )
    page = client.get("/quan-tri/ngan-hang/chu-de").get_data(as_text=True)
    assert "Quyền con người" in page
    with app.app_context():
        child = db.session.scalar(select(Category).where(Category.name == "Quyền con người"))
        assert child.path == f"/{root}/{child.id}/"
        child_id = child.id
    bad = client.post(
        "/quan-tri/ngan-hang/chu-de",
        data={"move-category_id": root, "move-new_parent_id": child_id, "move-submit_move": "y"},
        follow_redirects=True,
    )
    assert "chính nó" in bad.get_data(as_text=True)
    client.post(
        "/quan-tri/ngan-hang/chu-de",
        data={"rename-category_id": child_id, "rename-new_name": "Quyền công dân", "rename-submit_rename": "y"},
    )
    with app.app_context():
        assert db.session.get(Category, child_id).name == "Quyền công dân"
        import_questions("Câu hỏi? {=a ~b}\n".encode(), "gift", default_category=["Hiến pháp", "Quyền công dân"])
    refused = client.post(
        "/quan-tri/ngan-hang/chu-de",
        data={"delete-category_id": child_id, "delete-submit_delete": "y"},
        follow_redirects=True,
    )
    assert "còn câu hỏi" in refused.get_data(as_text=True)
    refused = client.post(
        "/quan-tri/ngan-hang/chu-de",
        data={"delete-category_id": root, "delete-submit_delete": "y"},
        follow_redirects=True,
    )
    assert "còn chủ đề con" in refused.get_data(as_text=True)
    with app.app_context():
        empty = add_category("Trống").id
    done = client.post(
        "/quan-tri/ngan-hang/chu-de",
        data={"delete-category_id": empty, "delete-submit_delete": "y"},
        follow_redirects=True,
    )
    assert "Đã xóa chủ đề." in done.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Category, empty) is None


def test_bulk_redirects_only_to_paths_on_this_site(app, client):
    organiser(app, client)
    for target in ("//evil.example/x", "https://evil.example/", "/\\evil.example"):
        response = client.post("/quan-tri/ngan-hang/hang-loat", data={"next": target})
        assert response.status_code == 302 and response.headers["Location"].endswith("/quan-tri/ngan-hang/")
    response = client.post("/quan-tri/ngan-hang/hang-loat", data={"next": "/quan-tri/ngan-hang/?page=2"})
    assert response.headers["Location"].endswith("/quan-tri/ngan-hang/?page=2")


def test_edit_page_is_prefilled_and_saving_sends_the_question_back_to_review(app, client):
    with app.app_context():
        cat_id = add_category("Hiến pháp").id
    organiser(app, client)
    client.post("/quan-tri/ngan-hang/cau-hoi/moi", data=question_form(cat_id))
    with app.app_context():
        qid = db.session.scalar(select(Question.id))
    page = client.get(f"/quan-tri/ngan-hang/cau-hoi/{qid}/sua").get_data(as_text=True)
    assert "Ngày Pháp luật Việt Nam là ngày nào?" in page and 'value="Ngày 9 tháng 11"' in page
    assert 'value="ngày pháp luật, luật pbgdpl"' in page
    response = client.post(
        f"/quan-tri/ngan-hang/cau-hoi/{qid}/sua", data=question_form(cat_id, option_1="Ngày 1 tháng 7")
    )
    assert response.status_code == 302
    with app.app_context():
        q = db.session.get(Question, qid)
        assert [o.text for o in q.options] == ["Ngày 9 tháng 11", "Ngày 1 tháng 7"] and q.status == "draft"
    assert client.get("/quan-tri/ngan-hang/cau-hoi/99999").status_code == 404
    client.post("/ngon-ngu/en", data={"next": "/quan-tri/ngan-hang/"})
    assert client.get("/quan-tri/ngan-hang/").status_code == 200  # English UI falls back cleanly
