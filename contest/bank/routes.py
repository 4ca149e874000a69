"""Thin organiser routes over question_bank.services."""

import io

from flask import Blueprint, abort, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from contest.accounts.guards import role_required
from contest.accounts.models import User
from contest.audit import record_action
from contest.bank.forms import (
    LETTERS,
    CategoryForm,
    ConfirmImportForm,
    DeleteCategoryForm,
    ExportForm,
    ImportForm,
    MoveCategoryForm,
    QuestionForm,
    RenameCategoryForm,
    ReturnForm,
)
from infra.extensions import db
from infra.web_input import int_arg, int_list, parse_int, safe_next
from question_bank import formats
from question_bank.formats import MAX_OPTIONS, ParsedOption, ParsedQuestion
from question_bank.models import DIFFICULTIES, STATUSES, Category, Question
from question_bank.services import (
    BankError,
    QuestionDraft,
    QuestionFilter,
    add_category,
    approve_questions,
    category_choices,
    correct_position_distribution,
    count_questions,
    create_question,
    delete_category,
    export_questions,
    import_questions,
    move_category,
    move_questions,
    near_duplicates,
    rename_category,
    retire_questions,
    return_question,
    review_history,
    search_questions,
    update_question,
    validate_draft,
)
from question_bank.staged_imports import TTL_SECONDS as STAGED_TTL
from question_bank.staged_imports import StagedImportError, claim_staged, finish_staged, stage_upload

bp = Blueprint("bank", __name__, url_prefix="/quan-tri/ngan-hang")

PER_PAGE = 50
MAX_UPLOAD = 30 * 2**20  # a 10,000-question spreadsheet is about 2 MB
MIME = {
    "gift": "text/plain; charset=utf-8",
    "aiken": "text/plain; charset=utf-8",
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
EXTENSION = {"gift": "gift", "aiken": "aiken.txt", "csv": "csv", "xlsx": "xlsx"}


def _audit(action, object_type=None, object_id=None, **details):
    """Records an organiser's bank action after the bank service has saved it (the services commit themselves)."""
    record_action(current_user, action, object_type=object_type, object_id=object_id, **details)
    db.session.commit()


@bp.route("/")
@role_required("organiser")
def index():
    f = QuestionFilter(
        q=request.args.get("q", "").strip(),
        category_id=int_arg(request.args, "category"),
        difficulty=request.args.get("difficulty") if request.args.get("difficulty") in DIFFICULTIES else None,
        status=request.args.get("status") if request.args.get("status") in (*STATUSES, "returned") else None,
        tag=request.args.get("tag", "").strip() or None,
    )
    page = int_arg(request.args, "page", 1, hi=100_000)
    questions, has_next = search_questions(f, page, PER_PAGE)
    total = count_questions(f)
    choices = category_choices()
    labels = dict(choices)
    args = {k: v for k, v in request.args.items() if k != "page" and v}
    return render_template(
        "bank/index.html",
        questions=questions,
        filters=f,
        page=page,
        has_next=has_next,
        categories=choices,
        labels=labels,
        args=args,
        total=total,
        filtering=bool(f.q or f.category_id or f.difficulty or f.status or f.tag),
        positions=correct_position_distribution(),
    )


@bp.route("/hang-loat", methods=["POST"])
@role_required("organiser")
def bulk():
    ids = int_list(request.form, "ids")
    action = request.form.get("action")
    back = safe_next(request.form.get("next")) or url_for("bank.index")  # only paths on this site
    if not ids:
        flash(_("Chưa chọn câu hỏi nào."), "warning")
        return redirect(back)
    if action == "approve":
        approved, problems = approve_questions(ids, current_user.id)
        _audit(
            "questions_approve",
            "question",
            ids[0] if len(ids) == 1 else None,
            ids=ids,
            approved=approved,
            problems=[str(p) for p in problems],
        )
        if approved:
            flash(_("Đã duyệt %(n)s câu hỏi.", n=approved), "success")
        for problem in problems:
            flash(problem, "error")
    elif action == "retire":
        retired = retire_questions(ids)
        _audit("questions_retire", "question", ids[0] if len(ids) == 1 else None, ids=ids, retired=retired)
        flash(_("Đã ngừng dùng %(n)s câu hỏi.", n=retired), "success")
    elif action == "move":
        target = request.form.get("target", "")
        try:
            moved = move_questions(ids, parse_int(target) or 0)
            _audit(
                "questions_move",
                "question",
                ids[0] if len(ids) == 1 else None,
                ids=ids,
                moved=moved,
                category_id=parse_int(target),
            )
            flash(_("Đã chuyển %(n)s câu hỏi sang chủ đề mới.", n=moved), "success")
        except BankError as exc:
            flash(str(exc), "error")
    else:
        flash(_("Vui lòng chọn thao tác."), "warning")
    return redirect(back)


def _fill_choices(form):
    form.category_id.choices = [(0, _("— Chọn chủ đề —"))] + category_choices()


def _draft_from(form) -> QuestionDraft:
    options = []
    for i in range(MAX_OPTIONS):
        text = (getattr(form, f"option_{i}").data or "").strip()
        if text:
            options.append((text, bool(getattr(form, f"correct_{i}").data)))
    return QuestionDraft(
        stem=form.stem.data or "",
        options=options,
        category_id=form.category_id.data or 0,
        multi_select=form.multi_select.data,
        title=form.title.data,
        explanation=form.explanation.data,
        legal_document=form.legal_document.data,
        legal_article=form.legal_article.data,
        difficulty=form.difficulty.data,
        tags=list((form.tags.data or "").split(",")),
    )


def _load_form(form, question):
    form.category_id.data = question.category_id
    for name in ("title", "stem", "multi_select", "explanation", "legal_document", "legal_article", "difficulty"):
        getattr(form, name).data = getattr(question, name)
    form.tags.data = ", ".join(t for t in (question.tags or "").split(",") if t)
    for i, option in enumerate(question.options[:MAX_OPTIONS]):
        getattr(form, f"option_{i}").data = option.text
        getattr(form, f"correct_{i}").data = option.is_correct


def _edit(form, question=None):
    """Shared by create and edit: preview, or validate and save."""
    _fill_choices(form)
    if question is not None and request.method == "GET":
        _load_form(form, question)
    preview, error, duplicates, options_error = None, None, [], None
    if form.is_submitted():
        # the options' own problems (count, blanks, no or too many correct answers) show next to the options,
        # whatever else is wrong with the form
        options_error = " ".join(formats.option_problems(_draft_from(form).parsed())) or None
    if form.validate_on_submit():
        draft = _draft_from(form)
        duplicates = near_duplicates(draft.stem, question.family_id if question else None)
        try:
            if options_error:
                validate_draft(draft, with_options=False)  # the other problems, if any, above the form
            elif form.preview.data:
                validate_draft(draft)
                preview = draft
            else:
                was_returned = question is not None and question.returned_at is not None
                saved = (
                    update_question(question, draft, current_user.id)
                    if question
                    else create_question(draft, current_user.id)
                )
                _audit(
                    "question_update" if question else "question_create",
                    "question",
                    saved.id,
                    previous_id=question.id if question else None,
                    version=saved.version,
                    resubmitted=was_returned,
                )
                if question is not None and saved.id != question.id:
                    flash(
                        _(
                            "Câu hỏi đã được dùng trong lượt thi nên đã tạo phiên bản %(v)s; lượt thi cũ giữ nguyên phiên bản trước.",
                            v=saved.version,
                        ),
                        "info",
                    )
                flash(_("Đã lưu câu hỏi #%(id)s (chờ một thành viên khác duyệt).", id=saved.id), "success")
                if was_returned:
                    flash(_("Câu hỏi đã được gửi duyệt lại."), "info")
                if duplicates:
                    flash(
                        _("Lưu ý: nội dung gần trùng với câu hỏi %(ids)s.", ids=", ".join(f"#{i}" for i in duplicates)),
                        "warning",
                    )
                return redirect(url_for("bank.detail", question_id=saved.id))
        except BankError as exc:
            db.session.rollback()
            error = str(exc)
    open_return = None
    if question is not None and question.returned_at is not None:
        open_return = next((n for n in reversed(review_history(question)) if n.kind == "return"), None)
    status = 422 if (form.errors or error or options_error) else 200
    return render_template(
        "bank/edit.html",
        options_error=options_error,
        open_return=open_return,
        form=form,
        question=question,
        preview=preview,
        error=error,
        duplicates=duplicates,
        letters=LETTERS,
        max_options=MAX_OPTIONS,
    ), status


@bp.route("/cau-hoi/moi", methods=["GET", "POST"])
@role_required("organiser")
def create():
    return _edit(QuestionForm())


@bp.route("/cau-hoi/<int:question_id>/sua", methods=["GET", "POST"])
@role_required("organiser")
def edit(question_id):
    question = db.session.get(Question, question_id) or abort(404)
    return _edit(QuestionForm(), question)


@bp.route("/cau-hoi/<int:question_id>")
@role_required("organiser")
def detail(question_id):
    question = db.session.get(Question, question_id) or abort(404)
    versions = db.session.scalars(
        select(Question).where(Question.family_id == question.family_id).order_by(Question.version)
    ).all()
    return _detail_page(question, versions, ReturnForm())


def _detail_page(question, versions, return_form, status=200):
    history = review_history(question)
    ids = {i for i in (question.author_id, question.reviewer_id) if i} | {n.user_id for n in history if n.user_id}
    people = {u.id: u.full_name for u in db.session.scalars(select(User).where(User.id.in_(ids)))}
    labels = dict(category_choices())
    open_return = next((n for n in reversed(history) if n.kind == "return"), None) if question.returned_at else None
    return render_template(
        "bank/detail.html",
        question=question,
        versions=versions,
        people=people,
        labels=labels,
        letters=LETTERS,
        history=history,
        open_return=open_return,
        return_form=return_form,
    ), status


@bp.route("/cau-hoi/<int:question_id>/tra-lai", methods=["POST"])
@role_required("organiser")
def return_to_author(question_id):
    """A reviewer returns a draft to its author with a required comment (kept in the history, audited)."""
    question = db.session.get(Question, question_id) or abort(404)
    form = ReturnForm()
    if form.validate_on_submit():
        try:
            note = return_question(question, current_user.id, form.comment.data)
        except BankError as exc:
            db.session.rollback()
            form.comment.errors = [str(exc)]
        else:
            _audit(
                "question_return",
                "question",
                question.id,
                comment=note.comment,
                author_id=question.author_id,
                version=question.version,
            )
            flash(_("Đã trả lại câu hỏi #%(id)s cho người soạn kèm nhận xét.", id=question.id), "success")
            return redirect(url_for("bank.detail", question_id=question.id))
    versions = db.session.scalars(
        select(Question).where(Question.family_id == question.family_id).order_by(Question.version)
    ).all()
    return _detail_page(question, versions, form, status=422)


@bp.route("/chu-de", methods=["GET", "POST"])
@role_required("organiser")
def categories():
    form = CategoryForm(prefix="add")
    move = MoveCategoryForm(prefix="move")
    rename = RenameCategoryForm(prefix="rename")
    remove = DeleteCategoryForm(prefix="delete")
    choices = category_choices()
    form.parent_id.choices = [(0, _("— Chủ đề gốc —"))] + choices
    move.category_id.choices = rename.category_id.choices = remove.category_id.choices = choices
    move.new_parent_id.choices = [(0, _("— Chủ đề gốc —"))] + choices
    try:
        if form.submit.data and form.validate_on_submit():
            node = add_category(form.name.data, form.parent_id.data or None)
            _audit("category_create", "category", node.id, name=node.name, parent_id=node.parent_id)
            flash(_("Đã thêm chủ đề %(name)s.", name=node.name), "success")
            return redirect(url_for("bank.categories"))
        if move.submit_move.data and move.validate_on_submit():
            move_category(move.category_id.data, move.new_parent_id.data or None)
            _audit("category_move", "category", move.category_id.data, new_parent_id=move.new_parent_id.data or None)
            flash(_("Đã chuyển chủ đề."), "success")
            return redirect(url_for("bank.categories"))
        if rename.submit_rename.data and rename.validate_on_submit():
            rename_category(rename.category_id.data, rename.new_name.data)
            _audit("category_rename", "category", rename.category_id.data, name=rename.new_name.data)
            flash(_("Đã đổi tên chủ đề."), "success")
            return redirect(url_for("bank.categories"))
        if remove.submit_delete.data and remove.validate_on_submit():
            delete_category(remove.category_id.data)
            _audit("category_delete", "category", remove.category_id.data)
            flash(_("Đã xóa chủ đề."), "success")
            return redirect(url_for("bank.categories"))
    except BankError as exc:
        db.session.rollback()
        flash(str(exc), "error")
    roots = db.session.scalars(select(Category).where(Category.parent_id.is_(None)).order_by(Category.name)).all()
    return render_template("bank/categories.html", roots=roots, form=form, move=move, rename=rename, remove=remove)


@bp.route("/nhap", methods=["GET", "POST"])
@role_required("organiser")
def upload():
    """Step 1 of an import: the file is checked (nothing written); a clean file is kept for "Nhập ngay"."""
    form = ImportForm()
    report, token = None, None
    if form.validate_on_submit():
        storage = form.file.data
        data = storage.read(MAX_UPLOAD + 1)
        fmt = form.format.data or formats.guess_format(storage.filename or "")
        if len(data) > MAX_UPLOAD:
            form.file.errors.append(_("Tệp lớn quá %(mb)s MB; vui lòng chia nhỏ tệp.", mb=MAX_UPLOAD // 2**20))
        elif fmt is None:
            form.format.errors.append(_("Không nhận ra định dạng từ tên tệp; vui lòng chọn định dạng."))
        else:
            category = [n.strip() for n in (form.category.data or "").replace("/", ">").split(">") if n.strip()]
            report = import_questions(
                data,
                fmt,
                dry_run=True,
                skip_unsupported=form.skip_unsupported.data,
                default_category=category,
                author_id=current_user.id,
                isolated=True,  # parsed in a child process: a hostile file cannot stall this server's sockets
            )
            db.session.rollback()
            if not report.refused:
                token = stage_upload(
                    current_user.id,
                    data,
                    fmt,
                    (storage.filename or "")[:200],
                    tuple(category),
                    bool(form.skip_unsupported.data),
                )
    status = 422 if (form.errors or (report and report.refused)) else 200
    return _import_page(form, report, token=token), status


def _import_page(form, report, token=None, stage_error=None):
    confirm = None
    if token:
        confirm = ConfirmImportForm(formdata=None)
        confirm.token.data = token
    return render_template(
        "bank/import.html",
        form=form,
        report=report,
        confirm=confirm,
        stage_error=stage_error,
        ttl_minutes=STAGED_TTL // 60,
    )


@bp.route("/nhap/xac-nhan", methods=["POST"])
@role_required("organiser")
def confirm_import():
    """Step 2: "Nhập ngay" imports the file kept by step 1, for the user who uploaded it."""
    confirm = ConfirmImportForm()
    form = ImportForm(formdata=None)
    if not confirm.validate_on_submit():
        return _import_page(form, None, stage_error=_("Yêu cầu nhập không hợp lệ; vui lòng kiểm tra tệp lại.")), 400
    try:
        staged = claim_staged(confirm.token.data, current_user.id)
    except StagedImportError as exc:
        return _import_page(form, None, stage_error=str(exc)), 409
    report = import_questions(
        staged.data,
        staged.fmt,
        skip_unsupported=staged.skip_unsupported,
        default_category=staged.category,
        author_id=current_user.id,
        isolated=True,
    )
    if report.refused:  # the bank changed since the check (rare): nothing written, the file can be checked again
        db.session.rollback()
        finish_staged(staged.token, imported=False)
        return _import_page(form, report), 422
    finish_staged(staged.token, imported=True)
    _audit(
        "questions_import",
        "bank_import",
        None,
        format=staged.fmt,
        file=staged.filename,
        created=report.created,
        skipped_examples=len(report.examples),
        category=" > ".join(staged.category),
    )
    return _import_page(form, report), 200


@bp.route("/mau/<fmt>")
@role_required("organiser")
def template_file(fmt):
    """The documented Vietnamese template with two example rows, which the importer recognises and skips (their
    stems start with formats.EXAMPLE_MARKER); the XLSX also has drop-down lists and an instructions sheet."""
    if fmt not in ("csv", "xlsx"):
        abort(404)
    examples = [
        ParsedQuestion(
            line=0,
            stem=f"{formats.EXAMPLE_MARKER} Theo Hiến pháp năm 2013, công dân đủ bao nhiêu tuổi trở lên có quyền bầu cử?",
            category=("Hiến pháp", "Quyền con người, quyền và nghĩa vụ cơ bản của công dân"),
            options=[
                ParsedOption("Đủ 16 tuổi", False),
                ParsedOption("Đủ 18 tuổi", True),
                ParsedOption("Đủ 20 tuổi", False),
                ParsedOption("Đủ 21 tuổi", False),
            ],
            explanation="Điều 27 Hiến pháp năm 2013.",
            legal_document="Hiến pháp năm 2013",
            legal_article="Điều 27",
            difficulty="easy",
            tags=("hiến pháp", "bầu cử"),
        ),
        ParsedQuestion(
            line=0,
            stem=f"{formats.EXAMPLE_MARKER} Những hành vi nào bị cấm theo Luật Hôn nhân và gia đình năm 2014?",
            category=("Dân sự", "Hôn nhân và gia đình"),
            multi_select=True,
            options=[
                ParsedOption("Tảo hôn", True),
                ParsedOption("Kết hôn giả tạo", True),
                ParsedOption("Đăng ký kết hôn", False),
            ],
            legal_document="Luật Hôn nhân và gia đình năm 2014",
            legal_article="Điều 5, khoản 2",
            difficulty="medium",
            tags=("hôn nhân",),
        ),
    ]
    data = formats.table.write_template(examples) if fmt == "xlsx" else formats.write(fmt, examples)
    return send_file(io.BytesIO(data), mimetype=MIME[fmt], as_attachment=True, download_name=f"mau-cau-hoi.{fmt}")


@bp.route("/xuat")
@role_required("organiser")
def export():
    form = ExportForm(request.args)
    form.category_id.choices = [(0, _("Toàn bộ ngân hàng"))] + category_choices()
    if "format" in request.args and form.validate():
        data, left_out = export_questions(form.format.data, form.category_id.data or None)
        response = send_file(
            io.BytesIO(data),
            mimetype=MIME[form.format.data],
            as_attachment=True,
            download_name=f"ngan-hang-cau-hoi.{EXTENSION[form.format.data]}",
        )
        response.headers["X-Questions-Left-Out"] = str(left_out)
        return response
    return render_template("bank/export.html", form=form)
