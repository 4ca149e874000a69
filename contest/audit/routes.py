"""The whole audit log as a page for organisers and judges, and the template filters that show entries."""

import json

from flask import Blueprint, render_template, request

from contest.accounts.guards import role_required
from contest.audit.services import OBJECT_LABELS, audit_entries
from infra.clock import format_vn_time
from infra.web_input import int_arg

bp = Blueprint("audit", __name__)

PAGE_SIZE = 100


@bp.app_template_filter("vn_time_s")
def vn_time_s(value):
    """Việt Nam time to the second: the log and the judges' records say when things happened, to the second."""
    return format_vn_time(value, seconds=True)


@bp.app_template_filter("audit_details")
def audit_details(details):
    """An audit entry's details as readable JSON (Vietnamese letters kept, not \\u-escaped); escaped by Jinja."""
    return json.dumps(details or {}, ensure_ascii=False, sort_keys=True)


@bp.route("/quan-tri/nhat-ky")
@role_required("judge", "organiser")
def index():
    """The whole append-only log: organisers' and judges' actions, newest first, page by page."""
    kind = request.args.get("doi-tuong") or None
    if kind not in OBJECT_LABELS:
        kind = None
    object_id = int_arg(request.args, "ma")
    page = int_arg(request.args, "trang", 1, hi=1_000_000)
    entries = audit_entries(
        object_type=kind,
        object_id=object_id if kind else None,
        limit=PAGE_SIZE + 1,
        offset=(page - 1) * PAGE_SIZE,
    )
    has_next = len(entries) > PAGE_SIZE
    return render_template(
        "audit/index.html",
        entries=entries[:PAGE_SIZE],
        page=page,
        has_next=has_next,
        kind=kind,
        object_id=object_id,
        objects=OBJECT_LABELS,
    )
