"""infra.prefetch: batches read ahead in a thread come out whole and in order; errors and early stops are safe."""

import threading

import pytest
from sqlalchemy import create_engine, text

from infra.prefetch import prefetched


def _readers():
    return [t for t in threading.enumerate() if t.name == "prefetch"]


def test_every_batch_comes_out_in_order_and_the_reader_ends():
    assert list(prefetched(iter(range(1000)), depth=3)) == list(range(1000))
    assert _readers() == []


def test_the_reader_runs_ahead_of_the_caller_by_at_most_depth():
    read = []

    def batches():
        for i in range(10):
            read.append(i)
            yield i

    items = prefetched(batches(), depth=2)
    assert next(items) == 0
    for _ in range(100):  # let the reader fill the hand-off
        if len(read) >= 4:
            break
        threading.Event().wait(0.01)
    # the one handed over, two waiting, one more read and blocked on the full hand-off: never all ten
    assert len(read) <= 4
    assert list(items) == list(range(1, 10))


def test_an_error_of_the_reader_is_raised_in_the_caller_after_the_batches_before_it():
    def batches():
        yield 1
        yield 2
        raise ValueError("hỏng ở lô 3")

    seen = []
    with pytest.raises(ValueError, match="hỏng ở lô 3"):
        for item in prefetched(batches()):
            seen.append(item)
    assert seen == [1, 2]
    assert _readers() == []


def test_a_caller_that_stops_early_stops_the_reader():
    read = []

    def endless():
        i = 0
        while True:
            read.append(i)
            yield i
            i += 1

    items = prefetched(endless(), depth=2)
    assert [next(items) for _ in range(5)] == [0, 1, 2, 3, 4]
    items.close()
    assert _readers() == []
    stopped_at = len(read)
    threading.Event().wait(0.05)
    assert len(read) == stopped_at


def test_batches_of_a_database_result_read_ahead_are_the_rows_in_order(tmp_path):
    engine = create_engine(f"sqlite:///{tmp_path / 'rows.db'}")
    with engine.connect() as conn:
        conn.execute(text("CREATE TABLE t (n INTEGER PRIMARY KEY)"))
        conn.execute(text("INSERT INTO t (n) VALUES (:n)"), [{"n": n} for n in range(1, 12_346)])
        result = conn.execute(text("SELECT n FROM t ORDER BY n").execution_options(yield_per=1000))
        assert [row.n for rows in prefetched(result.partitions()) for row in rows] == list(range(1, 12_346))
        # the connection is free again once the rows are read
        assert conn.execute(text("SELECT count(*) FROM t")).scalar_one() == 12_345
    engine.dispose()
