"""Live-final pages: set-up (/quan-tri/chung-ket/), the host console, the projector, results, the player page."""

import csv
import io
import re

import segno
from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from markupsafe import Markup
from sqlalchemy import select

from contest.accounts.guards import role_required
from contest.live import services
from contest.live.forms import SessionForm
from contest.live.models import LivePlayer, LiveSession
from contest.rounds.models import Contest
from infra.extensions import db
from infra.web_input import int_arg, parse_int
from question_bank.formats.table import quote_formula
from question_bank.services import QuestionFilter, category_choices, search_questions

bp = Blueprint("live", __name__)

_IDS = re.compile(r"^[\d,\s]*$")


def _ints(text):
    """The ids typed in a field; None when one of them is not an id (out of range included)."""
    values = [parse_int(x) for x in re.split(r"[,\s]+", text or "") if x]
    return None if None in values else values


@bp.route("/quan-tri/chung-ket/", methods=["GET", "POST"])
@role_required("organiser")
def sessions():
    form = SessionForm()
    form.contest_id.choices = [(c.id, c.title) for c in db.session.scalars(select(Contest).order_by(Contest.id.desc()))]
    form.draw_category_id.choices = [(0, _("— Không rút ngẫu nhiên —"))] + category_choices()
    problem = None
    if form.validate_on_submit():
        try:
            for name in ("question_ids", "rescue_positions"):
                if not _IDS.match(getattr(form, name).data or ""):
                    raise services.LiveError("bad_ids", _("Chỉ nhập các số, cách nhau bởi dấu phẩy."), name)
            for name in ("question_ids", "rescue_positions"):
                if _ints(getattr(form, name).data) is None:
                    raise services.LiveError("bad_ids", _("Số không hợp lệ (quá lớn hoặc bằng 0)."), name)
            ids = _ints(form.question_ids.data)
            if form.draw_category_id.data and form.draw_count.data:
                ids += [
                    i
                    for i in services.draw_by_blueprint(form.draw_category_id.data, form.draw_count.data)
                    if i not in ids
                ]
            contest = db.session.get(Contest, form.contest_id.data)
            if contest is None:  # deleted since the form was shown
                raise services.LiveError("no_contest", _("Không tìm thấy cuộc thi."), "contest_id")
            session = services.create_session(
                contest,
                current_user._get_current_object(),
                services.SessionInput(
                    title=form.title.data,
                    question_ids=ids,
                    seconds_per_question=form.seconds_per_question.data,
                    mode=form.mode.data,
                    rescue=form.rescue.data,
                    late_join=form.late_join.data,
                    rescue_positions=tuple(_ints(form.rescue_positions.data)),
                ),
            )
        except services.LiveError as exc:
            field = getattr(form, exc.field or "", None)
            if field is not None and hasattr(field, "errors"):
                field.errors = [*field.errors, exc.message]
            else:
                problem = exc.message
        else:
            flash(_("Đã tạo phiên chung kết. Mã PIN: %(pin)s", pin=session.pin), "success")
            return redirect(url_for("live.host", session_id=session.id))
    query = (request.args.get("q") or "")[:200]
    category_id = int_arg(request.args, "category", 0)
    found, _more = search_questions(QuestionFilter(q=query, category_id=category_id or None, status="approved"), 1, 30)
    found = [q for q in found if not q.multi_select and 2 <= len(q.options) <= services.MAX_OPTIONS]
    rows = db.session.scalars(select(LiveSession).order_by(LiveSession.id.desc()).limit(50)).all()
    return render_template(
        "live/sessions.html",
        form=form,
        problem=problem,
        rows=rows,
        found=found,
        query=query,
        category_id=category_id,
        categories=category_choices(),
    )


def _session_or_404(session_id):
    session = db.session.get(LiveSession, session_id)
    if session is None:
        abort(404)
    return session


def join_url(session):
    return url_for("live.play", pin=session.pin, _external=True)


def qr_svg(text):
    """The join URL as an inline SVG QR code (segno: no image file, no script)."""
    return Markup(segno.make(text, error="m").svg_inline(scale=8, border=2, dark="#111", light="#fff", omitsize=True))


# Who may drive a session (the console, the projector): organisers and the `host` role, which has no other
# organiser rights (no set-up, no bank, no contests).
HOSTS = ("organiser", "host")


@bp.route("/quan-tri/chung-ket/dieu-khien")
@role_required(*HOSTS)
def host_index():
    """A host's way in: the sessions still open, newest first."""
    rows = db.session.scalars(
        select(LiveSession).where(LiveSession.status == "open").order_by(LiveSession.id.desc()).limit(200)
    ).all()
    return render_template("live/host_index.html", rows=rows)


@bp.route("/quan-tri/chung-ket/<int:session_id>/dieu-khien")
@role_required(*HOSTS)
def host(session_id):
    session = _session_or_404(session_id)
    return render_template("live/host.html", session=session, join_url=join_url(session))


@bp.route("/quan-tri/chung-ket/<int:session_id>/man-hinh")
@role_required(*HOSTS)
def screen(session_id):
    session = _session_or_404(session_id)
    url = join_url(session)
    return render_template("live/screen.html", session=session, join_url=url, qr=qr_svg(url))


@bp.route("/quan-tri/chung-ket/ket-qua")
@role_required("organiser", "judge")
def results_index():
    """The judges' way in: every session that ended, newest first."""
    rows = db.session.scalars(
        select(LiveSession).where(LiveSession.status == "ended").order_by(LiveSession.id.desc()).limit(200)
    ).all()
    return render_template("live/results_index.html", rows=rows)


@bp.route("/quan-tri/chung-ket/<int:session_id>/ket-qua")
@role_required("organiser", "judge")
def results(session_id):
    session = _session_or_404(session_id)
    players = db.session.scalars(
        select(LivePlayer)
        .where(LivePlayer.session_id == session.id)
        .order_by(LivePlayer.final_order.is_(None), LivePlayer.final_order, LivePlayer.id)
    ).all()
    # One player's answers (?nguoi-choi=<user id>) or everyone's: the audit of the final.
    player_id = int_arg(request.args, "nguoi-choi", 0) or None
    flags = services.review_flags(session)
    only_flagged = request.args.get("can-kiem-tra") == "1"
    return render_template(
        "live/results.html",
        session=session,
        players=[p for p in players if p.user_id in flags] if only_flagged else players,
        only_flagged=only_flagged,
        answers=services.answer_rows(session, player_id),
        player_id=player_id,
        flags=flags,
        flag_labels=services.FLAG_LABELS,
        verified=services.verify_publication(session),
        can_judge=current_user.has_role("judge"),
    )


def _judge_action(session_id, action):
    session = _session_or_404(session_id)
    try:
        action(session)
    except services.LiveError as exc:
        flash(exc.message, "error")
    return redirect(url_for("live.results", session_id=session.id))


@bp.route("/quan-tri/chung-ket/<int:session_id>/loai", methods=["POST"])
@role_required("judge")
def disqualify(session_id):
    user_id = int_arg(request.form, "user_id", 0)
    reason = (request.form.get("reason") or "")[:1000]
    if request.form.get("undo"):
        return _judge_action(session_id, lambda s: services.reinstate(s, current_user._get_current_object(), user_id))
    return _judge_action(
        session_id, lambda s: services.disqualify(s, current_user._get_current_object(), user_id, reason)
    )


@bp.route("/quan-tri/chung-ket/<int:session_id>/cong-bo", methods=["POST"])
@role_required("judge")
def publish(session_id):
    return _judge_action(session_id, lambda s: services.publish(s, current_user._get_current_object()))


def _csv(header, rows, filename):
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    # Names, units and reasons are typed by people: a cell starting like a formula stays text (CSV injection).
    writer.writerows([[quote_formula(v) if isinstance(v, str) else v for v in row] for row in rows])
    return Response(
        "\ufeff" + out.getvalue(),  # a BOM: spreadsheet programs then read the Vietnamese names as UTF-8
        mimetype="text/csv",
        headers={"Content-Disposition": f"attachment; filename={filename}"},
    )


@bp.route("/quan-tri/chung-ket/<int:session_id>/ket-qua.csv", methods=["GET", "POST"])
@role_required("organiser", "judge")
def export(session_id):
    """The final ranking: phones masked (GET), or in full on a judge's or organiser's form post; both audited."""
    session = _session_or_404(session_id)
    full_data = request.method == "POST" and request.form.get("full_data") == "1"
    rows = services.export_rows(session, full_data=full_data)
    services.audit_export(session, current_user._get_current_object(), "ranking", full_data)
    return _csv(services.EXPORT_HEADER, rows, f"chung-ket-{session.id}.csv")


@bp.route("/quan-tri/chung-ket/<int:session_id>/cau-tra-loi.csv")
@role_required("organiser", "judge")
def answers_export(session_id):
    """Every player's answers and times (the audit of the final); audited."""
    session = _session_or_404(session_id)
    rows = services.answer_rows(session)
    services.audit_export(session, current_user._get_current_object(), "answers")
    return _csv(services.ANSWERS_HEADER, rows, f"chung-ket-{session.id}-cau-tra-loi.csv")


@bp.route("/chung-ket")
@login_required
def play():
    pin = (request.args.get("pin") or "")[:6]
    return render_template("live/play.html", pin=pin if pin.isdigit() else "")
