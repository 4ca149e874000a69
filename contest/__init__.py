"""The contest web application: accounts, contests, rounds, attempts, judging.

This module stays light on purpose: `python -m contest.serve` imports it before gevent's
monkey-patching, so it must not import Flask, SQLAlchemy, ssl or threading users. The app
factory lives in `contest.app`.
"""


def N_(message):
    """Marks a string for the catalog without translating it yet."""
    return message


def create_app(*args, **kwargs):
    from contest.app import create_app as _create_app

    return _create_app(*args, **kwargs)
