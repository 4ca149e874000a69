"""The format-neutral question every reader returns and every writer takes, and its validation."""

from dataclasses import dataclass, field

from flask_babel import gettext as _

from question_bank.normalize import normalize_text

DIFFICULTY_LABELS = {"easy": "dễ", "medium": "trung bình", "hard": "khó"}
MIN_OPTIONS, MAX_OPTIONS = 2, 6

# Import limits (README, "Nhập câu hỏi"): checked while reading, so a hostile file is refused in seconds.
MAX_ROWS = 20_000  # data rows of a spreadsheet, or questions of a GIFT/Aiken file
MAX_COLUMNS = 50  # columns of a spreadsheet (the template has 17)
MAX_CELL_CHARS = 20_000  # characters in one cell (a question's stem may have 5,000)
MAX_TEXT_LINES = 400_000  # lines of a GIFT/Aiken/CSV file
MAX_ERRORS = 200  # errors reported before the reader stops
MAX_XLSX_UNCOMPRESSED = 64 * 2**20  # bytes of all the members of an XLSX archive, decompressed
MAX_XLSX_MEMBERS = 1_000  # files inside an XLSX archive


@dataclass
class ParsedOption:
    text: str
    is_correct: bool


@dataclass
class ParsedQuestion:
    line: int
    stem: str
    options: list[ParsedOption]
    category: tuple[str, ...] = ()
    title: str | None = None
    multi_select: bool = False
    explanation: str | None = None
    legal_document: str | None = None
    legal_article: str | None = None
    difficulty: str = "medium"
    tags: tuple[str, ...] = ()

    def key(self):
        """Everything a round trip must preserve."""
        return (
            self.category,
            self.title or None,
            self.stem,
            self.multi_select,
            tuple((o.text, o.is_correct) for o in self.options),
            self.explanation or None,
            self.legal_document or None,
            self.legal_article or None,
            self.difficulty,
            tuple(sorted(self.tags)),
        )


@dataclass
class ParseIssue:
    line: int
    message: str


@dataclass
class ParseResult:
    questions: list[ParsedQuestion] = field(default_factory=list)
    errors: list[ParseIssue] = field(default_factory=list)
    unsupported: list[ParseIssue] = field(default_factory=list)  # valid questions of a type we do not run
    examples: list[int] = field(default_factory=list)  # rows of the template's example questions, skipped

    def too_many_errors(self) -> bool:
        """True (and a last error saying so) once MAX_ERRORS errors are reported: the reader stops there."""
        if len(self.errors) < MAX_ERRORS:
            return False
        if len(self.errors) == MAX_ERRORS:
            self.errors.append(
                ParseIssue(
                    self.errors[-1].line, _("Đã dừng kiểm tra tệp sau %(n)s lỗi; hãy sửa rồi nhập lại.", n=MAX_ERRORS)
                )
            )
        return True


class LimitExceeded(ValueError):
    """A file over one of the import limits; its message says which, in Vietnamese."""


# A question whose stem starts with this (accents and case ignored) is one of the template's examples: the
# spreadsheet readers skip it, so a template imported unchanged imports nothing.
EXAMPLE_MARKER = "[Ví dụ]"
_EXAMPLE_KEY = "[vi du]"


def is_example(stem: str) -> bool:
    return normalize_text(stem[:20]).startswith(_EXAMPLE_KEY)


def validate_question(q: ParsedQuestion, with_options: bool = True) -> list[str]:
    """Vietnamese messages for everything that makes a parsed question unusable (with_options=False: all but
    the problems of its options, which the question form shows apart)."""
    problems = []
    if not q.stem.strip():
        problems.append(_("Thiếu nội dung câu hỏi."))
    elif len(q.stem) > 5000:
        problems.append(_("Nội dung câu hỏi dài quá 5000 ký tự."))
    if with_options:
        problems.extend(option_problems(q))
    problems.extend(_metadata_problems(q))
    return problems


def option_problems(q: ParsedQuestion) -> list[str]:
    """The problems of a question's options alone (the question form shows them next to the options)."""
    problems = []
    n = len(q.options)
    if n < MIN_OPTIONS or n > MAX_OPTIONS:
        problems.append(_("Câu hỏi phải có từ 2 đến 6 phương án (đang có %(n)s).", n=n))
    if any(not o.text.strip() for o in q.options):
        problems.append(_("Có phương án để trống."))
    texts = [o.text.strip() for o in q.options]
    if len(set(texts)) != len(texts):
        problems.append(_("Có hai phương án trùng nhau."))
    correct = sum(1 for o in q.options if o.is_correct)
    if correct == 0:
        problems.append(_("Chưa có phương án đúng."))
    elif correct > 1 and not q.multi_select:
        problems.append(_("Câu hỏi một lựa chọn chỉ được có một phương án đúng."))
    return problems


def _metadata_problems(q: ParsedQuestion) -> list[str]:
    problems = []
    if q.difficulty not in DIFFICULTY_LABELS:
        problems.append(_("Độ khó không hợp lệ: %(value)s (dùng: dễ, trung bình, khó).", value=q.difficulty))
    if q.title and len(q.title) > 200:
        problems.append(_("Tiêu đề dài quá 200 ký tự."))
    if q.legal_document and len(q.legal_document) > 300:
        problems.append(_("Tên văn bản pháp luật dài quá 300 ký tự."))
    if q.legal_article and len(q.legal_article) > 200:
        problems.append(_("Điều, khoản dài quá 200 ký tự."))
    if len(",".join(q.tags)) > 500:
        problems.append(_("Danh sách thẻ dài quá 500 ký tự."))
    if any("," in tag for tag in q.tags):
        problems.append(_("Thẻ không được chứa dấu phẩy (dấu phẩy dùng để ngăn cách các thẻ)."))
    if any(not name.strip() or len(name) > 200 for name in q.category):
        problems.append(_("Tên chủ đề trống hoặc dài quá 200 ký tự."))
    if any(">" in name for name in q.category):
        problems.append(_("Tên chủ đề không được chứa ký tự > (dùng để ngăn cách các cấp chủ đề)."))
    if any(name.startswith("/") or name.endswith("/") for name in q.category):
        # GIFT writes "/" in a name as "//": at either end of a name it cannot be told from a separator.
        problems.append(_("Tên chủ đề không được bắt đầu hoặc kết thúc bằng dấu /."))
    return problems


def parse_difficulty(value: str | None) -> str | None:
    """Accepts Vietnamese labels with or without diacritics and the English codes; None if unknown."""
    v = normalize_text(value)
    if not v:
        return "medium"
    table = {
        "de": "easy",
        "easy": "easy",
        "trung binh": "medium",
        "medium": "medium",
        "tb": "medium",
        "kho": "hard",
        "hard": "hard",
    }
    return table.get(v)
