"""A reviewer returns a draft to its author with a comment: kept in the history, shown to the author, audited;
the author edits it (which resubmits it) and a reviewer can then approve it. Plus the question form's
option errors next to the options and the list's result count."""

from sqlalchemy import select

from contest.audit.models import AuditEntry
from infra.extensions import db
from question_bank.models import Question, ReviewNote
from question_bank.services import add_category
from tests.conftest import create_account, login
from tests.question_bank.test_bank_routes import question_form


def test_return_to_author_with_a_comment_then_resubmit_and_approve(app, client):
    with app.app_context():
        cat_id = add_category("Phổ biến, giáo dục pháp luật").id
    author, author_phone = create_account(app, role="organiser", full_name="Người Soạn")
    reviewer, reviewer_phone = create_account(app, role="organiser", full_name="Người Duyệt")
    login(client, author_phone)
    assert client.post("/quan-tri/ngan-hang/cau-hoi/moi", data=question_form(cat_id)).status_code == 302
    with app.app_context():
        qid = db.session.scalar(select(Question.id))
    # the author cannot return their own question
    own = client.post(f"/quan-tri/ngan-hang/cau-hoi/{qid}/tra-lai", data={"comment": "Tự trả"})
    assert own.status_code == 422 and "không trả lại câu hỏi của chính mình" in own.get_data(as_text=True)
    client.post("/dang-xuat")

    login(client, reviewer_phone)
    page = client.get(f"/quan-tri/ngan-hang/cau-hoi/{qid}").get_data(as_text=True)
    assert "Trả lại người soạn kèm nhận xét" in page
    empty = client.post(f"/quan-tri/ngan-hang/cau-hoi/{qid}/tra-lai", data={"comment": "   "})
    assert empty.status_code == 422 and "Vui lòng ghi nhận xét" in empty.get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Question, qid).returned_at is None  # a refused return changes nothing
    done = client.post(
        f"/quan-tri/ngan-hang/cau-hoi/{qid}/tra-lai",
        data={"comment": "Thiếu khoản của Điều 8; ghi rõ căn cứ."},
        follow_redirects=True,
    )
    html = done.get_data(as_text=True)
    assert "Đã trả lại câu hỏi" in html and "Thiếu khoản của Điều 8; ghi rõ căn cứ." in html
    # returned: it cannot be approved until the author resubmits
    refused = client.post(
        "/quan-tri/ngan-hang/hang-loat", data={"ids": str(qid), "action": "approve"}, follow_redirects=True
    )
    assert "chờ người soạn sửa và gửi duyệt lại" in refused.get_data(as_text=True)
    listed = client.get("/quan-tri/ngan-hang/?status=returned").get_data(as_text=True)
    assert "Bị trả lại" in listed and "1 câu hỏi phù hợp" in listed
    with app.app_context():
        entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "question_return"))
        assert (entry.actor_id, entry.object_type, entry.object_id) == (reviewer, "question", qid)
        assert entry.details["comment"] == "Thiếu khoản của Điều 8; ghi rõ căn cứ."
    client.post("/dang-xuat")

    login(client, author_phone)
    page = client.get(f"/quan-tri/ngan-hang/cau-hoi/{qid}").get_data(as_text=True)
    assert "Người Duyệt đã trả lại câu hỏi" in page and "Thiếu khoản của Điều 8" in page
    assert "Hãy sửa câu hỏi" in page
    form_page = client.get(f"/quan-tri/ngan-hang/cau-hoi/{qid}/sua").get_data(as_text=True)
    assert "Thiếu khoản của Điều 8" in form_page
    saved = client.post(
        f"/quan-tri/ngan-hang/cau-hoi/{qid}/sua",
        data=question_form(cat_id, legal_article="Điều 8, khoản 1"),
        follow_redirects=True,
    )
    assert "Câu hỏi đã được gửi duyệt lại." in saved.get_data(as_text=True)
    with app.app_context():
        q = db.session.get(Question, qid)
        assert q.returned_at is None and q.status == "draft"
        assert [n.kind for n in db.session.scalars(select(ReviewNote).order_by(ReviewNote.id))] == [
            "return",
            "resubmit",
        ]
        update = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "question_update"))
        assert update.details["resubmitted"] is True
    history = client.get(f"/quan-tri/ngan-hang/cau-hoi/{qid}").get_data(as_text=True)
    assert "Lịch sử duyệt" in history and "đã sửa và gửi duyệt lại" in history
    client.post("/dang-xuat")

    login(client, reviewer_phone)
    ok = client.post(
        "/quan-tri/ngan-hang/hang-loat", data={"ids": str(qid), "action": "approve"}, follow_redirects=True
    )
    assert "Đã duyệt 1 câu hỏi." in ok.get_data(as_text=True)


def test_option_errors_show_next_to_the_options(app, client):
    with app.app_context():
        cat_id = add_category("Hiến pháp").id
    _uid, phone = create_account(app, role="organiser")
    login(client, phone)
    page = client.post("/quan-tri/ngan-hang/cau-hoi/moi", data=question_form(cat_id, correct_0=""))
    html = page.get_data(as_text=True)
    assert page.status_code == 422
    error_at = html.index('id="options-error"')
    assert html.index('id="option-rows"') > error_at > html.index("<legend>Phương án trả lời")
    assert "Chưa có phương án đúng." in html[error_at : error_at + 200]
    # shown beside the options even when another field is wrong too
    both = client.post("/quan-tri/ngan-hang/cau-hoi/moi", data=question_form(cat_id, correct_0="", stem=""))
    assert 'id="options-error"' in both.get_data(as_text=True) and "Vui lòng nhập nội dung câu hỏi." in both.get_data(
        as_text=True
    )
    # one option only: refused by the server whatever the page's script allows
    lonely = client.post("/quan-tri/ngan-hang/cau-hoi/moi", data=question_form(cat_id, option_1=""))
    assert lonely.status_code == 422 and "từ 2 đến 6" in lonely.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(Question.id)) is None


def test_list_shows_the_result_count(app, client):
    with app.app_context():
        cat_id = add_category("Giao thông").id
    _uid, phone = create_account(app, role="organiser")
    login(client, phone)
    for stem in ("Đường bộ một?", "Đường bộ hai?", "Đường thủy?"):
        client.post("/quan-tri/ngan-hang/cau-hoi/moi", data=question_form(cat_id, stem=stem))
    assert "3 câu hỏi" in client.get("/quan-tri/ngan-hang/").get_data(as_text=True)
    found = client.get("/quan-tri/ngan-hang/?q=duong+bo").get_data(as_text=True)
    assert "2 câu hỏi phù hợp" in found
    # the filters fold away unless one beyond the search is active
    assert '<details class="bank-filter-box" id="bank-filters">' in found
    assert 'id="bank-filters" open' in client.get("/quan-tri/ngan-hang/?difficulty=easy").get_data(as_text=True)
