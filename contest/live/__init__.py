"""Live finals: a host-paced round on the big screen, in points or "Rung chuông vàng" elimination mode."""

from contest.live.routes import bp

__all__ = ["bp"]
