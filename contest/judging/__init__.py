"""Judging and results: ranking, review, disqualification, prizes, published snapshots, exports, statistics."""

from contest.judging.routes import bp

__all__ = ["bp"]
