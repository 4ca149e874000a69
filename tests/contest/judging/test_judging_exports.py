"""Exports: CSV with BOM and Vietnamese headers, typed XLSX, masking, snapshots and digests, the CLI."""

import csv
import io
from datetime import date, datetime, timedelta

import pytest
from openpyxl import load_workbook

from contest.audit.models import AuditEntry
from contest.judging.disqualification import disqualify
from contest.judging.exports import ExportError, ExportSource, csv_chunks, write_xlsx
from contest.judging.prizes import TierSpec, set_prize_tiers
from contest.judging.publishing import publish
from infra.extensions import db
from infra.forked import ForkedPart
from tests.contest.judging_data import add_attempt, make_person, make_round, make_unit


@pytest.fixture
def exported(ctx):
    province = make_unit("Tỉnh Nghệ An")
    school = make_unit("Trường THPT Huỳnh Thúc Kháng", parent=province)
    round_ = make_round(questions=2)
    judge = make_person(full_name="Trần Thẩm Phán", role="judge")
    people = [
        make_person(
            full_name="Nguyễn Thị Ánh", unit=school, cccd_last4="1234", phone="0912345678", dob=date(2001, 9, 2)
        ),
        make_person(full_name="Đặng Văn Bảo", unit=school, phone="0987654321"),
        make_person(full_name="Hồ Thị Cúc", phone="0977000111"),
    ]
    add_attempt(round_, people[0], 2, time_ms=61_500, prediction=1, submitted_at=datetime(2026, 11, 2, 1, 30, 5))
    add_attempt(round_, people[1], 2, time_ms=70_000, prediction=4)
    add_attempt(round_, people[2], 1, time_ms=10_000, prediction=1)
    db.session.commit()
    set_prize_tiers(round_, [TierSpec("Giải Nhất", 1), TierSpec("Giải Nhì", 1)], judge)
    return round_, judge, people


def _csv(source, full_data=False):
    text = "".join(csv_chunks(source, full_data=full_data, rows_per_chunk=1))
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text[1:])))
    return source.filename("csv"), rows[0], rows[1:]  # the header row first; the metadata is in the file name


def test_provisional_csv_is_utf8_bom_with_vietnamese_headers_and_masked_data(exported):
    round_, _, people = exported
    name, header, rows = _csv(ExportSource(round_))
    assert name == f"bang-xep-hang-vong-{round_.id}-tam-thoi.csv"
    assert header[:8] == [
        "STT",
        "Hạng",
        "Họ và tên",
        "Ngày sinh",
        "Đơn vị",
        "Tỉnh/Thành phố",
        "Số điện thoại",
        "Số CCCD",
    ]
    assert "Email" not in header
    first = dict(zip(header, rows[0]))
    assert first["Họ và tên"] == "Nguyễn Thị Ánh"
    assert first["Ngày sinh"] == "2001"  # year only unless full data is asked for
    assert first["Số điện thoại"] == "091****678"
    assert first["Số CCCD"] == "********1234"
    assert first["Đơn vị"] == "Trường THPT Huỳnh Thúc Kháng" and first["Tỉnh/Thành phố"] == "Tỉnh Nghệ An"
    assert first["Thời điểm nộp bài (giờ Việt Nam)"] == "02/11/2026 08:30:05"
    assert first["Thời gian làm bài (giây)"] == "61.5"
    assert first["Giải"] == "Giải Nhất"
    assert [r[2] for r in rows] == ["Nguyễn Thị Ánh", "Đặng Văn Bảo", "Hồ Thị Cúc"]
    assert "0912345678" not in "".join(",".join(r) for r in rows)

    _, header, rows = _csv(ExportSource(round_), full_data=True)
    first = dict(zip(header, rows[0]))
    assert first["Số điện thoại"] == "0912345678" and first["Ngày sinh"] == "02/09/2001" and "Email" in header


def test_winners_csv_and_published_version_with_digest(exported):
    round_, judge, people = exported
    _, _, rows = _csv(ExportSource(round_, winners_only=True))
    assert [(r[2], r[-1]) for r in rows] == [("Nguyễn Thị Ánh", "Giải Nhất"), ("Đặng Văn Bảo", "Giải Nhì")]
    v1 = publish(round_, judge)
    disqualify(round_, people[0].id, "Thi hộ người khác", judge)
    name, _, rows = _csv(ExportSource(round_))  # default: the latest published version, not the live ranking
    assert name == f"bang-xep-hang-vong-{round_.id}-v1-sha256-{v1.digest[:12]}.csv"
    assert rows[0][2] == "Nguyễn Thị Ánh"
    _, _, rows = _csv(ExportSource(round_, provisional=True))
    assert rows[0][2] == "Đặng Văn Bảo"
    with pytest.raises(ExportError):
        ExportSource(round_, version=7)


def test_xlsx_has_typed_cells_and_widths(exported, tmp_path):
    round_, judge, _ = exported
    publish(round_, judge)
    path = tmp_path / "ket-qua.xlsx"
    write_xlsx(ExportSource(round_), path, full_data=True)
    sheet = load_workbook(path).active
    rows = list(sheet.iter_rows(values_only=True))
    header_at = 0
    header = rows[header_at]
    first = dict(zip(header, rows[header_at + 1]))
    assert first["Hạng"] == 1 and isinstance(first["Số câu đúng"], int)
    assert first["Thời điểm nộp bài (giờ Việt Nam)"] == datetime(2026, 11, 2, 8, 30, 5)
    assert first["Ngày sinh"] == datetime(2001, 9, 2)
    assert first["Thời gian làm bài (giây)"] == pytest.approx(61.5)
    # Họ và tên: 28 characters; XlsxWriter stores Excel's width with its cell padding (28.71), shown as 28
    assert 28 <= sheet.column_dimensions["C"].width < 29
    assert 7 <= sheet.column_dimensions["A"].width < 8
    submitted_cell = sheet.cell(row=header_at + 2, column=header.index("Thời điểm nộp bài (giờ Việt Nam)") + 1)
    assert submitted_cell.is_date and isinstance(submitted_cell.value, datetime)


def test_cli_export_writes_files_and_audits(exported, app, tmp_path):
    round_, judge, _ = exported
    runner = app.test_cli_runner()
    out = tmp_path / "giai.csv"
    result = runner.invoke(args=["results", "export", str(round_.id), "--format", "csv", "--winners", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert "tạm thời" in result.output
    text = out.read_text(encoding="utf-8")
    assert text.startswith("\ufeff") and "Giải Nhì" in text and "Hồ Thị Cúc" not in text
    publish(round_, judge)
    xlsx = tmp_path / "bxh.xlsx"
    result = runner.invoke(
        args=["results", "export", str(round_.id), "--format", "xlsx", "--full-data", "-o", str(xlsx)]
    )
    assert result.exit_code == 0, result.output
    assert "phiên bản 1" in result.output
    assert load_workbook(xlsx).active.max_row == 4  # the header row and three entries
    actions = [(e.action, e.details.get("format")) for e in AuditEntry.query.order_by(AuditEntry.id)]
    assert ("export", "csv") in actions and ("export_full_data", "xlsx") in actions
    result = runner.invoke(args=["results", "export", "99999", "-o", str(out)])
    assert result.exit_code != 0 and "Không tìm thấy vòng thi" in result.output


def test_fast_row_flush_writes_the_same_xml_as_xlsxwriter(tmp_path):
    """The export's worksheet flushes plain rows itself; the sheet XML must equal XlsxWriter's own."""
    import zipfile

    import xlsxwriter
    from xlsxwriter.worksheet import Worksheet

    from contest.judging.exports import _StreamingWorksheet

    def sheet_xml(worksheet_class):
        path = tmp_path / f"{worksheet_class.__name__}.xlsx"
        workbook = xlsxwriter.Workbook(str(path), {"constant_memory": True})
        sheet = workbook.add_worksheet("Xếp hạng", worksheet_class=worksheet_class)
        date_format = workbook.add_format({"num_format": "dd/mm/yyyy hh:mm:ss"})
        bold = workbook.add_format({"bold": True})
        sheet.set_column(0, 0, 12)
        sheet.set_column(6, 6, 9, workbook.add_format({"italic": True}))  # a column format applies to plain cells
        for row in range(4):
            sheet.write_string(row, 0, " Lê Thị Ánh & <Hoa> ", bold)
            sheet.write_number(row, 1, 61.5)
            sheet.write_datetime(row, 3, datetime(2026, 11, 2, 8, 30, 5), date_format)
            sheet.write_string(row, 4, "điều\x01khoản")
            sheet.write_number(row, 5, 10**12 + row)
            sheet.write_string(row, 6, "in nghiêng")
        sheet.write_formula(4, 0, "=B1+B2")  # not a plain row: XlsxWriter's own code writes it
        sheet.write_number(5, 2, 7)
        workbook.close()
        with zipfile.ZipFile(path) as archive:
            return archive.read("xl/worksheets/sheet1.xml").decode()

    ours, theirs = sheet_xml(_StreamingWorksheet), sheet_xml(Worksheet)
    assert "Lê Thị Ánh &amp; &lt;Hoa&gt;" in ours and "<f>B1+B2</f>" in ours
    assert ours == theirs


def test_formula_like_names_stay_text_in_both_formats(ctx, tmp_path):
    """A contestant named "=HYPERLINK(...)" must not become a live formula in the judges' spreadsheet."""
    unit = make_unit("+Đơn vị @lạ")
    round_ = make_round(questions=2)
    person = make_person(full_name='=HYPERLINK("http://x.example","Bấm")', unit=unit, phone="0912000111")
    add_attempt(round_, person, 2, time_ms=50_000, prediction=1)
    db.session.commit()
    _, header, rows = _csv(ExportSource(round_, provisional=True))
    first = dict(zip(header, rows[0]))
    assert first["Họ và tên"] == '\'=HYPERLINK("http://x.example","Bấm")'
    assert first["Đơn vị"] == "'+Đơn vị @lạ"
    assert first["Số câu đúng"] == "2"  # numbers are untouched

    path = tmp_path / "ket-qua.xlsx"
    write_xlsx(ExportSource(round_, provisional=True), path)
    sheet = load_workbook(path).active
    header_at = next(i for i, r in enumerate(sheet.iter_rows(values_only=True), start=1) if r and r[0] == "STT")
    headers = [c.value for c in sheet[header_at]]
    name_cell = sheet.cell(row=header_at + 1, column=headers.index("Họ và tên") + 1)
    assert name_cell.data_type == "s" and name_cell.value == '=HYPERLINK("http://x.example","Bấm")'


def test_xlsx_header_first_with_filter_frozen_pane_info_sheet_and_disqualified_sheet(exported, tmp_path):
    """Issue 14, finding 9: five title rows above the header, no auto-filter, no list of the disqualified."""
    round_, judge, people = exported
    disqualify(round_, people[2].id, "Làm bài trong 10 giây, nghi thi hộ", judge)
    v1 = publish(round_, judge)
    path = tmp_path / "bxh.xlsx"
    write_xlsx(ExportSource(round_), path)
    book = load_workbook(path)
    assert book.sheetnames == ["Xếp hạng", "Thông tin", "Bài bị loại"]
    sheet = book["Xếp hạng"]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:3] == ("STT", "Hạng", "Họ và tên")  # the header is the first row
    assert [r[2] for r in rows[1:]] == ["Nguyễn Thị Ánh", "Đặng Văn Bảo"]
    assert sheet.freeze_panes == "A2"
    assert sheet.auto_filter.ref == f"A1:{chr(ord('A') + len(rows[0]) - 1)}3"
    info = {r[0]: r[1] for r in book["Thông tin"].iter_rows(values_only=True)}
    assert info["Mã kiểm tra SHA-256"] == v1.digest and info["Phiên bản công bố"] == 1
    assert info["Vòng thi"] == round_.title and info["Trạng thái"] == "Chính thức (đã công bố)"
    out = list(book["Bài bị loại"].iter_rows(values_only=True))
    assert out[0] == (
        "Họ và tên",
        "Ngày sinh",
        "Đơn vị",
        "Tỉnh/Thành phố",
        "Số điện thoại",
        "Lý do",
        "Người quyết định",
        "Thời điểm quyết định (giờ Việt Nam)",
    )
    assert out[1][0] == "Hồ Thị Cúc" and out[1][5] == "Làm bài trong 10 giây, nghi thi hộ"
    assert out[1][4] == "097****111" and out[1][1] == 1990 and out[1][6] == "Trần Thẩm Phán"
    assert isinstance(out[1][7], datetime)
    assert book["Bài bị loại"].auto_filter.ref == "A1:H2" and book["Bài bị loại"].freeze_panes == "A2"


@pytest.mark.parametrize("winners_only", [False, True])
@pytest.mark.parametrize("full_data", [False, True])
def test_csv_read_from_stored_rows_equals_the_entry_by_entry_csv(any_db_app, winners_only, full_data):
    """The CSV of a settled round (the worker's stored ranking) and of a published version is formatted in SQL
    (fast at 10^6); it must equal the entry-by-entry CSV byte for byte, with disqualified people skipped, ties,
    prize rules (perfect score required, minimum correct) and formula-like names."""
    from contest.judging.settler import settle_due_rounds

    with any_db_app.app_context():
        province = make_unit("Tỉnh Nghệ An")
        school = make_unit("Trường THPT Huỳnh Thúc Kháng", parent=province)
        round_ = make_round(questions=3)
        judge = make_person(full_name="Trần Thẩm Phán", role="judge")
        people = []
        for i, (correct, ms) in enumerate(
            [(3, 50_000), (3, 50_000), (2, 40_000), (3, 70_000), (1, 10_000), (2, 40_000)]
        ):
            person = make_person(
                full_name="=SUM(A1)" if i == 3 else f"Người dự thi {i}",
                unit=school if i % 2 else None,
                cccd_last4="1234" if i == 0 else None,
                phone=f"09{i:08d}",
            )
            people.append(person)
            add_attempt(
                round_,
                person,
                correct,
                time_ms=ms + 7,
                prediction=i,
                submitted_at=datetime(2026, 11, 2, 23, 59, 59, 999_999 - i),
            )
        db.session.commit()
        set_prize_tiers(
            round_, [TierSpec("Giải Nhất", 1, True), TierSpec("Giải Nhì", 2), TierSpec("Giải Ba", 2, False, 3)], judge
        )
        disqualify(round_, people[0].id, "Thi hộ", judge)
        settle_due_rounds()
        source = ExportSource(round_, winners_only=winners_only)
        assert source.stored
        fast = "".join(csv_chunks(source, full_data=full_data))
        assert fast == "".join(csv_chunks(source, full_data=full_data, fast=False))
        assert "Người dự thi 0" not in fast and "'=SUM(A1)" in fast and "03/11/2026 06:59:59" in fast
        publish(round_, judge)
        source = ExportSource(round_, winners_only=winners_only)
        assert source.snapshot_id is not None
        assert "".join(csv_chunks(source, full_data=full_data)) == "".join(
            csv_chunks(source, full_data=full_data, fast=False)
        )
        db.session.remove()


@pytest.mark.parametrize(
    "winners_only, full_data, forked",
    [(False, False, False), (True, False, False), (False, True, False), (True, True, False)]
    + [(False, False, True), (False, True, True)],
)
def test_fast_csv_equals_generic_csv_with_ties_disqualified_repeats_and_awkward_text(
    any_db_app, monkeypatch, winners_only, full_data, forked
):
    """The fast CSV (read from the stored ranking board or the published version) equals the entry-by-entry CSV
    byte for byte, on a round with several attempts per person, ties on every criterion, disqualified entries
    above, inside and below a tie, and text that needs CSV quoting or formula quoting (commas, quotes, line
    breaks, apostrophes). Forked: a child process writes the second half of the positions (infra/forked.py), as
    from 100,000 rows."""
    from contest.judging import exports
    from contest.judging.settler import settle_due_rounds

    children = []
    if forked:
        monkeypatch.setattr(exports, "FORK_MIN_ROWS", 1)
        monkeypatch.setattr(exports, "ForkedPart", lambda *args: children.append(args) or ForkedPart(*args))

    with any_db_app.app_context():
        province = make_unit('=Tỉnh "Nghệ An", mới')
        district = make_unit("'+Huyện\nĐô Lương", parent=province)
        school = make_unit("Trường THPT, Đô Lương 1", parent=district)
        other = make_unit("@Đơn vị khác")
        # Without the person criteria (attempts used, registration) equal attempts tie: shared ranks.
        round_ = make_round(
            questions=4, rule=["correct_desc", "prediction_distance_asc", "time_taken_asc", "submitted_at_asc"]
        )
        judge = make_person(full_name="Trần Thẩm Phán", role="judge")
        names = [
            "Nguyễn Văn, An",
            'Lê "Bé" Ba',
            "-Trần Cường",
            " Phạm Dũng",
            "'=Hoàng Em",
            "Võ\tThị Giang",
            "Đỗ Hà\r\nNội",
            "Bùi Khánh",
            "''Ngô Lan",
            "Mai Minh",
            "Tạ Nam",
            "+Hồ Oanh",
        ]
        second = datetime(2026, 11, 2, 23, 59, 59)
        # (correct, ms, prediction, microseconds of the submission second) per attempt, several per person
        plans = [
            [(4, 50_000, 3, 1), (3, 20_000, 3, 2)],
            [(4, 50_000, 3, 900_000)],  # ties the first on every criterion but the person's own
            [(4, 50_000, None, 5), (4, 60_000, 3, 0), (2, 1, 0, 0)],
            [(4, 70_000, 3, 0)],
            [(3, 40_000, 7, 10), (3, 40_000, 7, 20)],
            [(3, 40_000, 7, 30)],
            [(3, 40_000, 7, 40)],
            [(2, 1, 2, 0), (1, 999, 1, 0)],
            [(2, 1, 2, 0)],
            [(1, 123_456, 10**9, 0)],
            [(0, 1_000_000, 0, 0), (0, 1_000_000, 0, 0)],
            [(None, None, None, 0)],
        ]
        people = []
        for i, (name, plan) in enumerate(zip(names, plans, strict=True)):
            person = make_person(
                full_name=name,
                unit=[school, district, province, other, None][i % 5],
                cccd_last4='1,"3' if i == 4 else f"{i:04d}" if i % 3 else None,
                phone="0912" if i == 9 else f"+8490{i:07d}" if i == 10 else '0912,345"67' if i == 11 else f"09{i:08d}",
            )
            person.email = "=cmd@example.vn" if i == 1 else f"nguoi{i}@example.vn" if i % 2 else None
            people.append(person)
            for k, (correct, ms, prediction, micro) in enumerate(plan):
                add_attempt(
                    round_,
                    person,
                    correct,
                    time_ms=ms,
                    prediction=prediction,
                    submitted_at=second.replace(microsecond=micro) - timedelta(days=k),
                    status="expired" if k == 1 else "submitted",
                )
        add_attempt(round_, people[3], 0, status="in_progress")  # not finished: not counted
        db.session.commit()
        set_prize_tiers(
            round_,
            [
                TierSpec("Giải Nhất", 1, True),
                TierSpec("=Giải Nhì", 2),
                TierSpec("Giải Ba", 3, False, 3),
                TierSpec("Khuyến khích", 2),
            ],
            judge,
        )
        for index in (1, 5, 9):  # inside the top tie, inside a tie further down, below
            disqualify(round_, people[index].id, "Thi hộ", judge)
        settle_due_rounds()
        for source in (ExportSource(round_, winners_only=winners_only), None):
            if source is None:
                publish(round_, judge)
                source = ExportSource(round_, winners_only=winners_only)
                assert source.snapshot_id is not None
            else:
                assert source.stored
            fast = "".join(csv_chunks(source, full_data=full_data, rows_per_chunk=3))
            assert fast == "".join(csv_chunks(source, full_data=full_data, fast=False))
            rows = list(csv.reader(io.StringIO(fast[1:])))
            assert len(rows) > (1 if winners_only else 9)
            assert not any("Lê" in cell or "Mai Minh" in cell or "Giang" in cell for row in rows for cell in row)
            if not winners_only:
                assert '"Đỗ Hà\r\nNội"' in fast and "'-Trần Cường" in fast and ",''Ngô Lan," in fast
                assert "''=Hoàng Em" in fast and "\"''+Huyện\nĐô Lương\"" in fast
                assert ",50.0," in fast and ",0.001," in fast
        assert len(children) == (2 if forked else 0)  # the stored ranking's CSV and the published version's
        db.session.remove()
