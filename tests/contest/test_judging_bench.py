"""The results bench runs end to end at a small size (the full size is run by hand: see the README)."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))

import bench_results  # noqa: E402


def test_bench_results_small(capsys):
    results = bench_results.main(["--attempts", "3000", "--people", "2000", "--item-attempts", "200"])
    assert set(results) == {"fix_perfect_count", "ranking", "statistics", "item_statistics", "review_flags", "csv", "xlsx"}
    assert all(seconds >= 0 for seconds in results.values())
    out = capsys.readouterr().out
    assert "2000 entries" in out and "3000 attempts, 2000 people" in out and "peak RSS" in out
