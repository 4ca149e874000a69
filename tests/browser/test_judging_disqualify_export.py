"""A judge, on a phone, disqualifies an entry with a reason and downloads the ranking as XLSX."""

import pytest
from openpyxl import load_workbook
from playwright.sync_api import expect

from contest.accounts.models import User
from contest.audit.models import AuditEntry
from contest.judging.models import Disqualification
from contest.judging.prizes import TierSpec, set_prize_tiers
from contest.judging.settler import settle_due_rounds
from infra.extensions import db
from tests.browser.session import log_in
from tests.conftest import create_account, make_app
from tests.contest.judging_data import add_attempt, make_person, make_round

pytestmark = pytest.mark.browser


def _seed(app):
    judge_id, judge_phone = create_account(app, role="judge", full_name="Trần Thẩm Phán")
    with app.app_context():
        round_ = make_round(questions=3)
        cheat = make_person(full_name="Phạm Gian Lận", phone="0901000001")
        honest = make_person(full_name="Võ Thị Chăm", phone="0901000002")
        slow = make_person(full_name="Đỗ Văn Chậm", phone="0901000003")
        add_attempt(round_, cheat, 3, time_ms=9_000, prediction=1)
        add_attempt(round_, honest, 3, time_ms=250_000, prediction=1)
        add_attempt(round_, slow, 2, time_ms=900_000, prediction=1)
        db.session.commit()
        set_prize_tiers(round_, [TierSpec("Giải Nhất", 1)], db.session.get(User, judge_id))
        settle_due_rounds()  # what `contest worker` does once the round has settled
        return judge_phone, round_.id, cheat.id


def test_judge_disqualifies_with_reason_and_downloads_xlsx(page, live_server, server_factory, redis_url, tmp_path):
    app = make_app(server_factory.database_url, redis_url)
    judge_phone, round_id, cheat_id = _seed(app)
    base = live_server.url

    log_in(page, base, judge_phone)

    page.goto(f"{base}/giam-khao/vong/{round_id}")
    expect(page.get_by_text("Xếp hạng tạm thời")).to_be_visible()
    row = page.locator("tr", has_text="Phạm Gian Lận")
    expect(row.get_by_text("Thời gian làm bài quá ngắn")).to_be_visible()
    expect(row.locator("td").nth(6)).to_have_text("Giải Nhất")
    page.get_by_role("link", name="Xem xét bài của Phạm Gian Lận").click()

    # no reason: refused with a specific message tied to the field
    page.get_by_role("button", name="Loại bài dự thi").click()
    expect(page.locator("#reason-error")).to_have_text("Vui lòng ghi rõ lý do.")
    assert page.locator("#reason").get_attribute("aria-invalid") == "true"

    page.get_by_label("Lý do (bắt buộc, được ghi vào nhật ký)").fill(
        "Làm 3 câu trong 9 giây; cùng thiết bị với tài khoản khác"
    )
    page.get_by_role("button", name="Loại bài dự thi").click()
    page.get_by_role("dialog").get_by_role("button", name="Xác nhận loại bài").click()  # issue 14: confirmed
    expect(page.get_by_text("Đã loại bài dự thi của Phạm Gian Lận.")).to_be_visible()
    expect(page.locator("table.ranking tbody tr").first).to_contain_text("Võ Thị Chăm")
    expect(page.locator("table.ranking tbody tr").first).to_contain_text("Giải Nhất")
    expect(page.get_by_text("Làm 3 câu trong 9 giây; cùng thiết bị với tài khoản khác")).to_be_visible()

    page.get_by_label("Định dạng").select_option("xlsx")
    with page.expect_download() as download_info:
        page.get_by_role("button", name="Tải xuống").click()
    download = download_info.value
    assert download.suggested_filename == f"bang-xep-hang-vong-{round_id}-tam-thoi.xlsx"
    path = tmp_path / download.suggested_filename
    download.save_as(path)
    rows = list(load_workbook(path).active.iter_rows(values_only=True))
    header_at = next(i for i, r in enumerate(rows) if r and r[0] == "STT")
    table = [dict(zip(rows[header_at], r)) for r in rows[header_at + 1 :]]
    assert [(r["Hạng"], r["Họ và tên"], r["Giải"]) for r in table] == [
        (1, "Võ Thị Chăm", "Giải Nhất"),
        (2, "Đỗ Văn Chậm", None),
    ]
    assert table[0]["Số điện thoại"] == "090****002"

    with app.app_context():
        record = Disqualification.query.filter_by(round_id=round_id, user_id=cheat_id).one()
        assert record.reason.startswith("Làm 3 câu trong 9 giây")
        assert [e.action for e in AuditEntry.query.filter_by(round_id=round_id).order_by(AuditEntry.id)] == [
            "prize_tiers",
            "fix_perfect_count",
            "review_flags",
            "disqualify",
            "prediction_target_update",  # a disqualified perfect score leaves the prediction's target (issue 14)
            "export",
        ]  # flags: computed once, by the system
        db.session.remove()
        db.engine.dispose()
