"""The Vietnamese spreadsheet template (CSV and XLSX): one question per row, headers in Vietnamese."""

import csv
import io
import re
import zipfile

from flask_babel import gettext as _

from question_bank.formats.base import (
    DIFFICULTY_LABELS,
    MAX_CELL_CHARS,
    MAX_COLUMNS,
    MAX_ROWS,
    MAX_XLSX_MEMBERS,
    MAX_XLSX_UNCOMPRESSED,
    LimitExceeded,
    ParsedOption,
    ParsedQuestion,
    ParseIssue,
    ParseResult,
    is_example,
    parse_difficulty,
    validate_question,
)
from question_bank.normalize import normalize_text

LETTERS = "ABCDEF"
OPTION_HEADERS = [f"Phương án {letter}" for letter in LETTERS]
HEADERS = [
    "Chủ đề",
    "Tiêu đề",
    "Câu hỏi",
    *OPTION_HEADERS,
    "Đáp án đúng",
    "Chọn nhiều đáp án",
    "Giải thích",
    "Văn bản pháp luật",
    "Điều, khoản",
    "Độ khó",
    "Thẻ",
]
REQUIRED = ["Câu hỏi", "Phương án A", "Phương án B", "Đáp án đúng"]
CATEGORY_SEPARATOR = " > "
_YES = {"co", "x", "1", "yes", "true", "c"}
# Spreadsheet software reads a cell starting with one of these as a formula ("CSV injection"). CSV
# exports prefix such a cell with an apostrophe (OWASP's mitigation); a text that already starts with
# apostrophes before such a character gets one more, so the importer can remove exactly one and round
# trips stay exact. XLSX exports mark such cells as strings instead.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
_NEEDS_QUOTE = re.compile(r"'*[=+\-@\t\r]")


def quote_formula(value: str) -> str:
    """The CSV cell for a text: `=1+1` becomes `'=1+1`, `'=1` becomes `''=1`, anything else is unchanged."""
    return "'" + value if _NEEDS_QUOTE.match(value) else value


def unquote_formula(value: str) -> str:
    """Undoes quote_formula exactly: removes one apostrophe when apostrophes precede a formula character."""
    return value[1:] if value.startswith("'") and _NEEDS_QUOTE.match(value, 1) else value


def _header_map(header_row):
    wanted = {normalize_text(h): h for h in HEADERS}
    found = {}
    for index, cell in enumerate(header_row):
        key = normalize_text(str(cell) if cell is not None else "")
        if key in wanted:
            found[wanted[key]] = index
    return found


def _rows_to_questions(rows, default_category, result):
    """rows: iterable of (row_number, list of cell strings); the first is the header."""
    rows = iter(rows)
    try:
        header_number, header = next(rows)
    except StopIteration:
        result.errors.append(ParseIssue(1, _("Tệp trống: không có dòng tiêu đề cột.")))
        return result
    columns = _header_map(header)
    missing = [h for h in REQUIRED if h not in columns]
    if missing:
        result.errors.append(
            ParseIssue(
                header_number,
                _("Dòng %(row)s: thiếu cột bắt buộc: %(cols)s.", row=header_number, cols=", ".join(missing)),
            )
        )
        return result
    for number, cells in rows:
        if number - header_number > MAX_ROWS:
            raise LimitExceeded(
                _(
                    "Tệp có hơn %(n)s dòng dữ liệu; vui lòng chia thành nhiều tệp nhỏ hơn.",
                    n=f"{MAX_ROWS:,}".replace(",", "."),
                )
            )
        if len(cells) > MAX_COLUMNS and any(str(c).strip() for c in cells[MAX_COLUMNS:] if c is not None):
            raise LimitExceeded(_("Dòng %(row)s: bảng tính có hơn %(n)s cột.", row=number, n=MAX_COLUMNS))
        if any(c is not None and len(str(c)) > MAX_CELL_CHARS for c in cells):
            result.errors.append(
                ParseIssue(
                    number,
                    _("Dòng %(row)s: có ô dài quá %(n)s ký tự.", row=number, n=f"{MAX_CELL_CHARS:,}".replace(",", ".")),
                )
            )
            if result.too_many_errors():
                return result
            continue

        def cell(name):
            i = columns.get(name)
            if i is None or i >= len(cells) or cells[i] is None:
                return ""
            return str(cells[i]).strip()

        if not any(str(c).strip() for c in cells if c is not None):
            continue

        def where():  # only built for an error: gettext per row costs a second on 10,000 rows
            return _("Dòng %(row)s", row=number)

        option_texts = [cell(h) for h in OPTION_HEADERS]
        while option_texts and not option_texts[-1]:
            option_texts.pop()
        if is_example(cell("Câu hỏi")):
            result.examples.append(number)
            continue
        # Every problem of the row is reported, not only the first: the organiser fixes the file once.
        problems = []
        answer = cell("Đáp án đúng").upper().replace(";", ",").replace(" ", ",")
        letters = [a for a in answer.split(",") if a]
        bad = [a for a in letters if a not in LETTERS[: len(option_texts)]]
        if not letters:
            problems.append(_("%(where)s: thiếu đáp án đúng (ví dụ: A hoặc A, C).", where=where()))
        elif bad:
            problems.append(
                _(
                    '%(where)s: đáp án đúng "%(value)s" không khớp với các phương án có nội dung.',
                    where=where(),
                    value=", ".join(bad),
                )
            )
        difficulty_raw = cell("Độ khó")
        difficulty = parse_difficulty(difficulty_raw)
        if difficulty is None:
            problems.append(
                _(
                    '%(where)s: độ khó "%(value)s" không hợp lệ (dùng: dễ, trung bình, khó).',
                    where=where(),
                    value=difficulty_raw,
                )
            )
        category_raw = cell("Chủ đề")
        category = tuple(p.strip() for p in category_raw.split(">")) if category_raw else tuple(default_category)
        question = ParsedQuestion(
            line=number,
            stem=cell("Câu hỏi"),
            category=category,
            title=cell("Tiêu đề") or None,
            options=[ParsedOption(t, LETTERS[i] in letters) for i, t in enumerate(option_texts)],
            multi_select=normalize_text(cell("Chọn nhiều đáp án")) in _YES or len(set(letters)) > 1,
            explanation=cell("Giải thích") or None,
            legal_document=cell("Văn bản pháp luật") or None,
            legal_article=cell("Điều, khoản") or None,
            difficulty=difficulty or "medium",
            tags=tuple(t.strip() for t in cell("Thẻ").split(",") if t.strip()),
        )
        if not problems:
            result.questions.append(question)  # import_questions validates it with the other formats' questions
            continue
        no_key = _("Chưa có phương án đúng.")
        for problem in validate_question(question):
            if problem != no_key or not (bad or not letters):  # a wrong answer column was reported already
                problems.append(_("Dòng %(line)s: %(problem)s", line=number, problem=problem))
        for problem in problems:
            result.errors.append(ParseIssue(number, problem))
            if result.too_many_errors():
                return result
    return result


def parse_csv(text: str, default_category=()) -> ParseResult:
    result = ParseResult()
    sample = text[:4096]
    delimiter = ";" if sample.split("\n", 1)[0].count(";") > sample.split("\n", 1)[0].count(",") else ","
    reader = csv.reader(io.StringIO(text), delimiter=delimiter)

    def numbered():
        start = 1
        for row in reader:
            yield start, [unquote_formula(c) for c in row]
            start = reader.line_num + 1

    try:
        return _rows_to_questions(numbered(), default_category, result)
    except csv.Error as exc:
        result.errors.append(
            ParseIssue(
                reader.line_num,
                _("Dòng %(row)s: lỗi định dạng CSV (%(detail)s).", row=reader.line_num, detail=str(exc)),
            )
        )
        return result


def parse_xlsx(data: bytes, default_category=()) -> ParseResult:
    from openpyxl import load_workbook  # here, not at the top: openpyxl adds ~0.25 s to every process start

    result = ParseResult()
    data = check_xlsx_archive(data)
    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        sheet = book.worksheets[0]
    except Exception:  # openpyxl raises many kinds for a file that is not a workbook
        result.errors.append(ParseIssue(1, _("Tệp không phải là bảng tính Excel .xlsx hợp lệ.")))
        return result
    # max_col: a sheet declaring 16,384 columns would otherwise pad every empty row to that width; max_row: the
    # header, MAX_ROWS rows and one more, which _rows_to_questions refuses
    cells = sheet.iter_rows(values_only=True, max_col=MAX_COLUMNS + 1, max_row=MAX_ROWS + 2)
    rows = ((n, ["" if v is None else str(v) for v in row]) for n, row in enumerate(cells, start=1))
    try:
        _rows_to_questions(rows, default_category, result)
    finally:
        book.close()
    return result


_SHEET_DATA = re.compile(rb"<(\w+:)?sheetData[\s>/]")
_ROW_TAG = re.compile(rb"<(?:\w+:)?row[\s>/]")
_DIMENSION = re.compile(rb"<(\w+:)?dimension[\s>/]")


def check_xlsx_archive(data: bytes) -> bytes:
    """Raises LimitExceeded unless the XLSX (a zip archive) decompresses to at most MAX_XLSX_UNCOMPRESSED bytes,
    declared and actual, before openpyxl reads any of it: 317 KB can hold a million rows, or one 100 MB cell.

    Returns the file to give openpyxl: the same bytes, or, when a worksheet has no <dimension> element, an
    uncompressed copy with one added. Without it openpyxl's read-only mode scans the whole sheet before the first
    row (seconds per ten megabytes); with it, the explicit max_row of parse_xlsx bounds the reading.
    """
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        members = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError):
        return data  # not a zip: openpyxl says the file is not a workbook
    too_big = LimitExceeded(
        _(
            "Tệp Excel giải nén ra hơn %(mb)s MB (quá nhiều dòng hoặc ô quá dài); vui lòng chia nhỏ tệp.",
            mb=MAX_XLSX_UNCOMPRESSED // 2**20,
        )
    )
    if len(members) > MAX_XLSX_MEMBERS or sum(m.file_size for m in members) > MAX_XLSX_UNCOMPRESSED:
        raise too_big
    too_many_rows = LimitExceeded(
        _("Tệp có hơn %(n)s dòng dữ liệu; vui lòng chia thành nhiều tệp nhỏ hơn.", n=f"{MAX_ROWS:,}".replace(",", "."))
    )
    total, patched = 0, {}
    try:
        for member in members:
            head, tail, rows = b"", b"", 0
            is_sheet = member.filename.startswith("xl/worksheets/")
            with archive.open(member) as stream:
                while chunk := stream.read(2**20):
                    total += len(chunk)
                    if total > MAX_XLSX_UNCOMPRESSED:
                        raise too_big
                    if len(head) < 2**16:
                        head += chunk[: 2**16]
                    if is_sheet:  # count the rows while streaming: a million empty rows fit in a few MB
                        window = tail + chunk
                        rows += len(_ROW_TAG.findall(window)) - len(_ROW_TAG.findall(tail))
                        tail = window[-32:]
                        if rows > MAX_ROWS + 1:  # the header row and MAX_ROWS data rows
                            raise too_many_rows
            sheet_data = _SHEET_DATA.search(head) if is_sheet else None
            if sheet_data and not _DIMENSION.search(head, 0, sheet_data.start()):
                patched[member.filename] = sheet_data
    except (zipfile.BadZipFile, OSError, ValueError, NotImplementedError, EOFError) as exc:
        if isinstance(exc, LimitExceeded):
            raise exc from None
        raise LimitExceeded(_("Tệp không phải là bảng tính Excel .xlsx hợp lệ.")) from None
    if not patched:
        return data
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as copy:
        for member in members:
            content = archive.read(member)
            match = patched.get(member.filename)
            if match is not None:
                prefix = match.group(1) or b""
                content = content[: match.start()] + b"<" + prefix + b'dimension ref="A1"/>' + content[match.start() :]
            copy.writestr(member.filename, content)
    return out.getvalue()


def to_row(q) -> list[str]:
    texts = [o.text for o in q.options] + [""] * (len(LETTERS) - len(q.options))
    correct = ", ".join(LETTERS[i] for i, o in enumerate(q.options) if o.is_correct)
    return [
        CATEGORY_SEPARATOR.join(q.category),
        q.title or "",
        q.stem,
        *texts,
        correct,
        "có" if q.multi_select else "",
        q.explanation or "",
        q.legal_document or "",
        q.legal_article or "",
        DIFFICULTY_LABELS[q.difficulty],
        ", ".join(q.tags),
    ]


def write_csv(questions) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(HEADERS)
    for q in questions:
        writer.writerow([quote_formula(v) for v in to_row(q)])
    return buffer.getvalue()


def write_xlsx(questions) -> bytes:
    # here, not at the top: openpyxl adds ~0.25 s to every process start, and few requests need it
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    book = Workbook(write_only=True)
    sheet = book.create_sheet("Câu hỏi")
    sheet.append(HEADERS)

    def text_cell(value):
        if not value.startswith(FORMULA_PREFIXES):
            return value
        # An explicit string cell: openpyxl would write a text starting with "=" as a formula.
        cell = WriteOnlyCell(sheet, value=value)
        cell.data_type = "s"
        return cell

    for q in questions:
        sheet.append([text_cell(v) for v in to_row(q)])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


TEMPLATE_INSTRUCTIONS = (
    "Hướng dẫn điền tệp mẫu câu hỏi",
    "",
    "1. Mỗi dòng của trang “Câu hỏi” là một câu hỏi; dòng đầu tiên là tên cột, không sửa tên cột.",
    "2. Bắt buộc: Câu hỏi, Phương án A, Phương án B, Đáp án đúng. Có thể có đến 6 phương án (A đến F).",
    "3. Đáp án đúng: chữ cái của phương án đúng (chọn trong danh sách), ví dụ A; nhiều đáp án gõ A, C.",
    "4. Chọn nhiều đáp án: có hoặc không (để trống là không). Có từ hai đáp án đúng trở lên thì là có.",
    "5. Độ khó: dễ, trung bình hoặc khó (chọn trong danh sách; để trống là trung bình).",
    "6. Chủ đề: các cấp cách nhau bằng dấu >, ví dụ: Hiến pháp > Quyền con người. Chủ đề chưa có sẽ được tạo.",
    "7. Thẻ: cách nhau bằng dấu phẩy, ví dụ: hiến pháp, bầu cử.",
    "8. Các dòng có câu hỏi bắt đầu bằng “[Ví dụ]” là dòng mẫu: khi nhập, chúng được bỏ qua. "
    "Hãy thay chúng bằng câu hỏi của bạn hoặc xóa đi.",
    "9. Khi nhập, hệ thống kiểm tra trước toàn bộ tệp và liệt kê mọi lỗi kèm số dòng; "
    "không có lỗi mới bấm “Nhập ngay”. Câu hỏi được nhập ở trạng thái nháp, chờ một thành viên khác duyệt.",
)


def write_template(examples) -> bytes:
    """The downloadable XLSX template: the question sheet first (the one the importer reads) with its example
    rows (stems starting with EXAMPLE_MARKER, which the importer skips), drop-down lists for the answer letters,
    "choose several" and the difficulty, and an instructions sheet."""
    # here, not at the top: openpyxl adds ~0.25 s to every process start, and few requests need it
    from openpyxl import Workbook
    from openpyxl.styles import Font
    from openpyxl.worksheet.datavalidation import DataValidation

    book = Workbook()
    sheet = book.active
    sheet.title = "Câu hỏi"
    sheet.append(HEADERS)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for q in examples:
        sheet.append(to_row(q))
    sheet.freeze_panes = "A2"
    widths = {"Chủ đề": 30, "Câu hỏi": 60, "Giải thích": 40, "Văn bản pháp luật": 30, "Thẻ": 20}
    for index, header in enumerate(HEADERS):
        letter = sheet.cell(row=1, column=index + 1).column_letter
        sheet.column_dimensions[letter].width = widths.get(header, 18 if header in OPTION_HEADERS else 14)
    last = MAX_ROWS + 1

    def column(header):
        return sheet.cell(row=1, column=HEADERS.index(header) + 1).column_letter

    lists = [
        (
            "Đáp án đúng",
            '"' + ",".join(LETTERS) + '"',
            # a warning, not a stop: several answers ("A, C") are typed by hand
            "warning",
            "Chọn một chữ cái A–F, hoặc gõ nhiều chữ cái cách nhau bằng dấu phẩy (ví dụ: A, C).",
        ),
        ("Chọn nhiều đáp án", '"có,không"', "stop", "Chọn có hoặc không."),
        ("Độ khó", '"' + ",".join(DIFFICULTY_LABELS.values()) + '"', "stop", "Chọn dễ, trung bình hoặc khó."),
    ]
    for header, formula, style, message in lists:
        validation = DataValidation(
            type="list", formula1=formula, allow_blank=True, showErrorMessage=True, errorStyle=style
        )
        validation.error = message
        validation.prompt = message
        validation.showInputMessage = True
        sheet.add_data_validation(validation)
        validation.add(f"{column(header)}2:{column(header)}{last}")
    guide = book.create_sheet("Hướng dẫn")
    for line in TEMPLATE_INSTRUCTIONS:
        guide.append([line])
    guide["A1"].font = Font(bold=True, size=14)
    guide.column_dimensions["A"].width = 120
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
