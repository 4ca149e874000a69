"""The projector board follows the judges (issue 11, finding 5): a judge disqualifies the leader and the open
projector page drops them at the next push; publishing turns the same page into the official standings with prizes."""

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from contest.accounts.models import User
from contest.judging.prizes import TierSpec, set_prize_tiers
from contest.rounds import leaderboard
from contest.rounds.models import Attempt
from infra.extensions import db
from tests.browser.session import log_in
from tests.conftest import create_account, make_app
from tests.contest.judging_data import add_attempt, make_person, make_round

pytestmark = pytest.mark.browser


def _seed(app):
    judge_id, judge_phone = create_account(app, role="judge", full_name="Trần Thẩm Phán")
    with app.app_context():
        round_ = make_round(questions=3)
        round_.contest.published = True
        cheat = make_person(full_name="Phạm Gian Lận")
        honest = make_person(full_name="Võ Thị Chăm")
        slow = make_person(full_name="Đỗ Văn Chậm")
        add_attempt(round_, cheat, 3, time_ms=9_000, prediction=1)
        add_attempt(round_, honest, 3, time_ms=250_000, prediction=1)
        add_attempt(round_, slow, 2, time_ms=900_000, prediction=1)
        db.session.commit()
        for attempt in db.session.scalars(select(Attempt).where(Attempt.round_id == round_.id)):
            leaderboard.record(attempt)  # as the submits did while the round was open
        set_prize_tiers(round_, [TierSpec("Giải Nhất", 1), TierSpec("Giải Nhì", 1)], db.session.get(User, judge_id))
        return judge_phone, round_.id, cheat.id


def test_judge_disqualifies_the_leader_and_the_projector_drops_them(
    browser, page, live_server, server_factory, redis_url
):
    app = make_app(server_factory.database_url, redis_url)
    judge_phone, round_id, cheat_id = _seed(app)
    base = live_server.url

    projector_context = browser.new_context(locale="vi-VN", viewport={"width": 1280, "height": 720})
    projector = projector_context.new_page()
    projector.set_default_timeout(15000)
    try:
        projector.goto(f"{base}/vong-thi/{round_id}/bang-xep-hang")
        expect(projector.get_by_role("heading", name="Bảng xếp hạng trực tiếp")).to_be_visible()
        expect(projector.locator("#board-status")).to_have_text("Đang cập nhật trực tiếp")
        rows = projector.locator("#board tbody tr")
        expect(rows.first).to_contain_text("Phạm Gian Lận")

        log_in(page, base, judge_phone)
        page.goto(f"{base}/giam-khao/vong/{round_id}/bai/{cheat_id}")
        page.get_by_label("Lý do (bắt buộc, được ghi vào nhật ký)").fill("Làm 3 câu trong 9 giây")
        page.get_by_role("button", name="Loại bài dự thi").click()
        page.get_by_role("dialog").get_by_role("button", name="Xác nhận loại bài").click()
        expect(page.get_by_text("Đã loại bài dự thi của Phạm Gian Lận.")).to_be_visible()

        # The projector was not reloaded: the push removed the disqualified leader.
        expect(rows.first).to_contain_text("Võ Thị Chăm")
        expect(projector.locator("#board")).not_to_contain_text("Phạm Gian Lận")
        expect(rows).to_have_count(2)

        page.get_by_role("button", name="Công bố kết quả").click()
        page.get_by_role("dialog").get_by_role("button", name="Xác nhận công bố").click()
        expect(page.get_by_text("Đã công bố phiên bản 1.")).to_be_visible()
        # The same projector page now shows the official standings and prizes.
        expect(projector.get_by_role("heading", name="Kết quả chính thức")).to_be_visible()
        expect(rows.first).to_contain_text("Võ Thị Chăm")
        expect(rows.first).to_contain_text("Giải Nhất")
        expect(rows.nth(1)).to_contain_text("Giải Nhì")
        expect(projector.locator("#board")).not_to_contain_text("Phạm Gian Lận")
    finally:
        projector_context.close()
