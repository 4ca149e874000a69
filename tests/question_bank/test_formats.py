"""Reading GIFT, Aiken, CSV and XLSX: Moodle-style files parse, broken ones are refused with line numbers."""

from pathlib import Path

import pytest

from question_bank import formats
from question_bank.formats import ParsedOption, ParsedQuestion, aiken, gift, table

FILES = Path(__file__).parent / "files"


@pytest.fixture(autouse=True)
def _ctx(ctx):
    """flask_babel needs an app context for the Vietnamese messages."""


def test_gift_moodle_export_parses_categories_titles_tf_weights_and_escapes():
    result = gift.parse((FILES / "moodle.gift").read_text(encoding="utf-8"))
    assert result.errors == []
    first, tf, multi, escaped = result.questions
    assert first.category == ("Hiến pháp", "Quyền con người")
    assert first.title == "Quyền bất khả xâm phạm"
    assert first.stem == "Theo Hiến pháp năm 2013, ai có quyền bất khả xâm phạm về thân thể?"
    assert [(o.text, o.is_correct) for o in first.options] == [
        ("Mọi người", True),
        ("Chỉ công dân Việt Nam", False),
        ("Chỉ người thành niên", False),
    ]
    assert first.tags == ("hiến pháp",) and first.line == 6
    assert [(o.text, o.is_correct) for o in tf.options] == [("Đúng", True), ("Sai", False)]
    assert tf.explanation == "Điều 120 Hiến pháp 2013 quy định."
    assert multi.multi_select and [o.is_correct for o in multi.options] == [True, True, False]
    assert escaped.category == ("Giao thông",)
    assert escaped.stem == "Tốc độ {tối đa} trong khu dân cư có dải phân cách = 60 km/h: đúng hay sai?"
    assert [(o.text, o.is_correct) for o in escaped.options] == [("Đúng", True), ("Sai", False)]
    # essay and matching are valid GIFT but not runnable here: reported with their lines
    assert [(u.line, "tự luận" in u.message or "ghép đôi" in u.message) for u in result.unsupported] == [
        (25, True),
        (27, True),
    ]


def test_gift_syntax_errors_carry_line_numbers():
    text = "Câu một {=A ~B}\n\nCâu hai không có đáp án\n\n::T::Câu ba {=A ~B\n"
    result = gift.parse(text)
    assert [e.line for e in result.errors] == [3, 5]
    assert "Dòng 3" in result.errors[0].message and "{ }" in result.errors[0].message
    assert "}" in result.errors[1].message


def test_gift_category_with_slash_and_system_prefix():
    result = gift.parse("$CATEGORY: $system$/top/Luật A//B/Con\n\nHỏi? {=x ~y}\n")
    assert result.questions[0].category == ("Luật A/B", "Con")


def test_aiken_both_option_styles_and_errors():
    ok = aiken.parse(
        "Thủ đô của Việt Nam là?\nA. Hà Nội\nB) Huế\nC. Đà Nẵng\nANSWER: A\n\nCâu 2?\nA) x\nB) y\nANSWER: B\n"
    )
    assert ok.errors == []
    assert [q.stem for q in ok.questions] == ["Thủ đô của Việt Nam là?", "Câu 2?"]
    assert [o.is_correct for o in ok.questions[1].options] == [False, True]
    bad = aiken.parse("Câu 1?\nA. x\nB. y\nANSWER: D\n\nCâu 2?\nA. x\nC. y\nANSWER: A\n\nCâu 3?\nA. x\n")
    assert [e.line for e in bad.errors] == [4, 8, 11]
    assert "D" in bad.errors[0].message and "ANSWER" in bad.errors[2].message


def test_csv_template_rows_and_errors_by_row_number():
    text = (
        "Chủ đề,Câu hỏi,Phương án A,Phương án B,Phương án C,Đáp án đúng,Độ khó,Thẻ\n"
        'Hiến pháp > Quyền con người,Câu hỏi một?,Có,Không,,A,dễ,"a, b"\n'
        'Hiến pháp,Câu hỏi hai?,X,Y,Z,"A, C",Trung binh,\n'
        "Hiến pháp,Câu hỏi ba?,X,Y,,D,khó,\n"
        "Hiến pháp,Câu hỏi bốn?,X,Y,,B,rất khó,\n"
    )
    result = table.parse_csv(text)
    assert [e.line for e in result.errors] == [4, 5]
    one, two = result.questions
    assert one.category == ("Hiến pháp", "Quyền con người") and one.difficulty == "easy" and one.tags == ("a", "b")
    assert len(one.options) == 2
    assert (
        two.multi_select and [o.is_correct for o in two.options] == [True, False, True] and two.difficulty == "medium"
    )


def test_csv_missing_required_column_is_refused():
    result = table.parse_csv("Câu hỏi,Phương án A\nX,Y\n")
    assert len(result.errors) == 1 and "Đáp án đúng" in result.errors[0].message


def test_validation_messages():
    q = ParsedQuestion(line=3, stem="Hỏi?", options=[ParsedOption("A", True), ParsedOption("A", True)])
    problems = formats.validate_question(q)
    assert any("trùng" in p for p in problems) and any("một phương án đúng" in p for p in problems)
    lonely = ParsedQuestion(line=1, stem="Hỏi?", options=[ParsedOption("A", True)])
    assert any("từ 2 đến 6" in p for p in formats.validate_question(lonely))


SAMPLE = [
    ParsedQuestion(
        line=0,
        stem="Dòng một\nDòng hai có {ngoặc} = và ~ # : \\ kí tự",
        category=("Hiến pháp", "Quyền/Nghĩa vụ"),
        title="Tiêu đề: có dấu",
        options=[ParsedOption("Đáp án = đúng", True), ParsedOption("Sai ~ rồi", False)],
        explanation="Giải thích\nhai dòng",
        legal_document="Hiến pháp năm 2013",
        legal_article="Điều 14, khoản 2",
        difficulty="hard",
        tags=("hiến pháp", "quyền con người"),
    ),
    ParsedQuestion(
        line=0,
        stem="Chọn các đáp án đúng",
        category=("Giao thông",),
        multi_select=True,
        options=[ParsedOption("A", True), ParsedOption("B", True), ParsedOption("C", True), ParsedOption("D", False)],
        difficulty="easy",
    ),
    ParsedQuestion(
        line=0,
        stem="Một đáp án nhưng chọn nhiều",
        category=("Giao thông",),
        multi_select=True,
        options=[ParsedOption("A", True), ParsedOption("B", False), ParsedOption("=C", False)],
        difficulty="medium",
    ),
]


@pytest.mark.parametrize("fmt", ["gift", "csv", "xlsx"])
def test_round_trip_is_exact_for_full_formats(fmt):
    data = formats.write(fmt, SAMPLE)
    result = formats.read(fmt, data)
    assert result.errors == [] and result.unsupported == []
    assert [q.key() for q in result.questions] == [q.key() for q in SAMPLE]


def test_aiken_round_trip_keeps_what_aiken_can_carry():
    single = [
        ParsedQuestion(
            line=0,
            stem="Luật có hiệu lực khi nào?",
            category=("X",),
            options=[ParsedOption("Ngày ký", False), ParsedOption("Ngày 01/01/2013", True)],
        )
    ]
    result = formats.read("aiken", formats.write("aiken", single + SAMPLE[1:2]), ("X",))
    assert [q.key() for q in result.questions] == [q.key() for q in single]


def test_gift_html_from_moodle_becomes_plain_text_and_partial_credit_is_not_correct():
    text = (
        "// question: 7  name: Ngày Pháp luật\n"
        "::Ngày Pháp luật::[html]<p>Ngày Pháp luật là ngày <strong>nào</strong>?</p><p>Chọn một đáp án.</p>{\n"
        "\t=<p>9/11 &amp; hằng năm</p>\n"
        "\t~%50%<p>Tháng 11</p>\n"
        "\t~<p>2/9</p>\n"
        "\t####<p>Điều 8 Luật PBGDPL.</p>\n"
        "}\n"
    )
    q = gift.parse(text).questions[0]
    assert q.stem == "Ngày Pháp luật là ngày nào?\nChọn một đáp án."
    assert [(o.text, o.is_correct) for o in q.options] == [
        ("9/11 & hằng năm", True),
        ("Tháng 11", False),
        ("2/9", False),
    ]
    assert q.explanation == "Điều 8 Luật PBGDPL." and not q.multi_select


def test_xlsx_errors_carry_spreadsheet_row_numbers():
    import io

    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(table.HEADERS)
    sheet.append(["Hiến pháp", "", "Câu đúng?", "Có", "Không", "", "", "", "", "A", "", "", "", "", "dễ", ""])
    sheet.append([])  # blank rows are skipped, but still counted
    sheet.append(["Hiến pháp", "", "Câu sai?", "Có", "Không", "", "", "", "", "C", "", "", "", "", "", ""])
    buffer = io.BytesIO()
    book.save(buffer)
    result = table.parse_xlsx(buffer.getvalue())
    assert [q.line for q in result.questions] == [2]
    assert [e.line for e in result.errors] == [4] and "Dòng 4" in result.errors[0].message
    assert table.parse_xlsx(b"not a workbook").errors[0].message.startswith("Tệp không phải")


def test_csv_saved_by_excel_with_bom_and_semicolons_and_unaccented_headers():
    data = (
        "\ufeffchu de;cau hoi;phuong an a;phuong an b;dap an dung;do kho\r\n"
        "Hiến pháp;Quốc hội có nhiệm kỳ mấy năm?;5 năm;4 năm;a;kho\r\n"
    ).encode("utf-8")
    result = formats.read("csv", data)
    assert result.errors == []
    q = result.questions[0]
    assert (q.line, q.category, q.stem, q.difficulty) == (2, ("Hiến pháp",), "Quốc hội có nhiệm kỳ mấy năm?", "hard")
    assert [o.is_correct for o in q.options] == [True, False]


FORMULA_TEXTS = [
    '=HYPERLINK("http://evil.example","Bấm vào đây")',
    "+84 912 345 678",
    "-5 độ C",
    "@SUM(A1:A9)",
    "'=đã có dấu nháy",
    "''+hai dấu nháy",
    "'bình thường",
]


def _formula_question():
    return ParsedQuestion(
        line=0,
        stem=FORMULA_TEXTS[0],
        category=("=Hiến pháp", "-Chương II"),
        title="+Tiêu đề",
        options=[
            ParsedOption(FORMULA_TEXTS[1], True),
            ParsedOption(FORMULA_TEXTS[2], False),
            ParsedOption(FORMULA_TEXTS[3], False),
            ParsedOption(FORMULA_TEXTS[4], False),
            ParsedOption(FORMULA_TEXTS[5], False),
            ParsedOption(FORMULA_TEXTS[6], False),
        ],
        explanation="=1+1",
        legal_document="@Luật",
        legal_article="-Điều 1",
        difficulty="easy",
        tags=("=thẻ",),
    )


def test_csv_export_quotes_cells_a_spreadsheet_would_run_and_import_undoes_it():
    import csv
    import io

    q = _formula_question()
    text = formats.write("csv", [q]).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    cells = [c for c in rows[1] if c]
    assert not [c for c in cells if c[0] in "=+-@\t\r"], cells
    assert '\'=HYPERLINK("http://evil.example","Bấm vào đây")' in cells and "'+84 912 345 678" in cells
    assert "''=đã có dấu nháy" in cells and "'''+hai dấu nháy" in cells and "'bình thường" in cells
    back = formats.read("csv", text.encode("utf-8"))
    assert back.errors == [] and [b.key() for b in back.questions] == [q.key()]
    assert back.questions[0].stem == FORMULA_TEXTS[0] and back.questions[0].category == ("=Hiến pháp", "-Chương II")


def test_csv_written_by_hand_with_excel_apostrophes_imports_the_text_behind_them():
    text = "Câu hỏi,Phương án A,Phương án B,Đáp án đúng\r\n'=1+1 bằng mấy?,'-2,2,B\r\n"
    [q] = table.parse_csv(text).questions
    assert q.stem == "=1+1 bằng mấy?" and [o.text for o in q.options] == ["-2", "2"]


def test_xlsx_export_writes_formula_like_texts_as_strings_never_formulas():
    import io
    import zipfile

    from openpyxl import load_workbook

    q = _formula_question()
    data = formats.write("xlsx", [q])
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        sheet_xml = z.read("xl/worksheets/sheet1.xml").decode()
    assert "<f>" not in sheet_xml and "<f " not in sheet_xml
    sheet = load_workbook(io.BytesIO(data)).worksheets[0]
    row = [c for c in sheet[2] if c.value]
    assert all(c.data_type == "s" for c in row)
    assert sheet["C2"].value == FORMULA_TEXTS[0]  # the text itself, no apostrophe added
    back = formats.read("xlsx", data)
    assert back.errors == [] and [b.key() for b in back.questions] == [q.key()]
