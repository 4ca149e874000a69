"""Issue 12, findings 6, 7 and 9: error pages never fail, every HTTP error is the Vietnamese page, `next` stays on
this site."""

import pytest

from contest.accounts.models import Unit
from infra.extensions import db
from tests.conftest import create_account, login, make_app


@pytest.fixture
def error_app(sqlite_url, redis_url):
    """An app that handles exceptions as production does (no propagation to the test client)."""
    app = make_app(sqlite_url, redis_url, PROPAGATE_EXCEPTIONS=False, MAX_CONTENT_LENGTH=1000)

    @app.route("/_test/failed-flush")
    def failed_flush():
        db.session.add(Unit(name=None))  # NOT NULL: the flush fails and the session needs a rollback
        db.session.expire_all()  # what a commit elsewhere in the request would have done
        db.session.flush()
        return "unreachable"

    yield app
    with app.app_context():
        db.engine.dispose()


def test_error_page_after_a_failed_statement_renders(error_app):
    client = error_app.test_client()
    _, phone = create_account(error_app)
    login(client, phone)  # the layout then shows the user: it needs a usable session
    response = client.get("/_test/failed-flush")
    assert response.status_code == 500
    page = response.get_data(as_text=True)
    assert "Lỗi hệ thống" in page and "Đã có lỗi xảy ra" in page
    assert client.get("/").status_code == 200  # and the next request is fine


def test_413_is_the_vietnamese_page(error_app):
    response = error_app.test_client().post("/dang-nhap", data={"login": "x" * 5000, "password": "y"})
    assert response.status_code == 413
    page = response.get_data(as_text=True)
    assert "Tệp quá lớn" in page and "Request Entity Too Large" not in page


def test_405_is_the_vietnamese_page_with_allow(error_app):
    response = error_app.test_client().get("/dang-xuat")
    assert response.status_code == 405
    assert "Thao tác không được hỗ trợ" in response.get_data(as_text=True)
    assert "POST" in response.headers["Allow"]


@pytest.mark.parametrize("target", ["/\t/evil.example", "//evil.example", "/\\evil.example", "/\r\n/evil.example"])
def test_language_switch_refuses_other_sites(app, client, target):
    response = client.post("/ngon-ngu/en", data={"next": target})
    assert response.status_code == 302
    assert response.headers["Location"] == "/"


def test_language_switch_goes_back_to_a_path_or_the_referring_page(app, client):
    assert client.post("/ngon-ngu/en", data={"next": "/cuoc-thi"}).headers["Location"] == "/cuoc-thi"
    referred = client.post("/ngon-ngu/vi", headers={"Referer": "http://localhost/dang-ky?x=1"})
    assert referred.headers["Location"] == "/dang-ky?x=1"
    elsewhere = client.post("/ngon-ngu/vi", headers={"Referer": "https://evil.example/phish"})
    assert elsewhere.headers["Location"] == "/"


@pytest.mark.parametrize("target", ["/\t/evil.example", "https://evil.example", "/x\r\nSet-Cookie: a=b"])
def test_bank_bulk_action_and_login_refuse_other_sites(app, client, target):
    _, phone = create_account(app, role="organiser")
    response = client.post(f"/dang-nhap?next={target}", data={"login": phone, "password": "matkhau123"})
    assert response.status_code == 302 and response.headers["Location"] == "/"
    response = client.post("/quan-tri/ngan-hang/hang-loat", data={"next": target, "ids": ["1"], "action": "x"})
    assert response.status_code == 302 and response.headers["Location"] == "/quan-tri/ngan-hang/"
