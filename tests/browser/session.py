"""Signing in and out through the real forms, waiting until the server has answered.

A click on a form's button does not wait for its response. A test that goes straight on to another
page can overtake its own logout: the login page is then served with the old session's CSRF token,
the logout lands afterwards and clears the session, and the login form fails as "expired".
"""

from playwright.sync_api import expect

from tests.conftest import PASSWORD

# scrypt on a busy machine: a login can take seconds while the whole suite runs beside it
LOGIN_TIMEOUT_MS = 20_000


def log_in(page, base, login, password=PASSWORD):
    page.goto(base + "/dang-nhap")
    page.get_by_label("Số điện thoại hoặc email").fill(login)
    page.get_by_label("Mật khẩu").fill(password)
    page.get_by_role("button", name="Đăng nhập").click()
    expect(page.get_by_text("Đăng nhập thành công.")).to_be_visible(timeout=LOGIN_TIMEOUT_MS)


def log_out(page):
    page.get_by_role("button", name="Đăng xuất", exact=True).click()
    expect(page.get_by_text("Bạn đã đăng xuất.")).to_be_visible()
