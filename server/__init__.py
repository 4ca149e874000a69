"""The composition root: the app factory (`server.app.create_app`) wires every package together,
`server.serve` runs it under gevent, and `server.cli` is the `contest` console script.

This module stays light on purpose: `python -m server.serve` imports it before gevent's
monkey-patching, so it must not import Flask, SQLAlchemy, ssl or threading users.
"""
