"""Exchange formats of the bank: GIFT and Aiken (Moodle), CSV and XLSX (the Vietnamese template).

Every reader returns a ParseResult of format-neutral ParsedQuestion items, each with the line
(or spreadsheet row) it starts on, so validation errors can point at the source. Those shared
types live in `base`, which the readers import; this package's namespace re-exports them.
"""

from flask_babel import gettext as _

from question_bank.formats import aiken, gift, table
from question_bank.formats.base import (
    DIFFICULTY_LABELS,
    EXAMPLE_MARKER,
    MAX_CELL_CHARS,
    MAX_COLUMNS,
    MAX_ERRORS,
    MAX_OPTIONS,
    MAX_ROWS,
    MAX_TEXT_LINES,
    MAX_XLSX_UNCOMPRESSED,
    MIN_OPTIONS,
    LimitExceeded,
    ParsedOption,
    ParsedQuestion,
    ParseIssue,
    ParseResult,
    is_example,
    option_problems,
    parse_difficulty,
    validate_question,
)

__all__ = [
    "DIFFICULTY_LABELS",
    "EXAMPLE_MARKER",
    "FORMATS",
    "MAX_CELL_CHARS",
    "MAX_COLUMNS",
    "MAX_ERRORS",
    "MAX_OPTIONS",
    "MAX_ROWS",
    "MAX_TEXT_LINES",
    "MAX_XLSX_UNCOMPRESSED",
    "MIN_OPTIONS",
    "LimitExceeded",
    "ParseIssue",
    "ParseResult",
    "ParsedOption",
    "ParsedQuestion",
    "UndecodableFile",
    "aiken",
    "gift",
    "guess_format",
    "is_example",
    "option_problems",
    "parse_difficulty",
    "read",
    "table",
    "validate_question",
    "write",
]

FORMATS = ("gift", "aiken", "csv", "xlsx")


def read(fmt: str, data: bytes, default_category: tuple[str, ...] = ()) -> ParseResult:
    """The questions of a file, within the import limits of `base` (a file over one is a single error)."""
    try:
        result = _read(fmt, data, default_category)
    except LimitExceeded as exc:
        return ParseResult(errors=[ParseIssue(0, str(exc))])
    if len(result.questions) + len(result.unsupported) > MAX_ROWS:
        n = f"{MAX_ROWS:,}".replace(",", ".")
        return ParseResult(
            errors=[ParseIssue(0, _("Tệp có hơn %(n)s câu hỏi; vui lòng chia thành nhiều tệp nhỏ hơn.", n=n))]
        )
    if len(result.errors) > MAX_ERRORS:  # GIFT and Aiken report all; the spreadsheet reader stops by itself
        del result.errors[MAX_ERRORS:]
        result.too_many_errors()
    return result


def _read(fmt: str, data: bytes, default_category: tuple[str, ...]) -> ParseResult:
    if fmt == "gift":
        return gift.parse(_decode(data), default_category)
    if fmt == "aiken":
        return aiken.parse(_decode(data), default_category)
    if fmt == "csv":
        return table.parse_csv(_decode(data), default_category)
    if fmt == "xlsx":
        return table.parse_xlsx(data, default_category)
    raise ValueError(fmt)


def write(fmt: str, questions: list[ParsedQuestion]) -> bytes:
    if fmt == "gift":
        return gift.write(questions).encode("utf-8")
    if fmt == "aiken":
        return aiken.write(questions).encode("utf-8")
    if fmt == "csv":
        return table.write_csv(questions).encode("utf-8-sig")
    if fmt == "xlsx":
        return table.write_xlsx(questions)
    raise ValueError(fmt)


def guess_format(filename: str) -> str | None:
    name = filename.lower()
    if name.endswith((".gift", ".txt")) and not name.endswith(".aiken.txt"):
        return "gift"
    if name.endswith((".aiken.txt", ".aiken")):
        return "aiken"
    if name.endswith(".csv"):
        return "csv"
    if name.endswith(".xlsx"):
        return "xlsx"
    return None


class UndecodableFile(ValueError):
    pass


def _decode(data: bytes) -> str:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        # Line of the first bad byte, so the organiser can find it.
        line = data[: exc.start].count(b"\n") + 1
        raise UndecodableFile(
            _("Dòng %(line)s: tệp không phải mã UTF-8 (hãy lưu lại với bảng mã UTF-8).", line=line)
        ) from None
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    if text.count("\n") > MAX_TEXT_LINES:
        n = f"{MAX_TEXT_LINES:,}".replace(",", ".")
        raise LimitExceeded(_("Tệp có hơn %(n)s dòng; vui lòng chia thành nhiều tệp nhỏ hơn.", n=n))
    return text
