"""Organiser pages of the legal question bank: list, search, authoring, review, categories, import/export."""

from contest.bank.routes import bp

__all__ = ["bp"]
