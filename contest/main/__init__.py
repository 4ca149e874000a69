"""Home page, language switch and health probes."""

from contest.main.routes import bp

__all__ = ["bp"]
