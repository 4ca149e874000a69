"""A throwaway local PostgreSQL cluster (initdb + pg_ctl on a free port): used by the test harness and the load-test stack."""

import glob
import os
import shutil
import subprocess
from pathlib import Path

from infra.processes import free_port


def postgres_bindir() -> Path | None:
    """Where pg_ctl, initdb and psql live: on PATH, else Debian's newest /usr/lib/postgresql/*/bin."""
    found = shutil.which("pg_ctl")
    if found:
        return Path(os.path.realpath(found)).parent
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
    return Path(candidates[-1]).parent if candidates else None


class LocalPostgres:
    """A cluster in `base_dir`, listening on 127.0.0.1 only, trust auth, superuser `postgres`.

    pg_ctl starts it, waits until it accepts connections (`-w`) and stops it; `settings` are the
    server's `-c` options, `initdb_args` extra initdb flags, `stop_mode` pg_ctl's shutdown mode.
    """

    def __init__(self, base_dir, settings: dict[str, str], initdb_args=(), stop_mode: str = "fast"):
        self.bindir = postgres_bindir()
        if self.bindir is None:
            raise RuntimeError(
                "PostgreSQL binaries not found: apt-get install postgresql (scripts/bootstrap.sh --test)"
            )
        self.base_dir = Path(base_dir)
        self.data_dir = self.base_dir / "pgdata"
        self.port = free_port()
        self.settings = dict(settings)
        self.initdb_args = list(initdb_args)
        self.stop_mode = stop_mode
        # PostgreSQL refuses to run as root; run it as the 'postgres' system user.
        self._as = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []

    def _run(self, *args):
        return subprocess.run([*self._as, *args], check=True, capture_output=True, text=True)

    def start(self):
        self.base_dir.mkdir(parents=True, exist_ok=True)
        os.chmod(self.base_dir, 0o755)
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
            *self.initdb_args,
        )
        opts = " ".join(
            [
                f"-p {self.port} -k {self.base_dir} -c listen_addresses=127.0.0.1",
                *(f"-c {key}={value}" for key, value in self.settings.items()),
            ]
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

    def pid(self) -> int | None:
        """The postmaster's process id while it runs."""
        try:
            return int((self.data_dir / "postmaster.pid").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return None

    def stop(self):
        try:
            self._run(str(self.bindir / "pg_ctl"), "-D", str(self.data_dir), "-m", self.stop_mode, "stop")
        except subprocess.CalledProcessError:
            pass
