"""The results bench runs end to end at a small size (the full size is run by hand: see the README)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "benchmarks"))

import bench_results


def test_bench_results_small(capsys):
    results = bench_results.main(["--attempts", "3000", "--people", "2000", "--item-attempts", "200"])
    assert set(results) == {
        "worker_settle",
        "ranking",
        "statistics",
        "csv",
        "rank_stats_csv",
        "item_statistics",
        "xlsx",
        "judge round page (first view)",
        "judge round page 2",
        "judge round page #7000",
        "flagged entries page",
        "flagged entries page #100",
        "entry review page",
    }
    assert all(seconds >= 0 for seconds in results.values())
    out = capsys.readouterr().out
    assert "2000 entries" in out and "3000 attempts, 2000 people" in out and "peak RSS" in out
    assert "(stored ranking)" in out  # the CSV of the settled round reads the ranking the worker stored
    assert "GET /giam-khao/vong/1?trang=7000" in out
