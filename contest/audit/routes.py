"""The whole audit log as a page for organisers and judges (filters, CSV), and the template filters that show entries."""

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from flask import Blueprint, Response, render_template, request, stream_with_context
from flask_babel import gettext as _
from flask_login import current_user

from contest.accounts.guards import role_required
from contest.audit.presentation import ACTION_LABELS, OBJECT_LABELS, action_label, present
from contest.audit.services import audit_actors, audit_entries, audit_query, record_action
from infra.clock import format_vn_time, from_vn_time
from infra.csv_text import csv_chunks
from infra.extensions import db
from infra.web_input import int_arg, parse_int
from question_bank.formats.table import quote_formula

bp = Blueprint("audit", __name__)

PAGE_SIZE = 100
CSV_BATCH = 500
FIRST_DAY, LAST_DAY = date(2000, 1, 1), date(2100, 12, 31)


@bp.app_template_filter("vn_time_s")
def vn_time_s(value):
    """Việt Nam time to the second: the log and the judges' records say when things happened, to the second."""
    return format_vn_time(value, seconds=True)


@bp.app_template_filter("audit_action")
def audit_action(code):
    """An action code as its translated name (the code itself if it has none)."""
    return action_label(code)


@dataclass
class LogFilters:
    """The log's filters from the query string: what was asked (to fill the form again) and what it means."""

    raw: dict = field(default_factory=dict)  # query-string name -> the text given (kept in links and the form)
    query: dict = field(default_factory=dict)  # audit_query() keyword -> value
    errors: list = field(default_factory=list)


def _day(args, name, label, errors):
    text = (args.get(name) or "").strip()
    if not text:
        return None
    try:
        day = date.fromisoformat(text)
    except ValueError:
        errors.append(_("%(field)s không hợp lệ: hãy chọn một ngày (năm-tháng-ngày).", field=label))
        return None
    if not FIRST_DAY <= day <= LAST_DAY:
        errors.append(_("%(field)s phải trong khoảng năm 2000 đến 2100.", field=label))
        return None
    return day


def parse_filters(args) -> LogFilters:
    """Reads and checks every filter; a bad one is a specific error (the page answers 400 and lists nothing)."""
    f = LogFilters()
    for name in ("nguoi", "thao-tac", "doi-tuong", "ma", "tu-ngay", "den-ngay"):
        if args.get(name):
            f.raw[name] = args.get(name)
    if args.get("nguoi"):
        actor_id = parse_int(args.get("nguoi"))
        if actor_id is None:
            f.errors.append(_("Người thực hiện không hợp lệ."))
        else:
            f.query["actor_id"] = actor_id
    action = args.get("thao-tac")
    if action:
        if action in ACTION_LABELS:
            f.query["action"] = action
        else:
            f.errors.append(_("Thao tác không có trong danh sách."))
    kind = args.get("doi-tuong")
    if kind:
        if kind in OBJECT_LABELS:
            f.query["object_type"] = kind
            object_id = int_arg(args, "ma")
            if object_id is not None:
                f.query["object_id"] = object_id
        else:
            f.errors.append(_("Loại đối tượng không có trong danh sách."))
    since = _day(args, "tu-ngay", _("Từ ngày"), f.errors)
    until = _day(args, "den-ngay", _("Đến ngày"), f.errors)
    if since and until and since > until:
        f.errors.append(_("“Từ ngày” phải trước hoặc bằng “Đến ngày”."))
    elif not f.errors:
        # Days are Việt Nam days; the log stores UTC. "Đến ngày" includes the whole day.
        if since:
            f.query["since"] = from_vn_time(datetime.combine(since, time.min))
        if until:
            f.query["until"] = from_vn_time(datetime.combine(until + timedelta(days=1), time.min))
    return f


@bp.route("/quan-tri/nhat-ky")
@role_required("judge", "organiser")
def index():
    """The whole append-only log: organisers' and judges' actions, newest first, page by page, filtered."""
    filters = parse_filters(request.args)
    if filters.errors:
        return _page(filters, [], 1, False), 400
    if request.args.get("dinh-dang") == "csv":
        return _csv(filters)
    page = int_arg(request.args, "trang", 1, hi=1_000_000)
    entries = audit_entries(limit=PAGE_SIZE + 1, offset=(page - 1) * PAGE_SIZE, **filters.query)
    return _page(filters, entries[:PAGE_SIZE], page, len(entries) > PAGE_SIZE)


def _page(filters, entries, page, has_next):
    actions = sorted(ACTION_LABELS, key=lambda code: action_label(code).lower())
    return render_template(
        "audit/index.html",
        rows=present(entries),
        page=page,
        has_next=has_next,
        filters=filters,
        actors=audit_actors(),
        actions=[(code, action_label(code)) for code in actions],
        objects=OBJECT_LABELS,
    )


def _csv(filters):
    """The filtered log as CSV (UTF-8 with a BOM, like the other exports), newest first; the download is audited."""
    record_action(current_user, "audit_export", filters=filters.raw)
    db.session.commit()
    headers = [
        _("Thời điểm (giờ Việt Nam)"),
        _("Người thực hiện"),
        _("Thao tác"),
        _("Mã thao tác"),
        _("Đối tượng"),
        _("Thí sinh"),
        _("Lý do"),
        _("Chi tiết"),
    ]
    query = audit_query(**filters.query)

    def rows():
        result = db.session.scalars(query.execution_options(yield_per=CSV_BATCH))
        for batch in result.partitions(CSV_BATCH):
            for row in present(batch):
                values = [
                    format_vn_time(row.at, seconds=True),
                    row.actor,
                    row.action_label,
                    row.action,
                    row.object,
                    row.subject,
                    row.reason,
                    "\n".join(row.details),
                ]
                # Names and reasons are typed by people: a cell that looks like a formula stays text in Excel.
                yield [quote_formula(v) for v in values]

    return Response(
        stream_with_context(csv_chunks(headers, rows(), CSV_BATCH)),
        mimetype="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="nhat-ky-thao-tac.csv"'},
    )
