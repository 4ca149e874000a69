"""The contestant's pages: contests, rules and countdown, the attempt page, results, public leaderboard."""

from flask import Blueprint

bp = Blueprint("play", __name__)

from contest.play import routes  # noqa: E402,F401
