"""A contestant on a phone: register, start, answer, reload mid-attempt, submit, result; the board updates live."""

import json
import re

import pytest
from playwright.sync_api import expect

from tests.browser.test_accounts_flow import _register, _seed_units
from tests.realtime.test_play import setup_round

pytestmark = pytest.mark.browser


def _seconds(text):
    minutes, seconds = text.split(":")
    return int(minutes) * 60 + int(seconds)


def test_attempt_reload_submit_and_live_leaderboard(page, browser, live_server, server_factory, redis_url):
    _seed_units(server_factory, redis_url)
    app, round_id, keys = setup_round(server_factory, redis_url, time_limit_seconds=900)
    base = live_server.url
    seen = []  # every Socket.IO frame the contestant's browser receives, scanned for the key below
    page.on("websocket", lambda ws: ws.on("framereceived", lambda payload: seen.append(str(payload))))

    projector = browser.new_context(viewport={"width": 1280, "height": 800}, locale="vi-VN").new_page()
    projector.goto(f"{base}/vong-thi/{round_id}/bang-xep-hang")
    expect(projector.get_by_text("Chưa có bài dự thi nào.")).to_be_visible()
    expect(projector.locator("#board-status")).to_have_text("Đang cập nhật trực tiếp")

    _register(page, base, "0971234999", "001301009999")
    expect(page.get_by_text("Đăng ký thành công")).to_be_visible()
    page.get_by_role("link", name="Cuộc thi tìm hiểu pháp luật về PBGDPL").click()
    page.get_by_role("link", name="Bắt đầu thi").click()
    page.get_by_role("dialog").get_by_role("button", name="Xác nhận bắt đầu").click()
    expect(page.locator("#conn")).to_have_text("Đã kết nối")
    expect(page.get_by_text("Câu 1 trên 10")).to_be_visible()

    state = json.loads(page.locator("#attempt-state").text_content())
    questions = state["questions"]
    # answer the first three: the right option for 1 and 2, a wrong one for 3
    for i, q in enumerate(questions[:3]):
        choice = keys[q["id"]][0] if i < 2 else next(o["id"] for o in q["options"] if o["id"] not in keys[q["id"]])
        page.locator(f"#q{q['id']}o{choice}").check()
        expect(page.locator("#save-status")).to_have_text(f"Đã lưu câu {i + 1}.")
        page.get_by_role("button", name="Câu sau").click()
    expect(page.get_by_text("Bạn còn 7 câu chưa trả lời.")).to_be_visible()
    before = _seconds(page.locator("#timer").text_content())
    assert 850 < before <= 900

    page.reload()
    expect(page.locator("#conn")).to_have_text("Đã kết nối")
    expect(page.get_by_text("Bạn còn 7 câu chưa trả lời.")).to_be_visible()
    after = _seconds(page.locator("#timer").text_content())
    assert after <= before and before - after < 30  # the deadline is the server's: a reload does not reset it
    page.get_by_role("button", name=re.compile(r"^Câu 2 \(đã trả lời\)$")).click()
    expect(page.locator(f"#q{questions[1]['id']}o{keys[questions[1]['id']][0]}")).to_be_checked()

    page.get_by_role("button", name="Nộp bài", exact=True).click()
    expect(page.locator("#prediction-error")).to_have_text("Vui lòng nhập số dự đoán (số nguyên không âm).")
    page.get_by_label(re.compile("bao nhiêu người trả lời đúng")).fill("150")
    page.get_by_role("button", name="Nộp bài", exact=True).click()
    page.get_by_role("dialog", name="Nộp bài?").get_by_role("button", name="Xác nhận nộp bài").click()
    expect(page.get_by_role("heading", name="Kết quả lượt thi")).to_be_visible()
    expect(page.locator("#score")).to_have_text("2/10")
    expect(page.locator("#rank")).to_have_text("1 trên 1 người")

    # the projector, in another browser context, sees the new entry without reloading
    row = projector.locator("#board tbody tr").first
    expect(row).to_contain_text("Nguyễn Thị Hoa")
    expect(row).to_contain_text("2")
    projector.context.close()

    frames = "\n".join(seen)
    assert "is_correct" not in frames and "correct_option" not in frames
    assert "is_correct" not in page.content()
