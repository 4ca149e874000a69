"""Reading ahead: the next batches come from a thread while the caller works on the current one.

psycopg waits for its server without holding the GIL, so the database's work on the next batch overlaps Python's
work on this one: a CSV of a million rows is formatted while the next rows are read (on PostgreSQL at 10^6:
11.0 s where reading in turn took 15.2). sqlite3 builds its rows' Python objects holding the GIL, so on SQLite
little overlaps. Under gevent's monkey-patching the thread is a greenlet: nothing overlaps, the batches, their
order and any error are the same.

The caller must not use the connection the batches come from until the iteration has ended (the generator returns
only after the thread has stopped, also when the caller stops early or the reader fails).
"""

import queue
import threading
from collections.abc import Iterable, Iterator

_END = object()


class _Failed:
    def __init__(self, error: BaseException):
        self.error = error


def prefetched(batches: Iterable, depth: int = 2) -> Iterator:
    """Yields the items of `batches`, read up to `depth` items ahead in a thread; the reader's errors are raised
    here."""
    handoff: queue.Queue = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def read():
        try:
            for batch in batches:
                handoff.put(batch)
                if stop.is_set():
                    return
            handoff.put(_END)
        except BaseException as error:  # handed over and raised in the caller's thread
            handoff.put(_Failed(error))

    reader = threading.Thread(target=read, name="prefetch", daemon=True)
    reader.start()
    try:
        while True:
            item = handoff.get()
            if item is _END:
                return
            if isinstance(item, _Failed):
                raise item.error
            yield item
    finally:
        stop.set()
        while reader.is_alive():  # unblock a reader waiting for room, then let it see `stop`
            try:
                handoff.get(timeout=0.05)
            except queue.Empty:
                pass
        reader.join()
