"""Judge pages, exports and the public results page (thin: the work is in the modules beside this one)."""

import os
import tempfile

from flask import (
    Blueprint,
    Response,
    abort,
    after_this_request,
    flash,
    redirect,
    render_template,
    request,
    send_file,
    stream_with_context,
    url_for,
)
from flask_babel import format_decimal
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from contest.accounts.guards import role_required
from contest.accounts.models import User
from contest.audit import audit_log, present
from contest.judging import board, printout, publishing, settler
from contest.judging.disqualification import (
    StaleDecision,
    already_disqualified,
    check_reinstatable,
    current_decision,
    decision_token,
    disqualifications,
    disqualify,
    reinstate,
)
from contest.judging.errors import JudgingError
from contest.judging.exports import (
    ExportError,
    ExportSource,
    audit_export,
    csv_chunks,
    unit_names,
    write_xlsx,
)
from contest.judging.flags import (
    FLAG_LABELS,
    ensure_review_flags,
    flag_counts,
    flagged_people,
    refresh_review_flags,
    stored_flags,
    update_thresholds,
)
from contest.judging.forms import (
    DisqualifyForm,
    ExportForm,
    PredictionScopeForm,
    PrizeTiersForm,
    PublishForm,
    RankingRuleForm,
    RecomputeFlagsForm,
    ReinstateForm,
    ReviewSettingsForm,
)
from contest.judging.prizes import award_prizes, parse_tiers, prize_tiers, set_prize_tiers, tier_line
from contest.judging.ranking import (
    CRITERIA_LABELS,
    PREDICTION_SCOPES,
    effective_rule,
    prediction_scope,
    prediction_target,
    rank_entries,
    ranked_count,
)
from contest.judging.settings import set_prediction_scope, set_ranking_rule, settings_for
from contest.judging.settlement import is_closed, is_settled, settled_at
from contest.judging.stats import round_statistics, statistics_csv_chunks
from contest.rounds.models import Attempt, Round
from contest.rounds.ranking_rule import RankingRuleError
from infra.clock import format_vn_time, utcnow
from infra.extensions import db
from infra.web_input import int_arg, parse_int, safe_next

bp = Blueprint("judging", __name__)

PAGE_SIZE = 50


def _round_or_404(round_id) -> Round:
    round_ = db.session.get(Round, round_id)
    if round_ is None:
        abort(404)
    return round_


@bp.app_template_filter("seconds")
def seconds(ms):
    """Milliseconds as seconds with three decimals in the reader's number format ("89,396" in Vietnamese,
    "89.396" in English), like every other number on the judges' pages (Flask-Babel)."""
    return format_decimal(ms / 1000, format="#,##0.000") if ms is not None else ""


@bp.route("/giam-khao/")
@role_required("judge")
def index():
    rounds = db.session.scalars(select(Round).order_by(Round.closes_at.desc())).all()
    return render_template("judging/index.html", rounds=rounds, now=utcnow())


@bp.route("/giam-khao/vong/<int:round_id>")
@role_required("judge")
def round_page(round_id):
    round_ = _round_or_404(round_id)
    page = int_arg(request.args, "trang", 1, hi=1_000_000)
    publishing.ensure_official_board(round_)  # the published standings on the live board, if Redis lost them
    target = prediction_target(round_)
    # This page only reads. A settled round's target, flags and ranking are fixed and stored by the worker
    # (contest.judging.settler); until it is done the page says so. A round still open is ranked live.
    stored = is_settled(round_)
    if stored:
        settler.settle_if_small(round_)  # a small round does not wait for the worker's next pass
    # Closed but not settled yet (the last attempts are still running or being written), or settled but the
    # worker has not finished: the page says so and ranks nothing.
    settling = is_closed(round_) and not (stored and settler.ready_for_reading(round_))
    total = 0 if settling else (board.total(round_.id) if stored else ranked_count(round_))
    pages = max(1, -(-total // PAGE_SIZE))
    page = min(page, pages)
    offset = (page - 1) * PAGE_SIZE
    tiers = prize_tiers(round_.id)
    if settling:
        ranked = []
    elif stored:
        ranked = board.page(round_.id, offset, PAGE_SIZE)
    else:
        ranked = rank_entries(round_, target=target, limit=PAGE_SIZE, offset=offset)
    entries = list(award_prizes(ranked, tiers))
    flags = stored_flags(round_.id, [e.user_id for e in entries])
    flagged_count, flags_by_kind = flag_counts(round_.id)
    snapshots = publishing.snapshots(round_.id)
    return render_template(
        "judging/round.html",
        round=round_,
        entries=entries,
        flags=flags,
        flag_labels=FLAG_LABELS,
        units=unit_names(),
        total=total,
        page=page,
        pages=pages,
        target=target,
        tiers=tiers,
        rule=[CRITERIA_LABELS[k] for k in effective_rule(round_)],
        closed=is_closed(round_),
        disqualified=disqualifications(round_.id),
        snapshots=snapshots,
        changed=publishing.changed_since_publication(round_),
        publish_form=PublishForm(formdata=None, expected_version=snapshots[0].version if snapshots else 0),
        prediction_scope=PREDICTION_SCOPES[prediction_scope(round_.id)],
        export_form=ExportForm(),
        flagged_count=flagged_count,
        flags_by_kind=flags_by_kind,
        settings=settings_for(round_),
        recompute_form=RecomputeFlagsForm(),
        stored=stored,
        settling=settling,
        settles_at=settled_at(round_),
    )


@bp.route("/giam-khao/vong/<int:round_id>/can-xem-xet")
@role_required("judge")
def flagged(round_id):
    """The flagged entries, page by page (there can be many thousands), optionally one kind of flag."""
    round_ = _round_or_404(round_id)
    ensure_review_flags(round_)
    kind = request.args.get("loai") or None
    if kind not in FLAG_LABELS:
        kind = None
    flagged_count, flags_by_kind = flag_counts(round_.id)
    total = flags_by_kind.get(kind, 0) if kind else flagged_count
    pages = max(1, -(-total // PAGE_SIZE))
    page = min(int_arg(request.args, "trang", 1, hi=1_000_000), pages)
    people = flagged_people(round_.id, flag=kind, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE)
    return render_template(
        "judging/flagged.html",
        round=round_,
        people=people,
        flag_labels=FLAG_LABELS,
        kind=kind,
        total=total,
        page=page,
        pages=pages,
        flagged_count=flagged_count,
        flags_by_kind=flags_by_kind,
        units=unit_names(),
        settings=settings_for(round_),
        recompute_form=RecomputeFlagsForm(),
    )


@bp.route("/giam-khao/vong/<int:round_id>/can-xem-xet/tinh-lai", methods=["POST"])
@role_required("judge")
def recompute_flags(round_id):
    round_ = _round_or_404(round_id)
    if RecomputeFlagsForm().validate_on_submit():
        count = refresh_review_flags(round_, current_user)
        if is_settled(round_):
            settler.request_rebuild(round_.id)  # the worker stores the ranking again: no heavy work on a click
        flash(_("Đã tính lại cảnh báo: %(count)s bài cần xem xét.", count=count), "success")
    back = safe_next(request.form.get("next"))
    return redirect(back if back and back.startswith("/giam-khao/") else url_for("judging.flagged", round_id=round_.id))


def _person_or_404(user_id) -> User:
    person = db.session.get(User, user_id)
    if person is None:
        abort(404)
    return person


def _render_entry(round_, person, form=None, refusal=None, status=200):
    """The entry review page: the person, their attempts, the current decision and the one action it allows
    (disqualify a ranked entry, reinstate a disqualified one), plus a refusal when a request was out of date."""
    record = current_decision(round_.id, person.id)
    if form is None or isinstance(form, ReinstateForm) != (record is not None):
        form = (
            ReinstateForm(formdata=None, decision=decision_token(record)) if record else DisqualifyForm(formdata=None)
        )
    attempts = db.session.scalars(
        select(Attempt).where(Attempt.round_id == round_.id, Attempt.user_id == person.id).order_by(Attempt.number)
    ).all()
    ensure_review_flags(round_)
    flags = stored_flags(round_.id, [person.id]).get(person.id, set())
    return render_template(
        "judging/entry.html",
        round=round_,
        person=person,
        attempts=attempts,
        record=record,
        form=form,
        refusal=refusal,
        flags=flags,
        flag_labels=FLAG_LABELS,
        units=unit_names(),
        history=[e for e in audit_log(round_.id, limit=1000) if e.subject_user_id == person.id],
    ), status


@bp.route("/giam-khao/vong/<int:round_id>/bai/<int:user_id>")
@role_required("judge")
def entry_page(round_id, user_id):
    return _render_entry(_round_or_404(round_id), _person_or_404(user_id))


def _confirm_page(round_, form, action_url, title, lines, confirm_label, back_url):
    """The confirmation step without script: the same form again, every field hidden, plus confirmed=1."""
    form.confirmed.data = "1"
    return render_template(
        "judging/confirm.html",
        round=round_,
        form=form,
        action_url=action_url,
        title=title,
        lines=lines,
        confirm_label=confirm_label,
        back_url=back_url,
    )


def _decide(round_id, user_id, form, decide, confirm_title, confirm_label, done_message):
    """The shared path of the two decisions: validate, refuse a stale page (409), confirm, decide, report."""
    round_, person = _round_or_404(round_id), _person_or_404(user_id)
    if not form.validate_on_submit():
        return _render_entry(round_, person, form, status=422)
    try:
        if not form.is_confirmed():
            decide(round_, person, dry_run=True)  # refuses a stale page before asking for confirmation
            return _confirm_page(
                round_,
                form,
                request.path,
                confirm_title % {"name": person.full_name},
                [_("Lý do: %(reason)s", reason=form.reason.data.strip())],
                confirm_label,
                url_for("judging.entry_page", round_id=round_.id, user_id=person.id),
            )
        decide(round_, person, dry_run=False)
    except StaleDecision as exc:
        db.session.rollback()
        return _render_entry(round_, person, refusal=str(exc), status=409)
    except JudgingError as exc:
        db.session.rollback()
        form.reason.errors.append(str(exc))
        return _render_entry(round_, person, form, status=422)
    flash(done_message % {"name": person.full_name}, "success")
    return redirect(url_for("judging.round_page", round_id=round_.id))


@bp.route("/giam-khao/vong/<int:round_id>/bai/<int:user_id>/loai", methods=["POST"])
@role_required("judge")
def disqualify_entry(round_id, user_id):
    """Disqualifies an entry the judge saw ranked; refused (409, nothing changes) if it is disqualified already."""
    form = DisqualifyForm()

    def decide(round_, person, dry_run):
        if dry_run:
            record = current_decision(round_.id, person.id)
            if record is not None:
                raise already_disqualified(record)
            return
        disqualify(round_, person.id, form.reason.data, current_user)

    return _decide(
        round_id,
        user_id,
        form,
        decide,
        _("Loại bài dự thi của %(name)s?"),
        _("Xác nhận loại bài"),
        _("Đã loại bài dự thi của %(name)s."),
    )


@bp.route("/giam-khao/vong/<int:round_id>/bai/<int:user_id>/khoi-phuc", methods=["POST"])
@role_required("judge")
def reinstate_entry(round_id, user_id):
    """Reinstates the disqualification the judge saw (`decision`); refused (409) if the page is out of date."""
    form = ReinstateForm()

    def decide(round_, person, dry_run):
        if dry_run:
            check_reinstatable(round_.id, person.id, form.decision.data)
            return
        reinstate(round_, person.id, form.reason.data, current_user, expected=form.decision.data)

    return _decide(
        round_id,
        user_id,
        form,
        decide,
        _("Khôi phục bài dự thi của %(name)s?"),
        _("Xác nhận khôi phục"),
        _("Đã khôi phục bài dự thi của %(name)s."),
    )


@bp.route("/giam-khao/vong/<int:round_id>/cai-dat", methods=["GET", "POST"])
@role_required("judge", "organiser")
def settings_page(round_id):
    round_ = _round_or_404(round_id)
    settings = settings_for(round_)
    tiers_form = PrizeTiersForm(prefix="tiers")
    review_form = ReviewSettingsForm(prefix="review", obj=settings)
    rule_form = RankingRuleForm(prefix="rule")
    rule_form.set_choices(CRITERIA_LABELS)
    scope_form = PredictionScopeForm(prefix="scope")
    scope_form.set_choices(PREDICTION_SCOPES)
    if request.method == "GET":
        scope_form.scope.data = prediction_scope(round_.id)
        for slot, key in zip(rule_form.slots(), list(round_.ranking_rule or []) + [""] * 6):
            slot.data = key
        tiers_form.tiers.data = "\n".join(tier_line(t) for t in prize_tiers(round_.id))
    if tiers_form.submit.data and tiers_form.validate_on_submit():
        try:
            set_prize_tiers(round_, parse_tiers(tiers_form.tiers.data), current_user)
            flash(_("Đã lưu cơ cấu giải."), "success")
            return redirect(url_for("judging.settings_page", round_id=round_.id))
        except JudgingError as exc:
            db.session.rollback()
            tiers_form.tiers.errors.append(str(exc))
    elif rule_form.submit.data and rule_form.validate_on_submit():
        try:
            set_ranking_rule(round_, rule_form.rule(), current_user)
            flash(_("Đã lưu quy tắc xếp hạng."), "success")
            return redirect(url_for("judging.settings_page", round_id=round_.id))
        except RankingRuleError as exc:
            db.session.rollback()
            rule_form.criterion_1.errors.append(str(exc))
    elif scope_form.submit.data and scope_form.validate_on_submit():
        try:
            set_prediction_scope(round_, scope_form.scope.data, current_user)
            flash(_("Đã lưu cách tính đáp án câu dự đoán."), "success")
            return redirect(url_for("judging.settings_page", round_id=round_.id))
        except JudgingError as exc:
            db.session.rollback()
            scope_form.scope.errors.append(str(exc))
    elif review_form.submit.data and review_form.validate_on_submit():
        try:
            update_thresholds(
                round_,
                current_user,
                review_form.min_time_seconds.data,
                review_form.max_accounts_per_ip.data,
                review_form.max_accounts_per_device.data,
            )
            flash(_("Đã lưu ngưỡng cảnh báo."), "success")
            return redirect(url_for("judging.settings_page", round_id=round_.id))
        except JudgingError as exc:
            db.session.rollback()
            review_form.min_time_seconds.errors.append(str(exc))
    errors = tiers_form.errors or review_form.errors or rule_form.errors or scope_form.errors
    return render_template(
        "judging/settings.html",
        round=round_,
        tiers_form=tiers_form,
        review_form=review_form,
        rule_form=rule_form,
        scope_form=scope_form,
    ), (422 if errors else 200)


@bp.route("/giam-khao/vong/<int:round_id>/cong-bo", methods=["POST"])
@role_required("judge")
def publish(round_id):
    round_ = _round_or_404(round_id)
    form = PublishForm()
    back = url_for("judging.round_page", round_id=round_.id)
    if not form.validate_on_submit():
        flash(_("Ghi chú quá dài (tối đa 500 ký tự)."), "error")
        return redirect(back)
    latest = publishing.latest_snapshot(round_.id)
    seen = form.expected_version.data
    if seen is not None and latest is not None and seen != latest.version:
        # Another judge published in between: this judge has not seen that version, so nothing is published.
        flash(
            _(
                "Phiên bản %(version)s vừa được công bố lúc %(time)s trong khi bạn xem trang cũ. Chưa công bố thêm; "
                "hãy xem lại rồi công bố nếu vẫn cần.",
                version=latest.version,
                time=format_vn_time(latest.published_at, seconds=True),
            ),
            "error",
        )
        return redirect(back)
    if not form.is_confirmed():
        lines = [
            _(
                "Bảng xếp hạng hiện tại sẽ được công bố thành phiên bản %(version)s trên trang kết quả công khai.",
                version=(latest.version if latest else 0) + 1,
            ),
            _("Phiên bản đã công bố không thể sửa hay xoá; thay đổi sau đó cần công bố phiên bản mới."),
        ]
        if form.note.data:
            lines.append(_("Ghi chú: %(note)s", note=form.note.data))
        return _confirm_page(round_, form, request.path, _("Công bố kết quả?"), lines, _("Xác nhận công bố"), back)
    try:
        snapshot = publishing.publish(round_, current_user, note=form.note.data or "")
        flash(
            _(
                "Đã công bố phiên bản %(version)s. Mã SHA-256: %(digest)s",
                version=snapshot.version,
                digest=snapshot.digest,
            ),
            "success",
        )
    except JudgingError as exc:
        db.session.rollback()
        flash(str(exc), "error")
    return redirect(back)


@bp.route("/giam-khao/vong/<int:round_id>/xuat", methods=["POST"])
@role_required("judge")
def export(round_id):
    round_ = _round_or_404(round_id)
    form = ExportForm()
    if not form.validate_on_submit():
        flash(_("Định dạng xuất không hợp lệ."), "error")
        return redirect(url_for("judging.round_page", round_id=round_.id))
    raw_version = request.form.get("version") or None
    version = parse_int(raw_version) if raw_version else None
    if raw_version and version is None:
        flash(_("Phiên bản công bố không hợp lệ."), "error")
        return redirect(url_for("judging.round_page", round_id=round_.id))
    try:
        source = ExportSource(round_, version=version, winners_only=form.winners.data)
    except ExportError as exc:
        flash(str(exc), "error")
        return redirect(url_for("judging.round_page", round_id=round_.id))
    audit_export(current_user, round_, form.format.data, source, form.full_data.data, via="web")
    if form.format.data == "csv":
        return Response(
            stream_with_context(csv_chunks(source, full_data=form.full_data.data)),
            mimetype="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="{source.filename("csv")}"'},
        )
    handle, path = tempfile.mkstemp(suffix=".xlsx")
    os.close(handle)

    @after_this_request
    def remove_file(response):
        # The open file handle keeps the data readable while it streams; the name can go now.
        try:
            os.unlink(path)
        except OSError:
            pass
        return response

    write_xlsx(source, path, full_data=form.full_data.data)
    return send_file(
        open(path, "rb"),
        as_attachment=True,
        download_name=source.filename("xlsx"),
        mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    )


@bp.route("/giam-khao/vong/<int:round_id>/thong-ke")
@role_required("judge", "organiser")
def statistics(round_id):
    round_ = _round_or_404(round_id)
    stats = round_statistics(round_)
    if request.args.get("dinh-dang") == "csv":
        return Response(
            stream_with_context(statistics_csv_chunks(stats)),
            mimetype="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="thong-ke-vong-{round_.id}.csv"'},
        )
    return render_template("judging/stats.html", round=round_, stats=stats)


@bp.route("/giam-khao/vong/<int:round_id>/nhat-ky")
@role_required("judge")
def audit(round_id):
    round_ = _round_or_404(round_id)
    return render_template("judging/audit.html", round=round_, rows=present(audit_log(round_.id, limit=2000)))


def _published_winners(round_):
    snapshot = publishing.latest_snapshot(round_.id)
    if snapshot is None:
        return None, []
    return snapshot, list(publishing.snapshot_entries(snapshot, winners_only=True))


@bp.route("/giam-khao/vong/<int:round_id>/in")
@role_required("judge")
def print_winners(round_id):
    return render_template("judging/print.html", pdf=False, **printout.annex_context(_round_or_404(round_id)))


@bp.route("/giam-khao/vong/<int:round_id>/in.pdf")
@role_required("judge")
def print_winners_pdf(round_id):
    round_ = _round_or_404(round_id)
    snapshot = publishing.latest_snapshot(round_.id)
    name = f"danh-sach-dat-giai-vong-{round_.id}-{f'v{snapshot.version}' if snapshot else 'tam-thoi'}.pdf"
    return Response(
        printout.render_pdf(round_),
        mimetype="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@bp.route("/ket-qua/vong/<int:round_id>")
def public_results(round_id):
    round_ = _round_or_404(round_id)
    if not round_.contest.published:  # the organiser hid the contest: its results go with it
        abort(404)
    snapshot, entries = _published_winners(round_)
    if snapshot is None and not round_.contest.published:
        abort(404)  # a contest not shown to the public yet
    # Before publication the address already exists for citizens: it says the results are not published yet.
    return render_template("judging/public.html", round=round_, snapshot=snapshot, entries=entries, units=unit_names())


@bp.route("/ket-qua/vong/<int:round_id>/phien-ban-<int:version>.csv")
def public_file(round_id, version):
    """The public file of a published version: its SHA-256 is the published digest (docs/exports.md)."""
    round_ = _round_or_404(round_id)
    if not round_.contest.published:
        abort(404)
    snapshot = publishing.snapshot_version(round_.id, version)
    if snapshot is None or snapshot.digest_format != 2:
        abort(404)  # versions published before the public file have no downloadable form of their digest
    return Response(
        stream_with_context(publishing.public_csv_chunks(snapshot)),
        mimetype="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{publishing.public_filename(snapshot)}"'},
    )
