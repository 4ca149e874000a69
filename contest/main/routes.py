"""Home page, language switch, liveness and readiness probes."""

from urllib.parse import urlsplit

from flask import Blueprint, current_app, jsonify, redirect, render_template, request, session, url_for
from sqlalchemy import text

from infra.extensions import csrf, db, get_redis, limiter
from infra.web_input import safe_next

bp = Blueprint("main", __name__)


@bp.route("/")
def home():
    return render_template("home.html")


@bp.route("/ngon-ngu/<lang>", methods=["POST"])
def set_language(lang):
    if lang in current_app.config["LANGUAGES"]:
        session["lang"] = lang
    target = safe_next(request.form.get("next")) or safe_next(_referrer_path()) or url_for("main.home")
    return redirect(target)


def _referrer_path():
    """The path (and query) of a same-site Referer, else None."""
    referrer = urlsplit(request.referrer or "")
    if referrer.netloc and referrer.netloc != request.host:
        return None
    return referrer.path + (f"?{referrer.query}" if referrer.query else "")


@bp.route("/healthz")
@limiter.exempt
@csrf.exempt
def healthz():
    return jsonify(status="ok")


@bp.route("/readyz")
@limiter.exempt
def readyz():
    checks = {}
    try:
        get_redis().ping()
        checks["redis"] = "ok"
    except Exception as exc:  # report, never raise: this is what the load balancer reads
        checks["redis"] = f"error: {exc.__class__.__name__}"
    try:
        db.session.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except Exception as exc:
        db.session.rollback()
        checks["database"] = f"error: {exc.__class__.__name__}"
    ready = all(v == "ok" for v in checks.values())
    return jsonify(status="ok" if ready else "unavailable", checks=checks), (200 if ready else 503)
