"""The contestant's pages: contests, rules and countdown, the attempt page, results, public leaderboard."""

from contest.play.routes import bp

__all__ = ["bp"]
