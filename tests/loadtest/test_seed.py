"""Bulk pre-registration of synthetic contestants for load tests."""

import pytest
from sqlalchemy import func, select

from contest.accounts.models import User
from infra.extensions import db
from loadtests.seed import DEFAULT_PASSWORD, loadtest_phone, remove_users, seed_users


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


def test_light_hash_is_a_cheaper_scrypt_that_still_checks(app):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["loadtest", "seed-users", "--count", "2", "--light-hash"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        user = db.session.scalar(select(User).where(User.phone == loadtest_phone(1)))
        assert user.password_hash.startswith("scrypt:4096:8:1$")
        assert user.check_password(DEFAULT_PASSWORD) and not user.check_password("sai-mat-khau")


def test_create_round_command_opens_a_long_unlimited_round(app):
    from contest.rounds.models import Round
    from contest.rounds.services import round_state

    runner = app.test_cli_runner()
    refused = runner.invoke(args=["loadtest", "create-round"])
    assert refused.exit_code != 0 and "seed-demo" in refused.output  # no demo contest yet: a clear error
    assert runner.invoke(args=["seed-demo"]).exit_code == 0
    result = runner.invoke(args=["loadtest", "create-round", "--questions", "30", "--minutes", "45"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        round_ = db.session.get(Round, int(result.output.strip()))
        assert round_.blueprint == [{"category_id": None, "count": 30, "difficulty": None}]
        assert round_.time_limit_seconds == 45 * 60 and round_.attempts_allowed is None
        assert round_state(round_) == "open" and round_.number == 2
