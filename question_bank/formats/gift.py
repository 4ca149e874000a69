"""Moodle's GIFT format: categories, ::titles::, multiple choice, weighted multi-answer, true/false.

Questions are separated by blank lines, as Moodle reads them. Platform metadata travels in comment
lines Moodle ignores or understands: `// [tag:...]` (Moodle's own), `// [difficulty:...]`,
`// [legal_document:...]`, `// [legal_article:...]`; one line may hold several
(`// [difficulty:easy] [tag:ma túy] [tag:hình sự]`).
"""

import html
import re

from flask_babel import gettext as _

from question_bank.formats.base import ParsedOption, ParsedQuestion, ParseIssue, ParseResult, parse_difficulty

_SPECIAL = "\\~=#{}:"
_META = re.compile(r"^//\s*\[(\w+):(.*)\]\s*$")
# Several items on one comment line: `// [difficulty:easy] [tag:ma túy]` (values without "]").
_META_ITEM = re.compile(r"\[(\w+):([^\]]*)\]")
_META_LINE = re.compile(r"^//\s*(?:\[\w+:[^\]]*\]\s*)+$")
_WEIGHT = re.compile(r"^%(-?\d+(?:\.\d+)?)%")
_FORMAT_MARK = re.compile(r"^\[(html|moodle|plain|markdown)\]", re.I)
_TF = {"T": True, "TRUE": True, "F": False, "FALSE": False}


def escape(text: str) -> str:
    out = "".join("\\" + ch if ch in _SPECIAL else ch for ch in text)
    # "->" would read as a matching pair and a leading "%n%" as a weight: escape them too.
    out = out.replace("->", "-\\>")
    if out.startswith("%"):
        out = "\\" + out
    return out.replace("\n", "\\n")


def unescape(text: str) -> str:
    out, i = [], 0
    while i < len(text):
        ch = text[i]
        if ch == "\\" and i + 1 < len(text):
            nxt = text[i + 1]
            out.append("\n" if nxt == "n" else nxt)
            i += 2
            continue
        out.append(ch)
        i += 1
    return "".join(out)


def _find(text: str, token: str, start: int = 0) -> int:
    """Index of the first unescaped `token` at or after start, or -1."""
    i = start
    while i < len(text):
        if text[i] == "\\":
            i += 2
            continue
        if text.startswith(token, i):
            return i
        i += 1
    return -1


def _split_answers(body: str) -> list[tuple[str | None, str]]:
    """'=a ~b ~%50%c' -> [('=', 'a'), ('~', 'b'), ('~', '%50%c')], respecting escapes; text before
    the first marker comes with marker None."""
    answers: list[tuple[str | None, str]] = []
    current: list[str] = []
    marker: str | None = None
    i = 0
    while i < len(body):
        ch = body[i]
        if ch == "\\" and i + 1 < len(body):
            current.append(body[i : i + 2])
            i += 2
            continue
        if ch in "=~":
            if marker is not None or "".join(current).strip():
                answers.append((marker, "".join(current)))
            marker, current = ch, []
        else:
            current.append(ch)
        i += 1
    if marker is not None or "".join(current).strip():
        answers.append((marker, "".join(current)))
    return answers


def _category_path(spec: str) -> tuple[str, ...]:
    spec = spec.strip()
    spec = re.sub(r"^\$(course|system|module|cat\d+)\$/?", "", spec)
    # Moodle writes a literal "/" inside a category name as "//".
    parts = [p.replace("\x00", "/").strip() for p in spec.replace("//", "\x00").split("/")]
    parts = [p for p in parts if p]
    if parts and parts[0] == "top":
        parts = parts[1:]
    return tuple(parts)


def parse(text: str, default_category: tuple[str, ...] = ()) -> ParseResult:
    result = ParseResult()
    category = tuple(default_category)
    block: list[tuple[int, str]] = []
    lines = text.split("\n") + [""]
    for number, line in enumerate(lines, start=1):
        if line.strip():
            block.append((number, line))
            continue
        if block:
            category = _parse_block(block, category, result)
            block = []
    return result


def _parse_block(block, category, result):
    meta: dict[str, list[str]] = {}
    body_lines = []
    for number, line in block:
        stripped = line.strip()
        if stripped.startswith("//"):
            if _META_LINE.match(stripped):
                items = _META_ITEM.findall(stripped)
            else:  # one item whose value holds a "]", as this module writes it
                m = _META.match(stripped)
                items = [m.groups()] if m else []
            for key, value in items:
                meta.setdefault(key.lower(), []).append(value.strip())
            continue
        body_lines.append((number, line))
    if not body_lines:
        return category
    start = body_lines[0][0]
    first = body_lines[0][1].strip()
    if first.startswith("$CATEGORY:"):
        return _category_path(first[len("$CATEGORY:") :]) or category
    raw = "\n".join(line for _, line in body_lines).strip()
    question, issue = _parse_question(raw, start, category, meta)
    if issue is not None:
        kind, message = issue
        (result.unsupported if kind == "unsupported" else result.errors).append(ParseIssue(start, message))
    else:
        result.questions.append(question)
    return category


def _parse_question(raw, line, category, meta):
    title = None
    if raw.startswith("::"):
        end = _find(raw, "::", 2)
        if end < 0:
            return None, ("error", _("Dòng %(line)s: tiêu đề ::...:: chưa được đóng.", line=line))
        title = unescape(raw[2:end]).strip() or None
        raw = raw[end + 2 :].lstrip()
    open_at = _find(raw, "{")
    if open_at < 0:
        return None, ("error", _("Dòng %(line)s: thiếu phần đáp án trong dấu { }.", line=line))
    close_at = _find(raw, "}", open_at + 1)
    if close_at < 0:
        return None, ("error", _("Dòng %(line)s: thiếu dấu } đóng phần đáp án.", line=line))
    if _find(raw, "{", close_at + 1) >= 0:
        return None, ("error", _("Dòng %(line)s: câu hỏi có nhiều hơn một phần đáp án { }.", line=line))
    before, body, after = raw[:open_at].strip(), raw[open_at + 1 : close_at], raw[close_at + 1 :].strip()
    mark = _FORMAT_MARK.match(before)
    # Moodle exports its texts as [html]: contestants get plain text, never markup.
    clean = _html_to_text if mark and mark.group(1).lower() == "html" else (lambda t: t)
    before = _FORMAT_MARK.sub("", before).strip()
    stem = clean(unescape(before))
    if after:  # Moodle's "missing word" form: the answers stand in for a blank inside the sentence
        stem = f"{stem} _____ {clean(unescape(after))}".strip()

    def label():  # built only for a message: gettext per question is slow on big files
        return _("Dòng %(line)s", line=line)

    general = None
    gf = _find(body, "####")
    if gf >= 0:
        general = clean(unescape(body[gf + 4 :])).strip() or None
        body = body[:gf]
    stripped = body.strip()
    if not stripped:
        return None, ("unsupported", _("%(where)s: câu hỏi tự luận (essay) chưa được hỗ trợ.", where=label()))
    if stripped.startswith("#"):
        return None, ("unsupported", _("%(where)s: câu hỏi dạng số (numerical) chưa được hỗ trợ.", where=label()))
    head = stripped.split("#", 1)[0].strip().upper()
    if head in _TF:
        truth = _TF[head]
        options = [ParsedOption("Đúng", truth), ParsedOption("Sai", not truth)]
        return _build(line, category, title, stem, options, False, general, meta), None
    answers = _split_answers(body)
    if any(marker is None for marker, _text in answers):
        return None, ("error", _("%(where)s: mỗi phương án phải bắt đầu bằng = hoặc ~.", where=label()))
    if any(_find(text, "->") >= 0 for _m, text in answers):
        return None, ("unsupported", _("%(where)s: câu hỏi ghép đôi (matching) chưa được hỗ trợ.", where=label()))
    if all(marker == "=" for marker, _t in answers):
        return None, (
            "unsupported",
            _("%(where)s: câu hỏi trả lời ngắn (short answer) chưa được hỗ trợ.", where=label()),
        )
    options, weighted = [], False
    has_equals = any(marker == "=" for marker, _t in answers)
    for marker, text in answers:
        fb = _find(text, "#")
        if fb >= 0:
            text = text[:fb]  # per-answer feedback is not shown by the platform
        text = text.strip()
        m = _WEIGHT.match(text)
        weight = None
        if m:
            weight = float(m.group(1))
            text = text[m.end() :].strip()
            weighted = True
        if marker == "=":
            correct = weight is None or weight > 0
        elif has_equals:
            # Beside an "=" answer a weighted "~" is partial credit, which the platform does not give.
            correct = weight is not None and weight >= 100
        else:
            correct = weight is not None and weight > 0
        options.append(ParsedOption(clean(unescape(text)).strip(), correct))
    multi = (weighted and not has_equals) or sum(o.is_correct for o in options) > 1
    return _build(line, category, title, stem, options, multi, general, meta), None


def _html_to_text(text: str) -> str:
    text = re.sub(r"(?i)<br\s*/?>|</p>\s*<p[^>]*>", "\n", text)
    text = re.sub(r"<[^>]+>", "", text)
    return html.unescape(text).strip()


def _build(line, category, title, stem, options, multi, general, meta):
    difficulty = parse_difficulty((meta.get("difficulty") or [""])[-1]) or (meta.get("difficulty") or [""])[-1]
    return ParsedQuestion(
        line=line,
        stem=stem,
        options=options,
        category=tuple(category),
        title=title,
        multi_select=multi,
        explanation=general,
        legal_document=(meta.get("legal_document") or [None])[-1] or None,
        legal_article=(meta.get("legal_article") or [None])[-1] or None,
        difficulty=difficulty,
        tags=tuple(t for t in meta.get("tag", []) if t),
    )


def _weight(k: int) -> str:
    w = 100 / k
    return str(int(w)) if w == int(w) else f"{w:.5f}"


def write(questions) -> str:
    out, current = [], None
    for q in questions:
        if q.category != current:
            current = q.category
            path = "/".join(name.replace("/", "//") for name in ("top",) + tuple(q.category))
            out.append(f"$CATEGORY: $course$/{path}\n")
        lines = [f"// [tag:{t}]" for t in q.tags]
        lines.append(f"// [difficulty:{q.difficulty}]")
        if q.legal_document:
            lines.append(f"// [legal_document:{q.legal_document}]")
        if q.legal_article:
            lines.append(f"// [legal_article:{q.legal_article}]")
        title = f"::{escape(q.title)}::" if q.title else ""
        lines.append(f"{title}{escape(q.stem)} {{")
        k = sum(o.is_correct for o in q.options)
        for o in q.options:
            if q.multi_select:
                lines.append(f"\t~%{_weight(k) if o.is_correct else '-100'}%{escape(o.text)}")
            else:
                lines.append(f"\t{'=' if o.is_correct else '~'}{escape(o.text)}")
        if q.explanation:
            lines.append(f"\t####{escape(q.explanation)}")
        lines.append("}\n")
        out.append("\n".join(lines))
    return "\n".join(out)
