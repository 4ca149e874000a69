"""A points-mode live final driven in the browser by an account with the `host` role (not an organiser): the
players on phones see the scoring formula, then after each reveal this question's points, the total and the rank."""

import re

import pytest
from playwright.sync_api import expect

from contest.live import services
from infra.extensions import db
from tests.browser.test_live_final import PHONE, _login
from tests.conftest import create_account, make_app
from tests.contest.live.livekit import key_index, make_live

pytestmark = pytest.mark.browser


def test_host_role_drives_a_points_game_and_players_see_their_points(browser, live_server, server_factory, redis_url):
    base = live_server.url
    app = make_app(server_factory.database_url, redis_url)
    sid, _, _ = make_live(app, mode="points", count=2, seconds=30)
    _, host_phone = create_account(app, role="host", full_name="Ngô Thị Dẫn")
    with app.app_context():
        pin = services.get_session(sid).pin
        keys = [key_index(sid, i) for i in range(2)]
    host_ctx = browser.new_context(viewport={"width": 1280, "height": 900}, locale="vi-VN")
    host = host_ctx.new_page()
    host.set_default_timeout(15000)
    _login(host, base, host_phone)
    host.get_by_role("link", name="Dẫn chung kết").click()
    host.locator("#live-open-sessions a").first.click()
    expect(host.locator("#conn")).to_have_text("Đã kết nối")

    pages = []
    for name in ("Lê Văn Nhanh", "Phạm Thị Chậm"):
        _, phone = create_account(app, full_name=name)
        page = browser.new_context(**PHONE).new_page()
        page.set_default_timeout(15000)
        _login(page, base, phone)
        page.goto(f"{base}/chung-ket?pin={pin}")
        page.get_by_role("button", name="Vào phòng").click()
        expect(page.locator("#status")).to_contain_text("Đã vào phòng chờ")
        expect(page.locator("#formula")).to_be_visible()
        expect(page.locator("#formula")).to_contain_text("round(1000 × (1 − t ÷ T ÷ 2))")
        pages.append(page)
    fast, wrong = pages

    for position in range(2):
        host.locator("#btn-next").click()
        expect(fast.locator("#qnum")).to_contain_text(f"Câu {position + 1}")
        fast.locator(f'[data-choice="{keys[position]}"]').click()
        wrong.locator(f'[data-choice="{(keys[position] + 1) % 4}"]').click()
        expect(wrong.locator("#status")).to_have_text("Đã ghi nhận câu trả lời. Chờ công bố đáp án…")
        host.locator("#btn-close").click()
        host.locator("#btn-reveal").click()
        expect(fast.locator("#result")).to_contain_text("Đúng")
        expect(fast.locator("#result")).to_contain_text(
            re.compile(r"\+\d{3,4} điểm ở câu này · tổng \d+ điểm · Hạng 1")
        )
        expect(wrong.locator("#result")).to_contain_text("Sai · +0 điểm ở câu này · tổng 0 điểm · Hạng 2")
    result = fast.locator("#result").inner_text()
    gained, total = (int(x) for x in re.search(r"\+(\d+) điểm ở câu này · tổng (\d+) điểm", result).groups())
    with app.app_context():
        scores = services.state.hash_ints(sid, "score")
        assert total == max(scores.values()) and 500 <= gained <= 1000
    host.locator("#btn-end").click()
    expect(fast.locator("#status")).to_have_text("Phiên đã kết thúc. Cảm ơn bạn đã tham gia!")
    expect(fast.locator("#result")).to_contain_text("Hạng 1")
    with app.app_context():
        assert db.session.get(services.LiveSession, sid).status == "ended"
    for page in pages:
        page.context.close()
    host_ctx.close()
