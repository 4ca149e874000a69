"""Accounts: registration, login, profile, roles."""

from contest.accounts.routes import bp

__all__ = ["bp"]
