"""A contestant registers, logs out, logs back in, and meets the Vietnamese duplicate-CCCD error."""

import pytest
from playwright.sync_api import expect

from contest.accounts.models import Unit
from infra.extensions import db
from tests.browser.session import log_out
from tests.conftest import make_app

pytestmark = pytest.mark.browser


def _seed_units(server_factory, redis_url):
    app = make_app(server_factory.database_url, redis_url)
    with app.app_context():
        province = Unit(name="Thành phố Hà Nội")
        db.session.add(province)
        db.session.flush()
        db.session.add(Unit(name="Trường THPT Chu Văn An", parent_id=province.id))
        db.session.commit()


def _register(page, base, phone, cccd, path="/dang-ky"):
    page.goto(base + path)
    page.get_by_label("Số điện thoại").fill(phone)
    page.get_by_label("Họ và tên (như trên CCCD)").fill("Nguyễn Thị Hoa")
    page.get_by_label("Ngày sinh").fill("2001-09-02")
    page.get_by_label("Đơn vị dự thi").select_option(label="— Trường THPT Chu Văn An")
    page.get_by_label("Đối tượng").select_option("student")
    page.get_by_label("Số CCCD (không bắt buộc)").fill(cccd)
    page.get_by_label("Mật khẩu", exact=True).fill("matkhau123")
    page.get_by_label("Nhập lại mật khẩu").fill("matkhau123")
    page.get_by_label("Tôi đồng ý").check()
    page.get_by_role("button", name="Đăng ký").click()


def test_register_logout_login_and_duplicate_cccd(page, live_server, server_factory, redis_url):
    _seed_units(server_factory, redis_url)
    base = live_server.url
    _register(page, base, "0971234567", "001301001234")
    expect(page.get_by_text("Đăng ký thành công")).to_be_visible()
    expect(page.get_by_text("Xin chào, Nguyễn Thị Hoa.")).to_be_visible()

    log_out(page)

    page.get_by_role("link", name="Đăng nhập").first.click()
    page.get_by_label("Số điện thoại hoặc email").fill("0971 234 567")
    page.get_by_label("Mật khẩu").fill("matkhau123")
    page.get_by_role("button", name="Đăng nhập").click()
    expect(page.get_by_text("Đăng nhập thành công.")).to_be_visible()
    page.get_by_role("link", name="Tài khoản").click()
    expect(page.get_by_text("********1234")).to_be_visible()
    log_out(page)

    _register(page, base, "0971234568", "001301001234")
    error = page.locator("#cccd-error")
    expect(error).to_have_text("Số CCCD này đã được đăng ký cho một tài khoản khác.")
    # the error is tied to its field for screen readers
    assert "cccd-error" in page.locator("#cccd").get_attribute("aria-describedby").split()
    assert page.locator("#cccd").get_attribute("aria-invalid") == "true"


def test_sign_out_everywhere_from_the_account_page(page, browser, live_server, server_factory, redis_url):
    """Two devices signed in; "Đăng xuất trên mọi thiết bị khác" on one ends the other; no page breaks its CSP."""
    from tests.conftest import create_account

    _, phone = create_account(make_app(server_factory.database_url, redis_url))
    base = live_server.url
    violations = []
    other = browser.new_context(locale="vi-VN").new_page()
    for p in (page, other):
        p.on("console", lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None)
        p.goto(base + "/dang-nhap")
        p.get_by_label("Số điện thoại hoặc email").fill(phone)
        p.get_by_label("Mật khẩu").fill("matkhau123")
        p.get_by_role("button", name="Đăng nhập").click()
        expect(p.get_by_text("Đăng nhập thành công.")).to_be_visible()
    page.get_by_role("link", name="Tài khoản").click()
    page.get_by_role("button", name="Đăng xuất trên mọi thiết bị khác").click()
    expect(page.get_by_text("Đã đăng xuất tài khoản trên mọi thiết bị khác.")).to_be_visible()
    other.goto(base + "/tai-khoan")
    expect(other.get_by_text("Vui lòng đăng nhập để tiếp tục.")).to_be_visible()
    page.goto(base + "/tai-khoan")
    expect(page.get_by_text("Tài khoản của tôi").first).to_be_visible()  # this device stays signed in
    other.context.close()
    assert violations == []
