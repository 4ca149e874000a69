"""Issue 13, the attempt page on a phone (390×844): confirm before submit, nothing typed is lost (the prediction at
time-up, a choice made offline across a reload, the question on screen), the focused layout, axe-core."""

import json
import re

import pytest
import redis
from playwright.sync_api import Error as PlaywrightError
from playwright.sync_api import expect

from contest.rounds.live_state import answers_key, decode_saved
from contest.rounds.models import Attempt
from contest.rounds.services import sweep_expired
from infra.extensions import db
from tests.browser.axe import axe_violations
from tests.browser.session import log_in
from tests.conftest import create_account
from tests.realtime.test_play import setup_round

pytestmark = pytest.mark.browser
OFFLINE = "Mất kết nối — câu trả lời sẽ được gửi lại khi có mạng."


def _start(page, base, app, round_id):
    """Logs a new contestant in through the form and starts the round (the start form's POST); returns the state."""
    _, phone = create_account(app)
    log_in(page, base, phone)
    token = page.locator("input[name=csrf_token]").first.get_attribute("value")
    response = page.request.post(f"{base}/vong-thi/{round_id}/bat-dau", form={"csrf_token": token, "confirm": "1"})
    assert "/luot-thi/" in response.url, response.url
    page.goto(response.url)
    expect(page.locator("#conn")).to_have_text("Đã kết nối")
    return json.loads(page.locator("#attempt-state").text_content())


def _status(app, attempt_id):
    with app.app_context():
        attempt = db.session.get(Attempt, attempt_id)
        found = attempt.status, attempt.prediction
        db.session.remove()
    return found


def _looks(locator):
    return locator.evaluate(
        "e => { const s = getComputedStyle(e); return [s.backgroundColor, s.color, s.borderTopStyle, s.cursor]; }"
    )


def test_submit_asks_to_confirm_and_lists_the_unanswered_questions(page, live_server, server_factory, redis_url):
    app, round_id, keys = setup_round(server_factory, redis_url, time_limit_seconds=900)
    base = live_server.url
    state = _start(page, base, app, round_id)
    qs = state["questions"]

    # focused layout: no site navigation, a compact header with the round, the timer and the connection
    expect(page.locator(".site-header")).to_have_count(0)
    expect(page.get_by_role("button", name="Đăng xuất")).to_have_count(0)
    header = page.get_by_role("banner")
    expect(header.get_by_role("heading", name="Tuần thi thứ nhất")).to_be_visible()
    expect(header.locator("#timer")).to_have_text(re.compile(r"^1[45]:\d\d$"))
    expect(header.locator("#conn")).to_have_text("Đã kết nối")
    assert header.bounding_box()["height"] < 100

    # a disabled "Câu trước" does not look like the enabled "Câu sau"; touch targets stay big
    prev, nxt = page.get_by_role("button", name="Câu trước"), page.get_by_role("button", name="Câu sau")
    expect(prev).to_be_disabled()
    disabled, enabled = _looks(prev), _looks(nxt)
    assert disabled[0] != enabled[0] and disabled[1] != enabled[1], (disabled, enabled)
    assert disabled[2] == "dashed" and disabled[3] == "not-allowed" and enabled[2] == "solid"
    for target in [prev, nxt, *page.locator("#navigator .nav-item").all(), *page.locator(".option").all()]:
        assert target.bounding_box()["height"] >= 44

    page.locator(f"#q{qs[0]['id']}o{keys[qs[0]['id']][0]}").check()
    expect(page.locator("#save-status")).to_have_text("Đã lưu câu 1.")
    # choosing a question in the navigator by keyboard keeps the focus on that button
    page.get_by_role("button", name="Câu 3", exact=True).focus()
    page.keyboard.press("Enter")
    expect(page.get_by_text("Câu 3 trên 10")).to_be_visible()
    expect(page.locator("#navigator .nav-item").nth(2)).to_be_focused()
    expect(page.locator("#navigator .nav-item").nth(2)).to_have_attribute("aria-current", "step")
    page.locator(f"#q{qs[2]['id']}o{keys[qs[2]['id']][0]}").check()
    expect(page.locator("#save-status")).to_have_text("Đã lưu câu 3.")
    assert axe_violations(page) == []

    page.get_by_label(re.compile("bao nhiêu người trả lời đúng")).fill("150")
    expect(page.locator("#prediction-status")).to_have_text("Đã lưu dự đoán.")
    submit = page.get_by_role("button", name="Nộp bài", exact=True)
    submit.click()
    dialog = page.get_by_role("dialog", name="Nộp bài?")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("Bạn đã trả lời 2/10 câu. Còn 8 câu chưa trả lời.")
    expect(dialog.get_by_role("link")).to_have_text([f"Câu {n}" for n in (2, 4, 5, 6, 7, 8, 9, 10)])
    expect(dialog.get_by_role("button", name="Tiếp tục làm bài")).to_be_focused()
    assert axe_violations(page) == []

    # a link jumps to that question
    dialog.get_by_role("link", name="Câu 2", exact=True).click()
    expect(dialog).to_be_hidden()
    expect(page.get_by_text("Câu 2 trên 10")).to_be_visible()
    expect(page.locator("#question")).to_be_focused()
    # going back to answering submits nothing
    submit.click()
    dialog.get_by_role("button", name="Tiếp tục làm bài").click()
    expect(dialog).to_be_hidden()
    assert _status(app, state["attempt_id"]) == ("in_progress", None)

    submit.click()
    dialog.get_by_role("button", name="Xác nhận nộp bài").click()
    expect(page.get_by_role("heading", name="Kết quả lượt thi")).to_be_visible()
    expect(page.locator("#score")).to_have_text("2/10")
    expect(page.locator("#prediction")).to_have_text("150")
    assert _status(app, state["attempt_id"]) == ("submitted", 150)
    assert axe_violations(page) == []


def test_prediction_typed_is_kept_when_the_server_closes_the_attempt(page, live_server, server_factory, redis_url):
    # 20 s: time to log in, type and be cut off before the deadline, even on a loaded machine
    app, round_id, keys = setup_round(server_factory, redis_url, time_limit_seconds=20)
    base = live_server.url
    state = _start(page, base, app, round_id)
    attempt_id = state["attempt_id"]
    page.get_by_label(re.compile("bao nhiêu người trả lời đúng")).fill("321")
    expect(page.locator("#prediction-status")).to_have_text("Đã lưu dự đoán.")
    # The page is cut off before the deadline, so it cannot submit: the server closes the attempt by itself.
    page.context.set_offline(True)
    expect(page.locator("#conn")).to_have_text(OFFLINE, timeout=10000)
    # an unmistakable time-up state
    alert = page.get_by_role("alert").filter(has_text="Hết giờ làm bài")
    expect(alert).to_be_visible(timeout=30000)
    expect(page.locator("#timer")).to_have_text("Hết giờ")
    assert _looks(alert)[0] == "rgb(179, 38, 30)" and _looks(alert)[1] == "rgb(255, 255, 255)"
    expect(page.locator("#prev")).to_be_disabled()
    assert axe_violations(page) == []
    with app.app_context():
        assert sweep_expired() == 1  # the worker's sweeper, at the deadline
        db.session.remove()
    assert _status(app, attempt_id) == ("expired", 321)
    page.context.set_offline(False)
    expect(page.get_by_role("heading", name="Kết quả lượt thi")).to_be_visible(timeout=20000)
    expect(page.locator("#prediction")).to_have_text("321")


def test_a_choice_made_offline_survives_a_reload_and_is_resent(page, live_server, server_factory, redis_url):
    app, round_id, keys = setup_round(server_factory, redis_url, time_limit_seconds=900, prediction=False)
    base = live_server.url
    state = _start(page, base, app, round_id)
    attempt_id, (q1, q2) = state["attempt_id"], state["questions"][:2]
    page.locator(f"#q{q1['id']}o{keys[q1['id']][0]}").check()
    expect(page.locator("#save-status")).to_have_text("Đã lưu câu 1.")

    page.context.set_offline(True)
    expect(page.locator("#conn")).to_have_text(OFFLINE, timeout=10000)
    page.get_by_role("button", name="Câu sau").click()
    page.locator(f"#q{q2['id']}o{keys[q2['id']][0]}").check()
    expect(page.locator("#navigator .nav-item.pending")).to_have_count(1)
    assert axe_violations(page) == []  # the offline state too
    r = redis.Redis.from_url(redis_url, decode_responses=True)
    assert r.hget(answers_key(attempt_id), keys.bank_id(q2["id"])) is None

    # leaving with an unsent choice asks first
    asked = []
    page.on("dialog", lambda d: (asked.append(d.type), d.accept()))
    with pytest.raises(PlaywrightError):
        page.reload()  # offline: the reload itself fails, as it would on a phone without network
    assert asked == ["beforeunload"]
    page.context.set_offline(False)
    page.goto(f"{base}/luot-thi/{attempt_id}")
    # the kept choice is back on screen, on the question the contestant was on, and is sent once connected
    expect(page.get_by_text("Câu 2 trên 10")).to_be_visible()
    expect(page.locator(f"#q{q2['id']}o{keys[q2['id']][0]}")).to_be_checked()
    expect(page.locator("#navigator .nav-item.pending")).to_have_count(0, timeout=15000)
    expect(page.get_by_text("Bạn còn 8 câu chưa trả lời.")).to_be_visible()
    assert decode_saved(r.hget(answers_key(attempt_id), keys.bank_id(q2["id"]))).selected == [
        keys.to_bank(q2["id"], keys[q2["id"]])[1][0]
    ]
    # nothing unsent any more: leaving does not ask
    page.reload()
    assert asked == ["beforeunload"]


def test_a_reload_returns_to_the_question_on_screen(page, live_server, server_factory, redis_url):
    app, round_id, keys = setup_round(server_factory, redis_url, time_limit_seconds=900, prediction=False)
    state = _start(page, live_server.url, app, round_id)
    page.get_by_role("button", name="Câu 6", exact=True).click()
    page.get_by_role("button", name="Câu sau").click()
    expect(page.get_by_text("Câu 7 trên 10")).to_be_visible()
    page.reload()
    expect(page.locator("#conn")).to_have_text("Đã kết nối")
    expect(page.get_by_text("Câu 7 trên 10")).to_be_visible()
    expect(page.locator("#navigator .nav-item").nth(6)).to_have_attribute("aria-current", "step")
    expect(page.get_by_role("button", name="Câu trước")).to_be_enabled()
    assert state["questions"][6]["id"] in page.locator("#question input").first.get_attribute("id")
