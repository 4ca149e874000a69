"""The judge's workflow on real SQL: review flags, disqualify/reinstate with reasons, audit, prizes, publishing."""

import hashlib
from datetime import date, datetime, timedelta

import pytest

from contest.audit import audit_log
from contest.audit.models import AuditEntry
from contest.judging.disqualification import disqualify, reinstate
from contest.judging.errors import JudgingError
from contest.judging.flags import (
    ensure_review_flags,
    flag_counts,
    flagged_people,
    refresh_review_flags,
    review_flags,
    review_flags_stale,
    stored_flags,
    update_thresholds,
)
from contest.judging.models import JudgingSettings, ResultSnapshot, ReviewFlag, SnapshotEntry
from contest.judging.prizes import TierSpec, parse_tiers, set_prize_tiers, winners
from contest.judging.publishing import (
    changed_since_publication,
    public_csv_chunks,
    publish,
    snapshot_entries,
    verify_snapshot,
)
from contest.judging.ranking import rank_entries
from contest.judging.settlement import fix_perfect_count, settled_at
from infra.extensions import db
from tests.contest.judging_data import BASE, add_attempt, make_person, make_round


@pytest.fixture
def judged(ctx):
    """A closed round of 3 questions: six people, a judge; no registration fallback so equal times tie."""
    round_ = make_round(
        questions=3,
        rule=["correct_desc", "prediction_distance_asc", "time_taken_asc", "submitted_at_asc", "attempts_used_asc"],
    )
    judge = make_person(full_name="Trần Thẩm Phán", role="judge")
    people = [make_person(full_name=f"Thí sinh {i}") for i in range(6)]
    scores = [(3, 100_000), (3, 120_000), (3, 120_000), (2, 50_000), (2, 90_000), (1, 30_000)]
    for person, (correct, ms) in zip(people, scores):
        add_attempt(round_, person, correct, time_ms=ms, prediction=3)
    db.session.commit()
    return round_, judge, people


def test_disqualify_needs_a_reason_and_is_audited(judged):
    round_, judge, people = judged
    with pytest.raises(JudgingError, match="lý do"):
        disqualify(round_, people[0].id, "  ", judge)
    assert [e.user_id for e in rank_entries(round_)][0] == people[0].id
    disqualify(round_, people[0].id, "Dùng nhiều tài khoản", judge)
    assert people[0].id not in [e.user_id for e in rank_entries(round_)]
    with pytest.raises(JudgingError, match="đã bị loại"):
        disqualify(round_, people[0].id, "Lần nữa cho chắc", judge)
    reinstate(round_, people[0].id, "Đã xác minh danh tính", judge)
    assert [e.user_id for e in rank_entries(round_)][0] == people[0].id
    with pytest.raises(JudgingError, match="không bị loại"):
        reinstate(round_, people[0].id, "Khôi phục lần hai", judge)
    log = audit_log(round_.id)
    assert [(e.action, e.subject_user_id, e.actor_id, e.reason) for e in reversed(log)] == [
        ("disqualify", people[0].id, judge.id, "Dùng nhiều tài khoản"),
        ("reinstate", people[0].id, judge.id, "Đã xác minh danh tính"),
    ]
    assert all(e.at is not None for e in log)


def test_disqualifying_someone_without_attempts_is_refused(judged):
    round_, judge, _ = judged
    stranger = make_person()
    db.session.commit()
    with pytest.raises(JudgingError, match="không có lượt thi"):
        disqualify(round_, stranger.id, "Không rõ lý do nào", judge)
    assert AuditEntry.query.count() == 0


def test_audit_log_is_append_only(judged):
    round_, judge, people = judged
    disqualify(round_, people[1].id, "Trùng thiết bị", judge)
    entry = audit_log(round_.id)[0]
    entry.reason = "sửa lén"
    with pytest.raises(PermissionError):
        db.session.commit()
    db.session.rollback()
    db.session.delete(audit_log(round_.id)[0])
    with pytest.raises(PermissionError):
        db.session.commit()
    db.session.rollback()
    assert audit_log(round_.id)[0].reason == "Trùng thiết bị"


def test_prize_tiers_ties_and_perfect_score_requirement(judged):
    round_, judge, people = judged
    # ranks: p0=1, p1=p2=2 (tie), p3=4, p4=5, p5=6
    set_prize_tiers(round_, parse_tiers("Giải Nhất; 1; tuyệt đối\nGiải Nhì; 1; tuyệt đối\nKhuyến khích; 3"), judge)
    result = [(e.user_id, e.rank, e.prize) for e in winners(round_)]
    # the tie at the Nhì boundary shares the higher prize; rank 4 then falls into the consolation tier
    assert result == [
        (people[0].id, 1, "Giải Nhất"),
        (people[1].id, 2, "Giải Nhì"),
        (people[2].id, 2, "Giải Nhì"),
        (people[3].id, 4, "Khuyến khích"),
        (people[4].id, 5, "Khuyến khích"),
    ]
    set_prize_tiers(round_, [TierSpec("Giải Nhất", 4, True)], judge)
    # rank 4 is not a perfect score: no prize even though the tier has room
    assert [e.user_id for e in winners(round_)] == [people[0].id, people[1].id, people[2].id]
    with pytest.raises(JudgingError):
        parse_tiers("Giải Nhất")
    with pytest.raises(JudgingError):
        set_prize_tiers(round_, [TierSpec("Giải Nhất", 0)], judge)
    assert [a.action for a in audit_log(round_.id)] == ["prize_tiers", "prize_tiers"]


def test_review_flags(ctx):
    round_ = make_round(questions=3)
    judge = make_person(role="judge")
    quick = make_person(full_name="Lê Nhanh")
    twins = [make_person(full_name="Phạm Trùng", dob=date(2000, 1, 1)) for _ in range(2)]
    office = [make_person(full_name=f"Cán bộ {i}") for i in range(3)]
    add_attempt(round_, quick, 3, time_ms=20_000)
    for person in twins:
        add_attempt(round_, person, 2, device=f"dev-{person.id}")
    for person in office:
        add_attempt(round_, person, 2, ip="203.0.113.7", device="shared-phone" if person is not office[2] else None)
    db.session.commit()
    update_thresholds(round_, judge, min_time_seconds=30, max_accounts_per_ip=2, max_accounts_per_device=1)
    flags = review_flags(round_)
    assert flags[quick.id] == {"fast"}
    assert flags[twins[0].id] == flags[twins[1].id] == {"shared_identity"}
    assert flags[office[0].id] == flags[office[1].id] == {"shared_ip", "shared_device"}
    assert flags[office[2].id] == {"shared_ip"}
    update_thresholds(round_, judge, min_time_seconds=10, max_accounts_per_ip=3, max_accounts_per_device=2)
    flags = review_flags(round_)
    assert quick.id not in flags and office[2].id not in flags
    with pytest.raises(JudgingError):
        update_thresholds(round_, judge, min_time_seconds=-1, max_accounts_per_ip=3, max_accounts_per_device=2)


def test_publish_freezes_a_versioned_snapshot_with_digest(any_db_app):
    with any_db_app.app_context():
        round_ = make_round(questions=3)
        judge = make_person(role="judge")
        people = [make_person(full_name=f"Người {i}") for i in range(4)]
        for i, person in enumerate(people):
            add_attempt(round_, person, 3 - (i // 2), time_ms=60_000 + i * 1000, prediction=2)
        db.session.commit()
        set_prize_tiers(round_, [TierSpec("Giải Nhất", 1), TierSpec("Giải Nhì", 1)], judge)
        v1 = publish(round_, judge, note="Kết quả tuần 1")
        assert round_.perfect_count_actual == 2  # fixed at publication (the round is closed)
        assert (v1.version, v1.entry_count, v1.winner_count) == (1, 4, 2)
        assert len(v1.digest) == 64 and verify_snapshot(v1)
        assert not changed_since_publication(round_)

        disqualify(round_, people[0].id, "Gian lận: nhờ người thi hộ", judge)
        assert changed_since_publication(round_)
        assert round_.perfect_count_actual == 1  # a disqualified perfect score no longer counts (valid entries)
        # the published version does not move
        assert [e.user_id for e in snapshot_entries(v1)][0] == people[0].id
        v2 = publish(round_, judge)
        assert v2.version == 2 and v2.digest != v1.digest and v2.entry_count == 3
        assert [e.prize for e in snapshot_entries(v2)][:2] == ["Giải Nhất", "Giải Nhì"]
        assert verify_snapshot(v1) and verify_snapshot(v2)
        assert ResultSnapshot.query.filter_by(round_id=round_.id).count() == 2

        # the digest is the SHA-256 of the public file (digest_format 2): recompute it from the file's bytes
        assert v2.digest_format == 2
        data = "".join(public_csv_chunks(v2)).encode("utf-8")
        assert hashlib.sha256(data).hexdigest() == v2.digest and data.startswith(b"\xef\xbb\xbf")
        assert data.count(b"\r\n") == 1 + v2.entry_count  # the header row and one row per entry

        # snapshots and their rows cannot be edited in place
        row = SnapshotEntry.query.filter_by(snapshot_id=v1.id, position=1).one()
        row.rank = 99
        with pytest.raises(PermissionError):
            db.session.commit()
        db.session.rollback()
        actions = [e.action for e in reversed(audit_log(round_.id))]
        assert actions == [
            "prize_tiers",
            "fix_perfect_count",
            "publish",
            "disqualify",
            "prediction_target_update",
            "publish",
        ]
        db.session.remove()


def test_open_round_cannot_be_published_or_fixed(ctx):
    round_ = make_round(questions=3, closed=False)
    judge = make_person(role="judge")
    add_attempt(round_, make_person(), 3)
    db.session.commit()
    with pytest.raises(JudgingError, match="chưa kết thúc"):
        publish(round_, judge)
    with pytest.raises(JudgingError, match="chưa kết thúc"):
        fix_perfect_count(round_, judge)
    assert round_.perfect_count_actual is None
    assert ResultSnapshot.query.count() == 0


def test_perfect_count_fixed_at_close_is_what_the_prediction_is_measured_against(ctx):
    round_ = make_round(questions=2)
    judge = make_person(role="judge")
    a, b, c = make_person(), make_person(), make_person()
    add_attempt(round_, a, 2, prediction=1, time_ms=90_000)
    add_attempt(round_, a, 2, prediction=1, time_ms=80_000)  # same person twice: counts once by people
    add_attempt(round_, b, 2, prediction=2, time_ms=90_000)
    add_attempt(round_, c, 1, prediction=3)
    db.session.commit()
    assert fix_perfect_count(round_, judge) == 2
    assert [e.user_id for e in rank_entries(round_)] == [b.id, a.id, c.id]
    # a late write after the close does not move the fixed target
    add_attempt(round_, make_person(), 2, submitted_at=BASE + timedelta(days=1))
    db.session.commit()
    assert fix_perfect_count(round_, judge) == 2
    round_.prediction_basis = "attempts"
    round_.perfect_count_actual = None
    db.session.commit()
    assert fix_perfect_count(round_, judge) == 4


def test_target_waits_until_the_last_attempts_are_final(ctx):
    """An attempt started just before the close may run its whole time limit after it."""
    round_ = make_round(questions=3, closed=False)
    round_.closes_at = datetime.utcnow() - timedelta(minutes=5)  # closed, but 20-minute attempts may still run
    judge = make_person(role="judge")
    add_attempt(round_, make_person(), 3)
    db.session.commit()
    with pytest.raises(JudgingError, match="đang được ghi nhận"):
        publish(round_, judge)
    assert round_.perfect_count_actual is None and ResultSnapshot.query.count() == 0
    round_.closes_at = datetime.utcnow() - timedelta(minutes=23)
    db.session.commit()
    assert publish(round_, judge).perfect_count_actual == 1


def test_review_flags_are_stored_once_and_recomputed_on_demand(ctx):
    round_ = make_round(questions=3)
    judge = make_person(role="judge")
    quick = make_person(full_name="Lê Nhanh")
    office = [make_person(full_name=f"Cán bộ {i}") for i in range(3)]
    add_attempt(round_, quick, 3, time_ms=20_000)
    for person in office:
        add_attempt(round_, person, 2, ip="203.0.113.9")
    db.session.commit()
    assert review_flags_stale(round_) and stored_flags(round_.id) == {}
    ensure_review_flags(round_)  # the round is closed and settled: computed now, by the system
    assert stored_flags(round_.id) == review_flags(round_) == {quick.id: {"fast"}}
    assert not review_flags_stale(round_)
    computed_at = db.session.get(JudgingSettings, round_.id).flags_computed_at

    # New data after the computation does not show until someone asks: views read the stored rows.
    late = make_person(full_name="Vũ Muộn")
    add_attempt(round_, late, 1, time_ms=5_000)
    db.session.commit()
    ensure_review_flags(round_)
    assert late.id not in stored_flags(round_.id)
    assert db.session.get(JudgingSettings, round_.id).flags_computed_at == computed_at

    assert refresh_review_flags(round_, judge) == 2  # "Tính lại"
    assert stored_flags(round_.id, [late.id, office[0].id]) == {late.id: {"fast"}}
    entry = [e for e in audit_log(round_.id) if e.action == "review_flags"][0]
    assert entry.actor_id == judge.id and entry.details["flagged"] == 2

    # Changing the thresholds recomputes the stored flags with the new ones.
    update_thresholds(round_, judge, min_time_seconds=10, max_accounts_per_ip=2, max_accounts_per_device=1)
    assert stored_flags(round_.id) == {late.id: {"fast"}, **{p.id: {"shared_ip"} for p in office}}
    assert flag_counts(round_.id) == (4, {"fast": 1, "shared_ip": 3})
    assert db.session.get(JudgingSettings, round_.id).flags_thresholds["max_accounts_per_ip"] == 2
    page = flagged_people(round_.id, flag="shared_ip", limit=2, offset=1)
    assert [p.id for p, _ in page] == sorted(p.id for p in office)[1:3]
    assert ReviewFlag.query.filter_by(round_id=round_.id).count() == 4


def test_flags_computed_before_the_round_settled_are_computed_once_more(ctx):
    round_ = make_round(questions=3, closed=False)
    person = make_person()
    add_attempt(round_, person, 3, time_ms=10_000)
    db.session.commit()
    ensure_review_flags(round_)
    assert stored_flags(round_.id) == {person.id: {"fast"}}
    assert not review_flags_stale(round_)
    assert review_flags_stale(round_, now=settled_at(round_) + timedelta(seconds=1))
