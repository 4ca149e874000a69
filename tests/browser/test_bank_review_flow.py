"""Organiser A writes a question with a preview, organiser B finds it by an unaccented search and approves it."""

import pytest
from playwright.sync_api import expect

from infra.extensions import db
from question_bank.services import add_category
from tests.browser.session import log_in, log_out
from tests.conftest import create_account, make_app

pytestmark = pytest.mark.browser


def test_two_organisers_write_and_approve_a_question(page, live_server, server_factory, redis_url):
    app = make_app(server_factory.database_url, redis_url)
    with app.app_context():
        add_category("Giao thông đường bộ")
        db.session.remove()
    _a, phone_a = create_account(app, role="organiser", full_name="Nguyễn Văn Soạn")
    _b, phone_b = create_account(app, role="organiser", full_name="Trần Thị Duyệt")
    base = live_server.url

    log_in(page, base, phone_a)
    page.get_by_role("link", name="Ngân hàng câu hỏi").click()
    page.get_by_role("link", name="Soạn câu hỏi").click()
    page.get_by_label("Chủ đề").select_option(label="Giao thông đường bộ")
    page.get_by_label("Nội dung câu hỏi").fill("Người đi xe mô tô trên đường bộ có bắt buộc đội mũ bảo hiểm không?")
    page.get_by_label("Phương án A", exact=True).fill("Bắt buộc, và phải cài quai đúng quy cách")
    page.get_by_label("Phương án A là đáp án đúng").check()
    page.get_by_label("Phương án B", exact=True).fill("Không bắt buộc")
    page.get_by_label("Văn bản pháp luật làm căn cứ").fill("Luật Trật tự, an toàn giao thông đường bộ năm 2024")
    page.get_by_label("Độ khó").select_option(label="Dễ")
    page.get_by_role("button", name="Xem trước").click()
    preview = page.get_by_label("Xem trước như thí sinh")
    expect(preview).to_contain_text("Không bắt buộc")
    # the preview is what a contestant sees: radio buttons, no key
    expect(preview.locator("input[type=radio]")).to_have_count(2)
    page.get_by_role("button", name="Lưu câu hỏi").click()
    expect(page.get_by_text("chờ một thành viên khác duyệt")).to_be_visible()
    expect(page.get_by_text("Câu hỏi do bạn soạn cần một thành viên khác của Ban tổ chức duyệt.")).to_be_visible()
    expect(page.get_by_role("button", name="Duyệt câu hỏi")).to_have_count(0)
    log_out(page)

    log_in(page, base, phone_b)
    page.goto(base + "/quan-tri/ngan-hang/")
    page.get_by_label("Tìm theo nội dung (không cần gõ dấu)").fill("mu bao hiem")
    page.get_by_text("Bộ lọc", exact=True).click()  # the filters fold away until opened
    page.get_by_label("Trạng thái").select_option(label="Nháp")
    page.get_by_role("button", name="Tìm", exact=True).click()
    page.get_by_role("link", name="Người đi xe mô tô trên đường bộ có bắt buộc đội mũ bảo hiểm không?").click()
    expect(page.locator("#correct-answer")).to_have_text("A. Bắt buộc, và phải cài quai đúng quy cách")
    page.get_by_role("button", name="Duyệt câu hỏi").click()
    expect(page.get_by_text("Đã duyệt 1 câu hỏi.")).to_be_visible()
    expect(page.get_by_text("Trần Thị Duyệt")).to_be_visible()

    page.goto(base + "/quan-tri/ngan-hang/?q=DUONG+BO+mo+to&status=approved")
    expect(
        page.get_by_role("link", name="Người đi xe mô tô trên đường bộ có bắt buộc đội mũ bảo hiểm không?")
    ).to_be_visible()
