"""Upload with progress: a broken file is refused with line numbers, a check writes nothing, then "Nhập ngay"
imports the same file without sending it again."""

import pytest
from playwright.sync_api import expect
from sqlalchemy import func, select

from infra.extensions import db
from question_bank.models import Question
from tests.browser.session import log_in
from tests.conftest import create_account, make_app

pytestmark = pytest.mark.browser

BROKEN = "Câu một? {=Có ~Không}\n\nCâu hai thiếu phần đáp án\n\nViết cảm nghĩ về Ngày Pháp luật. {}\n"
GOOD = "$CATEGORY: $course$/top/Ngày Pháp luật\n\nNgày Pháp luật là ngày nào? {=9/11 ~2/9}\n\nViết cảm nghĩ về Ngày Pháp luật. {}\n"


def _upload(page, name, text, *, skip=False):
    page.get_by_label("Tệp câu hỏi (.gift, .txt, .csv, .xlsx)").set_input_files(
        {"name": name, "mimeType": "text/plain", "buffer": text.encode("utf-8")}
    )
    # the form keeps its box after a submission: set it every time
    page.get_by_label("Bỏ qua các câu thuộc loại chưa hỗ trợ", exact=False).set_checked(skip)
    with page.expect_request(lambda r: r.method == "POST" and r.url.endswith("/nhap")) as request:
        page.get_by_role("button", name="Kiểm tra tệp").click()
    # sent by the progress script, not by a plain form post
    assert request.value.resource_type == "xhr"


def test_upload_refuses_then_dry_runs_then_imports(page, live_server, server_factory, redis_url):
    app = make_app(server_factory.database_url, redis_url)
    _uid, phone = create_account(app, role="organiser")
    base = live_server.url
    log_in(page, base, phone)

    page.goto(base + "/quan-tri/ngan-hang/nhap")
    _upload(page, "de-thi.gift", BROKEN)
    report = page.locator("#import-report")
    expect(report).to_contain_text("Không nhập câu nào")
    expect(report).to_contain_text("Dòng 3: thiếu phần đáp án trong dấu { }.")
    expect(report).to_contain_text("Dòng 5: câu hỏi tự luận (essay) chưa được hỗ trợ.")

    _upload(page, "de-thi.gift", GOOD, skip=True)
    expect(page.locator("#import-report")).to_contain_text("Kiểm tra xong: sẽ tạo 1 câu hỏi.")
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Question)) == 0

    page.get_by_role("button", name="Nhập ngay").click()
    expect(page.locator("#import-report")).to_contain_text("Đã nhập 1 câu hỏi", timeout=30000)
    with app.app_context():
        assert db.session.scalar(select(Question.stem)) == "Ngày Pháp luật là ngày nào?"
        db.session.remove()

    # bulk action from the list: select every question on the page, retire them
    page.goto(base + "/quan-tri/ngan-hang/")
    page.get_by_label("Chọn tất cả câu hỏi trên trang này").check()
    expect(page.locator('input[name="ids"]:checked')).to_have_count(1)
    page.get_by_label("Thao tác", exact=True).select_option(label="Ngừng dùng")
    page.get_by_role("button", name="Thực hiện").click()
    expect(page.get_by_text("Đã ngừng dùng 1 câu hỏi.")).to_be_visible()
    with app.app_context():
        assert db.session.scalar(select(Question.status)) == "retired"
        db.session.remove()
