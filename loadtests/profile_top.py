"""Top frames of a collapsed-stack profile (infra/profiling.py, or py-spy raw): `python -m loadtests.profile_top profile-app-0.txt [N]`.

Prints the share of samples in which each function appears (inclusive), and the share of the idle event loop.
"""

import sys
from collections import Counter
from pathlib import Path


def shares(path, limit=25) -> list[tuple[str, float]]:
    inclusive: Counter = Counter()
    total = 0
    for line in Path(path).read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack:
            continue
        n = int(count)
        total += n
        for frame in set(stack.split(";")):
            inclusive[frame] += n
    return [(frame, round(100 * n / total, 1)) for frame, n in inclusive.most_common(limit)] if total else []


if __name__ == "__main__":
    for frame, share in shares(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 25):
        print(f"{share:5.1f} %  {frame}")
