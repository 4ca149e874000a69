"""Import in one flow: every error of every row, the template's examples skipped, GIFT metadata on one line,
the checked upload kept server-side for "Nhập ngay", bound to its uploader and expiring."""

import io

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from contest.audit.models import AuditEntry
from infra.extensions import db
from question_bank import formats
from question_bank.formats import gift, table
from question_bank.models import Question
from question_bank.services import import_questions
from question_bank.staged_imports import (
    TTL_SECONDS,
    StagedImportError,
    claim_staged,
    finish_staged,
    stage_upload,
)
from tests.conftest import create_account, login

HEADER = "Chủ đề,Câu hỏi,Phương án A,Phương án B,Phương án C,Đáp án đúng,Độ khó\n"


def test_every_error_of_a_row_is_reported():
    text = (
        HEADER
        # row 2: no stem, answer D beyond the options, unknown difficulty: three errors
        + "Hiến pháp,,Có,Không,,D,rất khó\n"
        # row 3: two equal options and no answer at all
        + "Hiến pháp,Câu ba?,Có,Có,,,dễ\n"
        # row 4: fine
        + "Hiến pháp,Câu bốn?,Có,Không,,A,dễ\n"
    )
    result = table.parse_csv(text)
    row2 = [e.message for e in result.errors if e.line == 2]
    row3 = [e.message for e in result.errors if e.line == 3]
    assert len(row2) == 3, row2
    assert any('"D"' in m for m in row2) and any("rất khó" in m for m in row2)
    assert any("Thiếu nội dung câu hỏi" in m for m in row2)
    assert len(row3) == 2, row3
    assert any("thiếu đáp án đúng" in m for m in row3) and any("trùng nhau" in m for m in row3)
    # the wrong answer column is not reported a second time as "no correct option"
    assert not any("Chưa có phương án đúng" in m for m in row2 + row3)
    assert [q.line for q in result.questions] == [4]


def test_every_error_of_a_valid_shaped_row_is_reported_by_the_import(app):
    text = HEADER + "Hiến pháp,,Có,Có,,A,dễ\n"  # no stem and two equal options
    with app.app_context():
        report = import_questions(text.encode(), "csv", dry_run=True)
    messages = [e.message for e in report.errors]
    assert report.refused and len(messages) == 2 and report.error_rows == 1, messages


def test_gift_several_metadata_items_on_one_line():
    text = (
        "// [difficulty:easy] [tag:ma túy] [tag:hình sự]\n"
        "// [legal_document:Bộ luật Hình sự [sửa đổi 2017]]\n"
        "Tàng trữ trái phép chất ma túy có bị xử lý hình sự không? {=Có ~Không}\n"
    )
    result = gift.parse(text)
    assert result.errors == []
    (q,) = result.questions
    assert q.difficulty == "easy" and q.tags == ("ma túy", "hình sự")
    assert q.legal_document == "Bộ luật Hình sự [sửa đổi 2017]"
    assert formats.validate_question(q) == []


def test_template_downloaded_and_imported_unchanged_imports_nothing(app, client):
    _uid, phone = create_account(app, role="organiser")
    login(client, phone)
    for fmt in ("xlsx", "csv"):
        response = client.get(f"/quan-tri/ngan-hang/mau/{fmt}")
        assert response.status_code == 200
        with app.app_context():
            report = import_questions(response.data, fmt)
            assert report.created == 0 and report.examples == [2, 3] and report.refused
            assert "dòng ví dụ" in report.errors[0].message
            assert db.session.scalar(select(func.count()).select_from(Question)) == 0
    book = load_workbook(io.BytesIO(client.get("/quan-tri/ngan-hang/mau/xlsx").data))
    assert book.sheetnames == ["Câu hỏi", "Hướng dẫn"]
    lists = {
        str(dv.sqref).split(":")[0].rstrip("0123456789"): dv.formula1
        for dv in book["Câu hỏi"].data_validations.dataValidation
    }
    header = [c.value for c in book["Câu hỏi"][1]]
    col = {h: book["Câu hỏi"].cell(row=1, column=i + 1).column_letter for i, h in enumerate(header)}
    assert lists[col["Độ khó"]] == '"dễ,trung bình,khó"'
    assert lists[col["Đáp án đúng"]] == '"A,B,C,D,E,F"'
    assert lists[col["Chọn nhiều đáp án"]] == '"có,không"'
    assert any("[Ví dụ]" in (r[0].value or "") for r in book["Hướng dẫn"].iter_rows())


def test_template_with_an_added_row_imports_it_and_skips_the_examples(app):
    with app.test_request_context():
        data = formats.table.write_template(
            [
                formats.ParsedQuestion(
                    line=0,
                    stem="[Ví dụ] Câu mẫu?",
                    options=[formats.ParsedOption("Có", True), formats.ParsedOption("Không", False)],
                )
            ]
        )
    book = load_workbook(io.BytesIO(data))
    book["Câu hỏi"].append(["Hiến pháp", "", "Câu thật?", "Có", "Không", "", "", "", "", "A"])
    buffer = io.BytesIO()
    book.save(buffer)
    with app.app_context():
        report = import_questions(buffer.getvalue(), "xlsx")
        assert report.created == 1 and report.examples == [2]
        assert db.session.scalar(select(Question.stem)) == "Câu thật?"


def test_staged_upload_is_bound_to_its_user_claimed_once_and_expires(app, redis_url):
    with app.test_request_context():
        token = stage_upload(1, b"Q? {=a ~b}", "gift", "a.gift", ("Chủ đề",), True)
        with pytest.raises(StagedImportError, match="người khác"):
            claim_staged(token, 2)
        staged = claim_staged(token, 1)
        assert (staged.data, staged.fmt, staged.category, staged.skip_unsupported) == (
            b"Q? {=a ~b}",
            "gift",
            ("Chủ đề",),
            True,
        )
        with pytest.raises(StagedImportError, match="đã được nhập"):
            claim_staged(token, 1)  # a double click
        finish_staged(token, imported=False)  # nothing written: can be retried
        assert claim_staged(token, 1).filename == "a.gift"
        finish_staged(token, imported=True)
        with pytest.raises(StagedImportError, match="không còn được giữ"):
            claim_staged(token, 1)
        with pytest.raises(StagedImportError, match="không còn được giữ"):
            claim_staged("../../etc", 1)
        # the TTL is set on the key: Redis forgets the file by itself
        token = stage_upload(1, b"x", "gift", "b.gift", (), False)
        ttl = app.extensions["redis_bytes"].ttl("qb:import:" + token)
        assert 0 < ttl <= TTL_SECONDS
        app.extensions["redis_bytes"].pexpire("qb:import:" + token, 1)
        import time

        time.sleep(0.05)
        with pytest.raises(StagedImportError, match="không còn được giữ"):
            claim_staged(token, 1)


def _upload(client, text, name="bo-de.gift", **extra):
    return client.post(
        "/quan-tri/ngan-hang/nhap",
        data={"file": (io.BytesIO(text.encode()), name), **extra},
        content_type="multipart/form-data",
    )


def _token(html):
    marker = 'name="token" type="hidden" value="'
    start = html.index(marker) + len(marker)
    return html[start : html.index('"', start)]


def test_check_then_import_now_with_the_same_file(app, client):
    author, phone = create_account(app, role="organiser")
    login(client, phone)
    checked = _upload(client, "Câu một? {=A ~B}\n\nViết cảm nghĩ. {}\n", skip_unsupported="y")
    html = checked.get_data(as_text=True)
    assert checked.status_code == 200 and "Kiểm tra xong: sẽ tạo 1 câu hỏi." in html and "Nhập ngay" in html
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Question)) == 0
    token = _token(html)

    client.post("/dang-xuat")
    _other, other_phone = create_account(app, role="organiser")
    login(client, other_phone)
    stolen = client.post("/quan-tri/ngan-hang/nhap/xac-nhan", data={"token": token})
    assert stolen.status_code == 409 and "người khác tải lên" in stolen.get_data(as_text=True)

    client.post("/dang-xuat")
    login(client, phone)
    done = client.post("/quan-tri/ngan-hang/nhap/xac-nhan", data={"token": token})
    assert done.status_code == 200 and "Đã nhập 1 câu hỏi" in done.get_data(as_text=True)
    again = client.post("/quan-tri/ngan-hang/nhap/xac-nhan", data={"token": token})
    assert again.status_code == 409 and "không còn được giữ" in again.get_data(as_text=True)
    with app.app_context():
        assert db.session.scalar(select(Question.author_id)) == author
        entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "questions_import"))
        assert entry.actor_id == author and entry.details["created"] == 1


def test_a_refused_check_offers_no_import_and_lists_every_row(app, client):
    _uid, phone = create_account(app, role="organiser")
    login(client, phone)
    text = HEADER + "Hiến pháp,,Có,Không,,D,rất khó\nHiến pháp,Câu ba?,Có,Có,,,dễ\n"
    page = _upload(client, text, name="bo-de.csv")
    html = page.get_data(as_text=True)
    assert page.status_code == 422 and 'id="import-confirm"' not in html
    assert "5 lỗi ở 2 dòng" in html
