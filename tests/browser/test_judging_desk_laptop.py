"""Issue 14 at 1366×768, a judge's laptop: the ranking table fits, a stale tab cannot undo a disqualification,
and the audit log's filters work.

Before: the judge's pages stayed ~930 px wide and the ranking table was clipped ("Xem xét" out of view); the
disqualify button was a toggle, so a second tab pressing "Loại" silently reinstated the entry."""

import pytest
from playwright.sync_api import expect

from contest.accounts.models import User
from contest.judging.models import Disqualification
from contest.judging.prizes import TierSpec, set_prize_tiers
from infra.extensions import db
from tests.browser.session import log_in
from tests.conftest import create_account, make_app
from tests.contest.judging_data import add_attempt, make_person, make_round, make_unit

pytestmark = pytest.mark.browser

LAPTOP = {"width": 1366, "height": 768}


def _seed(app):
    judge_id, judge_phone = create_account(app, role="judge", full_name="Trần Thẩm Phán")
    with app.app_context():
        round_ = make_round(questions=3)
        unit = make_unit("Trung tâm Trợ giúp pháp lý nhà nước tỉnh Bà Rịa - Vũng Tàu, chi nhánh số 2")
        cheat = make_person(full_name="Phạm Gian Lận", unit=unit)
        honest = make_person(full_name="Nguyễn Thị Thanh Hương Giang", unit=unit)
        slow = make_person(full_name="Đỗ Văn Chậm", unit=unit)
        add_attempt(round_, cheat, 3, time_ms=9_000, prediction=1)
        add_attempt(round_, honest, 3, time_ms=89_396, prediction=1)
        add_attempt(round_, slow, 2, time_ms=900_000, prediction=1)
        db.session.commit()
        set_prize_tiers(
            round_, [TierSpec("Giải Nhất", 1), TierSpec("Giải Khuyến khích", 1)], db.session.get(User, judge_id)
        )
        return judge_phone, round_.id, cheat.id


def _fits(page, selector):
    """The element's right edge is inside the viewport and its scroll container clips nothing."""
    box = page.locator(selector).bounding_box()
    assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= LAPTOP["width"], box
    scroll = page.evaluate(
        "(s) => { const t = document.querySelector(s).closest('.table-scroll');"
        " return t ? [t.scrollWidth, t.clientWidth] : [0, 0]; }",
        selector,
    )
    assert scroll[0] <= scroll[1], f"{selector} is clipped: {scroll}"


def test_ranking_fits_a_laptop_and_a_stale_tab_cannot_undo_a_disqualification(
    browser, live_server, server_factory, redis_url
):
    app = make_app(server_factory.database_url, redis_url)
    judge_phone, round_id, cheat_id = _seed(app)
    base = live_server.url
    context = browser.new_context(locale="vi-VN", viewport=LAPTOP, timezone_id="Asia/Ho_Chi_Minh")
    try:
        page = context.new_page()
        page.set_default_timeout(15000)
        log_in(page, base, judge_phone)

        page.goto(f"{base}/giam-khao/vong/{round_id}")
        assert page.evaluate("document.querySelector('main').clientWidth") > 1200  # not the 930 px column
        last_header = "table.ranking thead th:last-child"
        last_cell = "table.ranking tbody tr:first-child td:last-child"
        _fits(page, last_header)
        _fits(page, last_cell)
        review = page.locator(last_cell).get_by_role("link", name="Xem xét bài của Phạm Gian Lận")
        page.mouse.wheel(0, 2000)  # scrolled down to the table, the whole last column is on screen, not clipped
        expect(review).to_be_in_viewport(ratio=1)
        expect(page.locator("table.ranking")).to_contain_text("89,396")  # Vietnamese decimal comma

        # Two tabs on the same entry, both showing it ranked.
        entry = f"{base}/giam-khao/vong/{round_id}/bai/{cheat_id}"
        stale = context.new_page()
        stale.set_default_timeout(15000)
        stale.goto(entry)
        page.goto(entry)

        page.get_by_label("Lý do (bắt buộc, được ghi vào nhật ký)").fill("Làm 3 câu trong 9 giây")
        page.get_by_role("button", name="Loại bài dự thi").click()
        dialog = page.get_by_role("dialog", name="Loại bài dự thi của Phạm Gian Lận?")
        expect(dialog).to_be_visible()
        expect(dialog).to_contain_text("Làm 3 câu trong 9 giây")
        dialog.get_by_role("button", name="Xác nhận loại bài").click()
        expect(page.get_by_text("Đã loại bài dự thi của Phạm Gian Lận.")).to_be_visible()

        # The stale tab still shows "Loại bài dự thi": pressing it is refused and changes nothing.
        stale.get_by_label("Lý do (bắt buộc, được ghi vào nhật ký)").fill("Bấm lại từ tab cũ")
        stale.get_by_role("button", name="Loại bài dự thi").click()
        stale.get_by_role("dialog").get_by_role("button", name="Xác nhận loại bài").click()
        refusal = stale.locator("#refusal")
        expect(refusal).to_contain_text("Bài dự thi này đã bị loại lúc")
        expect(refusal).to_contain_text("trang bạn đang xem đã cũ. Không có gì thay đổi")
        expect(stale.get_by_role("button", name="Khôi phục bài dự thi")).to_be_visible()  # the current state
        with app.app_context():
            record = Disqualification.query.filter_by(round_id=round_id, user_id=cheat_id).one()
            assert record.reason == "Làm 3 câu trong 9 giây"
            db.session.remove()

        # Cancel in the dialog keeps everything as it is.
        stale.get_by_label("Lý do (bắt buộc, được ghi vào nhật ký)").fill("Đã xác minh lại")
        stale.get_by_role("button", name="Khôi phục bài dự thi").click()
        stale.get_by_role("dialog").get_by_role("button", name="Huỷ").click()
        expect(stale.get_by_role("dialog")).to_be_hidden()
        with app.app_context():
            assert Disqualification.query.filter_by(round_id=round_id, user_id=cheat_id).count() == 1
            db.session.remove()

        # The audit log at the same width: filter by action, then by a day range; bad input is a clear error.
        page.goto(f"{base}/quan-tri/nhat-ky")
        page.get_by_label("Thao tác").select_option(label="Loại bài dự thi")
        page.get_by_role("button", name="Lọc").click()
        rows = page.locator("table.audit-log tbody tr")
        expect(rows).to_have_count(1)
        expect(rows.first).to_contain_text("Loại bài dự thi")
        expect(rows.first).to_contain_text("Phạm Gian Lận")
        _fits(page, "table.audit-log tbody tr:first-child td:last-child")
        page.get_by_label("Từ ngày").fill("2000-01-01")
        page.get_by_label("Đến ngày").fill("2000-01-02")
        page.get_by_role("button", name="Lọc").click()
        expect(page.get_by_text("Không có thao tác nào khớp bộ lọc.")).to_be_visible()
        page.get_by_role("link", name="Bỏ lọc").click()
        expect(page.locator("table.audit-log tbody tr").first).to_be_visible()
        assert page.locator("table.audit-log tbody tr").count() >= 3  # flags, prize tiers, disqualify...
        page.get_by_label("Từ ngày").fill("2026-11-21")
        page.get_by_label("Đến ngày").fill("2026-11-20")
        page.get_by_role("button", name="Lọc").click()
        expect(page.get_by_role("alert")).to_contain_text("“Từ ngày” phải trước hoặc bằng “Đến ngày”.")
        page.goto(f"{base}/quan-tri/nhat-ky?thao-tac=disqualify")
        with page.expect_download() as download_info:
            page.get_by_role("link", name="Tải CSV theo bộ lọc").click()
        download = download_info.value
        assert download.suggested_filename == "nhat-ky-thao-tac.csv"
        text = open(download.path(), encoding="utf-8-sig").read()
        assert "Loại bài dự thi" in text and "Phạm Gian Lận" in text and "Tính cảnh báo" not in text
    finally:
        context.close()
