"""Issue 14, findings 5 and 6: judging that cannot be undone by accident, and the prediction's target.

Disqualify and reinstate are separate actions that state the state they expect: a second judge or a stale tab is
refused with a clear message and nothing changes. Each asks for confirmation first (a page without script). The
prediction's target counts valid entries (not disqualified) unless the round's judges choose all entries.
"""

from io import BytesIO

import pytest
from openpyxl import load_workbook

from contest.accounts.models import User
from contest.audit.models import AuditEntry
from contest.judging.disqualification import StaleDecision, decision_token, disqualify, reinstate
from contest.judging.errors import JudgingError
from contest.judging.models import Disqualification
from contest.judging.publishing import latest_snapshot
from contest.judging.ranking import count_perfect, prediction_target
from contest.judging.settings import set_prediction_scope
from contest.judging.settler import settle_due_rounds
from contest.rounds.models import Round
from infra.extensions import db
from tests.conftest import create_account, login
from tests.contest.judging_data import add_attempt, make_person, make_round


@pytest.fixture
def desk(app):
    judge_id, judge_phone = create_account(app, role="judge", full_name="Trần Thẩm Phán")
    with app.app_context():
        round_ = make_round(questions=2)
        round_.contest.published = True
        cheat = make_person(full_name="Phạm Gian Lận")
        honest = make_person(full_name="Võ Thị Chăm")
        add_attempt(round_, cheat, 2, time_ms=9_000, prediction=2)
        add_attempt(round_, honest, 2, time_ms=200_000, prediction=1)
        db.session.commit()
        settle_due_rounds()  # what `contest worker` does once the round has settled: the pages only read
        return dict(judge_id=judge_id, phone=judge_phone, round_id=round_.id, cheat=cheat.id, honest=honest.id)


def _disqualified(app, round_id, user_id):
    with app.app_context():
        return Disqualification.query.filter_by(round_id=round_id, user_id=user_id).one_or_none()


def _token(app, round_id, user_id):
    with app.app_context():
        return decision_token(Disqualification.query.filter_by(round_id=round_id, user_id=user_id).one())


def _actions(app, round_id):
    with app.app_context():
        return [e.action for e in AuditEntry.query.filter_by(round_id=round_id).order_by(AuditEntry.id)]


def test_two_tabs_disqualifying_the_second_is_refused_and_does_not_reinstate(app, client, desk):
    """Before: one POST toggled, so a stale tab pressing "Loại" silently reinstated the entry."""
    login(client, desk["phone"])
    rid, cheat = desk["round_id"], desk["cheat"]
    assert client.get(f"/giam-khao/vong/{rid}").status_code == 200
    url = f"/giam-khao/vong/{rid}/bai/{cheat}/loai"
    # Both tabs were opened while the entry was ranked; each sends the same request, expecting "ranked".
    first = client.post(url, data={"reason": "Làm 2 câu trong 9 giây", "confirmed": "1"})
    assert first.status_code == 302
    record = _disqualified(app, rid, cheat)
    assert record is not None
    before = _actions(app, rid)

    second = client.post(url, data={"reason": "Thi hộ, đã xác minh", "confirmed": "1"})
    assert second.status_code == 409
    text = second.get_data(as_text=True)
    assert "Bài dự thi này đã bị loại lúc" in text and "trang bạn đang xem đã cũ. Không có gì thay đổi" in text
    assert "Trần Thẩm Phán" in text
    # nothing changed: still disqualified with the first reason, no new audit entry
    again = _disqualified(app, rid, cheat)
    assert again is not None and (again.id, again.reason) == (record.id, "Làm 2 câu trong 9 giây")
    assert _actions(app, rid) == before
    # the page the judge gets back shows the current state and the action it allows now: reinstate
    assert f'action="/giam-khao/vong/{rid}/bai/{cheat}/khoi-phuc"' in text
    # the old toggling address no longer takes a decision
    assert client.post(f"/giam-khao/vong/{rid}/bai/{cheat}", data={"reason": "Bấm lại từ tab cũ"}).status_code == 405
    assert _disqualified(app, rid, cheat) is not None


def test_two_tabs_reinstating_the_second_is_refused(app, client, desk):
    login(client, desk["phone"])
    rid, cheat = desk["round_id"], desk["cheat"]
    client.post(f"/giam-khao/vong/{rid}/bai/{cheat}/loai", data={"reason": "Làm 2 câu trong 9 giây", "confirmed": "1"})
    decision = _token(app, rid, cheat)
    url = f"/giam-khao/vong/{rid}/bai/{cheat}/khoi-phuc"
    data = {"reason": "Đã xác minh, không gian lận", "decision": decision, "confirmed": "1"}
    assert client.post(url, data=data).status_code == 302
    assert _disqualified(app, rid, cheat) is None
    second = client.post(url, data=data)
    assert second.status_code == 409
    assert "Bài dự thi này đã được khôi phục trước đó" in second.get_data(as_text=True)
    assert _disqualified(app, rid, cheat) is None  # the stale reinstate did not disqualify either

    # disqualified again by a new decision: a tab still showing the first decision cannot reinstate the new one
    client.post(f"/giam-khao/vong/{rid}/bai/{cheat}/loai", data={"reason": "Thi hộ, có bằng chứng", "confirmed": "1"})
    newer = _disqualified(app, rid, cheat)
    stale = client.post(url, data=data)
    assert stale.status_code == 409 and "bị loại lại bằng một quyết định khác" in stale.get_data(as_text=True)
    assert _disqualified(app, rid, cheat).id == newer.id


def test_decisions_ask_for_confirmation_first_and_change_nothing_until_then(app, client, desk):
    login(client, desk["phone"])
    rid, cheat = desk["round_id"], desk["cheat"]
    page = client.get(f"/giam-khao/vong/{rid}/bai/{cheat}").get_data(as_text=True)
    assert 'data-confirm="decision-dialog"' in page and "<dialog" in page  # with script: a dialog
    asked = client.post(f"/giam-khao/vong/{rid}/bai/{cheat}/loai", data={"reason": "Làm 2 câu trong 9 giây"})
    assert asked.status_code == 200
    text = asked.get_data(as_text=True)
    assert "Loại bài dự thi của Phạm Gian Lận?" in text and "Lý do: Làm 2 câu trong 9 giây" in text
    assert 'name="confirmed" value="1"' in text and 'name="reason" value="Làm 2 câu trong 9 giây"' in text
    assert _disqualified(app, rid, cheat) is None

    # a stale page is refused at the confirmation step already
    client.post(f"/giam-khao/vong/{rid}/bai/{cheat}/loai", data={"reason": "Làm 2 câu trong 9 giây", "confirmed": "1"})
    assert client.post(f"/giam-khao/vong/{rid}/bai/{cheat}/loai", data={"reason": "Lần nữa"}).status_code == 409

    decision = _token(app, rid, cheat)
    asked = client.post(
        f"/giam-khao/vong/{rid}/bai/{cheat}/khoi-phuc", data={"reason": "Đã xác minh lại", "decision": decision}
    )
    assert asked.status_code == 200 and "Khôi phục bài dự thi của Phạm Gian Lận?" in asked.get_data(as_text=True)
    assert _disqualified(app, rid, cheat) is not None
    bad = client.post(
        f"/giam-khao/vong/{rid}/bai/{cheat}/khoi-phuc", data={"reason": "Đã xác minh lại", "decision": ""}
    )
    assert bad.status_code == 422 and _disqualified(app, rid, cheat) is not None
    forged = {"reason": "Đã xác minh lại", "decision": "x" * 41}
    assert client.post(f"/giam-khao/vong/{rid}/bai/{cheat}/khoi-phuc", data=forged).status_code == 422

    # publishing too: the first press asks, the page says what will happen, nothing is published until confirmed
    round_page = client.get(f"/giam-khao/vong/{rid}").get_data(as_text=True)
    assert 'data-confirm="publish-dialog"' in round_page
    assert '<input type="hidden" name="expected_version" value="0">' in round_page  # the version this page saw
    asked = client.post(f"/giam-khao/vong/{rid}/cong-bo", data={"note": "", "expected_version": "0"})
    assert asked.status_code == 200 and "phiên bản 1" in asked.get_data(as_text=True)
    with app.app_context():
        assert latest_snapshot(rid) is None
    done = client.post(f"/giam-khao/vong/{rid}/cong-bo", data={"expected_version": "0", "confirmed": "1"})
    assert done.status_code == 302
    # a second judge's tab, opened before version 1, does not publish again blindly
    stale = client.post(
        f"/giam-khao/vong/{rid}/cong-bo", data={"expected_version": "0", "confirmed": "1"}, follow_redirects=True
    )
    assert "Phiên bản 1 vừa được công bố lúc" in stale.get_data(as_text=True)
    with app.app_context():
        assert latest_snapshot(rid).version == 1


def test_services_refuse_stale_decisions(app, desk):
    with app.app_context():
        round_, judge = db.session.get(Round, desk["round_id"]), db.session.get(User, desk["judge_id"])
        first = disqualify(round_, desk["cheat"], "Làm 2 câu trong 9 giây", judge)
        with pytest.raises(StaleDecision):
            disqualify(round_, desk["cheat"], "Lần thứ hai", judge)
        with pytest.raises(StaleDecision):
            reinstate(round_, desk["cheat"], "Quyết định khác", judge, expected=f"{first.id}.20260101000000000000")
        token = decision_token(first)
        reinstate(round_, desk["cheat"], "Đã xác minh", judge, expected=token)
        with pytest.raises(StaleDecision):
            reinstate(round_, desk["cheat"], "Lần thứ hai", judge, expected=token)
        again = disqualify(round_, desk["cheat"], "Quyết định mới", judge)
        with pytest.raises(StaleDecision):  # a newer decision, even if the database gave it the same id
            reinstate(round_, desk["cheat"], "Tab cũ", judge, expected=token)
        assert decision_token(again) != token
        reinstate(round_, desk["cheat"], "Đã xác minh lần hai", judge, expected=decision_token(again))
        with pytest.raises(JudgingError):
            reinstate(round_, desk["cheat"], "Không bị loại", judge)
        db.session.remove()


def test_disqualified_perfect_score_does_not_raise_the_target(app, client, desk):
    """Finding 6: a disqualified perfect score still raised "the number of people with a perfect score"."""
    with app.app_context():
        round_, judge = db.session.get(Round, desk["round_id"]), db.session.get(User, desk["judge_id"])
        assert count_perfect(round_) == 2
        disqualify(round_, desk["cheat"], "Làm 2 câu trong 9 giây", judge)
        assert count_perfect(round_) == prediction_target(round_) == 1  # the default: valid entries
        # the worker fixed the target (2) at settlement; each disqualification / reinstatement of a perfect score
        # counts it again (audited)
        assert round_.perfect_count_actual == 1
        reinstate(round_, desk["cheat"], "Đã xác minh", judge)
        assert round_.perfect_count_actual == 2
        disqualify(round_, desk["cheat"], "Có bằng chứng thi hộ", judge)
        assert round_.perfect_count_actual == 1
        updates = AuditEntry.query.filter_by(round_id=round_.id, action="prediction_target_update").all()
        assert [u.details["changes"]["perfect_count_actual"] for u in updates] == [[2, 1], [1, 2], [2, 1]]
        # the judges may count every entry instead: a round setting, audited, and the fixed target follows
        set_prediction_scope(round_, "all", judge)
        assert round_.perfect_count_actual == 2 and count_perfect(round_) == 2
        with pytest.raises(JudgingError):
            set_prediction_scope(round_, "everyone", judge)
        db.session.remove()

    login(client, desk["phone"])
    rid = desk["round_id"]
    page = client.get(f"/giam-khao/vong/{rid}").get_data(as_text=True)
    assert "Tất cả bài dự thi (kể cả bài bị loại)" in page  # shown on the judge's page
    response = client.post(
        f"/giam-khao/vong/{rid}/cai-dat", data={"scope-scope": "valid", "scope-submit": "1"}, follow_redirects=True
    )
    assert "Đã lưu cách tính đáp án câu dự đoán." in response.get_data(as_text=True)
    assert "Bài dự thi hợp lệ (không tính bài bị loại)" in client.get(f"/giam-khao/vong/{rid}").get_data(as_text=True)
    with app.app_context():
        assert db.session.get(Round, rid).perfect_count_actual == 1
    bad = client.post(f"/giam-khao/vong/{rid}/cai-dat", data={"scope-scope": "everyone", "scope-submit": "1"})
    assert bad.status_code == 422


def test_export_header_says_whose_perfect_scores_the_target_counts(app, client, desk):
    login(client, desk["phone"])
    response = client.post(f"/giam-khao/vong/{desk['round_id']}/xuat", data={"format": "xlsx"})
    assert response.status_code == 200
    info = {r[0]: r[1] for r in load_workbook(BytesIO(response.get_data()))["Thông tin"].iter_rows(values_only=True)}
    assert info["Đáp án câu dự đoán tính trên"] == "Bài dự thi hợp lệ (không tính bài bị loại)"
