"""Organiser pages for contests and their rounds (tuần thi): create, edit, publish, blueprint, ranking rule."""

from flask import Blueprint

bp = Blueprint("organise", __name__)

from contest.organise import routes  # noqa: E402,F401
