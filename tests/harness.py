"""Real servers for the tests: PostgreSQL clusters and app server processes (Redis: infra.localredis)."""

import glob
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import requests

from infra.localredis import free_port

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def postgres_bindir() -> Path | None:
    found = shutil.which("pg_ctl")
    if found:
        return Path(os.path.realpath(found)).parent
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
    return Path(candidates[-1]).parent if candidates else None


class PostgresCluster:
    """A throwaway PostgreSQL cluster in a temp dir, on a free port, trust auth on loopback."""

    def __init__(self, base_dir: Path):
        self.bindir = postgres_bindir()
        self.base_dir = Path(base_dir)
        self.data_dir = self.base_dir / "pgdata"
        self.port = free_port()
        self._as = []
        if os.geteuid() == 0:
            # PostgreSQL refuses to run as root; run it as the 'postgres' system user.
            self._as = ["runuser", "-u", "postgres", "--"]

    def _run(self, *args, **kw):
        return subprocess.run([*self._as, *args], check=True, capture_output=True, text=True, **kw)

    def start(self):
        self.base_dir.mkdir(parents=True, exist_ok=True)
        if self._as:
            shutil.chown(self.base_dir, "postgres", "postgres")
        self._run(
            str(self.bindir / "initdb"),
            "-D",
            str(self.data_dir),
            "-U",
            "postgres",
            "-A",
            "trust",
            "-E",
            "UTF8",
            "--locale=C.UTF-8",
            "--no-sync",
        )
        opts = (
            f"-p {self.port} -k {self.base_dir} -c listen_addresses=127.0.0.1 -c fsync=off "
            f"-c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
        )
        self._run(
            str(self.bindir / "pg_ctl"),
            "-D",
            str(self.data_dir),
            "-o",
            opts,
            "-w",
            "-l",
            str(self.base_dir / "pg.log"),
            "start",
        )
        return self

    def url(self, dbname="postgres"):
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{dbname}"

    def psql(self, sql, dbname="postgres"):
        self._run(
            str(self.bindir / "psql"),
            "-h",
            "127.0.0.1",
            "-p",
            str(self.port),
            "-U",
            "postgres",
            "-d",
            dbname,
            "-v",
            "ON_ERROR_STOP=1",
            "-c",
            sql,
        )

    def stop(self):
        try:
            self._run(str(self.bindir / "pg_ctl"), "-D", str(self.data_dir), "-m", "immediate", "stop")
        except subprocess.CalledProcessError:
            pass


class ServerProcess:
    """`python -m server.serve` in its own process, as production runs it."""

    def __init__(self, env: dict, port: int | None = None, log_path: Path | None = None):
        self.port = port or free_port()
        self.env = {**os.environ, **env}
        self.log_path = log_path
        self.process: subprocess.Popen | None = None

    @property
    def url(self):
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout=30.0):
        out = open(self.log_path, "ab") if self.log_path else subprocess.DEVNULL
        self.process = subprocess.Popen(
            [sys.executable, "-m", "server.serve", "--host", "127.0.0.1", "--port", str(self.port)],
            env=self.env,
            cwd=PROJECT_ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited with {self.process.returncode}; log: {self.log_path}")
            try:
                if requests.get(self.url + "/healthz", timeout=0.5).status_code == 200:
                    return self
            except requests.RequestException:
                pass
            time.sleep(0.1)
        raise RuntimeError("server did not become healthy in time")

    def stop(self):
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def kill(self):
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        self.process = None
