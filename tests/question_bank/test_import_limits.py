"""Issue 12, finding 8: hostile spreadsheets. A 317 KB XLSX with 1,000,000 rows took 92 s of a live process and
returned a 74 MB page; one 100 MB cell took 500 MB. Imports are bounded while streaming, and the upload page
reads the file in a child process."""

import io
import time
import zipfile

import pytest
from flask import Flask
from flask_babel import Babel

from question_bank import formats
from question_bank.formats import table
from question_bank.formats.isolated import read_isolated
from tests.conftest import create_account, login

_CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" '
    'ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
    "</Types>"
)
_RELS = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
    'officeDocument" Target="xl/workbook.xml"/></Relationships>'
)
_WORKBOOK = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
    'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
    '<sheets><sheet name="Câu hỏi" sheetId="1" r:id="rId1"/></sheets></workbook>'
)
_WORKBOOK_RELS = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" '
    'Target="worksheets/sheet1.xml"/></Relationships>'
)


def _cell(ref, text):
    return f'<c r="{ref}" t="inlineStr"><is><t>{text}</t></is></c>'


def _xlsx(rows_xml: bytes | str) -> bytes:
    """A minimal XLSX by hand: the sheet XML is what a hostile file controls."""
    if isinstance(rows_xml, str):
        rows_xml = rows_xml.encode()
    header = "".join(
        _cell(f"{c}1", h) for c, h in zip("ABCDEF", ["Câu hỏi", "Phương án A", "Phương án B", "Đáp án đúng"])
    )
    sheet = (
        b'<?xml version="1.0" encoding="UTF-8"?>'
        b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
        + f'<row r="1">{header}</row>'.encode()
        + rows_xml
        + b"</sheetData></worksheet>"
    )
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as z:
        z.writestr("[Content_Types].xml", _CONTENT_TYPES)
        z.writestr("_rels/.rels", _RELS)
        z.writestr("xl/workbook.xml", _WORKBOOK)
        z.writestr("xl/_rels/workbook.xml.rels", _WORKBOOK_RELS)
        z.writestr("xl/worksheets/sheet1.xml", sheet)
    return out.getvalue()


_ROW = (
    '<row><c t="inlineStr"><is><t>Câu hỏi?</t></is></c><c t="inlineStr"><is><t>Có</t></is></c>'
    '<c t="inlineStr"><is><t>Không</t></is></c><c t="inlineStr"><is><t>A</t></is></c></row>'
).encode()


def _million_rows():
    """1,000,000 valid rows without cell references: about 300 KB once compressed, like the file in the issue."""
    return _xlsx(_ROW * 1_000_000)


@pytest.fixture(scope="module")
def million_rows():
    return _million_rows()


@pytest.fixture
def babel_ctx():
    app = Flask(__name__)
    Babel(app)
    with app.test_request_context():
        yield


def test_a_million_row_xlsx_is_refused_in_seconds(babel_ctx, million_rows):
    assert len(million_rows) < 1 * 2**20  # a small upload: the rows compress to almost nothing
    started = time.monotonic()
    result = formats.read("xlsx", million_rows)
    elapsed = time.monotonic() - started
    assert elapsed < 5, elapsed
    assert not result.questions and len(result.errors) == 1
    assert "giải nén ra hơn 64 MB" in result.errors[0].message or "hơn 20.000 dòng" in result.errors[0].message


def test_rows_past_the_limit_stop_the_reader(babel_ctx, monkeypatch):
    """Under the size limit, the row count stops the reader while streaming (20,000 rows would take seconds)."""
    monkeypatch.setattr(table, "MAX_ROWS", 1000)
    data = _xlsx(_ROW * 200_000)
    started = time.monotonic()
    result = formats.read("xlsx", data)
    assert time.monotonic() - started < 5
    too_many = ["Tệp có hơn 1.000 dòng dữ liệu; vui lòng chia thành nhiều tệp nhỏ hơn."]
    assert [e.message for e in result.errors] == too_many
    csv_file = ("Câu hỏi;Phương án A;Phương án B;Đáp án đúng\n" + "Câu hỏi?;Có;Không;A\n" * 5000).encode()
    assert [e.message for e in formats.read("csv", csv_file).errors] == too_many


def test_a_million_empty_rows_in_10_kb_are_refused_at_once(babel_ctx):
    """Under the size limit too: the rows are counted while the archive is checked, before openpyxl opens it."""
    data = _xlsx(b"<row/>" * 1_000_000)
    assert len(data) < 64 * 1024
    started = time.monotonic()
    result = formats.read("xlsx", data)
    assert time.monotonic() - started < 2
    assert [e.message for e in result.errors] == [
        "Tệp có hơn 20.000 dòng dữ liệu; vui lòng chia thành nhiều tệp nhỏ hơn."
    ]


def test_a_100_mb_cell_is_refused_by_the_size_limit(babel_ctx):
    data = _xlsx(b'<row r="2"><c r="A2" t="inlineStr"><is><t>' + b"x" * (100 * 2**20) + b"</t></is></c></row>")
    assert len(data) < 1 * 2**20
    started = time.monotonic()
    result = formats.read("xlsx", data)
    assert time.monotonic() - started < 3
    assert len(result.errors) == 1 and "giải nén ra hơn 64 MB" in result.errors[0].message


def test_a_long_cell_under_the_size_limit_is_a_row_error(babel_ctx):
    data = _xlsx(
        '<row r="2">' + _cell("A2", "x" * 30_000) + _cell("B2", "a") + _cell("C2", "b") + _cell("D2", "A") + "</row>"
    )
    result = formats.read("xlsx", data)
    assert [e.message for e in result.errors] == ["Dòng 2: có ô dài quá 20.000 ký tự."]


def test_too_many_columns_is_refused(babel_ctx):
    cells = "".join(_cell(f"{chr(64 + i // 26) if i >= 26 else ''}{chr(65 + i % 26)}2", "x") for i in range(60))
    result = formats.read("xlsx", _xlsx(f'<row r="2">{cells}</row>'))
    assert [e.message for e in result.errors] == ["Dòng 2: bảng tính có hơn 50 cột."]


def test_errors_stop_at_the_limit(babel_ctx):
    rows = "\n".join(f"Câu {n};a;b;Z" for n in range(5000))
    result = formats.read("csv", ("Câu hỏi;Phương án A;Phương án B;Đáp án đúng\n" + rows).encode())
    assert len(result.errors) == 201
    assert result.errors[-1].message == "Đã dừng kiểm tra tệp sau 200 lỗi; hãy sửa rồi nhập lại."


def test_text_files_with_too_many_lines_are_refused(babel_ctx):
    result = formats.read("gift", b"\n" * 400_001)
    assert [e.message for e in result.errors] == ["Tệp có hơn 400.000 dòng; vui lòng chia thành nhiều tệp nhỏ hơn."]


def test_isolated_reader_returns_the_same_result_in_the_callers_language(babel_ctx):
    data = "Câu hỏi;Phương án A;Phương án B;Đáp án đúng\nThủ đô?;Hà Nội;Huế;A\n".encode()
    result = read_isolated("csv", data, (), "vi")
    assert [q.stem for q in result.questions] == ["Thủ đô?"] and not result.errors
    english = read_isolated("gift", b"\n" * 400_001, (), "en")
    assert english.errors[0].message.startswith("The file has more than")


def test_upload_page_refuses_the_million_rows_quickly(app, client, million_rows):
    _, phone = create_account(app, role="organiser")
    login(client, phone)
    started = time.monotonic()
    response = client.post(
        "/quan-tri/ngan-hang/nhap",
        data={"file": (io.BytesIO(million_rows), "hostile.xlsx"), "format": "", "dry_run": "y"},
        content_type="multipart/form-data",
    )
    elapsed = time.monotonic() - started
    body = response.get_data(as_text=True)
    assert response.status_code == 422
    assert elapsed < 6, elapsed
    assert len(body) < 100_000  # not a 74 MB page
    assert "giải nén ra hơn 64 MB" in body or "hơn 20.000 dòng" in body


def test_cli_import_uses_the_same_limits(app, runner, tmp_path, million_rows):
    path = tmp_path / "hostile.xlsx"
    path.write_bytes(million_rows)
    started = time.monotonic()
    result = runner.invoke(args=["questions", "import", str(path), "--dry-run"])
    assert time.monotonic() - started < 6
    assert result.exit_code != 0
    assert "giải nén ra hơn 64 MB" in result.output or "hơn 20.000 dòng" in result.output
