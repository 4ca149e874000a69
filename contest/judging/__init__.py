"""Judging and results: ranking, review, disqualification, prizes, published snapshots, exports, statistics."""

from flask import Blueprint

bp = Blueprint("judging", __name__)

from contest.judging import routes  # noqa: E402,F401
