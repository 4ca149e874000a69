"""Bulk pre-registration of synthetic contestants for load tests."""
import pytest
from sqlalchemy import func, select

from contest.accounts.models import User
from contest.extensions import db
from contest.loadseed import DEFAULT_PASSWORD, loadtest_phone, remove_users, seed_users


def test_phone_numbers_are_valid_and_refuse_overflow():
    assert loadtest_phone(1) == "0599000001"
    assert loadtest_phone(999999) == "0599999999"
    with pytest.raises(ValueError):
        loadtest_phone(1_000_000)
    with pytest.raises(ValueError):
        loadtest_phone(1, prefix="0199")  # not a Vietnamese mobile block


def test_seed_users_bulk_inserts_idempotently_with_one_shared_hash(any_db_app):
    with any_db_app.app_context():
        assert seed_users(2500) == (2500, 0)  # more than one insert batch
        first = db.session.scalars(select(User.password_hash).where(User.phone.like("0599%"))).all()
        assert len(first) == 2500 and len(set(first)) == 1  # one scrypt hash per run, shared
        assert seed_users(2600) == (100, 2500)
        users = db.session.scalars(select(User).where(User.phone.like("0599%"))).all()
        assert len(users) == 2600
        some = db.session.scalar(select(User).where(User.phone == loadtest_phone(2600)))
        assert some.role == "contestant" and some.is_active and some.consent_at is not None
        assert some.check_password(DEFAULT_PASSWORD) and not some.check_password("sai-mat-khau")
        assert remove_users() == 2600
        assert db.session.scalar(select(func.count()).select_from(User)) == 0


def test_seeded_contestant_logs_in_over_http(app):
    client = app.test_client()
    with app.app_context():
        seed_users(3, start=41)
    response = client.post("/dang-nhap", data={"login": loadtest_phone(42), "password": DEFAULT_PASSWORD})
    assert response.status_code == 302
    assert client.get("/tai-khoan").status_code == 200


def test_seed_users_command(app):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["loadtest", "seed-users", "--count", "5"])
    assert result.exit_code == 0, result.output
    assert "5" in result.output
    again = runner.invoke(args=["loadtest", "seed-users", "--count", "5"])
    assert "0" in again.output
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(User).where(User.phone.like("0599%"))) == 5
    bad = runner.invoke(args=["loadtest", "seed-users", "--count", "5", "--prefix", "0199"])
    assert bad.exit_code != 0
