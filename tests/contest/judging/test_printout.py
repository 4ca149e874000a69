"""Issue 14, finding 9: the printout lacked the national heading, the issuing body and the place and date line of an
official decision; there was no PDF. The annex now carries them, and its PDF is read back as text."""

import io
import unicodedata
from datetime import datetime

import pytest
from pypdf import PdfReader

from contest.accounts.models import User
from contest.judging.printout import date_line
from contest.judging.prizes import TierSpec, set_prize_tiers
from contest.judging.publishing import publish
from contest.judging.settler import settle_due_rounds
from contest.rounds.models import Contest
from infra.extensions import db
from tests.conftest import create_account, login
from tests.contest.judging_data import add_attempt, make_person, make_round, make_unit

WINNERS = ["Nguyễn Thị Ánh", "Đặng Văn Bảo", "Hồ Thị Cúc", "Trương Quý Dương"]


@pytest.fixture
def annex(app):
    judge_id, phone = create_account(app, role="judge", full_name="Trần Thẩm Phán")
    with app.app_context():
        unit = make_unit("Trường THPT Phan Bội Châu")
        round_ = make_round(questions=2)
        round_.contest.issuing_body = "Ban Tổ chức Cuộc thi tìm hiểu pháp luật tỉnh Nghệ An"
        round_.contest.issuing_place = "Vinh"
        for i, name in enumerate([*WINNERS, "Lê Văn Không Giải"]):
            add_attempt(round_, make_person(full_name=name, unit=unit), 2 if i < 4 else 1, time_ms=60_000 + i * 1000)
        db.session.commit()
        judge = db.session.get(User, judge_id)
        set_prize_tiers(round_, [TierSpec("Giải Nhất", 1), TierSpec("Giải Nhì", 1), TierSpec("Giải Ba", 2)], judge)
        settle_due_rounds()
        return round_.id, phone, judge_id


def _pdf_text(data):
    reader = PdfReader(io.BytesIO(data))
    return "\n".join(page.extract_text() for page in reader.pages)


def test_printable_annex_has_the_national_heading_issuer_place_date_and_signatures(app, client, annex):
    round_id, phone, judge_id = annex
    login(client, phone)
    page = client.get(f"/giam-khao/vong/{round_id}/in").get_data(as_text=True)
    assert "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" in page and "Độc lập - Tự do - Hạnh phúc" in page
    assert "BAN TỔ CHỨC CUỘC THI TÌM HIỂU PHÁP LUẬT TỈNH NGHỆ AN" in page
    assert "Vinh, ngày …… tháng …… năm ……" in page  # not published: left to fill in by hand
    assert "TRƯỞNG BAN GIÁM KHẢO" in page and "(Ký, ghi rõ họ tên, đóng dấu)" in page
    with app.app_context():
        from contest.rounds.models import Round

        snapshot = publish(db.session.get(Round, round_id), db.session.get(User, judge_id))
        expected = date_line("Vinh", snapshot.published_at + (datetime(2000, 1, 1, 7) - datetime(2000, 1, 1)))
    assert expected in client.get(f"/giam-khao/vong/{round_id}/in").get_data(as_text=True)


def test_date_line_follows_the_official_form():
    assert date_line("Hà Nội", datetime(2026, 2, 5)) == "Hà Nội, ngày 05 tháng 02 năm 2026"
    assert date_line("Hà Nội", datetime(2026, 11, 12)) == "Hà Nội, ngày 12 tháng 11 năm 2026"


def test_pdf_winners_list_reads_back_with_heading_and_every_winner(app, client, annex):
    round_id, phone, judge_id = annex
    with app.app_context():
        from contest.rounds.models import Round

        publish(db.session.get(Round, round_id), db.session.get(User, judge_id))
    login(client, phone)
    response = client.get(f"/giam-khao/vong/{round_id}/in.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert f"danh-sach-dat-giai-vong-{round_id}-v1.pdf" in response.headers["Content-Disposition"]
    text = _pdf_text(response.get_data())
    assert text == unicodedata.normalize("NFC", text)  # precomposed diacritics, as typed
    flat = " ".join(text.split())  # the heading may wrap in its column
    assert "CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM" in flat and "Độc lập - Tự do - Hạnh phúc" in flat
    assert "DANH SÁCH ĐẠT GIẢI" in flat
    for name in WINNERS:
        assert name in flat
    assert "Lê Văn Không Giải" not in flat
    assert "Giải Nhất" in flat and "Giải Ba" in flat


def test_only_judges_get_the_pdf(app, client, annex):
    round_id, _, _ = annex
    assert client.get(f"/giam-khao/vong/{round_id}/in.pdf").status_code == 302
    _, phone = create_account(app, role="contestant")
    login(client, phone)
    assert client.get(f"/giam-khao/vong/{round_id}/in.pdf").status_code == 403


def test_organiser_sets_the_issuing_body_and_place_on_the_contest_form(app, client):
    _, phone = create_account(app, role="organiser")
    login(client, phone)
    with app.app_context():
        contest_id = make_round().contest_id
    form = {"title": "Cuộc thi tìm hiểu pháp luật", "issuing_body": "Sở Tư pháp tỉnh Nghệ An", "issuing_place": ""}
    response = client.post(f"/quan-tri/cuoc-thi/{contest_id}", data=form)
    assert response.status_code == 422 and "Vui lòng nhập địa danh, ví dụ: Hà Nội." in response.get_data(as_text=True)
    form["issuing_place"] = "Vinh"
    assert client.post(f"/quan-tri/cuoc-thi/{contest_id}", data=form).status_code == 302
    with app.app_context():
        contest = db.session.get(Contest, contest_id)
        assert (contest.issuing_body, contest.issuing_place) == ("Sở Tư pháp tỉnh Nghệ An", "Vinh")
    page = client.get(f"/quan-tri/cuoc-thi/{contest_id}").get_data(as_text=True)
    assert 'value="Sở Tư pháp tỉnh Nghệ An"' in page
