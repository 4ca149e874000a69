"""Issue 12: production refuses development secrets and a public /metrics, sets every cookie's flags and HSTS;
every HTML page carries a Content-Security-Policy that the templates can live with (no inline script)."""

import re
from pathlib import Path

import pytest
from flask_login.utils import encode_cookie

from infra.config import DEVELOPMENT_SECRET_KEY, PROJECT_ROOT, DevelopmentConfig, ProductionConfig, TestingConfig
from server.app import create_app
from tests.conftest import create_account, make_app

GOOD = {
    "SECRET_KEY": "k" * 48,
    "CCCD_HASH_KEY": "c" * 48,
    "METRICS_TOKEN": "m" * 24,
}


def _production_app(sqlite_url, redis_url, **overrides):
    config = dict(
        SQLALCHEMY_DATABASE_URI=sqlite_url,
        REDIS_URL=redis_url,
        RATELIMIT_STORAGE_URI=redis_url,
        SERVER_NAME=None,
        **GOOD,
    )
    config.update(overrides)
    return create_app(ProductionConfig, **config)


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"SECRET_KEY": "dev-only-secret-change-me"}, "SECRET_KEY must be set in production"),
        ({"SECRET_KEY": "test-secret"}, "SECRET_KEY must be set in production"),
        ({"SECRET_KEY": "short"}, "SECRET_KEY must be set in production"),
        ({"CCCD_HASH_KEY": "dev-only-cccd-key-change-me"}, "CCCD_HASH_KEY must be set in production"),
        ({"METRICS_TOKEN": None}, "METRICS_TOKEN"),
        ({"METRICS_TOKEN": "short"}, "METRICS_TOKEN"),
        ({"SESSION_COOKIE_SECURE": False}, "Secure, HttpOnly and SameSite"),
        ({"REMEMBER_COOKIE_HTTPONLY": False}, "Secure, HttpOnly and SameSite"),
    ],
)
def test_production_refuses_to_start_unsafe(sqlite_url, redis_url, overrides, message):
    with pytest.raises(RuntimeError, match=message):
        _production_app(sqlite_url, redis_url, **overrides)


def test_production_cookies_are_secure_httponly_samesite_and_hsts_is_sent(sqlite_url, redis_url):
    app = _production_app(sqlite_url, redis_url)
    _, phone = create_account(app)
    client = app.test_client()
    page = client.get("/dang-nhap", base_url="https://thi.example.vn")
    assert page.headers["Strict-Transport-Security"].startswith("max-age=31536000")
    csrf = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page.text).group(1)
    response = client.post(
        "/dang-nhap",
        data={"login": phone, "password": "matkhau123", "remember": "y", "csrf_token": csrf},
        base_url="https://thi.example.vn",
        headers={"Referer": "https://thi.example.vn/dang-nhap"},  # Flask-WTF's HTTPS referrer check
    )
    assert response.status_code == 302
    cookies = response.headers.getlist("Set-Cookie")
    names = {c.split("=", 1)[0] for c in cookies}
    assert {"session", "remember_token"} <= names
    for cookie in cookies:
        assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie, cookie


def test_a_remember_cookie_forged_with_the_old_id_format_opens_nothing(app):
    """The development SECRET_KEY is refused in production; and even a correctly signed cookie for a bare user id
    (what Flask-Login issued before the session version) no longer loads anyone."""
    user_id, _ = create_account(app, role="admin")
    client = app.test_client()
    with app.test_request_context():
        client.set_cookie("remember_token", encode_cookie(str(user_id)))
    assert client.get("/tai-khoan").status_code == 302


def test_metrics_requires_the_token_when_set(sqlite_url, redis_url):
    app = _production_app(sqlite_url, redis_url)
    client = app.test_client()
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
    assert client.get("/metrics", headers={"Authorization": f"Bearer {GOOD['METRICS_TOKEN']}"}).status_code == 200


def test_every_html_page_has_a_content_security_policy_without_inline_script(app, client):
    for path in ("/", "/dang-nhap", "/dang-ky", "/khong-co-trang-nay"):
        response = client.get(path)
        policy = response.headers["Content-Security-Policy"]
        assert "default-src 'self'" in policy and "script-src 'self'" in policy
        assert "unsafe-inline" not in policy
    assert TestingConfig.HSTS_SECONDS == 0 and "Strict-Transport-Security" not in client.get("/").headers


def test_templates_have_no_inline_script_handlers_or_styles():
    """The policy forbids inline script and style: only <script src> and JSON data blocks, no on*= or style=."""
    problems = []
    for path in Path(PROJECT_ROOT, "templates").rglob("*.html"):
        text = path.read_text(encoding="utf-8")
        for match in re.finditer(r"<script\b([^>]*)>", text):
            attrs = match.group(1)
            if "src=" not in attrs and 'type="application/json"' not in attrs:
                problems.append(f"{path.name}: inline <script{attrs}>")
        for match in re.finditer(r"\s(on[a-z]+|style)\s*=", text):
            problems.append(f"{path.name}: {match.group(1)}=")
    assert problems == []


def test_plain_make_app_has_no_proxy_and_no_exemptions(sqlite_url, redis_url):
    app = make_app(sqlite_url, redis_url)
    assert app.config["PROXY_HOPS"] == 0 and app.config["RATELIMIT_EXEMPT_ADDRESSES"] == ()


def test_plain_http_is_allowed_only_when_asked_for(sqlite_url, redis_url):
    """The load-test stack on loopback has no TLS: ALLOW_PLAIN_HTTP drops Secure, nothing else."""
    insecure = {"SESSION_COOKIE_SECURE": False, "REMEMBER_COOKIE_SECURE": False}
    with pytest.raises(RuntimeError, match="Secure"):
        _production_app(sqlite_url, redis_url, **insecure)
    app = _production_app(sqlite_url, redis_url, ALLOW_PLAIN_HTTP=True, **insecure)
    assert app.config["SESSION_COOKIE_HTTPONLY"] and app.config["REMEMBER_COOKIE_HTTPONLY"]
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        _production_app(sqlite_url, redis_url, ALLOW_PLAIN_HTTP=True, SECRET_KEY="dev-only-secret-change-me")


def test_development_signs_with_a_per_install_secret_not_the_published_one(sqlite_url, redis_url, tmp_path):
    """`make run` (HOST=0.0.0.0 is documented) must not accept cookies signed with the key printed in the code."""
    key_file = tmp_path / "var" / "secret_key"
    config = dict(SQLALCHEMY_DATABASE_URI=sqlite_url, REDIS_URL=redis_url, SECRET_KEY_FILE=str(key_file))
    first = create_app(DevelopmentConfig, **config, SECRET_KEY=DEVELOPMENT_SECRET_KEY)
    second = create_app(DevelopmentConfig, **config, SECRET_KEY=DEVELOPMENT_SECRET_KEY)
    assert first.config["SECRET_KEY"] != DEVELOPMENT_SECRET_KEY and len(first.config["SECRET_KEY"]) == 64
    assert second.config["SECRET_KEY"] == first.config["SECRET_KEY"]  # stable across restarts
    assert key_file.stat().st_mode & 0o777 == 0o600
    chosen = create_app(DevelopmentConfig, **config, SECRET_KEY="set-by-the-operator")
    assert chosen.config["SECRET_KEY"] == "set-by-the-operator"
