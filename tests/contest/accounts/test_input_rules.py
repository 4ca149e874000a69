"""Issue 12, findings 5 and 6: Unicode tricks and impossible dates at registration, on SQLite and PostgreSQL.

Fullwidth or Arabic-Indic digits once registered a second account for the same CCCD or phone; names made of a
zero-width space or a right-to-left override were accepted; NUL bytes and `2024-02-30` were a 500.
"""

import unicodedata
from datetime import date

import pytest
from sqlalchemy import select

from contest.accounts.models import Unit, User
from contest.accounts.validators import cccd_problem, has_non_ascii_digit, name_problem, normalize_phone
from infra.extensions import db
from tests.contest.accounts.test_accounts import _form

FULLWIDTH = str.maketrans("0123456789", "０１２３４５６７８９")
ARABIC_INDIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")


def _unit(app):
    with app.app_context():
        unit = Unit(name="Sở Tư pháp Nghệ An")
        db.session.add(unit)
        db.session.commit()
        return unit.id


def _count(app):
    with app.app_context():
        return db.session.scalar(select(db.func.count(User.id)))


@pytest.mark.parametrize("digits", [FULLWIDTH, ARABIC_INDIC])
def test_validators_take_ascii_digits_only(digits):
    assert normalize_phone("0912345678".translate(digits)) is None
    assert normalize_phone("+84 912.345-678") == "0912345678"
    assert cccd_problem("040195001234".translate(digits), None) == "format"
    assert has_non_ascii_digit("０９") and not has_non_ascii_digit("09 12")


@pytest.mark.parametrize(
    "name, problem",
    [
        ("\u200b", "control"),  # zero-width space alone
        ("\u202e", "control"),  # right-to-left override alone
        ("Trần\u202eThị", "control"),
        ("An\x00", "control"),
        ("123 456", "no_letter"),
        ("---", "no_letter"),
        ("Trần Thị Bình", None),
        ("Hồ Xuân Hương", None),
    ],
)
def test_name_rules(name, problem):
    assert name_problem(name) == problem


@pytest.mark.parametrize("digits", [FULLWIDTH, ARABIC_INDIC], ids=["fullwidth", "arabic-indic"])
def test_same_cccd_in_other_digits_is_refused_not_a_second_account(any_db_app, digits):
    app = any_db_app
    client = app.test_client()
    unit_id = _unit(app)
    assert client.post("/dang-ky", data=_form(unit_id)).status_code == 302
    client.post("/dang-xuat")
    response = client.post("/dang-ky", data=_form(unit_id, cccd="040195001234".translate(digits)))
    assert response.status_code == 422
    assert "Số CCCD chỉ được gồm các chữ số 0–9" in response.get_data(as_text=True)
    assert _count(app) == 1


@pytest.mark.parametrize("digits", [FULLWIDTH, ARABIC_INDIC], ids=["fullwidth", "arabic-indic"])
def test_phone_in_other_digits_is_refused(any_db_app, digits):
    app = any_db_app
    response = app.test_client().post("/dang-ky", data=_form(_unit(app), phone="0912345678".translate(digits)))
    assert response.status_code == 422
    assert "Số điện thoại chỉ được gồm các chữ số 0–9" in response.get_data(as_text=True)
    assert _count(app) == 0


def test_cccd_and_phone_with_separators_are_accepted(app, client):
    response = client.post("/dang-ky", data=_form(_unit(app), phone="+84 912-345.679", cccd="040 195 001.234"))
    assert response.status_code == 302
    with app.app_context():
        user = db.session.scalar(select(User))
        assert user.phone == "0912345679" and user.cccd_last4 == "1234"


@pytest.mark.parametrize(
    "name, message",
    [
        ("\u200b", "Họ và tên chứa ký tự ẩn"),
        ("\u202e", "Họ và tên chứa ký tự ẩn"),
        ("Trần\u200bThị Bình", "Họ và tên chứa ký tự ẩn"),
        ("12345", "Họ và tên phải có chữ cái"),
    ],
)
def test_registration_refuses_invisible_or_letterless_names(any_db_app, name, message):
    app = any_db_app
    response = app.test_client().post("/dang-ky", data=_form(_unit(app), full_name=name))
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert _count(app) == 0


def test_names_are_stored_in_nfc(app, client):
    decomposed = unicodedata.normalize("NFD", "Nguyễn  Thị   Ánh")
    assert decomposed != unicodedata.normalize("NFC", decomposed)
    assert client.post("/dang-ky", data=_form(_unit(app), full_name=decomposed)).status_code == 302
    with app.app_context():
        assert db.session.scalar(select(User.full_name)) == "Nguyễn Thị Ánh"  # NFC, one space


@pytest.mark.parametrize("field", ["full_name", "phone", "cccd", "email", "password"])
def test_nul_in_any_field_is_a_field_error_not_a_500(any_db_app, field):
    app = any_db_app
    unit_id = _unit(app)
    data = _form(unit_id)
    data[field] = data[field] + "\x00" if data[field] else "a\x00b"
    if field == "password":
        data["confirm"] = data["password"]
    response = app.test_client().post("/dang-ky", data=data)
    assert response.status_code == 422
    assert "ký tự điều khiển" in response.get_data(as_text=True)
    assert _count(app) == 0


def test_nul_in_login_is_a_field_error(any_db_app):
    response = any_db_app.test_client().post("/dang-nhap", data={"login": "09\x0012345678", "password": "x\x00"})
    assert response.status_code == 422
    assert "ký tự điều khiển" in response.get_data(as_text=True)


@pytest.mark.parametrize("value", ["2024-02-30", "abc", "99999-01-01", "0000-00-00"])
def test_impossible_birth_date_is_a_field_error(any_db_app, value):
    app = any_db_app
    response = app.test_client().post("/dang-ky", data=_form(_unit(app), date_of_birth=value))
    assert response.status_code == 422
    assert "Ngày sinh không hợp lệ" in response.get_data(as_text=True)
    assert _count(app) == 0


def test_create_user_applies_the_form_rules_for_every_caller(app):
    """The CLI and seeding call create_user directly: fullwidth CCCD digits and invisible names are refused there too."""
    from contest.accounts.services import AccountError, create_user

    with app.app_context():
        with pytest.raises(AccountError) as refused:
            create_user(
                phone="0911000001",
                password="matkhau123",
                full_name="An",
                date_of_birth=date(1995, 1, 1),
                cccd="００１１９５９８７６５４",
            )
        assert refused.value.field == "cccd"
        with pytest.raises(AccountError) as refused:
            create_user(phone="0911000002", password="matkhau123", full_name="\u200b", date_of_birth=date(1995, 1, 1))
        assert refused.value.field == "full_name"
        user = create_user(
            phone="0911000003",
            password="matkhau123",
            full_name="  Nguye\u0302\u0303n   An ",
            date_of_birth=date(1995, 1, 1),
            cccd="001 195 987 654",
        )
        assert user.full_name == "Nguyễn An" and user.cccd_last4 == "7654"
