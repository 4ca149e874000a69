"""Issue 13: password reset by a one-time link (console sender in tests), single use, expiring, rate-limited,
audited, ending every session; an organiser's reset link; login and registration return to where they began."""

import hashlib
import re
import socketserver
import threading
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from contest.accounts.models import PasswordReset, Unit, User
from contest.accounts.resets import request_reset, reset_password
from contest.accounts.services import AccountError
from contest.audit.models import AuditEntry
from infra.clock import utcnow
from infra.config import ProductionConfig
from infra.extensions import db
from infra.mail import Message, SmtpSender
from server.app import create_app
from tests.conftest import PASSWORD, create_account, login, make_app

LINK = re.compile(r"https?://[^\s]+/dat-lai-mat-khau/([A-Za-z0-9_-]+)")
NEW_PASSWORD = "matkhaumoi456"


def _outbox(app):
    return app.extensions["mail"].outbox


def _request(client, login_name):
    return client.post("/quen-mat-khau", data={"login": login_name}, follow_redirects=False)


def _token_from_mail(app):
    message = _outbox(app)[-1]
    return LINK.search(message.body).group(1)


def _actions(app, user_id):
    with app.app_context():
        return [
            (e.action, e.actor_id)
            for e in db.session.scalars(
                select(AuditEntry).where(AuditEntry.subject_user_id == user_id).order_by(AuditEntry.id)
            )
        ]


@pytest.fixture
def holder(app):
    """An account with an e-mail address (the reset link goes there)."""
    user_id, phone = create_account(app, email="hoa@example.vn")
    return user_id, phone


def test_reset_end_to_end_through_the_console_sender(app, client, holder):
    user_id, phone = holder
    other = app.test_client()  # a second device, signed in before the reset
    assert login(other, phone).status_code == 302
    assert other.get("/tai-khoan").status_code == 200

    response = _request(client, "hoa@example.vn")
    assert response.status_code == 302
    message = _outbox(app)[-1]
    assert message.to == "hoa@example.vn" and message.subject == "Đặt lại mật khẩu"
    token = _token_from_mail(app)
    with app.app_context():
        stored = db.session.scalars(select(PasswordReset)).one()
        # only the hash of the secret is stored
        assert stored.token_hash == hashlib.sha256(token.encode()).hexdigest() and token not in stored.token_hash

    page = client.get(f"/dat-lai-mat-khau/{token}")
    assert page.status_code == 200 and "Mật khẩu mới" in page.text
    assert page.headers["Referrer-Policy"] == "no-referrer" and page.headers["Cache-Control"] == "no-store"
    done = client.post(f"/dat-lai-mat-khau/{token}", data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert done.status_code == 302 and done.headers["Location"].endswith("/dang-nhap")

    assert login(client, phone, PASSWORD).status_code == 422  # the old password no longer works
    assert login(app.test_client(), phone, NEW_PASSWORD).status_code == 302
    assert other.get("/tai-khoan").status_code == 302  # the other device was signed out
    actions = [a for a, _ in _actions(app, user_id)]
    assert actions == ["password_reset_requested", "sessions_ended", "password_reset"]


def test_a_link_works_once(app, client, holder):
    _request(client, holder[1])
    token = _token_from_mail(app)
    first = client.post(f"/dat-lai-mat-khau/{token}", data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert first.status_code == 302
    again = client.post(f"/dat-lai-mat-khau/{token}", data={"password": "thulaimotlan", "confirm": "thulaimotlan"})
    assert again.status_code == 422 and "không hợp lệ, đã được dùng hoặc đã hết hạn" in again.text
    assert client.get(f"/dat-lai-mat-khau/{token}").status_code == 404
    assert login(app.test_client(), holder[1], NEW_PASSWORD).status_code == 302
    assert login(app.test_client(), holder[1], "thulaimotlan").status_code == 422


def test_an_expired_link_changes_nothing(app, client, holder):
    _request(client, holder[1])
    token = _token_from_mail(app)
    with app.app_context():
        db.session.execute(update(PasswordReset).values(expires_at=utcnow() - timedelta(seconds=1)))
        db.session.commit()
    assert client.get(f"/dat-lai-mat-khau/{token}").status_code == 404
    refused = client.post(f"/dat-lai-mat-khau/{token}", data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert refused.status_code == 422
    assert login(app.test_client(), holder[1], PASSWORD).status_code == 302


def test_a_new_link_ends_the_older_one_and_a_link_lives_for_the_configured_minutes(app, client, holder):
    _request(client, holder[1])
    older = _token_from_mail(app)
    _request(client, holder[1])
    newer = _token_from_mail(app)
    assert client.get(f"/dat-lai-mat-khau/{older}").status_code == 404
    assert client.get(f"/dat-lai-mat-khau/{newer}").status_code == 200
    with app.app_context():
        link = db.session.scalar(select(PasswordReset).order_by(PasswordReset.id.desc()))
        assert abs((link.expires_at - link.created_at) - timedelta(minutes=30)) < timedelta(seconds=1)


def test_unknown_logins_and_accounts_without_email_get_the_same_answer_and_no_mail(app, client):
    _, phone = create_account(app)  # no e-mail address
    for name in (phone, "0999999999", "nobody@example.vn"):
        answer = _request(client, name)
        assert answer.status_code == 302
        assert "Nếu thông tin bạn nhập khớp với một tài khoản có email" in client.get(answer.headers["Location"]).text
    assert len(_outbox(app)) == 0


def test_at_most_three_links_per_account_per_hour(app, client, holder):
    for _ in range(5):
        _request(client, holder[1])
    assert len(_outbox(app)) == 3
    assert [a for a, _ in _actions(app, holder[0])].count("password_reset_throttled") == 2


def test_reset_requests_are_rate_limited_per_address(sqlite_url, redis_url):
    app = make_app(sqlite_url, redis_url, RATELIMIT_ENABLED=True, PASSWORD_RESET_RATE_LIMIT="2 per minute")
    client = app.test_client()
    codes = [_request(client, "0999999999").status_code for _ in range(3)]
    assert codes == [302, 302, 429]
    # the reset page's form counts too
    codes = [client.post("/dat-lai-mat-khau/" + "x" * 43, data={}).status_code for _ in range(3)]
    assert codes[-1] == 429


def test_bad_tokens_are_refused_without_error(client):
    for token in ("abc", "x" * 65, "%00" * 40, "a" * 43):
        assert client.get(f"/dat-lai-mat-khau/{token}").status_code in (400, 404)


def test_production_refuses_the_console_sender_unless_allowed(sqlite_url, redis_url):
    settings = dict(
        SQLALCHEMY_DATABASE_URI=sqlite_url,
        REDIS_URL=redis_url,
        RATELIMIT_STORAGE_URI=redis_url,
        SECRET_KEY="k" * 48,
        CCCD_HASH_KEY="c" * 48,
        METRICS_TOKEN="m" * 24,
    )
    with pytest.raises(RuntimeError, match="MAIL_SENDER=console"):
        create_app(ProductionConfig, MAIL_SENDER="console", **settings)
    allowed = create_app(ProductionConfig, MAIL_SENDER="console", MAIL_ALLOW_CONSOLE=True, **settings)
    assert hasattr(allowed.extensions["mail"], "outbox")
    assert isinstance(create_app(ProductionConfig, **settings).extensions["mail"], SmtpSender)  # the default
    with pytest.raises(RuntimeError, match="SMTP_SECURITY"):
        create_app(ProductionConfig, SMTP_SECURITY="tls-maybe", **settings)


def test_production_builds_links_on_public_url_only(sqlite_url, redis_url):
    settings = dict(
        SQLALCHEMY_DATABASE_URI=sqlite_url,
        REDIS_URL=redis_url,
        RATELIMIT_STORAGE_URI=redis_url,
        SECRET_KEY="k" * 48,
        CCCD_HASH_KEY="c" * 48,
        METRICS_TOKEN="m" * 24,
        MAIL_SENDER="console",
        MAIL_ALLOW_CONSOLE=True,
        WTF_CSRF_ENABLED=False,
        RATELIMIT_ENABLED=False,
    )
    without = create_app(ProductionConfig, **settings)
    create_account(without, email="an@example.vn")
    _request(without.test_client(), "an@example.vn")
    assert len(_outbox(without)) == 0  # no PUBLIC_URL: no link built on a Host header an attacker chose

    app = create_app(ProductionConfig, PUBLIC_URL="https://thi.example.vn/", **settings)
    client = app.test_client()
    client.post("/quen-mat-khau", data={"login": "an@example.vn"}, base_url="https://evil.example")
    body = _outbox(app)[-1].body
    assert "https://thi.example.vn/dat-lai-mat-khau/" in body and "evil.example" not in body


def test_the_console_sender_can_write_to_a_file(sqlite_url, redis_url, tmp_path):
    path = tmp_path / "mail.jsonl"
    app = make_app(sqlite_url, redis_url, MAIL_CONSOLE_FILE=str(path))
    create_account(app, email="binh@example.vn")
    _request(app.test_client(), "binh@example.vn")
    assert LINK.search(path.read_text(encoding="utf-8"))


class _SmtpHandler(socketserver.StreamRequestHandler):
    """Just enough SMTP (no TLS) for smtplib to deliver one message; what it received goes to server.received."""

    def handle(self):
        self.wfile.write(b"220 test ESMTP\r\n")
        data = []
        in_data = False
        for raw in self.rfile:
            line = raw.decode("utf-8", "replace")
            if in_data:
                if line in (".\r\n", ".\n"):
                    in_data = False
                    self.server.received.append("".join(data))
                    self.wfile.write(b"250 queued\r\n")
                else:
                    data.append(line)
                continue
            verb = line[:4].upper()
            if verb == "EHLO":
                self.wfile.write(b"250-test\r\n250 8BITMIME\r\n")
            elif verb == "DATA":
                in_data = True
                self.wfile.write(b"354 go on\r\n")
            elif verb == "QUIT":
                self.wfile.write(b"221 bye\r\n")
                return
            else:
                self.wfile.write(b"250 ok\r\n")


def test_the_smtp_sender_delivers_a_utf8_message():
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _SmtpHandler)
    server.received = []
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        config = {
            "SMTP_HOST": "127.0.0.1",
            "SMTP_PORT": server.server_address[1],
            "SMTP_SECURITY": "none",
            "SMTP_TIMEOUT": 5,
            "MAIL_FROM": "thi@example.vn",
            "MAIL_FROM_NAME": "Cuộc thi",
        }
        SmtpSender(config).send(Message(to="hoa@example.vn", subject="Đặt lại mật khẩu", body="Xin chào Hoa"))
    finally:
        server.shutdown()
        server.server_close()
    assert len(server.received) == 1
    text = server.received[0]
    assert "To: hoa@example.vn" in text and "thi@example.vn" in text and "Subject: =?utf-8?" in text


def test_an_unreachable_smtp_server_does_not_break_the_page(sqlite_url, redis_url):
    app = make_app(sqlite_url, redis_url, MAIL_SENDER="smtp", SMTP_HOST="127.0.0.1", SMTP_PORT=1, SMTP_TIMEOUT=2)
    create_account(app, email="chi@example.vn")
    response = _request(app.test_client(), "chi@example.vn")
    assert response.status_code == 302


# --- the organiser's reset link ----------------------------------------------------------------------


def test_an_organiser_issues_a_one_time_link_for_a_contestant(app, client):
    contestant_id, phone = create_account(app)
    organiser_id, organiser_phone = create_account(app, role="organiser")
    login(client, organiser_phone)
    found = client.get("/quan-tri/tai-khoan", query_string={"q": phone})
    assert found.status_code == 200 and f"/quan-tri/tai-khoan/{contestant_id}" in found.text
    page = client.post(f"/quan-tri/tai-khoan/{contestant_id}")
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    token = LINK.search(page.text).group(1)
    assert len(_outbox(app)) == 0  # shown to the organiser, not mailed
    assert ("password_reset_issued", organiser_id) in _actions(app, contestant_id)

    log = client.get("/quan-tri/nhat-ky", query_string={"doi-tuong": "user"})
    assert log.status_code == 200 and "Ban tổ chức tạo liên kết đặt lại mật khẩu" in log.text
    assert f"(#{contestant_id})" in log.text and "Tài khoản «" in log.text

    contestant = app.test_client()
    reset = contestant.post(f"/dat-lai-mat-khau/{token}", data={"password": NEW_PASSWORD, "confirm": NEW_PASSWORD})
    assert reset.status_code == 302
    assert login(app.test_client(), phone, NEW_PASSWORD).status_code == 302
    with app.app_context():
        link = db.session.scalars(select(PasswordReset)).one()
        assert link.issued_by_id == organiser_id and link.used_at is not None
        assert link.expires_at - link.created_at == timedelta(hours=24)


def test_an_organiser_cannot_reset_another_organiser_and_a_contestant_cannot_open_the_pages(app, client):
    other_id, _ = create_account(app, role="organiser")
    _, organiser_phone = create_account(app, role="organiser")
    login(client, organiser_phone)
    refused = client.post(f"/quan-tri/tai-khoan/{other_id}")
    assert refused.status_code == 422 and "chỉ có thể đặt lại mật khẩu của thí sinh" in refused.text
    locked_id, _ = create_account(app)
    with app.app_context():
        db.session.get(User, locked_id).active = False
        db.session.commit()
    refused = client.post(f"/quan-tri/tai-khoan/{locked_id}")
    assert refused.status_code == 422 and "Tài khoản này đang bị khóa" in refused.text
    with app.app_context():
        assert db.session.scalar(select(PasswordReset)) is None
    _, phone = create_account(app)
    contestant = app.test_client()
    login(contestant, phone)
    assert contestant.get("/quan-tri/tai-khoan").status_code == 403
    assert contestant.post(f"/quan-tri/tai-khoan/{other_id}").status_code == 403


# --- return to where the contestant came from ----------------------------------------------------------


def _registration(phone):
    return {
        "phone": phone,
        "full_name": "Trần Văn Bình",
        "date_of_birth": "1990-01-02",
        "unit_id": "",
        "password": PASSWORD,
        "confirm": PASSWORD,
        "consent": "y",
    }


@pytest.mark.parametrize(
    "target, expected",
    [("/cuoc-thi/tuan-1", "/cuoc-thi/tuan-1"), ("//evil.example/x", "/"), ("https://evil.example/", "/")],
)
def test_login_returns_to_the_page_it_came_from_on_this_site_only(app, client, target, expected):
    _, phone = create_account(app)
    response = client.post("/dang-nhap", query_string={"next": target}, data={"login": phone, "password": PASSWORD})
    assert response.status_code == 302 and response.headers["Location"] == expected


@pytest.mark.parametrize(
    "target, expected",
    [("/cuoc-thi/tuan-1", "/cuoc-thi/tuan-1"), ("//evil.example/x", "/"), ("/\t/evil.example", "/")],
)
def test_registration_returns_to_the_page_it_came_from_on_this_site_only(app, client, target, expected):
    with app.app_context():
        unit = Unit(name="Tỉnh Bắc Ninh")
        db.session.add(unit)
        db.session.commit()
        unit_id = unit.id
    data = _registration("0987650001") | {"unit_id": str(unit_id)}
    response = client.post("/dang-ky", query_string={"next": target}, data=data)
    assert response.status_code == 302 and response.headers["Location"] == expected
    with app.app_context():
        assert db.session.scalar(select(User).where(User.phone == data["phone"])) is not None


def test_the_login_page_carries_next_to_registration_and_the_header_links(app, client):
    page = client.get("/dang-nhap", query_string={"next": "/cuoc-thi/tuan-1"})
    assert 'href="/dang-ky?next=/cuoc-thi/tuan-1"' in page.text
    assert 'href="/quen-mat-khau?next=/cuoc-thi/tuan-1"' in page.text
    other = client.get("/cuoc-thi")
    assert 'href="/dang-nhap?next=/cuoc-thi"' in other.text
    refused = client.get("/dang-nhap", query_string={"next": "//evil.example"})
    assert 'href="/dang-ky"' in refused.text and "dang-ky?next=//evil" not in refused.text


def test_concurrent_uses_of_one_link_reset_exactly_once(any_db_app):
    """Two tabs (or a double tap) posting the same link: one conditional UPDATE claims it, on SQLite and PostgreSQL."""
    app = any_db_app
    user_id, _ = create_account(app, email="dung@example.vn")
    with app.test_request_context():
        request_reset("dung@example.vn")
        token = _token_from_mail(app)
    wins, refusals, errors = [], [], []
    barrier = threading.Barrier(6)

    def use(i):
        with app.test_request_context():
            barrier.wait()
            try:
                reset_password(token, f"matkhau-moi-{i}")
                db.session.commit()
                wins.append(i)
            except AccountError:
                db.session.rollback()
                refusals.append(i)
            except Exception as exc:
                errors.append(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=use, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == [] and len(wins) == 1 and len(refusals) == 5
    with app.app_context():
        assert db.session.get(User, user_id).check_password(f"matkhau-moi-{wins[0]}")
        assert db.session.scalar(select(PasswordReset.used_at)) is not None
