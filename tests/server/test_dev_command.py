"""`contest dev`, what `make run` runs: Ctrl-C and SIGTERM each stop the server, the worker and the Redis it started."""

import os
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from infra.localredis import free_port

pytestmark = pytest.mark.slow


def _descendants(pid: int) -> set[int]:
    """Every live process below `pid`, read from /proc (no psutil needed)."""
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    found, frontier = set(), {pid}
    while frontier:
        frontier = {child for child, parent in parents.items() if parent in frontier} - found
        found |= frontier
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _read_until(proc: subprocess.Popen, marker: str, timeout: float) -> str:
    seen, deadline = "", time.monotonic() + timeout
    while marker not in seen:
        left = deadline - time.monotonic()
        if left <= 0 or proc.poll() is not None:
            raise AssertionError(f"`contest dev` never printed {marker!r}; it printed:\n{seen}")
        ready, _, _ = select.select([proc.stdout], [], [], min(left, 1.0))
        if ready:
            seen += os.read(proc.stdout.fileno(), 65536).decode(errors="replace")
    return seen


@pytest.mark.parametrize("how", ["ctrl-c", "sigterm", "ctrl-c twice"])
def test_dev_stops_everything_it_started(tmp_path, how):
    port, redis_port = free_port(), free_port()
    env = dict(os.environ, CONTEST_VAR_DIR=str(tmp_path), REDIS_URL=f"redis://127.0.0.1:{redis_port}/0")
    env.pop("DATABASE_URL", None)  # the SQLite file under CONTEST_VAR_DIR, as `make run` uses
    env["CONTEST_ENV"] = "development"
    proc = subprocess.Popen(
        [sys.executable, "-c", "from server.cli import main; main()", "dev", "--port", str(port)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group, like a shell job in a terminal
    )
    try:
        output = _read_until(proc, "Ctrl-C", timeout=120)
        assert f"http://127.0.0.1:{port}" in output and "0912345678" in output
        started = _descendants(proc.pid)
        commands = {pid: Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ") for pid in started}
        assert any(b"server.serve" in c for c in commands.values()), commands
        assert any(b"worker" in c for c in commands.values()), commands
        assert any(b"redis-server" in c for c in commands.values()), commands

        if how.startswith("ctrl-c"):
            os.killpg(proc.pid, signal.SIGINT)  # what the terminal does on Ctrl-C: the foreground job's group
            if how == "ctrl-c twice":
                time.sleep(0.3)  # the second press lands while it is stopping what it started
                os.killpg(proc.pid, signal.SIGINT)
        else:
            proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=60) == 0
        deadline = time.monotonic() + 10
        while any(_alive(pid) for pid in started) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert [commands[pid] for pid in started if _alive(pid)] == []
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
        for pid in _descendants(proc.pid):
            os.kill(pid, signal.SIGKILL)
