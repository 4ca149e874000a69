"""Infrastructure: the bottom layer. Extensions, configuration, Redis, metrics, logging, the
admission gate, the thread-pool offload, the gevent WSGI handler and the local Redis starter.

It imports nothing of the domain (question_bank, contest, realtime, server): the import
contract in pyproject.toml enforces it.
"""
