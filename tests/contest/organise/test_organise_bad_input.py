"""Issue 12, finding 6, in the staff forms: a round opening on 0001-01-01 and integers no column can hold were 500s
(OverflowError converting to UTC, "integer out of range"); now they are field errors, on SQLite and PostgreSQL."""

import pytest
from sqlalchemy import func, select

from contest.accounts.models import Unit
from contest.judging.errors import JudgingError
from contest.judging.prizes import parse_tiers
from contest.rounds.models import Contest, Round
from infra.extensions import db
from tests.conftest import create_account, login
from tests.contest.organise.test_organise_routes import _round_form
from tests.contest.organise.test_organise_services import seed_bank

HUGE = "99999999999999999999"


def _organiser_with_contest(app):
    client = app.test_client()
    _, phone = create_account(app, role="organiser")
    login(client, phone)
    with app.app_context():
        category_id, _ = seed_bank()
    client.post("/quan-tri/cuoc-thi/moi", data={"title": "Cuộc thi"})
    with app.app_context():
        cid = db.session.scalar(select(Contest.id))
    return client, cid, category_id


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"opens_at": "0001-01-01T00:00"}, "Thời gian phải trong khoảng từ năm 2000 đến năm 2100."),
        ({"closes_at": "9999-12-31T23:59"}, "Thời gian phải trong khoảng từ năm 2000 đến năm 2100."),
        ({"opens_at": "2024-02-30T08:00"}, "Thời gian không hợp lệ."),
        ({"number": HUGE}, "Số thứ tự tuần thi phải là số nguyên."),
        ({"number": "10001"}, "Vui lòng nhập một số từ"),
        ({"attempts_allowed": "2147483648"}, "Số lượt thi phải là số nguyên."),
        ({"attempts_allowed": "５"}, "Số lượt thi phải là số nguyên."),
        ({"time_limit_minutes": HUGE}, "Thời gian làm bài phải là số phút (số nguyên)."),
        ({"blueprint-0-count": HUGE}, "Số câu phải là số nguyên."),
        ({"blueprint-0-category_id": HUGE}, "Quy tắc 1"),
    ],
)
def test_round_form_out_of_range_is_a_field_error(any_db_app, overrides, message):
    client, cid, category_id = _organiser_with_contest(any_db_app)
    response = client.post(f"/quan-tri/cuoc-thi/{cid}/tuan-thi/moi", data=_round_form(category_id, **overrides))
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    with any_db_app.app_context():
        assert db.session.scalar(select(func.count(Round.id))) == 0


def test_contest_form_with_a_huge_unit_id_is_a_field_error(any_db_app):
    client, _cid, _ = _organiser_with_contest(any_db_app)
    response = client.post("/quan-tri/cuoc-thi/moi", data={"title": "Cuộc thi khác", "unit_ids": [HUGE, "１"]})
    assert response.status_code == 422
    assert "Có đơn vị không tồn tại trong danh sách đơn vị." in response.get_data(as_text=True)


@pytest.mark.parametrize("headcount", [HUGE, "2147483648", "１２"])
def test_unit_headcount_out_of_range_is_a_field_error(any_db_app, headcount):
    client = any_db_app.test_client()
    _, phone = create_account(any_db_app, role="organiser")
    login(client, phone)
    response = client.post("/quan-tri/don-vi/", data={"name": "Sở Tư pháp", "parent_id": "0", "headcount": headcount})
    assert response.status_code in (200, 422)
    with any_db_app.app_context():
        assert db.session.scalar(select(func.count(Unit.id))) == 0


@pytest.mark.parametrize("line", [f"Giải Nhất; {HUGE}", "Giải Nhất; ²", "Giải Nhất; １", "Giải Nhất; -1"])
def test_prize_tier_counts_must_be_ascii_integers(app, line):
    with app.test_request_context(), pytest.raises(JudgingError, match="cần dạng"):
        parse_tiers(line)
