"""Organiser pages for contests and their rounds (tuần thi): create, edit, publish, blueprint, ranking rule."""

from contest.organise.routes import bp

__all__ = ["bp"]
