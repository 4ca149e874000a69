"""Accounts: registration, login, profile, roles."""

from flask import Blueprint

bp = Blueprint("accounts", __name__)

from contest.accounts import routes  # noqa: E402,F401
