"""Starts and stops a project-local redis-server (AOF on): used by `make run` and by the test harness."""

import shutil
from pathlib import Path

import redis

from infra.processes import Process, free_port


def reachable(url: str, timeout: float = 0.5) -> bool:
    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=timeout, socket_timeout=timeout).ping())
    except (redis.RedisError, OSError):
        return False


class LocalRedis:
    """One redis-server process with its data in `data_dir`.

    appendfsync is `everysec` for development and `always` for the production profile and the
    durability tests: with `always` an acknowledged write survives kill -9 of the server.
    """

    def __init__(self, data_dir, port=None, appendfsync="everysec", extra_args=()):
        self.data_dir = Path(data_dir)
        self.port = port or free_port()
        self.appendfsync = appendfsync
        self.extra_args = list(extra_args)
        self.process: Process | None = None

    @property
    def url(self):
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self, timeout=10.0):
        binary = shutil.which("redis-server")
        if binary is None:
            raise RuntimeError(
                "redis-server không có trên máy này / redis-server is not installed: "
                "apt-get install redis-server (Debian package 'redis-server')"
            )
        self.data_dir.mkdir(parents=True, exist_ok=True)
        args = [
            binary,
            "--port",
            str(self.port),
            "--bind",
            "127.0.0.1",
            "--dir",
            str(self.data_dir),
            "--appendonly",
            "yes",
            "--appendfsync",
            self.appendfsync,
            "--save",
            "",
            "--daemonize",
            "no",
            "--protected-mode",
            "yes",
            "--maxclients",
            "20000",
            *self.extra_args,
        ]
        self.process = Process(
            args,
            name="redis-server",
            log_path=self.data_dir / "redis.log",
            new_session=True,  # Ctrl-C in the terminal reaches us first; we stop it in order
        ).start()
        self.process.wait_ready(lambda: reachable(self.url, timeout=0.2), timeout, interval=0.05, what="answering PING")
        return self

    def stop(self):
        if self.process and self.process.running:
            try:
                redis.Redis.from_url(self.url, socket_timeout=2).shutdown(nosave=True)
            except (redis.RedisError, OSError):
                pass
            # SHUTDOWN already asked it to stop (and flush the AOF): only wait, then SIGKILL.
            self.process.stop(grace=5, sig=None)
        self.process = None

    def kill(self):
        """kill -9: no chance to flush anything beyond what AOF already has."""
        if self.process:
            self.process.kill()
        self.process = None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
