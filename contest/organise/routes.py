"""Organiser routes for contests and rounds (/quan-tri/cuoc-thi/...) and the public banner route."""

import re

from flask import Blueprint, abort, flash, redirect, render_template, request, send_from_directory, url_for
from flask_babel import gettext as _
from flask_login import current_user
from markupsafe import Markup, escape
from sqlalchemy import func, select
from wtforms import FieldList

from contest.accounts.guards import role_required
from contest.audit import audit_changes, record_action
from contest.organise.banners import MAX_BANNER_BYTES, banner_dir, check_banner, remove_banner, save_banner
from contest.organise.forms import RANKING_LABELS, ContestForm, DeleteForm, EmergencyStopForm, PublishForm, RoundForm
from contest.organise.services import (
    OrganiseError,
    RoundInput,
    attempt_count,
    create_contest,
    create_round,
    delete_round,
    next_round_number,
    set_published,
    update_contest,
    update_round,
    validate_round,
)
from contest.rounds.models import Attempt, Contest, Round
from contest.rounds.stopping import running_count, stop_round
from infra.clock import format_vn_time, utcnow
from infra.extensions import db
from question_bank.services import approved_counts, correct_position_distribution

bp = Blueprint("organise", __name__)

BANNER_NAME = re.compile(r"^\d+-[0-9a-f]{16}\.(jpg|png|webp)$")
ROUND_FIELDS = (
    "number",
    "title",
    "opens_at",
    "closes_at",
    "time_limit_minutes",
    "attempts_allowed",
    "prediction_enabled",
    "prediction_text",
    "prediction_basis",
)


@bp.app_template_filter("paragraphs")
def paragraphs(text):
    """Plain text (thể lệ) as escaped paragraphs: blank lines split paragraphs, single newlines break lines."""
    blocks = [b.strip() for b in re.split(r"\n\s*\n", (text or "").replace("\r\n", "\n")) if b.strip()]
    return Markup("".join(f"<p>{Markup('<br>').join(escape(line) for line in b.split(chr(10)))}</p>" for b in blocks))


@bp.app_template_filter("vn_time")
def vn_time(utc):
    return format_vn_time(utc)


def _contest_or_404(contest_id) -> Contest:
    return db.get_or_404(Contest, contest_id)


def _round_or_404(contest, round_id) -> Round:
    rnd = db.session.get(Round, round_id)
    if rnd is None or rnd.contest_id != contest.id:
        abort(404)
    return rnd


def _read_banner(form):
    """The uploaded banner's bytes (None when none was chosen); reads at most one byte past the limit."""
    upload = form.banner.data
    if not upload or not getattr(upload, "filename", ""):
        return None
    return upload.stream.read(MAX_BANNER_BYTES + 1)


def _attach(form, errors):
    """Puts service errors next to their inputs; a list of rows (blueprint, ranking) gets one message above it."""
    for name, message in errors.items():
        target = getattr(form, name, None)
        if target is None or isinstance(target, FieldList):
            form.group_errors[name] = message
        else:
            target.errors = list(target.errors) + [message]


def _has_errors(form):
    return bool(form.errors or form.group_errors)


@bp.route("/quan-tri/cuoc-thi/")
@role_required("organiser")
def contests():
    rows = db.session.execute(
        select(Contest, func.count(Round.id)).outerjoin(Round).group_by(Contest.id).order_by(Contest.created_at.desc())
    ).all()
    return render_template("organise/contests.html", rows=rows)


@bp.route("/quan-tri/cuoc-thi/moi", methods=["GET", "POST"])
@role_required("organiser")
def new_contest():
    form = ContestForm()
    if form.validate_on_submit():
        try:
            banner = _read_banner(form)
            if banner is not None:
                check_banner(banner)  # before any row is written: a bad image changes nothing
            contest = create_contest(
                title=form.title.data,
                description=form.description.data,
                rules_text=form.rules_text.data,
                unit_ids=form.unit_ids.data,
                issuing_body=form.issuing_body.data,
                issuing_place=form.issuing_place.data,
                created_by_id=current_user.id,
                commit=False,
            )
            db.session.flush()
            if banner is not None:
                save_banner(contest, banner, commit=False)
            record_action(
                current_user,
                "contest_create",
                object_type="contest",
                object_id=contest.id,
                title=contest.title,
                unit_ids=sorted(form.unit_ids.data or []),
                banner=banner is not None,
            )
            db.session.commit()
        except OrganiseError as exc:
            db.session.rollback()
            _attach(form, exc.errors)
        else:
            flash(_("Đã tạo cuộc thi “%(title)s”. Hãy thêm tuần thi.", title=contest.title), "success")
            return redirect(url_for("organise.edit_contest", contest_id=contest.id))
    return render_template("organise/contest_form.html", form=form, contest=None), (422 if _has_errors(form) else 200)


@bp.route("/quan-tri/cuoc-thi/<int:contest_id>", methods=["GET", "POST"])
@role_required("organiser")
def edit_contest(contest_id):
    contest = _contest_or_404(contest_id)
    if request.method == "GET":
        form = ContestForm(obj=contest)
        form.unit_ids.data = [u.id for u in contest.eligible_units]
    else:
        form = ContestForm()
    if form.validate_on_submit():
        try:
            banner = _read_banner(form)
            if banner is not None:
                check_banner(banner)
            before = _contest_state(contest)
            update_contest(
                contest,
                title=form.title.data,
                description=form.description.data,
                rules_text=form.rules_text.data,
                unit_ids=form.unit_ids.data,
                issuing_body=form.issuing_body.data,
                issuing_place=form.issuing_place.data,
                commit=False,
            )
            if banner is not None:
                save_banner(contest, banner, commit=False)
            elif form.remove_banner.data:
                remove_banner(contest, commit=False)
            record_action(
                current_user,
                "contest_update",
                object_type="contest",
                object_id=contest.id,
                changes=audit_changes(before, _contest_state(contest)),
            )
            db.session.commit()
        except OrganiseError as exc:
            db.session.rollback()
            _attach(form, exc.errors)
        else:
            flash(_("Đã lưu cuộc thi."), "success")
            return redirect(url_for("organise.edit_contest", contest_id=contest.id))
    attempts = dict(
        db.session.execute(
            select(Attempt.round_id, func.count(Attempt.id))
            .join(Round)
            .where(Round.contest_id == contest.id)
            .group_by(Attempt.round_id)
        ).all()
    )
    return render_template(
        "organise/contest_form.html", form=form, contest=contest, attempts=attempts, publish_form=PublishForm()
    ), (422 if _has_errors(form) else 200)


@bp.route("/quan-tri/cuoc-thi/<int:contest_id>/cong-bo", methods=["POST"])
@role_required("organiser")
def publish(contest_id):
    contest = _contest_or_404(contest_id)
    form = PublishForm()
    if not form.validate_on_submit():
        abort(400)
    wanted = request.form.get("published") == "1"
    try:
        set_published(contest, wanted, commit=False)
        record_action(
            current_user,
            "contest_publish" if wanted else "contest_unpublish",
            object_type="contest",
            object_id=contest.id,
            title=contest.title,
        )
        db.session.commit()
    except OrganiseError as exc:
        db.session.rollback()
        for message in exc.errors.values():
            flash(message, "error")
    else:
        flash(_("Đã công bố cuộc thi.") if wanted else _("Đã ẩn cuộc thi khỏi thí sinh."), "success")
    return redirect(url_for("organise.edit_contest", contest_id=contest.id))


def _contest_state(contest):
    """What an organiser can change on a contest, for the audit log's before/after."""
    return dict(
        title=contest.title,
        description=contest.description,
        rules_text=contest.rules_text,
        unit_ids=sorted(u.id for u in contest.eligible_units),
        banner=contest.banner_path,
        issuing_body=contest.issuing_body,
        issuing_place=contest.issuing_place,
    )


def _round_page(contest, form, rnd, status=200, stop_form=None):
    return render_template(
        "organise/round_form.html",
        form=form,
        contest=contest,
        rnd=rnd,
        attempts=attempt_count(rnd) if rnd is not None else 0,
        running=running_count(rnd) if rnd is not None else 0,
        now=utcnow(),
        stop_form=stop_form or EmergencyStopForm(prefix="stop", formdata=None),
        delete_form=DeleteForm(),
        ranking_labels=RANKING_LABELS,
        positions=correct_position_distribution(),
        bank_counts=approved_counts(),
    ), status


def _warn_unshuffled(rnd):
    """Non-blocking: a round that shows options in authoring order while authors put the key in one place."""
    positions = correct_position_distribution()
    if not rnd.shuffle_options and positions.skewed:
        letter, share = positions.most_common()
        flash(unshuffled_warning(letter, share), "warning")


def unshuffled_warning(letter, share):
    return _(
        "Cảnh báo: tuần thi không trộn thứ tự phương án, mà trong ngân hàng đáp án đúng nằm ở vị trí %(letter)s "
        "trong %(share)d%% câu hỏi một đáp án. Thí sinh có thể đoán đáp án theo vị trí; nên bật “Trộn thứ tự "
        "phương án trả lời”.",
        letter=letter,
        share=share,
    )


def _save_round(contest, rnd):
    """Shared POST handling: parse errors and domain errors shown together, nothing saved unless all pass."""
    form = RoundForm()
    form.validate()
    data = form.to_input()
    errors = validate_round(contest, data, rnd)
    errors = {k: v for k, v in errors.items() if not (k in ROUND_FIELDS and getattr(form, k).errors)}
    # Moving an open round's close into the past stops it at once: the organiser must say so explicitly.
    now = utcnow()
    stopping = (
        rnd is not None
        and data.closes_at is not None
        and data.closes_at < rnd.closes_at
        and (rnd.closes_at > now or running_count(rnd) > 0)
    )
    if stopping and data.closes_at <= now < rnd.closes_at and not form.confirm_stop.data and "closes_at" not in errors:
        errors["confirm_stop"] = _(
            "Thời gian đóng mới đã qua: lưu sẽ dừng tuần thi ngay và đóng mọi lượt thi đang làm. "
            "Đánh dấu ô xác nhận bên dưới để tiếp tục."
        )
    _attach(form, errors)
    if _has_errors(form):
        db.session.rollback()
        return None, form
    try:
        before = RoundInput.from_round(rnd).__dict__.copy() if rnd is not None else {}
        saved = update_round(rnd, data, commit=False) if rnd is not None else create_round(contest, data, commit=False)
        db.session.flush()
        record_action(
            current_user,
            "round_update" if rnd is not None else "round_create",
            object_type="round",
            object_id=saved.id,
            contest_id=contest.id,
            changes=audit_changes(before, RoundInput.from_round(saved).__dict__),
        )
        if stopping and data.closes_at <= now:  # a stop; a nearer close still ahead is in round_update's changes
            _record_stop(contest, saved, before_close=before["closes_at"], closes_at=data.closes_at, via="form")
        db.session.commit()
    except OrganiseError as exc:  # the bank changed between the check above and this save
        db.session.rollback()
        _attach(form, exc.errors)
        return None, form
    if stopping:
        # Running attempts get the new close as their deadline (closed now if it has passed).
        stop_round(saved, data.closes_at)
    return saved, form


def _record_stop(contest, rnd, before_close, closes_at, via, reason=None):
    record_action(
        current_user,
        "round_stop",
        round_=rnd,
        reason=reason,
        object_type="round",
        object_id=rnd.id,
        contest_id=contest.id,
        via=via,
        closes_at_before=before_close.isoformat(timespec="seconds"),
        closes_at=(closes_at or utcnow()).isoformat(timespec="seconds"),
        running_attempts=running_count(rnd),
    )


@bp.route("/quan-tri/cuoc-thi/<int:contest_id>/tuan-thi/moi", methods=["GET", "POST"])
@role_required("organiser")
def new_round(contest_id):
    contest = _contest_or_404(contest_id)
    if request.method == "POST":
        saved, form = _save_round(contest, None)
        if saved is not None:
            flash(_("Đã tạo tuần thi số %(n)d.", n=saved.number), "success")
            _warn_unshuffled(saved)
            return redirect(url_for("organise.edit_contest", contest_id=contest.id))
        return _round_page(contest, form, None, 422)
    defaults = RoundInput(
        number=next_round_number(contest),
        title=_("Tuần thi thứ %(n)d", n=next_round_number(contest)),
        opens_at=None,
        closes_at=None,
        time_limit_minutes=20,
        prediction_text=Round.__table__.c.prediction_text.default.arg,
    )
    return _round_page(contest, RoundForm.for_input(defaults, formdata=None), None)


@bp.route("/quan-tri/cuoc-thi/<int:contest_id>/tuan-thi/<int:round_id>", methods=["GET", "POST"])
@role_required("organiser")
def edit_round(contest_id, round_id):
    contest = _contest_or_404(contest_id)
    rnd = _round_or_404(contest, round_id)
    if request.method == "POST":
        saved, form = _save_round(contest, rnd)
        if saved is not None:
            flash(_("Đã lưu tuần thi số %(n)d.", n=saved.number), "success")
            _warn_unshuffled(saved)
            return redirect(url_for("organise.edit_contest", contest_id=contest.id))
        return _round_page(contest, form, rnd, 422)
    return _round_page(contest, RoundForm.for_input(RoundInput.from_round(rnd), formdata=None), rnd)


@bp.route("/quan-tri/cuoc-thi/<int:contest_id>/tuan-thi/<int:round_id>/dung-khan-cap", methods=["POST"])
@role_required("organiser")
def emergency_stop(contest_id, round_id):
    """Dừng khẩn cấp: the round closes now, every running attempt is capped and closed with what was saved."""
    contest = _contest_or_404(contest_id)
    rnd = _round_or_404(contest, round_id)
    form = EmergencyStopForm(prefix="stop")
    problems = (
        form.problems() if form.validate_on_submit() else {"confirm": _("Phiên làm việc đã hết hạn, vui lòng thử lại.")}
    )
    now = utcnow()
    if rnd.opens_at > now:
        problems = {"confirm": _("Tuần thi chưa mở: hãy sửa thời gian mở hoặc xóa tuần thi thay vì dừng khẩn cấp.")}
    elif rnd.closes_at <= now and not running_count(rnd):
        problems = {"confirm": _("Tuần thi đã kết thúc và không còn lượt thi nào đang làm: không có gì để dừng.")}
    if problems:
        for name, message in problems.items():
            getattr(form, name).errors = [message]
        return _round_page(contest, RoundForm.for_input(RoundInput.from_round(rnd), formdata=None), rnd, 422, form)
    before_close = rnd.closes_at
    _record_stop(contest, rnd, before_close, None, via="emergency_stop", reason=form.reason.data.strip())
    result = stop_round(rnd)
    flash(
        _(
            "Đã dừng khẩn cấp tuần thi số %(n)d: %(closed)d lượt thi đang làm đã được đóng với các câu trả lời đã lưu.",
            n=rnd.number,
            closed=result.closed,
        ),
        "success",
    )
    return redirect(url_for("organise.edit_round", contest_id=contest.id, round_id=rnd.id))


@bp.route("/quan-tri/cuoc-thi/<int:contest_id>/tuan-thi/<int:round_id>/xoa", methods=["POST"])
@role_required("organiser")
def remove_round(contest_id, round_id):
    contest = _contest_or_404(contest_id)
    rnd = _round_or_404(contest, round_id)
    if not DeleteForm().validate_on_submit():
        abort(400)
    number = rnd.number
    try:
        record_action(
            current_user,
            "round_delete",
            object_type="round",
            object_id=rnd.id,
            contest_id=contest.id,
            number=number,
            title=rnd.title,
        )
        delete_round(rnd, commit=False)
        db.session.commit()
    except OrganiseError as exc:
        db.session.rollback()
        for message in exc.errors.values():
            flash(message, "error")
        return redirect(url_for("organise.edit_round", contest_id=contest.id, round_id=round_id))
    flash(_("Đã xóa tuần thi số %(n)d.", n=number), "success")
    return redirect(url_for("organise.edit_contest", contest_id=contest.id))


@bp.route("/anh-bia/<name>")
def banner(name):
    # Public: contestants' pages show it. Names are random and checked, so no path can escape the folder.
    if not BANNER_NAME.match(name):
        abort(404)
    response = send_from_directory(banner_dir(), name, max_age=7 * 24 * 3600)
    response.headers["Content-Security-Policy"] = "default-src 'none'"
    return response
