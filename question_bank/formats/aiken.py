"""Moodle's Aiken format: a question line, options `A.` or `A)`, then `ANSWER: X`.

Aiken carries only the stem, the options and one correct answer; exports of multi-select
questions are refused by `can_carry`, and line breaks inside a text become spaces.
"""

import re

from flask_babel import gettext as _

from question_bank.formats.base import ParsedOption, ParsedQuestion, ParseIssue, ParseResult

_OPTION = re.compile(r"^([A-Z])[.)]\s+(.*)$")
_ANSWER = re.compile(r"^ANSWER\s*:\s*(.*)$", re.I)


def parse(text: str, default_category: tuple[str, ...] = ()) -> ParseResult:
    result = ParseResult()
    stem_lines: list[str] = []
    options: list[tuple[str, str]] = []
    start = None
    for number, raw in enumerate(text.split("\n"), start=1):
        line = raw.strip()
        if not line:
            continue
        if start is None:
            start = number
        answer = _ANSWER.match(line)
        option = _OPTION.match(line)
        if answer:
            letter = answer.group(1).strip().upper()
            letters = [letter for letter, _t in options]
            if not stem_lines:
                result.errors.append(
                    ParseIssue(number, _("Dòng %(line)s: dòng ANSWER không có câu hỏi đứng trước.", line=number))
                )
            elif not options:
                result.errors.append(
                    ParseIssue(start, _("Dòng %(line)s: câu hỏi không có phương án A., B., ...", line=start))
                )
            elif not re.fullmatch(r"[A-Z]", letter) or letter not in letters:
                result.errors.append(
                    ParseIssue(
                        number,
                        _(
                            'Dòng %(line)s: đáp án "%(letter)s" không phải là một phương án của câu hỏi.',
                            line=number,
                            letter=letter,
                        ),
                    )
                )
            else:
                result.questions.append(
                    ParsedQuestion(
                        line=start,
                        stem=" ".join(stem_lines),
                        category=tuple(default_category),
                        options=[ParsedOption(t, option_letter == letter) for option_letter, t in options],
                    )
                )
            stem_lines, options, start = [], [], None
        elif option and stem_lines:
            expected = chr(ord("A") + len(options))
            if option.group(1) != expected:
                result.errors.append(
                    ParseIssue(
                        number,
                        _(
                            "Dòng %(line)s: phương án %(got)s đứng sai thứ tự (cần %(want)s).",
                            line=number,
                            got=option.group(1),
                            want=expected,
                        ),
                    )
                )
            options.append((option.group(1), option.group(2).strip()))
        elif options:
            result.errors.append(
                ParseIssue(number, _('Dòng %(line)s: thiếu dòng "ANSWER: X" sau các phương án.', line=number))
            )
            stem_lines, options, start = [line], [], number
        else:
            stem_lines.append(line)
    if stem_lines:
        assert start is not None  # set by the first line of every question
        result.errors.append(ParseIssue(start, _('Dòng %(line)s: câu hỏi chưa có dòng "ANSWER: X".', line=start)))
    return result


def can_carry(q) -> bool:
    return not q.multi_select and sum(o.is_correct for o in q.options) == 1


def _one_line(text: str) -> str:
    return " ".join(text.split())


def write(questions) -> str:
    blocks = []
    for q in questions:
        if not can_carry(q):
            continue
        lines = [_one_line(q.stem)]
        answer = "A"
        for i, o in enumerate(q.options):
            letter = chr(ord("A") + i)
            lines.append(f"{letter}. {_one_line(o.text)}")
            if o.is_correct:
                answer = letter
        lines.append(f"ANSWER: {answer}")
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks) + "\n"
