"""An organiser, on a phone, creates a contest and a round, meets the unsatisfiable-blueprint error, fixes it, publishes.

Also: the round form works with JavaScript turned off.
"""

import io
from datetime import datetime

import pytest
from PIL import Image
from playwright.sync_api import expect
from sqlalchemy import select

from contest.accounts.models import Unit
from contest.organise.services import create_contest
from contest.rounds.models import Contest, Round
from infra.extensions import db
from tests.browser.session import log_in
from tests.conftest import create_account, make_app
from tests.contest.organise.test_organise_services import seed_bank

pytestmark = pytest.mark.browser


def _png():
    buffer = io.BytesIO()
    Image.new("RGB", (120, 40), (20, 80, 160)).save(buffer, format="PNG")
    return buffer.getvalue()


def test_organiser_creates_contest_and_round(page, server_factory, redis_url, tmp_path):
    server = server_factory(CONTEST_VAR_DIR=str(tmp_path))
    base = server.url
    app = make_app(server_factory.database_url, redis_url)
    with app.app_context():
        category_id, _ = seed_bank(easy=6, hard=2)  # 8 approved questions in "Hiến pháp"
        province = Unit(name="Thành phố Hà Nội")
        db.session.add(province)
        db.session.commit()
    _, phone = create_account(app, role="organiser", full_name="Lê Văn Tổ Chức")

    log_in(page, base, phone, "matkhau123")
    page.get_by_role("link", name="Cuộc thi", exact=True).click()
    page.get_by_role("link", name="Tạo cuộc thi mới").click()

    page.get_by_label("Tên cuộc thi").fill("Tìm hiểu Hiến pháp năm 2026")
    page.get_by_label("Thể lệ").fill("Điều 1. Mọi công dân được dự thi.\n\nĐiều 2. <b>Không</b> dùng HTML.")
    page.get_by_label("Ảnh bìa (JPEG, PNG hoặc WebP, tối đa 2 MB)").set_input_files(
        files=[{"name": "bia.png", "mimeType": "image/png", "buffer": _png()}]
    )
    page.get_by_label("Thành phố Hà Nội").check()
    page.get_by_role("button", name="Lưu cuộc thi").click()
    expect(page.get_by_text("Đã tạo cuộc thi “Tìm hiểu Hiến pháp năm 2026”. Hãy thêm tuần thi.")).to_be_visible()
    expect(page.locator(".rules-text")).to_contain_text("Điều 2. <b>Không</b> dùng HTML.")  # shown as text
    banner = page.get_by_role("img", name="Ảnh bìa hiện tại của cuộc thi")
    expect(banner).to_be_visible()
    assert banner.evaluate("img => img.naturalWidth") == 120  # served by the banner route and decoded

    page.get_by_role("link", name="Thêm tuần thi").click()
    expect(page.get_by_label("Tên tuần thi")).to_have_value("Tuần thi thứ 1")
    page.get_by_label("Thời gian mở (giờ Việt Nam)").fill("2026-12-01T08:00")
    page.get_by_label("Thời gian đóng (giờ Việt Nam)").fill("2026-12-07T20:00")
    page.get_by_label("Thời gian làm bài (phút)").fill("15")
    page.get_by_label("Số lượt thi tối đa của mỗi người").fill("")
    page.locator("#blueprint-0-category_id").select_option(label="Hiến pháp")
    page.locator("#blueprint-0-count").fill("10")
    expect(page.locator("#blueprint-total")).to_have_text("Tổng số câu mỗi lượt thi: 10")
    page.get_by_role("button", name="Lưu tuần thi").click()

    error = page.locator("#blueprint-error")
    expect(error).to_have_text("Quy tắc 1: cần 10 câu nhưng ngân hàng chỉ còn 8 câu đã duyệt phù hợp.")
    expect(page.get_by_text("Chưa lưu. Vui lòng sửa các lỗi được đánh dấu bên dưới.")).to_be_visible()
    expect(page.get_by_label("Thời gian mở (giờ Việt Nam)")).to_have_value("2026-12-01T08:00")  # nothing retyped

    # fix it: 4 easy questions from the category plus, in a row added by the script, 2 hard ones
    page.locator("#blueprint-0-difficulty").select_option(label="Dễ")
    page.locator("#blueprint-0-count").fill("4")
    rows_before = page.locator("[data-row]").count()
    page.get_by_role("button", name="Thêm quy tắc").click()
    rows = page.locator("[data-row]")
    expect(rows).to_have_count(rows_before + 1)
    new_row = rows.last
    expect(new_row.locator("legend")).to_have_text(f"Quy tắc {rows_before + 1}")
    new_row.locator("select[name$='-difficulty']").select_option(label="Khó")
    new_row.locator("input[name$='-count']").fill("2")
    expect(page.locator("#blueprint-total")).to_have_text("Tổng số câu mỗi lượt thi: 6")
    page.get_by_role("button", name="Lưu tuần thi").click()

    expect(page.get_by_text("Đã tạo tuần thi số 1.")).to_be_visible()
    expect(page.get_by_role("cell", name="01/12/2026 08:00 – 07/12/2026 20:00")).to_be_visible()
    expect(page.get_by_role("cell", name="Không giới hạn")).to_be_visible()
    with app.app_context():
        rnd = db.session.scalar(select(Round))
        assert (rnd.opens_at, rnd.closes_at) == (datetime(2026, 12, 1, 1, 0), datetime(2026, 12, 7, 13, 0))
        assert rnd.time_limit_seconds == 900 and rnd.attempts_allowed is None
        assert rnd.blueprint == [
            {"category_id": category_id, "count": 4, "difficulty": "easy"},
            {"category_id": None, "count": 2, "difficulty": "hard"},
        ]

    # reopening the round shows the same Việt Nam wall-clock times that were typed
    page.get_by_role("link", name="Tuần thi thứ 1").click()
    expect(page.get_by_label("Thời gian mở (giờ Việt Nam)")).to_have_value("2026-12-01T08:00")
    expect(page.get_by_label("Thời gian đóng (giờ Việt Nam)")).to_have_value("2026-12-07T20:00")
    page.get_by_role("link", name="Tìm hiểu Hiến pháp năm 2026").click()

    page.get_by_role("button", name="Công bố cuộc thi").click()
    expect(page.get_by_text("Đã công bố cuộc thi.")).to_be_visible()
    with app.app_context():
        contest = db.session.scalar(select(Contest))
        assert contest.published is True
        assert [u.name for u in contest.eligible_units] == ["Thành phố Hà Nội"]
        assert (tmp_path / "uploads" / "banners" / contest.banner_path).exists()


def test_round_form_works_without_javascript(browser, server_factory, redis_url, tmp_path):
    server = server_factory(CONTEST_VAR_DIR=str(tmp_path))
    app = make_app(server_factory.database_url, redis_url)
    with app.app_context():
        category_id, child_id = seed_bank(easy=6, hard=2, child_easy=3)
        contest_id = create_contest(title="Cuộc thi không cần JavaScript").id
    _, phone = create_account(app, role="organiser")
    context = browser.new_context(java_script_enabled=False, locale="vi-VN", viewport={"width": 390, "height": 844})
    try:
        page = context.new_page()
        page.set_default_timeout(15000)
        log_in(page, server.url, phone, "matkhau123")
        page.goto(f"{server.url}/quan-tri/cuoc-thi/{contest_id}/tuan-thi/moi")
        expect(page.get_by_role("button", name="Thêm quy tắc")).to_have_count(0)  # no script, spare rows instead
        expect(page.locator("[data-row]")).to_have_count(3)
        page.get_by_label("Thời gian mở (giờ Việt Nam)").fill("2026-12-14T00:00")
        page.get_by_label("Thời gian đóng (giờ Việt Nam)").fill("2026-12-20T23:59")
        page.locator("#blueprint-0-category_id").select_option(label="Hiến pháp")
        page.locator("#blueprint-0-count").fill("5")
        page.locator("#blueprint-1-category_id").select_option(label="— Quyền con người")
        page.locator("#blueprint-1-count").fill("3")
        page.locator("#blueprint-2-category_id").select_option(label="Hiến pháp")
        page.locator("#blueprint-2-difficulty").select_option(label="Khó")
        page.locator("#blueprint-2-count").fill("2")
        page.get_by_label("Tiêu chí 2").select_option(label="Thời gian làm bài ngắn hơn")
        page.get_by_label("Tiêu chí 3").select_option(label="Dự đoán gần đúng hơn")
        page.get_by_role("button", name="Lưu tuần thi").click()
        expect(page.get_by_text("Đã tạo tuần thi số 1.")).to_be_visible()
        with app.app_context():
            rnd = db.session.scalar(select(Round))
            # midnight in Hà Nội is 17:00 the day before in UTC
            assert rnd.opens_at == datetime(2026, 12, 13, 17, 0)
            assert rnd.question_count == 10
            assert rnd.ranking_rule[:3] == ["correct_desc", "time_taken_asc", "prediction_distance_asc"]
            rid = rnd.id
        page.goto(f"{server.url}/quan-tri/cuoc-thi/{contest_id}/tuan-thi/{rid}")
        # three rules filled: a fourth, blank row is offered so a rule can be added without a script
        expect(page.locator("[data-row]")).to_have_count(4)
        expect(page.locator("#blueprint-3-count")).to_have_value("")
        expect(page.locator("#blueprint-1-category_id")).to_have_value(str(child_id))
    finally:
        context.close()
