"""Organiser maintenance of the unit tree (province → unit) that contestants pick from."""

from contest.units.routes import bp

__all__ = ["bp"]
