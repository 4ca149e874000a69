"""One truth for standings (issue 11, finding 5): a disqualification leaves every live board at the next push; after
publication the board, the projector page and the result page show the official ranking and prize (provisional
before); the public results address says the results are not published yet; prize tiers can require a minimum of
correct answers."""

import pytest
from sqlalchemy import select

from contest.accounts.models import User
from contest.judging.disqualification import disqualify, reinstate
from contest.judging.errors import JudgingError
from contest.judging.models import PrizeTier
from contest.judging.prizes import TierSpec, parse_tiers, set_prize_tiers, tier_line, winners
from contest.judging.publishing import ensure_official_board, publish
from contest.rounds import leaderboard
from contest.rounds.models import Attempt
from infra.extensions import db, get_redis
from tests.conftest import create_account, login
from tests.contest.judging_data import add_attempt, make_person, make_round

RULE = ["correct_desc", "prediction_distance_asc", "time_taken_asc", "submitted_at_asc", "attempts_used_asc"]


def _board_ids(round_id):
    return [e["user_id"] for e in leaderboard.board_payload(round_id)["top"]]


def _round_with_board(app, published_contest=True):
    """A closed round of 3 questions whose live order (correct, time) differs from the official rule (correct, then
    prediction distance): the fastest person predicted worst. Every attempt is on the live board."""
    accounts = [create_account(app, full_name=f"Thí sinh {i}") for i in range(3)]
    round_ = make_round(questions=3, rule=RULE)
    round_.contest.published = published_contest
    judge = make_person(full_name="Trần Thẩm Phán", role="judge")
    people = []
    for (user_id, phone), (correct, ms, prediction) in zip(accounts, [(3, 60_000, 9), (3, 90_000, 1), (2, 30_000, 1)]):
        user = db.session.get(User, user_id)
        add_attempt(round_, user, correct, time_ms=ms, prediction=prediction)
        people.append((user, phone))
    db.session.commit()
    for attempt in db.session.scalars(select(Attempt).where(Attempt.round_id == round_.id)):
        leaderboard.record(attempt)
    return round_, judge, people


def test_disqualification_leaves_the_live_board_and_reinstating_restores_it(any_db_app):
    with any_db_app.app_context():
        round_, judge, people = _round_with_board(any_db_app)
        leader = people[0][0]
        assert _board_ids(round_.id)[0] == leader.id
        before = leaderboard.version(round_.id)
        disqualify(round_, leader.id, "Dùng nhiều tài khoản", judge)
        assert leader.id not in _board_ids(round_.id)
        assert leaderboard.version(round_.id) > before  # the pushers send the change at their next cycle
        assert leaderboard.rank_of(round_.id, leader.id) is None
        # A late write of their attempt (the worker, a sweep) does not put them back.
        attempt = db.session.scalar(select(Attempt).where(Attempt.user_id == leader.id))
        assert leaderboard.record(attempt) is False and leader.id not in _board_ids(round_.id)
        reinstate(round_, leader.id, "Đã xác minh danh tính", judge)
        assert _board_ids(round_.id)[0] == leader.id
        db.session.remove()


def test_published_standings_are_what_every_board_and_the_result_page_show(any_db_app):
    with any_db_app.app_context():
        round_, judge, people = _round_with_board(any_db_app)
        (fast, fast_phone), (exact, exact_phone), (third, _) = people
        attempt = db.session.scalar(select(Attempt).where(Attempt.user_id == exact.id))
        client = any_db_app.test_client()
        login(client, exact_phone)

        # Before publication: the live board's order, said to be provisional.
        assert _board_ids(round_.id) == [fast.id, exact.id, third.id]
        page = client.get(f"/luot-thi/{attempt.id}/ket-qua").get_data(as_text=True)
        assert "Thứ hạng tạm thời" in page and 'id="rank-provisional"' in page and 'id="prize"' not in page
        assert leaderboard.board_payload(round_.id)["official"] is False

        set_prize_tiers(round_, [TierSpec("Giải Nhất", 1), TierSpec("Giải Nhì", 1)], judge)
        publish(round_, judge)
        payload = leaderboard.board_payload(round_.id, public=True)
        assert payload["official"] is True
        assert [(e["rank"], e["name"], e["prize"]) for e in payload["top"]] == [
            (1, "Thí sinh 1", "Giải Nhất"),
            (2, "Thí sinh 0", "Giải Nhì"),
            (3, "Thí sinh 2", None),
        ]
        me = leaderboard.rank_of(round_.id, exact.id)
        assert (me["rank"], me["total"], me["prize"], me["official"]) == (1, 3, "Giải Nhất", True)
        assert leaderboard.ranks_of(round_.id, [fast.id, exact.id]) == {fast.id: 2, exact.id: 1}
        page = client.get(f"/luot-thi/{attempt.id}/ket-qua").get_data(as_text=True)
        assert "Thứ hạng chính thức" in page and "1 trên 3 người" in page
        assert 'id="prize">Giải Nhất<' in page and "tạm thời" not in page
        projector = any_db_app.test_client().get(f"/vong-thi/{round_.id}/bang-xep-hang").get_data(as_text=True)
        assert "Kết quả chính thức" in projector and 'data-official="1"' in projector
        assert projector.index("Thí sinh 1") < projector.index("Thí sinh 0") and "Giải Nhì" in projector

        # A late attempt does not change the published board; a disqualification takes the person off it.
        late = add_attempt(round_, third, 3, time_ms=1_000, prediction=1)
        db.session.commit()
        assert leaderboard.record(late) is False
        disqualify(round_, exact.id, "Nhờ người thi hộ", judge)
        assert [e["user_id"] for e in leaderboard.board_payload(round_.id)["top"]] == [fast.id, third.id]
        assert leaderboard.board_payload(round_.id)["official"] is True
        # Redis lost the board: the judge's round page (ensure_official_board) writes the published one back.
        get_redis().flushall()
        ensure_official_board(round_)
        assert _board_ids(round_.id) == [fast.id, third.id] and leaderboard.is_official(round_.id)
        db.session.remove()


def test_public_results_address_says_not_published_yet(ctx):
    round_, judge, _ = _round_with_board(ctx)
    client = ctx.test_client()
    response = client.get(f"/ket-qua/vong/{round_.id}")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "Kết quả chưa được công bố" in page and 'id="not-published"' in page
    publish(round_, judge)
    page = client.get(f"/ket-qua/vong/{round_.id}").get_data(as_text=True)
    assert "Kết quả chưa được công bố" not in page and "SHA-256" in page
    assert client.get("/ket-qua/vong/999999").status_code == 404


def test_a_tier_with_a_minimum_of_correct_answers_is_not_given_below_it(any_db_app):
    with any_db_app.app_context():
        round_ = make_round(questions=20, rule=RULE)
        judge = make_person(role="judge")
        zero, some = make_person(full_name="Không điểm"), make_person(full_name="Mười lăm điểm")
        add_attempt(round_, zero, 0, time_ms=10_000, prediction=0)
        db.session.commit()
        set_prize_tiers(round_, [TierSpec("Giải Nhất", 1)], judge)
        assert [e.prize for e in winners(round_)] == ["Giải Nhất"]  # the old behaviour: 0 of 20 wins

        set_prize_tiers(round_, parse_tiers("Giải Nhất; 1; tối thiểu 15\nGiải Nhì; 1; tối thiểu 10"), judge)
        assert winners(round_) == []
        add_attempt(round_, some, 15, time_ms=90_000, prediction=0)
        db.session.commit()
        assert [(e.full_name, e.prize) for e in winners(round_)] == [("Mười lăm điểm", "Giải Nhất")]
        snapshot = publish(round_, judge)
        assert snapshot.winner_count == 1
        tiers = db.session.scalars(select(PrizeTier).where(PrizeTier.round_id == round_.id)).all()
        assert [(t.name, t.min_correct) for t in tiers] == [("Giải Nhất", 15), ("Giải Nhì", 10)]
        assert tier_line(tiers[0]) == "Giải Nhất; 1; tối thiểu 15"
        db.session.remove()


def test_prize_tier_minimum_is_checked_with_clear_errors(ctx):
    _, phone = create_account(ctx, role="judge")
    round_ = make_round(questions=20)
    judge = make_person(role="judge")
    assert parse_tiers("Giải Ba; 3; tuyệt đối; tối thiểu 20")[0] == TierSpec("Giải Ba", 3, True, 20)
    with pytest.raises(JudgingError, match="không hiểu “nhiều”"):
        parse_tiers("Giải Nhất; 1; nhiều")
    with pytest.raises(JudgingError, match="nhiều hơn số câu của vòng thi"):
        set_prize_tiers(round_, parse_tiers("Giải Nhất; 1; tối thiểu 21"), judge)
    db.session.rollback()
    client = ctx.test_client()
    login(client, phone)
    url = f"/giam-khao/vong/{round_.id}/cai-dat"
    response = client.post(url, data={"tiers-tiers": "Giải Nhất; 1; tối thiểu 50", "tiers-submit": "1"})
    assert response.status_code == 422 and "nhiều hơn số câu của vòng thi (20)" in response.get_data(as_text=True)
    assert db.session.scalars(select(PrizeTier)).all() == []
    response = client.post(url, data={"tiers-tiers": "Giải Nhất; 1; tối thiểu 18", "tiers-submit": "1"})
    assert response.status_code == 302
    assert "Giải Nhất; 1; tối thiểu 18" in client.get(url).get_data(as_text=True)
