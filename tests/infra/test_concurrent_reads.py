"""infra.concurrent_reads: each statement's rows come back in the statements' order, read on their own threads and
connections; an error in one is raised to the caller."""

import threading

import pytest
from sqlalchemy import create_engine, event, text
from sqlalchemy.exc import OperationalError

from infra.concurrent_reads import read_concurrently


@pytest.fixture
def engine(tmp_path):
    engine = create_engine(f"sqlite:///{tmp_path / 'reads.db'}")
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE t (n INTEGER)"))
        connection.execute(text("INSERT INTO t VALUES (1), (2), (3), (4)"))
    yield engine
    engine.dispose()


def test_rows_come_back_per_statement_in_order_from_reader_threads(engine):
    threads = []
    event.listen(engine, "before_cursor_execute", lambda *args: threads.append(threading.current_thread().name))
    results = read_concurrently(
        engine,
        [
            text("SELECT n FROM t WHERE n > 2 ORDER BY n"),
            text("SELECT count(*) FROM t"),
            text("SELECT n * 10 FROM t ORDER BY n DESC"),
        ],
    )
    assert [[tuple(row) for row in rows] for rows in results] == [[(3,), (4,)], [(4,)], [(40,), (30,), (20,), (10,)]]
    assert len(threads) == 3 and all(name.startswith("read") for name in threads)


def test_an_error_in_one_statement_is_raised_to_the_caller(engine):
    with pytest.raises(OperationalError, match="no_such_table"):
        read_concurrently(engine, [text("SELECT n FROM t"), text("SELECT * FROM no_such_table")])


def test_one_statement_runs_on_the_callers_thread(engine):
    threads = []
    event.listen(engine, "before_cursor_execute", lambda *args: threads.append(threading.current_thread()))
    assert [tuple(row) for row in read_concurrently(engine, [text("SELECT max(n) FROM t")])[0]] == [(4,)]
    assert threads == [threading.current_thread()]


def test_an_in_memory_database_is_read_on_one_connection():
    engine = create_engine("sqlite://")  # each new connection would be a new, empty database
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE t (n INTEGER)"))
        connection.execute(text("INSERT INTO t VALUES (7)"))
    results = read_concurrently(engine, [text("SELECT n FROM t"), text("SELECT count(*) FROM t")])
    assert [[tuple(row) for row in rows] for rows in results] == [[(7,)], [(1,)]]
