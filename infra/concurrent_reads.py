"""Independent read-only statements run at the same time, each on its own pooled connection.

A statistics page at a million attempts is three GROUP BY passes of 2-2.5 s each. The database does a GROUP BY's
work before its first row comes back; sqlite3 and psycopg both wait for that without holding the GIL, so on a
second core the passes overlap (at 10^6 on SQLite the statistics took 4.0 s where one pass after another took
8.4, benchmarks/bench_results.py). Each statement sees the data committed when it starts, as it would one after
another: neither driver's default keeps one snapshot across statements (pysqlite opens no transaction for a
SELECT; PostgreSQL's READ COMMITTED takes a snapshot per statement).

Under gevent's monkey-patching (the server) the statements run one after another, on one connection: its threads
are greenlets. So they do on an in-memory SQLite database, which other connections would not see.
"""

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy.engine import Engine

from infra.offload import gevent_patched


def reads_in_parallel(engine: Engine) -> bool:
    """Whether reads of `engine`'s database on other connections and threads run beside this one: not under gevent
    (its threads are greenlets), not on an in-memory SQLite database (each connection would open its own, or all
    would share one)."""
    in_memory = engine.dialect.name == "sqlite" and engine.url.database in (None, "", ":memory:")
    return not gevent_patched() and not in_memory


def read_concurrently(engine: Engine, statements: Sequence) -> list[list]:
    """The rows of each statement (a list of Row per statement, in the statements' order); the first error raised
    by any of them is raised here, after every statement has ended."""

    def rows(statement):
        with engine.connect() as connection:
            return connection.execute(statement).all()

    if len(statements) < 2 or not reads_in_parallel(engine):
        with engine.connect() as connection:
            return [connection.execute(statement).all() for statement in statements]
    with ThreadPoolExecutor(max_workers=len(statements), thread_name_prefix="read") as pool:
        futures = [pool.submit(rows, statement) for statement in statements]
    return [future.result() for future in futures]
