"""Organiser maintenance of the unit tree (province → unit) that contestants pick from."""

from flask import Blueprint

bp = Blueprint("units", __name__, url_prefix="/quan-tri/don-vi")

from contest.units import routes  # noqa: E402,F401
