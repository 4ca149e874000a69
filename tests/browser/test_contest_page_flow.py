"""Issue 13 on a phone (390×844): the contest page says why an ineligible contestant cannot start, starting asks
first (a dialog with script, a confirmation page without), registering from a contest page returns to it, a
password reset runs end to end through the console sender, and axe-core finds nothing on the public pages."""

import json
import re
import time

import pytest
from playwright.sync_api import expect
from sqlalchemy import func, select

from contest.accounts.models import Unit
from contest.rounds.models import Attempt, Round
from infra.extensions import db
from tests.browser.axe import axe_violations
from tests.browser.session import log_in
from tests.browser.test_accounts_flow import _register, _seed_units
from tests.conftest import create_account
from tests.realtime.test_play import setup_round

pytestmark = pytest.mark.browser
LINK = re.compile(r"https?://[^\s]+/dat-lai-mat-khau/[A-Za-z0-9_-]+")


def _slug(app, round_id):
    with app.app_context():
        slug = db.session.get(Round, round_id).contest.slug
        db.session.remove()
    return slug


def _attempts(app):
    with app.app_context():
        count = db.session.scalar(select(func.count()).select_from(Attempt))
        db.session.remove()
    return count


def test_an_ineligible_contestant_sees_why_and_no_start_button(page, live_server, server_factory, redis_url):
    app, round_id, _ = setup_round(server_factory, redis_url)
    with app.app_context():
        province, other = Unit(name="Tỉnh Nghệ An"), Unit(name="Thành phố Hà Nội")
        db.session.add_all([province, other])
        db.session.flush()
        db.session.get(Round, round_id).contest.eligible_units = [province]
        db.session.commit()
        other_id = other.id
    _, phone = create_account(app, unit_id=other_id)
    base = live_server.url
    log_in(page, base, phone)
    page.goto(f"{base}/cuoc-thi/{_slug(app, round_id)}")
    expect(page.locator("#eligible-units")).to_contain_text("Tỉnh Nghệ An")
    refusal = page.locator(f"#round-{round_id}-refusal")
    expect(refusal).to_contain_text("Bạn chưa thể dự thi tuần thi này.")
    expect(refusal).to_contain_text("Đơn vị của bạn không thuộc đối tượng dự thi của cuộc thi này.")
    expect(refusal).to_contain_text("Đơn vị trong tài khoản của bạn: Thành phố Hà Nội.")
    expect(page.get_by_role("link", name="Bắt đầu thi")).to_have_count(0)
    expect(page.get_by_role("button", name="Bắt đầu thi")).to_have_count(0)
    expect(page.locator(f"#round-{round_id}-status")).to_have_text("Đang mở")


def test_starting_asks_first_with_attempts_left_and_time_limit(page, browser, live_server, server_factory, redis_url):
    app, round_id, _ = setup_round(server_factory, redis_url, attempts_allowed=2, time_limit_seconds=900)
    _, phone = create_account(app)
    base = live_server.url
    slug = _slug(app, round_id)
    log_in(page, base, phone)
    page.goto(f"{base}/cuoc-thi/{slug}")
    start = page.get_by_role("link", name="Bắt đầu thi")
    start.click()
    dialog = page.get_by_role("dialog", name="Bắt đầu lượt thi?")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("Bạn còn 2/2 lượt thi; xác nhận sẽ dùng 1 lượt.")
    expect(dialog).to_contain_text("Thời gian làm bài: 15 phút")
    # focus moves into the dialog, onto the harmless choice (Enter does not start the clock)
    expect(dialog.get_by_role("button", name="Để sau")).to_be_focused()
    dialog.get_by_role("button", name="Để sau").click()
    expect(dialog).to_be_hidden()
    expect(start).to_be_focused()  # back where the contestant was
    assert _attempts(app) == 0
    start.click()
    dialog.get_by_role("button", name="Xác nhận bắt đầu").click()
    page.wait_for_url("**/luot-thi/**")
    assert _attempts(app) == 1

    # without script: the same link leads to a confirmation page that works on its own
    other_phone = create_account(app)[1]
    plain = browser.new_context(
        java_script_enabled=False, locale="vi-VN", viewport={"width": 390, "height": 844}
    ).new_page()
    log_in(plain, base, other_phone)
    plain.goto(f"{base}/cuoc-thi/{slug}")
    plain.get_by_role("link", name="Bắt đầu thi").click()
    expect(plain.get_by_role("heading", name="Bắt đầu lượt thi?")).to_be_visible()
    expect(plain.get_by_text("Bạn còn 2/2 lượt thi; xác nhận sẽ dùng 1 lượt.")).to_be_visible()
    assert _attempts(app) == 1
    plain.get_by_role("button", name="Xác nhận bắt đầu").click()
    plain.wait_for_url("**/luot-thi/**")
    assert _attempts(app) == 2
    plain.context.close()


def test_registering_from_a_contest_page_returns_to_it(page, live_server, server_factory, redis_url):
    _seed_units(server_factory, redis_url)
    app, round_id, _ = setup_round(server_factory, redis_url)
    base = live_server.url
    slug = _slug(app, round_id)
    page.goto(f"{base}/cuoc-thi/{slug}")
    page.get_by_role("link", name="Đăng ký tài khoản").click()
    expect(page).to_have_url(re.compile(r"/dang-ky\?next="))
    _register(page, base, "0971230001", "001301001111", path=page.url[len(base) :])
    expect(page.get_by_text("Đăng ký thành công")).to_be_visible()
    expect(page).to_have_url(f"{base}/cuoc-thi/{slug}")
    expect(page.get_by_role("link", name="Bắt đầu thi")).to_be_visible()


def _wait_for_link(path, timeout=10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists():
            for line in reversed(path.read_text(encoding="utf-8").splitlines()):
                match = LINK.search(json.loads(line)["body"])
                if match:
                    return json.loads(line), match.group(0)
        time.sleep(0.1)
    raise AssertionError(f"no reset link in {path} after {timeout} s")


def test_password_reset_end_to_end_through_the_console_sender(page, browser, server_factory, redis_url, tmp_path):
    outbox = tmp_path / "mail.jsonl"
    server = server_factory(MAIL_CONSOLE_FILE=str(outbox))
    base = server.url
    app, round_id, _ = setup_round(server_factory, redis_url)
    _, phone = create_account(app, email="hoa@example.vn")
    other = browser.new_context(locale="vi-VN").new_page()  # a device signed in before the reset
    log_in(other, base, phone)

    page.goto(f"{base}/cuoc-thi/{_slug(app, round_id)}")
    page.get_by_role("link", name="Đăng nhập để dự thi").click()
    page.get_by_role("link", name="Quên mật khẩu?").click()
    page.get_by_label("Số điện thoại hoặc email").fill("hoa@example.vn")
    page.get_by_role("button", name="Gửi liên kết đặt lại mật khẩu").click()
    expect(page.get_by_text("Nếu thông tin bạn nhập khớp với một tài khoản có email")).to_be_visible()
    message, link = _wait_for_link(outbox)
    assert message["to"] == "hoa@example.vn" and message["subject"] == "Đặt lại mật khẩu"

    page.goto(link)
    page.get_by_label("Mật khẩu mới", exact=True).fill("matkhaumoi456")
    page.get_by_label("Nhập lại mật khẩu mới").fill("matkhaumoi456")
    page.get_by_role("button", name="Đặt mật khẩu mới").click()
    expect(page.get_by_text("Đã đặt mật khẩu mới.")).to_be_visible()
    log_in(page, base, phone, "matkhaumoi456")

    page.goto(link)  # used once: dead
    expect(page.locator("#reset-invalid")).to_be_visible()
    other.goto(base + "/tai-khoan")
    expect(other.get_by_text("Vui lòng đăng nhập để tiếp tục.")).to_be_visible()
    other.context.close()


def test_axe_finds_no_violation_on_home_contest_and_registration(page, live_server, server_factory, redis_url):
    _seed_units(server_factory, redis_url)
    app, round_id, _ = setup_round(server_factory, redis_url)
    base = live_server.url
    slug = _slug(app, round_id)
    pages = {"home": "/", "contest": f"/cuoc-thi/{slug}", "registration": f"/dang-ky?next=/cuoc-thi/{slug}"}
    found = {}
    for name, path in pages.items():
        page.goto(base + path)
        found[name] = axe_violations(page)
    # the contest page as a signed-in contestant, with the start dialog open
    _, phone = create_account(app)
    log_in(page, base, phone)
    page.goto(f"{base}/cuoc-thi/{slug}")
    page.get_by_role("link", name="Bắt đầu thi").click()
    expect(page.get_by_role("dialog")).to_be_visible()
    found["contest, start dialog open"] = axe_violations(page)
    assert found == {name: [] for name in found}
