"""Registration, login, roles and personal-data rules, through the real app on real Redis and SQL."""

from datetime import date

import pytest
import redis
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError

from contest.accounts.models import Unit, User
from contest.accounts.services import AccountError, cccd_digest, create_user
from contest.accounts.validators import cccd_problem, normalize_phone
from infra.extensions import db
from tests.conftest import PASSWORD, create_account, login, make_app, next_phone


def _unit(app):
    with app.app_context():
        province = Unit(name="Tỉnh Nghệ An")
        db.session.add(province)
        db.session.flush()
        unit = Unit(name="Sở Tư pháp Nghệ An", parent_id=province.id)
        db.session.add(unit)
        db.session.commit()
        return unit.id


def _form(unit_id, **overrides):
    data = {
        "phone": next_phone(),
        "full_name": "Trần Thị Bình",
        "date_of_birth": "1995-03-02",
        "unit_id": str(unit_id),
        "occupation": "civil_servant",
        "cccd": "040195001234",
        "email": "",
        "password": PASSWORD,
        "confirm": PASSWORD,
        "consent": "y",
    }
    data.update(overrides)
    return data


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("0912345678", "0912345678"),
        ("+84 912 345 678", "0912345678"),
        ("84912345678", "0912345678"),
        ("0212345678", None),
        ("091234567", None),
        ("abc", None),
    ],
)
def test_normalize_phone(raw, expected):
    assert normalize_phone(raw) == expected


def test_cccd_rules():
    assert cccd_problem("04019500123", None) == "format"
    assert cccd_problem("999195001234", None) == "province"
    assert cccd_problem("040195001234", date(1995, 1, 1)) is None
    assert cccd_problem("040195001234", date(1996, 1, 1)) == "birth_year"
    assert cccd_problem("001203001234", date(2003, 6, 1)) is None  # digit 4 = 3: woman born in the 2000s


def test_register_stores_hashed_cccd_and_consent(app, client):
    unit_id = _unit(app)
    response = client.post("/dang-ky", data=_form(unit_id, phone="0912 345 678"))
    assert response.status_code == 302
    with app.app_context():
        user = db.session.scalar(select(User).where(User.phone == "0912345678"))
        assert user.cccd_last4 == "1234"
        assert "040195001234" not in user.cccd_hash and len(user.cccd_hash) == 64
        assert user.consent_at is not None
        assert user.check_password(PASSWORD) and user.password_hash.startswith("scrypt:")
        # the full number cannot be read back from any column
        row = db.session.execute(text("SELECT * FROM users WHERE id = :id"), {"id": user.id}).one()
        assert not any("040195001234" in str(value) for value in row)
    assert "Đăng ký thành công" in client.get("/").get_data(as_text=True)


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"phone": "12345"}, "Số điện thoại không hợp lệ"),
        ({"confirm": "khac-nhau-1"}, "Hai mật khẩu không khớp nhau"),
        ({"cccd": "12345"}, "Số CCCD phải gồm đúng 12 chữ số"),
        ({"cccd": "040196001234"}, "Số CCCD không khớp với năm sinh"),
        ({"consent": ""}, "Bạn cần đồng ý với việc xử lý dữ liệu cá nhân"),
        ({"date_of_birth": "2999-01-01"}, "Ngày sinh không được ở tương lai"),
        ({"password": "ngan", "confirm": "ngan"}, "Mật khẩu phải có từ 8 đến 128 ký tự"),
        ({"email": "khong-phai-email"}, "Địa chỉ email không hợp lệ"),
    ],
)
def test_register_rejects_bad_input_with_specific_vietnamese_errors(app, client, overrides, message):
    unit_id = _unit(app)
    response = client.post("/dang-ky", data=_form(unit_id, **overrides))
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(db.func.count(User.id))) == 0


def test_duplicate_phone_and_cccd_are_refused(app, client):
    unit_id = _unit(app)
    first = _form(unit_id)
    assert client.post("/dang-ky", data=first).status_code == 302
    client.post("/dang-xuat")
    dup_phone = client.post("/dang-ky", data=_form(unit_id, phone=first["phone"], cccd=""))
    assert "Số điện thoại này đã được đăng ký" in dup_phone.get_data(as_text=True)
    dup_cccd = client.post("/dang-ky", data=_form(unit_id))
    assert dup_cccd.status_code == 422
    assert "Số CCCD này đã được đăng ký cho một tài khoản khác" in dup_cccd.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(db.func.count(User.id))) == 1


def test_database_enforces_one_account_per_cccd(any_db_app):
    with any_db_app.app_context():
        create_user(
            phone=next_phone(), password=PASSWORD, full_name="A", date_of_birth=date(1995, 1, 1), cccd="040195009999"
        )
        # bypass the service's check: the unique index itself must refuse
        twin = User(
            phone=next_phone(),
            full_name="B",
            date_of_birth=date(1995, 1, 1),
            cccd_hash=cccd_digest("040195009999"),
            password_hash="x",
        )
        db.session.add(twin)
        with pytest.raises(IntegrityError):
            db.session.commit()
        db.session.rollback()
        with pytest.raises(AccountError) as exc:
            create_user(
                phone=next_phone(),
                password=PASSWORD,
                full_name="C",
                date_of_birth=date(1995, 1, 1),
                cccd="040195009999",
            )
        assert exc.value.field == "cccd"


def test_login_by_phone_or_email_then_logout(app, client):
    _, phone = create_account(app, email="an@example.vn")
    assert login(client, "+84" + phone[1:]).status_code == 302
    assert "Tài khoản của tôi" in client.get("/tai-khoan").get_data(as_text=True)
    client.post("/dang-xuat")
    assert client.get("/tai-khoan").status_code == 302
    assert login(client, "AN@example.vn").status_code == 302


def test_wrong_password_is_refused(app, client):
    _, phone = create_account(app)
    response = login(client, phone, "sai-mat-khau")
    assert response.status_code == 422
    assert "Số điện thoại/email hoặc mật khẩu không đúng" in response.get_data(as_text=True)


def test_password_change(app, client):
    _, phone = create_account(app)
    login(client, phone)
    bad = client.post("/tai-khoan", data={"current": "sai", "password": "moi-12345", "confirm": "moi-12345"})
    assert "Mật khẩu hiện tại không đúng" in bad.get_data(as_text=True)
    ok = client.post("/tai-khoan", data={"current": PASSWORD, "password": "moi-12345", "confirm": "moi-12345"})
    assert ok.status_code == 302
    client.post("/dang-xuat")
    assert login(client, phone, "moi-12345").status_code == 302


def test_profile_masks_cccd_and_offers_no_identity_edit(app, client):
    _, phone = create_account(app, cccd="040195001234")
    login(client, phone)
    html = client.get("/tai-khoan").get_data(as_text=True)
    assert "********1234" in html and "040195001234" not in html
    assert 'name="full_name"' not in html and 'name="cccd"' not in html


def test_role_guard(app, client):
    _, phone = create_account(app)
    login(client, phone)
    assert client.get("/quan-tri/don-vi/").status_code == 403
    client.post("/dang-xuat")
    _, organiser = create_account(app, role="organiser")
    login(client, organiser)
    response = client.post("/quan-tri/don-vi/", data={"name": "Tỉnh Hà Tĩnh", "parent_id": "0"})
    assert response.status_code == 302
    assert "Tỉnh Hà Tĩnh" in client.get("/quan-tri/don-vi/").get_data(as_text=True)


def test_sessions_live_in_redis(app, client):
    _, phone = create_account(app)
    login(client, phone)
    keys = redis.Redis.from_url(app.config["REDIS_URL"]).keys("sess:*")
    assert keys, "the session must be stored server-side in Redis"
    # a second app process (another app object) sharing Redis sees the same session
    other = make_app(app.config["SQLALCHEMY_DATABASE_URI"], app.config["REDIS_URL"])
    other_client = other.test_client()
    cookie = client.get_cookie("session")
    other_client.set_cookie("session", cookie.value)
    assert other_client.get("/tai-khoan").status_code == 200


def test_csrf_is_enforced(sqlite_url, redis_url):
    app = make_app(sqlite_url, redis_url, WTF_CSRF_ENABLED=True)
    client = app.test_client()
    response = client.post("/dang-nhap", data={"login": "0912345678", "password": "x"})
    assert response.status_code == 400
    assert "Biểu mẫu đã hết hạn hoặc không hợp lệ" in response.get_data(as_text=True)


def test_login_is_rate_limited_through_redis(sqlite_url, redis_url):
    app = make_app(sqlite_url, redis_url, RATELIMIT_ENABLED=True, LOGIN_RATE_LIMIT="3 per minute")
    client = app.test_client()
    codes = [login(client, "0912345678", "sai").status_code for _ in range(4)]
    assert codes[:3] == [422, 422, 422] and codes[3] == 429
    assert "Bạn đã thử quá nhiều lần" in login(client, "0912345678", "sai").get_data(as_text=True)
    assert redis.Redis.from_url(redis_url).keys("LIMITS*"), "limits are counted in Redis"


def test_english_is_switchable(app, client):
    assert "Đăng ký dự thi" in client.get("/").get_data(as_text=True)
    client.post("/ngon-ngu/en", data={"next": "/"})
    html = client.get("/dang-nhap").get_data(as_text=True)
    assert 'lang="en"' in html and "Log in" in html


def test_users_create_cli(app, runner):
    result = runner.invoke(
        args=[
            "users",
            "create",
            "--role",
            "judge",
            "--phone",
            "0933333333",
            "--name",
            "Giám Khảo",
            "--password",
            "matkhau123",
        ]
    )
    assert result.exit_code == 0, result.output
    with app.app_context():
        assert db.session.scalar(select(User.role).where(User.phone == "0933333333")) == "judge"
    again = runner.invoke(args=["users", "create", "--phone", "0933333333", "--name", "X", "--password", "matkhau123"])
    assert again.exit_code != 0 and "đã được đăng ký" in again.output


def test_seed_demo_is_idempotent(app, runner):
    for _ in range(2):
        result = runner.invoke(args=["seed-demo"])
        assert result.exit_code == 0, result.output
    with app.app_context():
        assert db.session.scalar(select(db.func.count(User.id)).where(User.phone == "0900000001")) == 1
        assert db.session.scalar(select(db.func.count(Unit.id)).where(Unit.name == "Tỉnh Nghệ An")) == 1
