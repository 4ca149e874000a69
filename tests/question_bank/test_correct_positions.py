"""Issue 11, finding 1: where authors put the correct option, shown on the bank list, and the round form's
non-blocking warning when a round would show that order (no option shuffling) over a skewed bank."""

import re

from question_bank.services import correct_position_distribution
from question_bank.stats import position_distribution
from server.demo import seed_demo
from tests.conftest import create_account, login
from tests.contest.organise.test_organise_routes import _contest_with_round, _round_form
from tests.contest.roundkit import make_bank


def test_distribution_counts_and_flags_skew():
    uniform = position_distribution([(4, i % 4) for i in range(40)])
    assert uniform.counts == (10, 10, 10, 10) and not uniform.skewed and uniform.questions == 40
    first = position_distribution([(4, 0)] * 30 + [(4, 1)] * 2 + [(2, 1)] * 2)
    assert first.counts == (30, 4, 0, 0) and first.skewed and first.most_common() == ("A", 88)
    assert not position_distribution([(4, 0)] * 5).skewed  # too few questions to tell
    assert position_distribution([]).questions == 0


def test_demo_bank_is_skewed_towards_a(ctx):
    seed_demo()
    positions = correct_position_distribution()
    letter, share = positions.most_common()
    assert positions.skewed and letter == "A" and share > 85, positions


def test_bank_list_shows_the_distribution(app, client):
    with app.app_context():
        make_bank(20)  # the kit authors the key first
    _, phone = create_account(app, role="organiser")
    login(client, phone)
    html = client.get("/quan-tri/ngan-hang/").get_data(as_text=True)
    assert "Vị trí của đáp án đúng" in html and 'id="positions-skewed"' in html
    assert "<td>20</td>" in html and "<td>100%</td>" in html


def test_round_form_warns_without_blocking_when_options_are_not_shuffled(app, client):
    contest_id, round_id, category_id = _contest_with_round(app)
    with app.app_context():
        make_bank(20)
    _, phone = create_account(app, role="organiser")
    login(client, phone)
    page = client.get(f"/quan-tri/cuoc-thi/{contest_id}/tuan-thi/{round_id}").get_data(as_text=True)
    assert 'id="shuffle-warning"' in page and "data-shuffle-warning hidden" in page  # shuffling on: hidden
    form = _round_form(category_id, number="2", opens_at="2026-12-08T08:00", closes_at="2026-12-14T20:00")
    form.pop("shuffle_options")
    response = client.post(f"/quan-tri/cuoc-thi/{contest_id}/tuan-thi/moi", data=form, follow_redirects=True)
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "Đã tạo tuần thi số 2." in html, re.findall(
        r"class=\"error\"[^<]*<", html
    )  # saved all the same
    assert "Cảnh báo: tuần thi không trộn thứ tự phương án" in html and "alert-warning" in html
