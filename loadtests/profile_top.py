"""Top frames of a collapsed-stack profile (infra/profiling.py, or py-spy raw): `python -m loadtests.profile_top profile-app-0.txt [N]`.

Prints the share of samples in which each function appears (inclusive), and the share of the idle event loop.
"""

import sys
from collections import Counter
from pathlib import Path


def shares(path, limit=25, leaf=False) -> list[tuple[str, float]]:
    """(function, % of samples) with the function anywhere on the stack, or (leaf=True) innermost."""
    inclusive: Counter = Counter()
    total = 0
    for line in Path(path).read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack:
            continue
        n = int(count)
        total += n
        frames = stack.split(";")
        for frame in [frames[-1]] if leaf else set(frames):
            inclusive[frame] += n
    return [(frame, round(100 * n / total, 1)) for frame, n in inclusive.most_common(limit)] if total else []


if __name__ == "__main__":
    limit = int(sys.argv[2]) if len(sys.argv) > 2 else 25
    print("inclusive:")
    for frame, share in shares(sys.argv[1], limit):
        print(f"{share:5.1f} %  {frame}")
    print("innermost (self):")
    for frame, share in shares(sys.argv[1], limit, leaf=True):
        print(f"{share:5.1f} %  {frame}")
