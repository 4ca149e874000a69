"""Organiser pages of the legal question bank: list, search, authoring, review, categories, import/export."""

from flask import Blueprint

bp = Blueprint("bank", __name__, url_prefix="/quan-tri/ngan-hang")

from contest.bank import routes  # noqa: E402,F401
