"""Real servers for the tests: PostgreSQL clusters and app server processes (Redis: infra.localredis)."""

import os
import sys
from pathlib import Path

from infra.localpostgres import LocalPostgres
from infra.processes import Process, free_port

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class PostgresCluster(LocalPostgres):
    """A throwaway cluster in a temp dir: no fsync (test data need not survive a crash), stopped at once."""

    def __init__(self, base_dir: Path):
        super().__init__(
            base_dir,
            settings={
                "fsync": "off",
                "synchronous_commit": "off",
                "full_page_writes": "off",
                "max_connections": "200",
            },
            initdb_args=["--no-sync"],
            stop_mode="immediate",
        )


class ServerProcess:
    """`python -m server.serve` in its own process, as production runs it."""

    def __init__(self, env: dict, port: int | None = None, log_path: Path | None = None):
        self.port = port or free_port()
        self.env = {**os.environ, **env}
        self.log_path = log_path
        self.process: Process | None = None

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout=30.0):
        self.process = Process(
            [sys.executable, "-m", "server.serve", "--host", "127.0.0.1", "--port", str(self.port)],
            name=f"app server :{self.port}",
            log_path=self.log_path,
            env=self.env,
            cwd=PROJECT_ROOT,
        ).start()
        self.process.wait_http(self.url + "/healthz", timeout)
        return self

    def stop(self):
        if self.process:
            self.process.stop(grace=5)
        self.process = None

    def kill(self):
        if self.process:
            self.process.kill()
        self.process = None
