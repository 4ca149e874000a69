"""Home page, language switch and health probes."""

from flask import Blueprint

bp = Blueprint("main", __name__)

from contest.main import routes  # noqa: E402,F401
