"""The judge's pages through the Flask test client: guards, disqualification form, exports, publishing, public page."""

import io

import pytest
from openpyxl import load_workbook

from contest.accounts.models import User
from contest.audit.models import AuditEntry
from contest.judging.disqualification import decision_token
from contest.judging.models import Disqualification, JudgingSettings, RankingEntry
from contest.judging.prizes import TierSpec, set_prize_tiers
from contest.judging.publishing import latest_snapshot
from contest.judging.settler import settle_due_rounds
from infra.extensions import db
from tests.conftest import create_account, login
from tests.contest.judging_data import add_attempt, make_person, make_round


@pytest.fixture
def site(app, client):
    judge_id, judge_phone = create_account(app, role="judge", full_name="Trần Thẩm Phán")
    with app.app_context():
        round_ = make_round(questions=2)
        round_.contest.published = True  # public results are served only for a visible contest
        people = [
            make_person(full_name="Nguyễn Thị Ánh", phone="0912345678"),
            make_person(full_name="Lê Văn Bình", phone="0987654321"),
        ]
        add_attempt(round_, people[0], 2, time_ms=20_000, prediction=1)
        add_attempt(round_, people[1], 1, time_ms=120_000, prediction=1)
        db.session.commit()
        set_prize_tiers(round_, [TierSpec("Giải Nhất", 1)], db.session.get(User, judge_id))
        settle_due_rounds()  # what `contest worker` does once the round has settled: the pages only read
        ids = round_.id, [p.id for p in people]
    return dict(judge_phone=judge_phone, round_id=ids[0], people=ids[1])


def latest_snapshot_of(app, round_id):
    with app.app_context():
        return latest_snapshot(round_id)


def test_only_judges_reach_judging_pages(app, client, site):
    assert client.get("/giam-khao/").status_code == 302  # to the login page
    _, phone = create_account(app, role="contestant")
    login(client, phone)
    assert client.get("/giam-khao/").status_code == 403
    assert client.get(f"/giam-khao/vong/{site['round_id']}").status_code == 403
    assert client.post(f"/giam-khao/vong/{site['round_id']}/xuat", data={"format": "csv"}).status_code == 403


def test_judge_reviews_disqualifies_and_publishes(app, client, site):
    login(client, site["judge_phone"])
    rid, (first, _second) = site["round_id"], site["people"]
    page = client.get(f"/giam-khao/vong/{rid}").get_data(as_text=True)
    assert "Xếp hạng tạm thời" in page and "Nguyễn Thị Ánh" in page
    from contest.rounds.models import Round

    with app.app_context():  # the round is settled: the worker fixed the prediction's target
        assert db.session.get(Round, rid).perfect_count_actual == 1
    assert "Thời gian làm bài quá ngắn" in page  # 20 s is under the default 60 s threshold

    response = client.post(f"/giam-khao/vong/{rid}/bai/{first}/loai", data={"reason": ""})
    assert response.status_code == 422
    assert "Vui lòng ghi rõ lý do." in response.get_data(as_text=True)
    with app.app_context():
        assert Disqualification.query.count() == 0

    reason = {"reason": "Làm bài trong 20 giây, thi hộ"}
    asked = client.post(f"/giam-khao/vong/{rid}/bai/{first}/loai", data=reason)  # first the confirmation step
    assert asked.status_code == 200 and "Loại bài dự thi của Nguyễn Thị Ánh?" in asked.get_data(as_text=True)
    with app.app_context():
        assert Disqualification.query.count() == 0
    response = client.post(
        f"/giam-khao/vong/{rid}/bai/{first}/loai", data={**reason, "confirmed": "1"}, follow_redirects=True
    )
    assert "Đã loại bài dự thi của Nguyễn Thị Ánh." in response.get_data(as_text=True)
    with app.app_context():
        entry = AuditEntry.query.filter_by(action="disqualify").one()
        assert entry.reason == "Làm bài trong 20 giây, thi hộ" and entry.subject_user_id == first

    unpublished = client.get(f"/ket-qua/vong/{rid}")  # nothing published yet: the page says so
    assert unpublished.status_code == 200 and "Kết quả chưa được công bố" in unpublished.get_data(as_text=True)
    asked = client.post(f"/giam-khao/vong/{rid}/cong-bo", data={"note": "Kết quả chính thức"})
    assert asked.status_code == 200 and "Công bố kết quả?" in asked.get_data(as_text=True)
    assert latest_snapshot_of(app, rid) is None  # nothing published before the confirmation
    response = client.post(
        f"/giam-khao/vong/{rid}/cong-bo",
        data={"note": "Kết quả chính thức", "confirmed": "1", "expected_version": "0"},
        follow_redirects=True,
    )
    text = response.get_data(as_text=True)
    assert "Đã công bố phiên bản 1" in text
    public = client.get(f"/ket-qua/vong/{rid}").get_data(as_text=True)
    assert "Lê Văn Bình" in public and "Nguyễn Thị Ánh" not in public
    assert "0987654321" not in public and "****" not in public  # no phone digits at all, not even masked
    with app.app_context():
        digest = latest_snapshot(rid).digest
    assert digest in public
    printable = client.get(f"/giam-khao/vong/{rid}/in").get_data(as_text=True)
    assert digest in printable and "TRƯỞNG BAN GIÁM KHẢO" in printable

    # reinstating after publication: the published page stays, the judge is told to publish a new version
    with app.app_context():
        decision = decision_token(Disqualification.query.one())
    client.post(
        f"/giam-khao/vong/{rid}/bai/{first}/khoi-phuc",
        data={"reason": "Đã xác minh, không thi hộ", "decision": decision, "confirmed": "1"},
    )
    assert "hãy công bố phiên bản mới" in client.get(f"/giam-khao/vong/{rid}").get_data(as_text=True)
    assert "Nguyễn Thị Ánh" not in client.get(f"/ket-qua/vong/{rid}").get_data(as_text=True)
    audit = client.get(f"/giam-khao/vong/{rid}/nhat-ky").get_data(as_text=True)
    assert "Đã xác minh, không thi hộ" in audit and "Công bố kết quả" in audit and "Khôi phục bài dự thi" in audit


def test_exports_download_and_full_data_is_audited(app, client, site):
    login(client, site["judge_phone"])
    rid = site["round_id"]
    response = client.post(f"/giam-khao/vong/{rid}/xuat", data={"format": "csv"})
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "bang-xep-hang" in response.headers["Content-Disposition"]
    body = response.get_data().decode("utf-8")
    assert body.startswith("\ufeff") and "091****678" in body and "0912345678" not in body

    response = client.post(f"/giam-khao/vong/{rid}/xuat", data={"format": "xlsx", "winners": "y", "full_data": "y"})
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.get_data())).active
    values = list(sheet.iter_rows(values_only=True))
    assert any(row and "0912345678" in row for row in values)
    assert not any(row and "Lê Văn Bình" in row for row in values)  # winners only
    with app.app_context():
        assert [
            e.action for e in AuditEntry.query.filter(AuditEntry.action.like("export%")).order_by(AuditEntry.id)
        ] == ["export", "export_full_data"]
    assert (
        client.post(f"/giam-khao/vong/{rid}/xuat", data={"format": "pdf"}, follow_redirects=True)
        .get_data(as_text=True)
        .count("Định dạng xuất không hợp lệ.")
        == 1
    )


def test_settings_and_statistics_pages(app, client, site):
    login(client, site["judge_phone"])
    rid = site["round_id"]
    response = client.post(f"/giam-khao/vong/{rid}/cai-dat", data={"tiers-tiers": "Giải Nhất", "tiers-submit": "1"})
    assert response.status_code == 422 and "Tên giải; số lượng" in response.get_data(as_text=True)
    response = client.post(
        f"/giam-khao/vong/{rid}/cai-dat",
        data={"tiers-tiers": "Giải Nhất; 1; tuyệt đối\nKhuyến khích; 5", "tiers-submit": "1"},
        follow_redirects=True,
    )
    assert "Đã lưu cơ cấu giải." in response.get_data(as_text=True)
    response = client.post(
        f"/giam-khao/vong/{rid}/cai-dat",
        data={
            "review-min_time_seconds": "10",
            "review-max_accounts_per_ip": "3",
            "review-max_accounts_per_device": "1",
            "review-submit": "1",
        },
        follow_redirects=True,
    )
    assert "Đã lưu ngưỡng cảnh báo." in response.get_data(as_text=True)
    assert "Thời gian làm bài quá ngắn" not in client.get(f"/giam-khao/vong/{rid}").get_data(as_text=True)
    stats = client.get(f"/giam-khao/vong/{rid}/thong-ke").get_data(as_text=True)
    # Vietnamese number format on the page (decimal comma), one format everywhere (Flask-Babel)
    assert '<span id="stat-participants">2</span>' in stats and "<svg" in stats and "50,00%" in stats
    assert "50.00%" not in stats
    csv_response = client.get(f"/giam-khao/vong/{rid}/thong-ke?dinh-dang=csv")
    assert csv_response.get_data().decode("utf-8").startswith("\ufeffTổng số lượt thi đã nộp,2")
    client.post("/ngon-ngu/en", data={"next": "/"})
    english = client.get(f"/giam-khao/vong/{rid}/thong-ke").get_data(as_text=True)
    assert "50.00%" in english and "50,00%" not in english
    ranking = client.get(f"/giam-khao/vong/{rid}").get_data(as_text=True)
    assert '<td class="num">20.000</td>' in ranking  # seconds taken: 20.000 in English, 20,000 in Vietnamese


def test_ranking_rule_form_reorders_and_is_audited(app, client, site):
    login(client, site["judge_phone"])
    rid = site["round_id"]
    page = client.get(f"/giam-khao/vong/{rid}/cai-dat").get_data(as_text=True)
    assert "Tiêu chí 1" in page and "Dự đoán gần số người đạt điểm tuyệt đối hơn" in page
    bad = client.post(
        f"/giam-khao/vong/{rid}/cai-dat",
        data={"rule-criterion_1": "time_taken_asc", "rule-criterion_2": "time_taken_asc", "rule-submit": "1"},
    )
    assert bad.status_code == 422 and "Mỗi tiêu chí chỉ được chọn một lần." in bad.get_data(as_text=True)
    response = client.post(
        f"/giam-khao/vong/{rid}/cai-dat",
        data={"rule-criterion_1": "time_taken_asc", "rule-criterion_2": "correct_desc", "rule-submit": "1"},
        follow_redirects=True,
    )
    assert "Đã lưu quy tắc xếp hạng." in response.get_data(as_text=True)
    ranking = client.get(f"/giam-khao/vong/{rid}").get_data(as_text=True)
    # fastest first now: Ánh (20 s) before Bình (120 s) either way, so check the rule itself and the audit
    assert ranking.index("Thời gian làm bài ngắn hơn") < ranking.index("Số câu trả lời đúng (nhiều hơn xếp trên)")
    from contest.rounds.models import Round

    with app.app_context():
        assert db.session.get(Round, rid).ranking_rule == ["time_taken_asc", "correct_desc"]
        entry = AuditEntry.query.filter_by(action="ranking_rule").one()
        assert (
            entry.details["rule"] == ["time_taken_asc", "correct_desc"]
            and "prediction_distance_asc" in entry.details["previous"]
        )


def test_round_page_reads_stored_flags_and_recompute_button(app, client, site):
    login(client, site["judge_phone"])
    rid, (_first, _second) = site["round_id"], site["people"]
    for _ in range(2):
        page = client.get(f"/giam-khao/vong/{rid}").get_data(as_text=True)
        assert "Thời gian làm bài quá ngắn" in page
    with app.app_context():  # computed once by the worker when the round settled, by the system
        computed = AuditEntry.query.filter_by(action="review_flags").all()
        assert [(e.actor_id, e.details["flagged"]) for e in computed] == [(None, 1)]
        # A late flag-worthy attempt does not show until a judge asks for a recomputation.
        from contest.rounds.models import Round

        late = make_person(full_name="Vũ Văn Muộn")
        add_attempt(db.session.get(Round, rid), late, 2, time_ms=9_000)
        db.session.commit()
        late_id = late.id
    listing = client.get(f"/giam-khao/vong/{rid}/can-xem-xet").get_data(as_text=True)
    assert "Nguyễn Thị Ánh" in listing and "Vũ Văn Muộn" not in listing
    response = client.post(f"/giam-khao/vong/{rid}/can-xem-xet/tinh-lai", follow_redirects=True)
    body = response.get_data(as_text=True)
    assert "Đã tính lại cảnh báo: 2 bài cần xem xét." in body and "Vũ Văn Muộn" in body
    with app.app_context():
        judge = User.query.filter_by(role="judge").one()
        last = AuditEntry.query.filter_by(action="review_flags").order_by(AuditEntry.id.desc()).first()
        assert last.actor_id == judge.id
    only_ip = client.get(f"/giam-khao/vong/{rid}/can-xem-xet?loai=shared_ip").get_data(as_text=True)
    assert "Không có bài nào cần xem xét." in only_ip
    entry = client.get(f"/giam-khao/vong/{rid}/bai/{late_id}").get_data(as_text=True)
    assert "Thời gian làm bài quá ngắn" in entry


def test_round_page_reads_the_stored_ranking_and_skips_disqualified_without_recomputing(app, client, site):

    login(client, site["judge_phone"])
    rid, (first, _second) = site["round_id"], site["people"]
    page = client.get(f"/giam-khao/vong/{rid}").get_data(as_text=True)
    assert page.index("Nguyễn Thị Ánh") < page.index("Lê Văn Bình") and "Bảng xếp hạng được tính lúc" in page
    with app.app_context():
        computed = db.session.get(JudgingSettings, rid).ranking_computed_at
        assert RankingEntry.query.filter_by(round_id=rid).count() == 2
        # Counting every entry for the prediction, a disqualification does not move the target (under the default,
        # disqualifying this perfect score would: test_disqualified_perfect_score_does_not_raise_the_target).
        db.session.get(JudgingSettings, rid).prediction_scope = "all"
        db.session.commit()
    client.post(f"/giam-khao/vong/{rid}/bai/{first}/loai", data={"reason": "Thi hộ người khác", "confirmed": "1"})
    page = client.get(f"/giam-khao/vong/{rid}").get_data(as_text=True)
    table = page[page.index('<table class="ranking">') :]
    assert "Lê Văn Bình" in table and "Nguyễn Thị Ánh" not in table.split("</table>")[0]
    assert (
        '<td>1</td>\n        <td class="cell-wrap">Lê Văn Bình</td>' in table and "Giải Nhất" in table
    )  # moved up to rank 1
    with app.app_context():
        assert db.session.get(JudgingSettings, rid).ranking_computed_at == computed  # no recomputation


def test_public_results_of_a_hidden_contest_are_not_served(app, client, site):
    """Issue 12, finding 9: the public results of a contest the organiser hid were still served."""
    login(client, site["judge_phone"])
    rid = site["round_id"]
    assert client.post(f"/giam-khao/vong/{rid}/cong-bo", data={"note": "", "confirmed": "1"}).status_code == 302
    assert client.get(f"/ket-qua/vong/{rid}").status_code == 200
    from contest.rounds.models import Round

    with app.app_context():
        db.session.get(Round, rid).contest.published = False
        db.session.commit()
    assert client.get(f"/ket-qua/vong/{rid}").status_code == 404
    client.post("/dang-xuat")
    assert client.get(f"/ket-qua/vong/{rid}").status_code == 404
