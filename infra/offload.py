"""Runs CPU-heavy calls that release the GIL (scrypt) on a native thread when serving under gevent.

A scrypt password check costs ~50-100 ms of CPU. Called on the gevent loop it freezes every
socket of the process for that long (a login wave then shows up as answer-ack spikes); on a
thread from gevent's pool only the calling greenlet waits, because hashlib.scrypt releases the
GIL while OpenSSL works. Without monkey-patching (CLI, tests) the call is made directly.
"""

import gevent
from gevent import monkey


def gevent_patched() -> bool:
    """True in a server process (`python -m server.serve` monkey-patches); False in tests and the CLI."""
    return monkey.is_module_patched("socket")


def run_blocking(fn, *args, **kwargs):
    if not gevent_patched():
        return fn(*args, **kwargs)
    return gevent.get_hub().threadpool.apply(fn, args, kwargs)
