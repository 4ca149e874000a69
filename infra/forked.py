"""A part of a long text written by a forked child process while this process writes another part.

At a million rows a CSV export is Python work, one core's worth whatever the database: on SQLite each row is built
holding the GIL, so a thread cannot overlap it. A child forked from this process already holds everything it needs
(the query, the unit names, the prize tiers); it writes its rows to a temporary file while this process writes the
first part, then this process passes the file on. At 10^6 on SQLite the CSV took 7.0 s where it took 13.7 s in one
process (benchmarks/bench_results.py).

Only where forking is safe: not under gevent's monkey-patching (the server: its hub, sockets and greenlets are not
a child's business), only on a platform that forks. Elsewhere the caller writes every part itself
(`can_fork()`). The child opens its own database connections: the pool it inherited is dropped without closing
them (`Engine.dispose(close=False)`, SQLAlchemy's rule for forked processes; SQLite's: never use a connection
across a fork). The child ends with os._exit, so nothing of the parent's (atexit hooks, buffers) runs twice.
"""

import multiprocessing
import os
import sys
import tempfile
import traceback
from collections.abc import Callable, Iterator
from typing import TextIO

from infra.concurrent_reads import reads_in_parallel
from infra.offload import gevent_patched

_CHUNK = 1 << 20  # characters handed on per read of the child's file


def can_fork(engine=None) -> bool:
    """Whether a child can be forked here (to read `engine`'s database on its own connection)."""
    if engine is not None and not reads_in_parallel(engine):
        return False
    return hasattr(os, "fork") and not gevent_patched()


class ForkedPartError(RuntimeError):
    """The child that wrote a part failed: the text would be incomplete."""


def _run(write: Callable[[TextIO], None], path: str, engines) -> None:
    code = 1
    try:
        for engine in engines:
            engine.dispose(close=False)
        with open(path, "w", encoding="utf-8", newline="") as out:
            write(out)
        code = 0
    except BaseException:
        traceback.print_exc()
        sys.stderr.flush()
    finally:
        os._exit(code)


class ForkedPart:
    """Starts a child that runs write(text_file) into a temporary file; `chunks()` waits for it and yields the
    file's text. `close()` (also on leaving a with-block) stops a child that is still running and removes the file.
    """

    def __init__(self, write: Callable[[TextIO], None], engines=()):
        fd, self.path = tempfile.mkstemp(prefix="part-", suffix=".txt")
        os.close(fd)
        context = multiprocessing.get_context("fork")
        self.process = context.Process(target=_run, args=(write, self.path, tuple(engines)), daemon=True)
        self.process.start()

    def chunks(self) -> Iterator[str]:
        self.process.join()
        if self.process.exitcode != 0:
            raise ForkedPartError(f"the process writing a part ended with code {self.process.exitcode}")
        with open(self.path, encoding="utf-8", newline="") as part:
            while chunk := part.read(_CHUNK):
                yield chunk

    def close(self) -> None:
        if self.process.is_alive():
            self.process.kill()
        self.process.join()
        self.process.close()
        try:
            os.unlink(self.path)
        except FileNotFoundError:
            pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
