"""Issue 14: no heavy work on a judge's click. The worker settles a round (target, flags, ranking board) once it
can; the judge's round page only reads, and says so while the worker has not finished."""

import pytest

from contest.audit.models import AuditEntry
from contest.judging import settler
from contest.judging.models import JudgingSettings, RankingEntry, ReviewFlag
from contest.judging.settings import set_ranking_rule
from contest.rounds import worker
from contest.rounds.models import Round
from infra.extensions import db, get_redis
from tests.conftest import create_account, login
from tests.contest.judging_data import add_attempt, make_person, make_round


@pytest.fixture
def closed_round(app):
    with app.app_context():
        round_ = make_round(questions=2)
        people = [make_person(full_name="Nguyễn Thị Ánh"), make_person(full_name="Lê Văn Bình")]
        add_attempt(round_, people[0], 2, time_ms=20_000, prediction=1)
        add_attempt(round_, people[1], 1, time_ms=120_000, prediction=1)
        db.session.commit()
        return round_.id


def _heavy_work_done(round_id):
    return (
        db.session.get(Round, round_id).perfect_count_actual,
        ReviewFlag.query.filter_by(round_id=round_id).count(),
        RankingEntry.query.filter_by(round_id=round_id).count(),
    )


def test_round_page_of_a_settled_round_only_reads_until_the_worker_settles_it(app, client, closed_round, monkeypatch):
    # A round above INLINE_LIMIT attempts (10^6 in production; the limit lowered so that 2 attempts count as big).
    monkeypatch.setattr(settler, "INLINE_LIMIT", 1)
    _, phone = create_account(app, role="judge")
    login(client, phone)
    page = client.get(f"/giam-khao/vong/{closed_round}").get_data(as_text=True)
    assert 'id="settling"' in page and "đang chốt kết quả" in page and "Nguyễn Thị Ánh" not in page
    with app.app_context():
        # The click fixed nothing, computed no flag, stored no ranking (before: all three, 35-40 s at 10^6).
        assert _heavy_work_done(closed_round) == (None, 0, 0)
        assert settler.settle_due_rounds() == [closed_round]
        assert _heavy_work_done(closed_round) == (1, 1, 2)
        actions = [e.action for e in AuditEntry.query.filter_by(round_id=closed_round)]
        assert actions.count("fix_perfect_count") == 1 and actions.count("review_flags") == 1
        computed = db.session.get(JudgingSettings, closed_round).ranking_computed_at
        assert settler.settle_due_rounds() == []  # idempotent: nothing left to do
        assert db.session.get(JudgingSettings, closed_round).ranking_computed_at == computed
    page = client.get(f"/giam-khao/vong/{closed_round}").get_data(as_text=True)
    assert 'id="settling"' not in page and page.index("Nguyễn Thị Ánh") < page.index("Lê Văn Bình")
    assert "Thời gian làm bài quá ngắn" in page


def test_a_small_round_is_settled_on_the_judges_first_look(app, client, closed_round):
    """At most INLINE_LIMIT attempts: the page does not wait for the worker's next pass (a decision that changes the
    prediction's target makes the stored ranking out of date too)."""
    _, phone = create_account(app, role="judge")
    login(client, phone)
    page = client.get(f"/giam-khao/vong/{closed_round}").get_data(as_text=True)
    assert 'id="settling"' not in page and page.index("Nguyễn Thị Ánh") < page.index("Lê Văn Bình")
    with app.app_context():
        assert _heavy_work_done(closed_round) == (1, 1, 2)
        assert settler.settle_due_rounds() == []  # nothing left for the worker


def test_a_round_not_yet_settled_is_left_alone(app):
    with app.app_context():
        open_round = make_round(closed=False)
        add_attempt(open_round, make_person(), 3)
        db.session.commit()
        assert settler.settle_due_rounds() == []
        assert _heavy_work_done(open_round.id) == (None, 0, 0)


def test_a_round_locked_by_another_worker_is_skipped_then_settled(app, closed_round):
    with app.app_context():
        r = get_redis()
        key = settler.LOCK_KEY.format(round_id=closed_round)
        r.set(key, "another-worker", px=60_000)
        assert settler.settle_due_rounds() == []
        assert _heavy_work_done(closed_round) == (None, 0, 0)
        assert r.get(key) == "another-worker"  # not released by a worker that does not hold it
        r.delete(key)
        assert settler.settle_due_rounds() == [closed_round]
        assert r.get(key) is None


def test_a_new_rule_or_a_judges_recompute_is_stored_again_by_the_worker(app, client, closed_round):
    _, phone = create_account(app, role="judge")
    with app.app_context():
        settler.settle_due_rounds()
        round_ = db.session.get(Round, closed_round)
        set_ranking_rule(round_, ["time_taken_asc", "correct_desc"], None)
        assert not settler.ready_for_reading(round_)
        assert settler.settle_due_rounds() == [closed_round]
        assert settler.ready_for_reading(round_)
        computed = db.session.get(JudgingSettings, closed_round).ranking_computed_at
    login(client, phone)
    response = client.post(f"/giam-khao/vong/{closed_round}/can-xem-xet/tinh-lai", follow_redirects=True)
    assert response.status_code == 200
    with app.app_context():
        assert settler.rebuild_requested(closed_round)
        assert db.session.get(JudgingSettings, closed_round).ranking_computed_at == computed  # not on the click
        assert settler.settle_due_rounds() == [closed_round]
        assert not settler.rebuild_requested(closed_round)
        assert db.session.get(JudgingSettings, closed_round).ranking_computed_at > computed


def test_the_worker_loop_settles_rounds(app, closed_round):
    passes = []
    with app.app_context():
        worker.run(
            block_ms=10,
            settle=settler.settle_due_rounds,
            settle_every_s=0,
            stop=lambda: passes.append(1) or len(passes) > 2,
        )
        assert _heavy_work_done(closed_round) == (1, 1, 2)


def test_a_closed_round_still_settling_ranks_nothing_on_the_judge_page(app, client):
    """Closed a minute ago: the last attempts may still run; the page says when the results will be settled."""
    from datetime import datetime, timedelta

    _, phone = create_account(app, role="judge")
    with app.app_context():
        now = datetime.utcnow()
        round_ = make_round()
        round_.closes_at = now - timedelta(minutes=1)
        add_attempt(round_, make_person(full_name="Nguyễn Thị Ánh"), 3)
        db.session.commit()
        round_id = round_.id
    login(client, phone)
    page = client.get(f"/giam-khao/vong/{round_id}").get_data(as_text=True)
    assert 'id="settling"' in page and "Máy chủ sẽ tự chốt kết quả từ" in page and "Nguyễn Thị Ánh" not in page


def test_an_attempt_closed_after_settling_is_caught_by_the_workers_full_check(app, closed_round):
    """The page does not count attempts; the worker checks the full key of recently settled rounds once a minute."""
    with app.app_context():
        assert settler.settle_due_rounds() == [closed_round]
        round_ = db.session.get(Round, closed_round)
        add_attempt(round_, make_person(full_name="Vũ Văn Muộn"), 2, time_ms=90_000)  # closed late
        db.session.commit()
        assert settler.ready_for_reading(round_)  # the page reads what is stored, without counting
        settler._full_checks.clear()  # as a minute later
        assert settler.settle_due_rounds() == [closed_round]
        assert RankingEntry.query.filter_by(round_id=closed_round).count() == 3
        assert settler.settle_due_rounds() == []  # checked a moment ago: not again within the minute
