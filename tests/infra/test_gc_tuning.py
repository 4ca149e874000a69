"""GC tuned for long-lived connections (infra/gc_tuning.py): frozen, counted, and bounded under churn."""

import gc
import os
import subprocess
import sys

import pytest
from prometheus_client import generate_latest
from prometheus_client.parser import text_string_to_metric_families

from infra import metrics
from infra.config import Config
from infra.gc_tuning import GcPolicy, policy_from_config


def gc_samples():
    found = {}
    for family in text_string_to_metric_families(generate_latest(metrics.REGISTRY).decode()):
        for sample in family.samples:
            found[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return found


class Connection:
    """Stands for a connection's objects: a cycle (a socket and its handler point at each other), as
    simple-websocket's and Engine.IO's are, so refcounting alone never frees it."""

    def __init__(self):
        self.handler = {"owner": self, "buffers": [bytearray(64) for _ in range(8)], "queue": []}
        self.state = [self.handler, object(), object()]


@pytest.fixture
def policy_factory():
    made = []

    def make(**kwargs):
        policy = GcPolicy(**kwargs).install()
        made.append(policy)
        return policy

    yield make
    for policy in made:
        policy.uninstall()
    gc.collect()


def test_every_collection_is_counted_with_its_pause_per_generation(policy_factory):
    policy_factory(freeze_every_s=0)  # stock collector, still counted
    before = gc_samples()
    gc.collect(0)
    gc.collect()
    after = gc_samples()
    for generation in ("0", "2"):
        key = ("contest_gc_pause_seconds_count", (("generation", generation),))
        assert after[key] >= before.get(key, 0) + 1, generation
        assert after[("contest_gc_pause_seconds_sum", (("generation", generation),))] > 0


def test_install_freezes_what_start_up_left(policy_factory):
    held = [Connection() for _ in range(1000)]
    policy = policy_factory(freeze_every_s=20)
    assert gc.get_freeze_count() > 1000
    assert gc_samples()[("contest_gc_frozen_objects", ())] == gc.get_freeze_count()
    # Frozen objects are out of the generations a collection walks.
    assert sum(gc.get_count()) < 1000
    assert policy.full_collections == 1
    del held


def churn(policy, rounds, held=2000, per_round=2000):
    """Holds `held` connections while `per_round` others open, get frozen, and close, every round."""
    live = [Connection() for _ in range(held)]
    peaks = []
    for _ in range(rounds):
        passing = [Connection() for _ in range(per_round)]
        policy.tick()  # frozen while open
        del passing  # closed: garbage, but frozen garbage in cycles
        policy.tick()
        peaks.append(gc.get_freeze_count())
    del live
    return peaks


def test_frozen_garbage_of_closed_connections_stays_bounded(policy_factory):
    if os.environ.get("GC_TEST_FRESH_PROCESS") != "1":
        # The bound is relative to what the process holds: run in a fresh interpreter, not in the whole suite's
        # process (which froze far more at install, so the same churn triggers fewer full collections).
        node = f"{__file__}::test_frozen_garbage_of_closed_connections_stays_bounded"
        result = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", node],
            env={**os.environ, "GC_TEST_FRESH_PROCESS": "1"},
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
        return
    policy = policy_factory(freeze_every_s=20, full_growth=1.5, full_floor=0)
    baseline = gc.get_freeze_count()
    peaks = churn(policy, rounds=40)
    # 40 rounds x 2,000 closed connections (~6 objects each) would be ~480,000 frozen objects without the full
    # collections; with them the frozen set stays within the growth factor of the live set.
    per_connection = (peaks[0] - baseline) / 4000
    assert per_connection > 3
    live = baseline + 2000 * per_connection
    assert max(peaks) <= 1.5 * live + 2 * 2000 * per_connection
    assert policy.full_collections > 3


def test_without_full_collections_frozen_garbage_would_grow(policy_factory):
    # The same churn with a growth factor too large to trigger: the frozen set keeps every closed connection.
    policy = policy_factory(freeze_every_s=20, full_growth=1000, full_floor=0)
    peaks = churn(policy, rounds=10)
    assert peaks[-1] - peaks[0] > 9 * 2000 * 4
    assert policy.full_collections == 1  # the one at install


def test_disabled_policy_leaves_the_collector_alone(policy_factory):
    policy = policy_factory(freeze_every_s=0)
    policy.tick()
    assert gc.get_freeze_count() == 0
    assert not policy.due()


def test_configured_from_the_environment(monkeypatch):
    policy = policy_from_config({"GC_FREEZE_EVERY_S": 5, "GC_FULL_GROWTH": 2.0})
    assert (policy.freeze_every_s, policy.full_growth) == (5.0, 2.0)
    assert Config.GC_FREEZE_EVERY_S == 20 and Config.GC_FULL_GROWTH == 1.5
    with pytest.raises(ValueError):
        GcPolicy(full_growth=1.0)
