"""Authoring operations on the bank: categories, create/edit with versioning, two-person review,
bulk actions, search, import and export. Routes, the CLI and tests call these directly."""

from dataclasses import dataclass, field
from typing import Any, cast

from flask_babel import get_locale
from flask_babel import gettext as _
from sqlalchemy import CursorResult, func, insert, literal, select, text, update
from sqlalchemy.orm import selectinload

from infra.clock import utcnow
from infra.extensions import db
from question_bank import formats
from question_bank.draw import bump_bank_version
from question_bank.formats import ParsedOption, ParsedQuestion, ParseIssue
from question_bank.formats.isolated import read_isolated
from question_bank.models import Category, Question, QuestionOption, ReviewNote
from question_bank.normalize import normalize_stem, normalize_text
from question_bank.stats import PositionDistribution, position_distribution

UNSORTED = "Chưa phân loại"


class BankError(ValueError):
    """A refused bank operation; the message is Vietnamese and shown as is."""


# ---------------------------------------------------------------- categories


def category_names(category_id: int, cache: dict | None = None) -> tuple[str, ...]:
    cache = cache if cache is not None else {}
    if not cache:
        for c in db.session.execute(select(Category.id, Category.parent_id, Category.name)):
            cache[c.id] = c
    names, node = [], cache.get(category_id)
    while node is not None:
        names.append(node.name)
        node = cache.get(node.parent_id)
    return tuple(reversed(names))


def ensure_category(names: tuple[str, ...] | list[str], cache: dict | None = None) -> Category:
    """The category at this path of names, creating the missing levels."""
    names = tuple(n.strip() for n in names if n and n.strip()) or (UNSORTED,)
    cache = cache if cache is not None else {}
    parent: Category | None = None
    for depth in range(1, len(names) + 1):
        key = names[:depth]
        node = cache.get(key)
        if node is None:
            parent_id = parent.id if parent else None
            node = db.session.scalar(
                select(Category).where(
                    Category.name == names[depth - 1],
                    Category.parent_id.is_(None) if parent_id is None else Category.parent_id == parent_id,
                )
            )
            if node is None:
                node = add_category(names[depth - 1], parent_id, commit=False)
            cache[key] = node
        parent = node
    assert parent is not None  # names is never empty
    return parent


def add_category(name: str, parent_id: int | None = None, commit: bool = True) -> Category:
    name = " ".join((name or "").split())
    if not name:
        raise BankError(_("Vui lòng nhập tên chủ đề."))
    parent = db.session.get(Category, parent_id) if parent_id else None
    if parent_id and parent is None:
        raise BankError(_("Không tìm thấy chủ đề cha."))
    node = Category(name=name, parent_id=parent_id, path="/")
    db.session.add(node)
    db.session.flush()
    node.path = f"{parent.path if parent else '/'}{node.id}/"
    if commit:
        db.session.commit()
    return node


def category_choices() -> list[tuple[int, str]]:
    """(id, "Hiến pháp › Quyền con người") for every category, in tree order."""
    cache: dict = {}
    rows = db.session.execute(select(Category.id, Category.parent_id, Category.name)).all()
    for r in rows:
        cache[r.id] = r
    labelled = [(r.id, " › ".join(category_names(r.id, cache))) for r in rows]
    return sorted(labelled, key=lambda pair: normalize_text(pair[1]))


def move_category(category_id: int, new_parent_id: int | None) -> Category:
    node = db.session.get(Category, category_id)
    parent = db.session.get(Category, new_parent_id) if new_parent_id else None
    if node is None or (new_parent_id and parent is None):
        raise BankError(_("Không tìm thấy chủ đề."))
    if parent is not None and parent.path.startswith(node.path):
        raise BankError(_("Không thể chuyển một chủ đề vào chính nó hoặc chủ đề con của nó."))
    old_path = node.path
    new_path = f"{parent.path if parent else '/'}{node.id}/"
    for sub in db.session.scalars(select(Category).where(Category.path.startswith(old_path))):
        sub.path = new_path + sub.path[len(old_path) :]
    node.parent_id = new_parent_id
    db.session.commit()
    bump_bank_version()
    return node


def rename_category(category_id: int, name: str) -> Category:
    node = db.session.get(Category, category_id)
    name = " ".join((name or "").split())
    if node is None:
        raise BankError(_("Không tìm thấy chủ đề."))
    if not name:
        raise BankError(_("Vui lòng nhập tên chủ đề."))
    node.name = name
    db.session.commit()
    return node


def delete_category(category_id: int) -> None:
    """Only an empty leaf: questions (any version, any status) and subcategories keep a category alive."""
    node = db.session.get(Category, category_id)
    if node is None:
        raise BankError(_("Không tìm thấy chủ đề."))
    if db.session.scalar(select(Category.id).where(Category.parent_id == category_id).limit(1)) is not None:
        raise BankError(_("Chủ đề còn chủ đề con nên không xóa được."))
    if db.session.scalar(select(Question.id).where(Question.category_id == category_id).limit(1)) is not None:
        raise BankError(_("Chủ đề còn câu hỏi (kể cả phiên bản cũ) nên không xóa được; hãy chuyển câu hỏi trước."))
    db.session.delete(node)
    db.session.commit()


# ---------------------------------------------------------------- authoring


@dataclass
class QuestionDraft:
    """What an organiser submits for one question."""

    stem: str
    options: list[tuple[str, bool]]
    category_id: int
    multi_select: bool = False
    title: str | None = None
    explanation: str | None = None
    legal_document: str | None = None
    legal_article: str | None = None
    difficulty: str = "medium"
    tags: list[str] = field(default_factory=list)

    def parsed(self) -> ParsedQuestion:
        return ParsedQuestion(
            line=0,
            stem=self.stem.strip(),
            options=[ParsedOption(t.strip(), c) for t, c in self.options],
            multi_select=self.multi_select,
            title=self.title,
            explanation=self.explanation,
            legal_document=self.legal_document,
            legal_article=self.legal_article,
            difficulty=self.difficulty,
            tags=tuple(self.tags),
        )


def validate_draft(draft: QuestionDraft, with_options: bool = True) -> None:
    problems = formats.validate_question(draft.parsed(), with_options)
    if db.session.get(Category, draft.category_id) is None:
        problems.append(_("Vui lòng chọn chủ đề."))
    if problems:
        raise BankError(" ".join(problems))


def _clean_tags(tags) -> str:
    seen = []
    for t in tags:
        t = " ".join(t.split())
        if t and t not in seen:
            seen.append(t)
    return ",".join(seen)


def _apply(question: Question, draft: QuestionDraft) -> None:
    question.stem = draft.stem.strip()
    question.stem_normalized = normalize_stem(question.stem)
    question.title = (draft.title or "").strip() or None
    question.category_id = draft.category_id
    question.multi_select = draft.multi_select
    question.explanation = (draft.explanation or "").strip() or None
    question.legal_document = (draft.legal_document or "").strip() or None
    question.legal_article = (draft.legal_article or "").strip() or None
    question.difficulty = draft.difficulty
    question.tags = _clean_tags(draft.tags)


def create_question(draft: QuestionDraft, author_id: int | None) -> Question:
    validate_draft(draft)
    question = Question(status="draft", author_id=author_id, version=1, is_current=True)
    _apply(question, draft)
    question.options = [
        QuestionOption(position=i, text=t.strip(), is_correct=c) for i, (t, c) in enumerate(draft.options)
    ]
    db.session.add(question)
    db.session.flush()
    question.family_id = question.id
    db.session.commit()
    return question


def near_duplicates(stem: str, exclude_family_id: int | None = None) -> list[int]:
    """Ids of current, not retired questions with the same normalized stem."""
    stmt = select(Question.id).where(
        Question.is_current.is_(True), Question.status != "retired", Question.stem_normalized == normalize_stem(stem)
    )
    if exclude_family_id is not None:
        stmt = stmt.where(Question.family_id != exclude_family_id)
    return list(db.session.scalars(stmt.order_by(Question.id).limit(5)))


def is_used(question_id: int) -> bool:
    """Has any attempt or live final used this version? Asked by table name: the bank knows nothing of contests."""
    tables = db.metadata.tables
    for name in ("attempt_questions", "attempt_answers", "live_session_questions"):
        if (
            name in tables
            and db.session.execute(
                text(f"SELECT 1 FROM {name} WHERE question_id = :q LIMIT 1"), {"q": question_id}
            ).first()
        ):
            return True
    return False


def update_question(question: Question, draft: QuestionDraft, editor_id: int | None) -> Question:
    """Edits in place while no attempt has used this version; otherwise writes a new version.

    Either way the edited question goes back to draft: changed content needs a second reviewer again.
    """
    if not question.is_current:
        raise BankError(_("Đây là phiên bản cũ; chỉ sửa được phiên bản hiện hành."))
    validate_draft(draft)
    was_returned = question.returned_at is not None
    if is_used(question.id):
        question.is_current = False
        new = Question(
            family_id=question.family_id or question.id,
            version=question.version + 1,
            is_current=True,
            status="draft",
            author_id=editor_id,
        )
        _apply(new, draft)
        new.options = [
            QuestionOption(position=i, text=t.strip(), is_correct=c) for i, (t, c) in enumerate(draft.options)
        ]
        db.session.add(new)
        target = new
    else:
        _apply(question, draft)
        question.options = [
            QuestionOption(position=i, text=t.strip(), is_correct=c) for i, (t, c) in enumerate(draft.options)
        ]
        question.status = "draft"
        question.author_id = editor_id
        question.reviewer_id = None
        question.reviewed_at = None
        question.returned_at = None
        target = question
    if was_returned:  # editing a returned draft sends it back for review
        db.session.flush()
        db.session.add(
            ReviewNote(
                family_id=target.family_id or target.id, question_id=target.id, user_id=editor_id, kind="resubmit"
            )
        )
    db.session.commit()
    bump_bank_version()
    return target


def approve_questions(ids, reviewer_id: int) -> tuple[int, list[str]]:
    """Two-person rule: the author of a version cannot approve it. Returns (approved, problems)."""
    approved, problems = 0, []
    for q in db.session.scalars(select(Question).where(Question.id.in_(list(ids))).order_by(Question.id)):
        if q.author_id is not None and q.author_id == reviewer_id:
            problems.append(_("Câu #%(id)s: người soạn không được tự duyệt câu hỏi của mình.", id=q.id))
        elif not q.is_current:
            problems.append(_("Câu #%(id)s: là phiên bản cũ, không duyệt được.", id=q.id))
        elif q.status != "draft":
            problems.append(_("Câu #%(id)s: chỉ duyệt được câu hỏi đang ở trạng thái nháp.", id=q.id))
        elif q.returned_at is not None:
            problems.append(_("Câu #%(id)s: đã được trả lại người soạn; chờ người soạn sửa và gửi duyệt lại.", id=q.id))
        else:
            q.status, q.reviewer_id, q.reviewed_at = "approved", reviewer_id, utcnow()
            approved += 1
    db.session.commit()
    bump_bank_version()
    return approved, problems


MAX_COMMENT = 2000


def return_question(question: Question, reviewer_id: int, comment: str) -> ReviewNote:
    """A reviewer sends a draft back to its author with a comment (required): it cannot be approved until the
    author edits it (which sends it back for review). Two-person rule: the author cannot return their own."""
    comment = (comment or "").strip()
    if not comment:
        raise BankError(_("Vui lòng ghi nhận xét để người soạn biết cần sửa gì."))
    if len(comment) > MAX_COMMENT:
        raise BankError(_("Nhận xét dài quá %(n)s ký tự.", n=MAX_COMMENT))
    if question.author_id is not None and question.author_id == reviewer_id:
        raise BankError(_("Người soạn không trả lại câu hỏi của chính mình; hãy sửa trực tiếp."))
    if not question.is_current or question.status != "draft":
        raise BankError(_("Chỉ trả lại được phiên bản hiện hành đang chờ duyệt (nháp)."))
    if question.returned_at is not None:
        raise BankError(_("Câu hỏi này đã được trả lại người soạn và đang chờ sửa."))
    note = ReviewNote(
        family_id=question.family_id or question.id,
        question_id=question.id,
        user_id=reviewer_id,
        kind="return",
        comment=comment,
    )
    question.returned_at = utcnow()
    db.session.add(note)
    db.session.commit()
    return note


def review_history(question: Question) -> list[ReviewNote]:
    """The review notes of the question's family, oldest first."""
    return list(
        db.session.scalars(
            select(ReviewNote)
            .where(ReviewNote.family_id == (question.family_id or question.id))
            .order_by(ReviewNote.created_at, ReviewNote.id)
        )
    )


def retire_questions(ids) -> int:
    # An UPDATE returns a CursorResult (with rowcount); Session.execute is typed for any statement.
    result = cast(
        "CursorResult[Any]",
        db.session.execute(
            update(Question).where(Question.id.in_(list(ids)), Question.status != "retired").values(status="retired")
        ),
    )
    db.session.commit()
    bump_bank_version()
    return result.rowcount


def move_questions(ids, category_id: int) -> int:
    if db.session.get(Category, category_id) is None:
        raise BankError(_("Không tìm thấy chủ đề."))
    result = cast(
        "CursorResult[Any]",
        db.session.execute(update(Question).where(Question.id.in_(list(ids))).values(category_id=category_id)),
    )
    db.session.commit()
    bump_bank_version()
    return result.rowcount


# ---------------------------------------------------------------- search


@dataclass
class QuestionFilter:
    q: str = ""
    category_id: int | None = None
    difficulty: str | None = None
    status: str | None = None
    tag: str | None = None


def filtered_query(f: QuestionFilter):
    stmt = select(Question).where(Question.is_current.is_(True))
    # every word must appear, accents and case ignored: "duong bo mo to" finds "xe mô tô trên đường bộ"
    for word in normalize_stem(f.q).split()[:10]:
        stmt = stmt.where(Question.stem_normalized.contains(word, autoescape=True))
    if f.category_id:
        path = db.session.scalar(select(Category.path).where(Category.id == f.category_id)) or "/none/"
        stmt = stmt.where(Question.category_id.in_(select(Category.id).where(Category.path.startswith(path))))
    if f.difficulty:
        stmt = stmt.where(Question.difficulty == f.difficulty)
    if f.status == "returned":  # a draft a reviewer sent back to its author
        stmt = stmt.where(Question.status == "draft", Question.returned_at.is_not(None))
    elif f.status:
        stmt = stmt.where(Question.status == f.status)
    if f.tag:
        # tags are stored as "a,b": wrap in commas so only a whole tag matches
        stmt = stmt.where((literal(",") + Question.tags + literal(",")).contains(f",{f.tag.strip()},", autoescape=True))
    return stmt


def search_questions(f: QuestionFilter, page: int = 1, per_page: int = 50):
    """One page of current versions, newest first, and whether a next page exists (no COUNT over the bank)."""
    stmt = filtered_query(f).order_by(Question.id.desc()).offset((page - 1) * per_page).limit(per_page + 1)
    rows = list(db.session.scalars(stmt))
    return rows[:per_page], len(rows) > per_page


def count_questions(f: QuestionFilter) -> int:
    """How many current versions match the filter (the list's "N câu hỏi")."""
    return (
        db.session.scalar(select(func.count()).select_from(filtered_query(f).with_only_columns(Question.id).subquery()))
        or 0
    )


# ---------------------------------------------------------------- import / export


@dataclass
class ImportReport:
    format: str
    parsed: int = 0
    created: int = 0
    dry_run: bool = False
    errors: list[ParseIssue] = field(default_factory=list)
    unsupported: list[ParseIssue] = field(default_factory=list)
    duplicates: list[ParseIssue] = field(default_factory=list)
    preview: list[ParsedQuestion] = field(default_factory=list)
    skipped_unsupported: bool = False
    examples: list[int] = field(default_factory=list)  # rows of the template's examples, skipped

    @property
    def error_rows(self) -> int:
        """How many lines or rows have at least one error (a file-wide error counts as one)."""
        return len({issue.line for issue in self.errors})

    @property
    def refused(self) -> bool:
        return bool(self.errors) or (bool(self.unsupported) and not self.skipped_unsupported)


def import_questions(
    data: bytes,
    fmt: str,
    *,
    dry_run: bool = False,
    skip_unsupported: bool = False,
    default_category=(),
    author_id: int | None = None,
    status: str = "draft",
    reviewer_id: int | None = None,
    isolated: bool = False,
) -> ImportReport:
    """All or nothing: any error, or an unsupported question not explicitly skipped, writes nothing.

    isolated: read the file in a child process (the web upload: parsing must not stall the server's sockets).
    """
    report = ImportReport(format=fmt, dry_run=dry_run, skipped_unsupported=skip_unsupported)
    try:
        if isolated:
            result = read_isolated(fmt, data, tuple(default_category), str(get_locale() or "vi"))
        else:
            result = formats.read(fmt, data, tuple(default_category))
    except formats.UndecodableFile as exc:
        report.errors.append(ParseIssue(0, str(exc)))
        return report
    report.errors.extend(result.errors)
    report.unsupported.extend(result.unsupported)
    report.examples.extend(result.examples)
    for q in result.questions:
        for problem in formats.validate_question(q):
            report.errors.append(ParseIssue(q.line, _("Dòng %(line)s: %(problem)s", line=q.line, problem=problem)))
    report.errors.sort(key=lambda issue: issue.line)
    report.parsed = len(result.questions)
    report.preview = result.questions
    if not result.questions and not report.errors and not report.unsupported:
        if report.examples:
            message = _(
                "Tệp chỉ có %(n)s dòng ví dụ của tệp mẫu (câu hỏi bắt đầu bằng “%(marker)s”), được bỏ qua khi nhập: "
                "không có câu hỏi nào để nhập. Hãy thêm câu hỏi của bạn vào tệp.",
                n=len(report.examples),
                marker=formats.EXAMPLE_MARKER,
            )
            report.errors.append(ParseIssue(0, message))
        else:
            report.errors.append(ParseIssue(0, _("Tệp không có câu hỏi nào.")))
    stems = [normalize_stem(q.stem) for q in result.questions]
    _find_duplicates(result.questions, stems, report)
    if report.refused or dry_run:
        return report
    _write_questions(result.questions, stems, author_id=author_id, status=status, reviewer_id=reviewer_id)
    report.created = len(result.questions)
    return report


def _find_duplicates(questions, stems, report):
    keys: dict[str, int] = {}  # normalized stem -> line of its first question in the file
    for q, key in zip(questions, stems):
        if key in keys:
            report.duplicates.append(
                ParseIssue(
                    q.line,
                    _(
                        "Dòng %(line)s: trùng nội dung với câu ở dòng %(other)s trong cùng tệp.",
                        line=q.line,
                        other=keys[key],
                    ),
                )
            )
        else:
            keys[key] = q.line
    existing: dict[str, int] = {}  # normalized stem -> id of the bank's question
    if len(keys) <= 200:
        lookups = [select(Question.id, Question.stem_normalized).where(Question.stem_normalized.in_(list(keys)))]
    else:
        # A big file: one sequential pass over the bank beats many IN lists on an unindexed text column.
        lookups = [select(Question.id, Question.stem_normalized)]
    for stmt in lookups:
        stmt = stmt.where(Question.is_current.is_(True), Question.status != "retired")
        for qid, stem in db.session.execute(stmt.execution_options(yield_per=5000)):
            if stem in keys:
                existing.setdefault(stem, qid)
    for key, line in keys.items():
        if key in existing:
            report.duplicates.append(
                ParseIssue(
                    line,
                    _(
                        "Dòng %(line)s: gần trùng với câu hỏi #%(id)s đã có trong ngân hàng.",
                        line=line,
                        id=existing[key],
                    ),
                )
            )
    report.duplicates.sort(key=lambda issue: issue.line)


def _write_questions(questions, stems, *, author_id, status, reviewer_id):
    cache: dict = {}
    category_ids = [ensure_category(q.category, cache).id for q in questions]
    now = utcnow()
    rows = [
        dict(
            family_id=None,
            version=1,
            is_current=True,
            category_id=cid,
            title=q.title,
            stem=q.stem.strip(),
            stem_normalized=stem,
            multi_select=q.multi_select,
            explanation=q.explanation,
            legal_document=q.legal_document,
            legal_article=q.legal_article,
            difficulty=q.difficulty,
            tags=_clean_tags(q.tags),
            status=status,
            author_id=author_id,
            reviewer_id=reviewer_id if status == "approved" else None,
            reviewed_at=now if status == "approved" else None,
            created_at=now,
        )
        for q, cid, stem in zip(questions, category_ids, stems)
    ]
    ids: list[int] = []
    for i in range(0, len(rows), 1000):
        ids.extend(
            db.session.scalars(
                insert(Question).returning(Question.id, sort_by_parameter_order=True), rows[i : i + 1000]
            )
        )
    option_rows = [
        dict(question_id=qid, position=p, text=o.text.strip(), is_correct=o.is_correct)
        for qid, q in zip(ids, questions)
        for p, o in enumerate(q.options)
    ]
    for i in range(0, len(option_rows), 5000):
        db.session.execute(insert(QuestionOption), option_rows[i : i + 5000])
    db.session.execute(update(Question).where(Question.family_id.is_(None)).values(family_id=Question.id))
    db.session.commit()
    bump_bank_version()


def to_parsed(q: Question, cache: dict) -> ParsedQuestion:
    return ParsedQuestion(
        line=0,
        stem=q.stem,
        options=[ParsedOption(o.text, o.is_correct) for o in q.options],
        category=category_names(q.category_id, cache),
        title=q.title,
        multi_select=q.multi_select,
        explanation=q.explanation,
        legal_document=q.legal_document,
        legal_article=q.legal_article,
        difficulty=q.difficulty,
        tags=tuple(t for t in (q.tags or "").split(",") if t),
    )


def export_questions(fmt: str, category_id: int | None = None, include_retired: bool = False) -> tuple[bytes, int]:
    """The current versions (of a category subtree) in a format; returns (data, questions left out)."""
    stmt = select(Question).where(Question.is_current.is_(True)).options(selectinload(Question.options))
    if not include_retired:
        stmt = stmt.where(Question.status != "retired")
    if category_id:
        path = db.session.scalar(select(Category.path).where(Category.id == category_id))
        if path is None:
            raise BankError(_("Không tìm thấy chủ đề."))
        stmt = stmt.where(Question.category_id.in_(select(Category.id).where(Category.path.startswith(path))))
    cache: dict = {}
    parsed = [to_parsed(q, cache) for q in db.session.scalars(stmt.order_by(Question.id))]
    parsed.sort(key=lambda p: p.category)  # stable: GIFT writes one $CATEGORY per group
    left_out = 0
    if fmt == "aiken":
        left_out = sum(1 for p in parsed if not formats.aiken.can_carry(p))
    return formats.write(fmt, parsed), left_out


def find_category_by_path(path: str) -> Category | None:
    """'Hiến pháp > Quyền con người' or 'Hiến pháp/Quyền con người' -> the category, if it exists."""
    names = [n.strip() for n in path.replace(">", "/").split("/") if n.strip()]
    parent_id, node = None, None
    for name in names:
        node = db.session.scalar(
            select(Category).where(
                Category.name == name,
                Category.parent_id.is_(None) if parent_id is None else Category.parent_id == parent_id,
            )
        )
        if node is None:
            return None
        parent_id = node.id
    return node


def approved_counts() -> dict[int, dict[str, int]]:
    """Approved current questions a blueprint rule can draw, per category including its subcategories (key 0: the
    whole bank), by difficulty ("" for any difficulty): the round form shows them beside each rule."""
    paths = dict(db.session.execute(select(Category.id, Category.path)).tuples().all())
    counts = {cid: {"easy": 0, "medium": 0, "hard": 0, "": 0} for cid in [0, *paths]}
    rows = db.session.execute(
        select(Question.category_id, Question.difficulty, func.count())
        .where(Question.status == "approved", Question.is_current.is_(True))
        .group_by(Question.category_id, Question.difficulty)
    ).tuples()
    for category_id, difficulty, n in rows:
        path = paths.get(category_id)
        if path is None:
            continue
        for node in [0, *(int(part) for part in path.strip("/").split("/") if part)]:
            if node in counts:
                counts[node][difficulty] += n
                counts[node][""] += n
    return counts


def correct_position_distribution(category_id: int | None = None) -> PositionDistribution:
    """Where the correct option is authored among approved, current single-answer questions (one correct option):
    the order contestants see when a round does not shuffle options. Optionally within a category (and its
    subcategories)."""
    query = (
        select(QuestionOption.question_id, QuestionOption.is_correct)
        .join(Question, Question.id == QuestionOption.question_id)
        .where(Question.status == "approved", Question.is_current.is_(True), Question.multi_select.is_(False))
        .order_by(QuestionOption.question_id, QuestionOption.position, QuestionOption.id)
    )
    if category_id is not None:
        category = db.session.get(Category, category_id)
        if category is None:
            return position_distribution([])
        query = query.join(Category, Category.id == Question.category_id).where(Category.path.startswith(category.path))
    options: dict[int, list[bool]] = {}
    for question_id, is_correct in db.session.execute(query):
        options.setdefault(question_id, []).append(bool(is_correct))
    return position_distribution((len(flags), flags.index(True)) for flags in options.values() if sum(flags) == 1)
