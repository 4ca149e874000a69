"""Start, wait for and stop local server processes (Redis, app servers, worker, nginx) for `make run`, tests and load tests."""

import os
import signal
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable
from pathlib import Path

# Readiness probes go straight to loopback: a proxy from the environment has no business in between.
_DIRECT = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def port_open(port: int, host: str = "127.0.0.1", timeout: float = 0.2) -> bool:
    """Whether something accepts TCP connections on host:port."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def http_ok(url: str, timeout: float = 0.5) -> bool:
    """Whether GET url answers 200 (a /healthz or /readyz probe)."""
    try:
        with _DIRECT.open(url, timeout=timeout) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError, ValueError):
        return False


def log_tail(path: Path | None, lines: int = 20) -> str:
    """The last lines of a log file, for an error message; "" when there is none."""
    if path is None:
        return ""
    try:
        with open(path, "rb") as f:
            f.seek(0, os.SEEK_END)
            f.seek(max(0, f.tell() - 16384))
            text = f.read().decode("utf-8", "replace")
    except OSError:
        return ""
    return "\n".join(text.splitlines()[-lines:])


class ProcessError(RuntimeError):
    """A process exited early or did not become ready in time; the message carries its log's tail."""


class Process:
    """One child process with its output appended to a log file (or discarded when there is none).

    new_session puts the child in its own session and process group: Ctrl-C in the terminal reaches
    us first and we stop the child in order, and a forced stop kills the whole group (nginx's workers).
    """

    def __init__(
        self,
        args: list[str],
        *,
        name: str | None = None,
        log_path: Path | None = None,
        env: dict | None = None,
        cwd: Path | None = None,
        new_session: bool = False,
    ):
        self.args = [str(a) for a in args]
        self.name = name or Path(self.args[0]).name
        self.log_path = Path(log_path) if log_path else None
        self.env = env
        self.cwd = cwd
        self.new_session = new_session
        self.popen: subprocess.Popen | None = None

    def start(self) -> "Process":
        if self.log_path:
            with open(self.log_path, "ab") as out:  # the child keeps its own copy of the descriptor
                self.popen = self._spawn(out)
        else:
            self.popen = self._spawn(subprocess.DEVNULL)
        return self

    def _spawn(self, out) -> subprocess.Popen:
        return subprocess.Popen(
            self.args,
            env=self.env,
            cwd=self.cwd,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=self.new_session,
        )

    @property
    def pid(self) -> int | None:
        return self.popen.pid if self.popen else None

    @property
    def running(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def _error(self, what: str) -> ProcessError:
        message = f"{self.name} {what}"
        if self.log_path:
            message += f"; log: {self.log_path}"
        tail = log_tail(self.log_path)
        if tail:
            message += "\n--- last lines of the log ---\n" + tail
        return ProcessError(message)

    def wait_ready(
        self, ready: Callable[[], bool], timeout: float, interval: float = 0.1, what: str = "ready"
    ) -> "Process":
        """Polls `ready()` until it is true; raises ProcessError if the process exits or time runs out."""
        assert self.popen is not None, "start() first"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.popen.poll() is not None:
                raise self._error(f"exited with {self.popen.returncode} before it was {what}")
            if ready():
                return self
            time.sleep(interval)
        raise self._error(f"was not {what} after {timeout:g} s")

    def wait_port(self, port: int, timeout: float, host: str = "127.0.0.1") -> "Process":
        return self.wait_ready(lambda: port_open(port, host), timeout, what=f"listening on {host}:{port}")

    def wait_http(self, url: str, timeout: float, interval: float = 0.1, probe_timeout: float = 0.5) -> "Process":
        return self.wait_ready(lambda: http_ok(url, probe_timeout), timeout, interval, what=f"answering {url}")

    def send_signal(self, sig: int) -> None:
        if self.running:
            assert self.popen is not None
            self.popen.send_signal(sig)

    def stop(self, grace: float = 5.0, sig: int | None = signal.SIGTERM) -> None:
        """`sig` (None: the caller already asked it to stop), then SIGKILL if it outlives `grace` seconds."""
        if sig is not None:
            self.send_signal(sig)
        if self.popen is None:
            return
        try:
            self.popen.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            self._force_kill()
        self.popen = None

    def _force_kill(self) -> None:
        assert self.popen is not None
        if self.new_session:
            try:
                os.killpg(self.popen.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        else:
            self.popen.kill()
        self.popen.wait()

    def kill(self) -> None:
        """kill -9 of the process alone, as a crash would: nothing gets a chance to clean up."""
        if self.running:
            assert self.popen is not None
            self.popen.kill()
            self.popen.wait()
        self.popen = None


def stop_all(processes: Iterable[Process | None], grace: float, sig: int = signal.SIGTERM) -> None:
    """Signals every process first, so they shut down side by side, then gives each `grace` seconds before SIGKILL."""
    alive = [p for p in processes if p is not None]
    for process in alive:
        process.send_signal(sig)
    for process in alive:
        process.stop(grace, sig=None)
