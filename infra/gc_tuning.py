"""Garbage collection for a process that holds thousands of long-lived connections.

CPython's cyclic collector walks every tracked object of a generation. With ~5,000 WebSockets a process holds
millions of long-lived objects (sockets, greenlets, Engine.IO and Socket.IO state), and each full (gen2)
collection then stopped the whole process for 0.4-1.7 s every 20-30 s: the p99 spikes of the load tests.

The policy here (measured in docs/runbook.md, "Garbage collection"):

* after start-up and then every ``freeze_every_s`` seconds: a young collection (gen0+gen1, cheap) and
  ``gc.freeze()``, which moves every surviving object into the permanent generation that collections skip.
  The long-lived connection objects are thus walked once, not every 20 s.
* refcounting still frees frozen objects that are not in cycles. Frozen *cyclic* garbage (a connection that
  closed after it was frozen) is only reclaimed by a full collection, so memory stays bounded by a rare one:
  when the process's allocated memory blocks (``sys.getallocatedblocks()``) have grown by ``full_growth``
  times since the last full collection, the next tick unfreezes, collects everything once and freezes again.
  Held connections do not make it grow; churn does, and the growth factor bounds the garbage kept to that
  share of the live set (the churn test shows it).
* a tick never walks the permanent generation: ``gc.get_freeze_count()`` follows a linked list through every
  frozen object, 50-120 ms at ~480,000 of them under load (measured), which every 20 s was the p99 spike of
  the 10-s windows. The block count costs ~0.3 ms; the frozen count is taken only inside a full collection,
  which walks everything anyway.

Every collection's generation, pause and yield is counted in the process's /metrics (infra.metrics).
``freeze_every_s = 0`` leaves CPython's collector as it is (the counters still run).
"""

import gc
import logging
import sys
import time

from infra import metrics

log = logging.getLogger(__name__)


class GcPolicy:
    """Periodic freezing with a rare full collection; see the module docstring."""

    def __init__(self, freeze_every_s: float = 20.0, full_growth: float = 1.5, full_floor: int = 200_000):
        if freeze_every_s < 0:
            raise ValueError("freeze_every_s must be >= 0")
        if full_growth <= 1.0:
            raise ValueError("full_growth must be > 1")
        self.freeze_every_s = float(freeze_every_s)
        self.full_growth = float(full_growth)
        self.full_floor = int(full_floor)  # in allocated blocks
        self.full_collections = 0
        self._last_tick = 0.0
        self._blocks_at_full = 0  # allocated memory blocks right after the last full collection
        self._started: float | None = None

    @property
    def enabled(self) -> bool:
        return self.freeze_every_s > 0

    # --- collection accounting (gc.callbacks) ---------------------------------------------------

    def _callback(self, phase: str, info: dict) -> None:
        if phase == "start":
            self._started = time.perf_counter()
            return
        started, self._started = self._started, None
        if started is not None:
            metrics.gc_collection(info.get("generation", -1), time.perf_counter() - started, info.get("collected", 0))

    def install(self) -> "GcPolicy":
        """Counts every collection from now on and, when enabled, freezes what start-up left."""
        if self._callback not in gc.callbacks:
            gc.callbacks.append(self._callback)
        if self.enabled:
            self.full_collect()  # start-up garbage goes before it could be frozen for good
        self._last_tick = time.monotonic()
        return self

    def uninstall(self) -> None:
        if self._callback in gc.callbacks:
            gc.callbacks.remove(self._callback)
        gc.unfreeze()

    def full_collect(self) -> None:
        """Unfreezes, collects every generation once and freezes the survivors (one pause)."""
        gc.unfreeze()
        gc.collect()
        gc.freeze()
        self._blocks_at_full = sys.getallocatedblocks()
        self.full_collections += 1
        metrics.gc_full_collection()
        metrics.gc_frozen(gc.get_freeze_count())

    def due(self, now: float | None = None) -> bool:
        return self.enabled and (now if now is not None else time.monotonic()) - self._last_tick >= self.freeze_every_s

    def tick(self) -> None:
        """Young collection and freeze; a full collection when the allocated blocks have grown enough."""
        if not self.enabled:
            return
        self._last_tick = time.monotonic()
        if sys.getallocatedblocks() > max(self.full_floor, self._blocks_at_full * self.full_growth):
            self.full_collect()
            return
        gc.collect(1)
        gc.freeze()

    def run_forever(self, sleep) -> None:
        """The loop of a background task: `sleep` is the event loop's (gevent.sleep in the server)."""
        while True:
            sleep(self.freeze_every_s)
            try:
                self.tick()
            except Exception:  # never let a bookkeeping error end the loop
                log.exception("gc tick failed")


def policy_from_config(config) -> GcPolicy:
    return GcPolicy(
        freeze_every_s=float(config.get("GC_FREEZE_EVERY_S", 20)),
        full_growth=float(config.get("GC_FULL_GROWTH", 1.5)),
    )
