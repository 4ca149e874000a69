"""Nothing lost: the answers the load clients saw acknowledged, compared with what SQL holds."""

import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import create_engine, select

import contest.models  # noqa: F401  (configures every mapper the models refer to)
from contest.rounds.models import AttemptAnswer, AttemptQuestion


class AckLog:
    """Appends every acknowledged answer of this Locust process to one JSON-lines file."""

    def __init__(self, directory: str | os.PathLike):
        self.directory = Path(directory)
        self._file = None

    def record(self, attempt_id: int, question_ref: str, selected: list[str], seq: int):
        if self._file is None:
            self.directory.mkdir(parents=True, exist_ok=True)
            # One file per process: Locust's --processes forks, and appends must not interleave.
            self._file = open(self.directory / f"acks-{os.getpid()}.jsonl", "a", buffering=1)
        self._file.write(json.dumps({"a": attempt_id, "q": question_ref, "s": sorted(selected), "n": seq}) + "\n")

    def close(self):
        if self._file is not None:
            self._file.close()
            self._file = None


def read_acks(directory: str | os.PathLike) -> dict[tuple[int, int], tuple[int, list[int]]]:
    """(attempt, question) -> (seq, selected) of the latest acknowledged answer."""
    latest = {}
    for path in sorted(Path(directory).glob("acks-*.jsonl")):
        for line in path.read_text().splitlines():
            if not line.strip():
                continue
            row = json.loads(line)
            key = (row["a"], row["q"])
            if key not in latest or latest[key][0] < row["n"]:
                latest[key] = (row["n"], row["s"])
    return latest


@dataclass
class AnswerCheck:
    acknowledged: int = 0
    stored: int = 0
    missing: list = field(default_factory=list)  # acknowledged, not in SQL: lost
    different: list = field(default_factory=list)  # in SQL with another choice or an older seq: lost
    unacknowledged: int = 0  # in SQL but the client never saw the ack (timed out in flight): not a loss

    @property
    def lost(self) -> int:
        return len(self.missing) + len(self.different)

    @property
    def ok(self) -> bool:
        return self.lost == 0

    def as_dict(self) -> dict:
        return {
            "acknowledged": self.acknowledged,
            "stored": self.stored,
            "lost": self.lost,
            "missing": self.missing[:20],
            "different": self.different[:20],
            "unacknowledged": self.unacknowledged,
        }


def compare(acked: dict, stored: dict) -> AnswerCheck:
    result = AnswerCheck(acknowledged=len(acked), stored=len(stored))
    for key, (seq, selected) in sorted(acked.items()):
        if key not in stored:
            result.missing.append(list(key))
            continue
        stored_seq, stored_selected = stored[key]
        # A later answer to the same question may have been stored without its ack reaching us.
        if stored_seq < seq or (stored_seq == seq and sorted(stored_selected) != sorted(selected)):
            result.different.append(list(key))
    result.unacknowledged = len(set(stored) - set(acked))
    return result


def stored_answers(database_url: str, attempt_ids) -> dict:
    """(attempt, question reference) -> (seq, option references): SQL's bank ids named as the client knew them."""
    engine = create_engine(database_url)
    table = AttemptAnswer.__table__
    drawn = AttemptQuestion.__table__
    stored = {}
    try:
        with engine.connect() as conn:
            ids = sorted(attempt_ids)
            for offset in range(0, len(ids), 500):
                batch = ids[offset : offset + 500]
                refs = {}
                for attempt_id, question_id, ref, order, option_refs in conn.execute(
                    select(
                        drawn.c.attempt_id, drawn.c.question_id, drawn.c.ref, drawn.c.option_order, drawn.c.option_refs
                    ).where(drawn.c.attempt_id.in_(batch))
                ):
                    refs[(attempt_id, question_id)] = (ref, dict(zip(order or [], option_refs or [], strict=False)))
                rows = conn.execute(
                    select(table.c.attempt_id, table.c.question_id, table.c.seq, table.c.selected).where(
                        table.c.attempt_id.in_(batch)
                    )
                )
                for attempt_id, question_id, seq, selected in rows:
                    ref, options = refs.get((attempt_id, question_id), (str(question_id), {}))
                    stored[(attempt_id, ref)] = (seq, sorted(options.get(o, str(o)) for o in selected or []))
    finally:
        engine.dispose()
    return stored


def check_answers(database_url: str, ack_dir, wait_s: float = 30.0) -> AnswerCheck:
    """Waits up to wait_s for the write-behind worker to catch up, then compares."""
    acked = read_acks(ack_dir) if Path(ack_dir).exists() else {}
    attempts = {a for a, _ in acked}
    deadline = time.monotonic() + wait_s
    while True:
        result = compare(acked, stored_answers(database_url, attempts) if attempts else {})
        if result.ok or time.monotonic() >= deadline:
            return result
        time.sleep(0.5)
