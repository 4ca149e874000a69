"""Capacity of a live final on the production-like stack: N players, one host, 10 questions of 10 s.

    PYTHONPATH=. .venv/bin/python scripts/live_final_capacity.py N [N ...]

For each N, runs the "live final" scenario of `make loadtest` (loadtests/run.py: 2 app processes behind nginx,
production settings, Redis with AOF, the `host` role driving, one Locust process) and prints one line: the players
held, the question-broadcast latency (server clock at show -> arrival at the player) and the answer-ack latency,
p50/p99, whether the targets hold (every player held, broadcast p99 < 1 s, ack p99 < 250 ms), and the machine's
load average (the machine may be shared). The same as, per N:
    make loadtest SCENARIO=live USERS=N SPAWN_RATE=20 LIGHT_HASH=1
"""

import json
import sys
from pathlib import Path

if __package__ in (None, ""):  # `python scripts/live_final_capacity.py`
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from loadtests import run


def measure(players: int, db: str = "sqlite") -> dict:
    argv = ["--scenario", "live", "--users", str(players), "--spawn-rate", "20", "--procs", "2"]
    # One Locust process: Locust's distributed mode lost its workers' heartbeats on this busy 2-core machine.
    argv += ["--locust-procs", "1", "--db", db, "--light-hash"]
    run.main(argv)
    latest = Path(run.parse_args(argv).results) / "latest"
    return json.loads((latest / "live.json").read_text())


def main(sizes: list[int]) -> None:
    for players in sizes:
        live = measure(players)
        b, a = live["question_broadcast"], live["answer_ack"]
        print(
            f"N={players}: joined {live['players_joined']}, held {live['players_held']}, broadcast p50 {b['p50_ms']:.0f} ms p99 {b['p99_ms']:.0f} ms, "
            f"ack p50 {a['p50_ms']:.0f} ms p99 {a['p99_ms']:.0f} ms, targets {'met' if live['targets_met'] else 'MISSED'}, "
            f"load average {live['load_average']}"
        )


if __name__ == "__main__":
    main([int(n) for n in sys.argv[1:]] or [500, 1000])
