"""A production-like stack on this machine: Redis (AOF), SQLite or PostgreSQL, N gevent app processes, nginx, worker."""

import os
import resource
import secrets
import shutil
import signal
import string
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import create_engine, select

import contest.models  # noqa: F401  (configures every mapper the models refer to)
from contest.rounds.models import Contest, Round
from infra.config import Config
from infra.localpostgres import LocalPostgres
from infra.localredis import LocalRedis
from infra.processes import Process, free_port, stop_all

PROJECT_ROOT = Path(__file__).resolve().parent.parent
NGINX_TEMPLATE = Path(__file__).with_name("nginx.conf.template")
VENV_BIN = Path(sys.executable).parent
HEALTHY_TIMEOUT = 60.0  # seconds for an app process or nginx to answer its health check


# Settings the stack decides (the report states them); inherited values from the caller's shell are dropped so a
# stray LOGIN_RATE_LIMIT or RATELIMIT_ENABLED=0 cannot switch a protection off unnoticed.
STACK_OWNED_SETTINGS = (
    "PROXY_HOPS",
    "LOGIN_RATE_LIMIT",
    "REGISTER_RATE_LIMIT",
    "RATELIMIT_ENABLED",
    "RATELIMIT_EXEMPT_ADDRESSES",
    "ACCOUNT_LOGIN_FAILURES",
    "ACCOUNT_LOCK_SECONDS",
)

WANTED_NOFILE = 262_144  # 10,000+ users: Locust, nginx (client + upstream sides) and apps each hold several per user


def raise_nofile_limit() -> int:
    """RLIMIT_NOFILE for this process and its children (nginx, app servers, Locust).

    The soft limit goes up to the hard one; as root the hard limit itself is raised (up to the
    kernel's fs.nr_open), since a container's default hard limit (often 20,000) caps a test
    below 10,000 users once every user holds an HTTP and a WebSocket connection.
    """
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < WANTED_NOFILE:
        try:
            nr_open = int(Path("/proc/sys/fs/nr_open").read_text())
        except (OSError, ValueError):
            nr_open = WANTED_NOFILE
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (min(WANTED_NOFILE, nr_open),) * 2)
        except (ValueError, OSError):  # not root: keep the hard limit we have
            pass
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = hard if hard != resource.RLIM_INFINITY else 1_048_576
    if soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))
    return resource.getrlimit(resource.RLIMIT_NOFILE)[0]


def kernel_limits() -> dict:
    """The kernel settings that cap connection counts, as read now (reported in the summary)."""
    limits = {"nofile": resource.getrlimit(resource.RLIMIT_NOFILE)[0]}
    for name, path in (
        ("somaxconn", "/proc/sys/net/core/somaxconn"),
        ("ip_local_port_range", "/proc/sys/net/ipv4/ip_local_port_range"),
        ("tcp_max_syn_backlog", "/proc/sys/net/ipv4/tcp_max_syn_backlog"),
    ):
        try:
            limits[name] = " ".join(Path(path).read_text().split())
        except OSError:
            limits[name] = "?"
    return limits


def find_nginx() -> str | None:
    return shutil.which("nginx") or ("/usr/sbin/nginx" if os.access("/usr/sbin/nginx", os.X_OK) else None)


# Sizing for a target number of held WebSockets (docs/runbook.md, "Limits for 20,000"). A proxied WebSocket holds
# two connections in one nginx worker (client and upstream side, one descriptor each) and, under gevent with
# simple-websocket, two descriptors in the app process (the WSGI socket and simple-websocket's duplicate).
FD_RESERVE = 512  # descriptors a process keeps for everything else (Redis, SQL, logs, listeners)
HEADROOM = 0.6  # connections spread unevenly: nginx workers by reuseport's hash, app processes by cookie hash
TARGET_CONNECTIONS = 20_000


def nginx_sizing(nofile: int, target: int = TARGET_CONNECTIONS, cpus: int | None = None) -> dict:
    """nginx workers and worker_connections for `target` WebSockets under a per-process limit of `nofile` files.

    worker_connections counts connections, i.e. descriptors, per worker, so it is the file limit less a reserve
    (it was half the limit before, which halved what each worker could hold); enough workers that 2 x target
    connections fit with the headroom.
    """
    per_worker = max(1024, min(nofile - FD_RESERVE, 65535))
    needed = -(-2 * target // int(per_worker * HEADROOM))
    return {"worker_processes": max(cpus or os.cpu_count() or 1, needed), "worker_connections": per_worker}


def app_processes_for(users: int, nofile: int, minimum: int = 2) -> int:
    """App processes so that every WebSocket's two descriptors fit under each process's file limit."""
    per_process = int(max(nofile - FD_RESERVE, 1024) / 2 * HEADROOM * 1.25)  # cookie hashing spreads better
    return max(minimum, -(-users // per_process))


def raise_somaxconn(wanted: int = 4096) -> int:
    """net.core.somaxconn caps every listen backlog; raised where the kernel lets us (root, writable /proc/sys)."""
    path = Path("/proc/sys/net/core/somaxconn")
    try:
        current = int(path.read_text())
    except (OSError, ValueError):
        return 0
    if current < wanted:
        try:
            path.write_text(str(wanted))
            current = int(path.read_text())
        except OSError:  # a container's /proc/sys is read-only: the runbook says how to set it on the host
            pass
    return current


def render_nginx_conf(
    run_dir: Path,
    listen_port: int,
    app_ports: list[int],
    nofile: int,
    session_cookie: str = "session",
    target_connections: int = TARGET_CONNECTIONS,
    backlog: int = 4096,
) -> str:
    upstreams = "\n".join(f"        server 127.0.0.1:{port} max_fails=0;" for port in app_ports)
    sizing = nginx_sizing(nofile, target_connections)
    values = dict(
        user_line="user root;" if os.geteuid() == 0 else "",  # a throwaway local stack; see docs/runbook.md
        worker_processes=str(sizing["worker_processes"]),
        nofile=str(nofile),
        worker_connections=str(sizing["worker_connections"]),
        backlog=str(backlog),
        run_dir=str(run_dir),
        listen_port=str(listen_port),
        upstreams=upstreams,
        session_cookie=session_cookie,
        project_root=str(PROJECT_ROOT),
    )
    text = string.Template(NGINX_TEMPLATE.read_text()).safe_substitute(values)
    for key in values:
        assert "${" + key + "}" not in text, key
    return text


def durable_postgres(base_dir: Path) -> LocalPostgres:
    """A PostgreSQL cluster for the load profile: durable settings (fsync on), unlike the test harness's."""
    return LocalPostgres(
        base_dir,
        settings={"max_connections": "400", "shared_buffers": "256MB", "synchronous_commit": "on"},
        stop_mode="fast",
    )


class Stack:
    """Everything `make loadtest` runs, started in order and stopped in reverse."""

    def __init__(
        self,
        run_dir: Path,
        procs: int = 2,
        db: str = "sqlite",
        appendfsync: str = "always",
        seed_users: int = 0,
        user_prefix: str = "0599",
        user_password: str = "thitai12345",
        light_hash: bool = False,
        target_connections: int = TARGET_CONNECTIONS,
        bare: bool = False,
    ):
        self.run_dir = Path(run_dir)
        self.target_connections = target_connections
        # bare: the framework's ceiling (loadtests/bare_app.py) behind the same nginx, no database, no worker
        self.bare = bare
        self.somaxconn = 0
        self.worker_metrics_port = 0
        self.procs = procs
        self.db = db
        self.appendfsync = appendfsync
        self.seed_users = seed_users
        self.user_prefix = user_prefix
        self.user_password = user_password
        self.light_hash = light_hash
        self.redis: LocalRedis | None = None
        self.postgres: LocalPostgres | None = None
        self.app_ports: list[int] = []
        self.app_processes: list[Process] = []
        self.worker: Process | None = None
        self.nginx: Process | None = None
        self.nginx_port = free_port()
        self.env: dict = {}
        self.nofile = 0

    @property
    def url(self):
        return f"http://127.0.0.1:{self.nginx_port}"

    def security_settings(self) -> dict:
        """The protections in force for the app processes, as the report states them."""
        defaults = Config  # what the app reads when the environment leaves a setting unset
        return {
            "proxy_hops": int(self.env.get("PROXY_HOPS", defaults.PROXY_HOPS)),
            "login_rate_limit": self.env.get("LOGIN_RATE_LIMIT", defaults.LOGIN_RATE_LIMIT),
            "register_rate_limit": self.env.get("REGISTER_RATE_LIMIT", defaults.REGISTER_RATE_LIMIT),
            "ratelimit_enabled": self.env.get("RATELIMIT_ENABLED", "1") not in ("0", "false", "no", "off"),
            "ratelimit_exempt_addresses": self.env.get("RATELIMIT_EXEMPT_ADDRESSES", ""),
            "account_lock": f"{defaults.ACCOUNT_LOGIN_FAILURES} failures / {defaults.ACCOUNT_LOCK_SECONDS} s",
            "plain_http": self.env.get("ALLOW_PLAIN_HTTP") == "1",
        }

    @property
    def database_url(self):
        return self.env["DATABASE_URL"]

    def _log(self, name) -> Path:
        return self.run_dir / "logs" / name

    def _contest(self, *args, check=True):
        return subprocess.run(
            [str(VENV_BIN / "contest"), *args],
            env=self.env,
            cwd=PROJECT_ROOT,
            check=check,
            capture_output=True,
            text=True,
        )

    def start(self):
        (self.run_dir / "logs").mkdir(parents=True, exist_ok=True)
        self.nofile = raise_nofile_limit()
        self.somaxconn = raise_somaxconn()
        nginx = find_nginx()
        if nginx is None:
            raise RuntimeError("nginx is not installed: scripts/bootstrap.sh --load (Debian package 'nginx')")

        self.redis = LocalRedis(self.run_dir / "redis", appendfsync=self.appendfsync).start()
        if self.db == "postgres":
            self.postgres = durable_postgres(Path(f"/tmp/contest-load-pg-{os.getpid()}")).start()
            self.postgres.psql("CREATE DATABASE contest")
            database_url = self.postgres.url("contest")
        elif self.db == "sqlite":
            database_url = f"sqlite:///{self.run_dir / 'contest.db'}"
        else:
            raise ValueError("DB must be sqlite or postgres")
        self.metrics_token = secrets.token_hex(16)
        self.env = {
            **{k: v for k, v in os.environ.items() if k not in STACK_OWNED_SETTINGS},
            "CONTEST_ENV": "production",
            "SECRET_KEY": secrets.token_hex(16),
            "CCCD_HASH_KEY": secrets.token_hex(16),
            # Plain HTTP on loopback (no TLS to terminate): the one production setting the stack relaxes.
            "ALLOW_PLAIN_HTTP": "1",
            "METRICS_TOKEN": self.metrics_token,
            "DATABASE_URL": database_url,
            "REDIS_URL": self.redis.url,
            "SOCKETIO_MESSAGE_QUEUE": self.redis.url,
            # The documented deployment: one trusted proxy (nginx) appends the client address. The rate limits
            # are the defaults (LOGIN_RATE_LIMIT etc. are not overridden): Locust spreads its users over
            # loopback source addresses (loadtests/locustfile.py), one per simulated contestant.
            "PROXY_HOPS": "1",
            "LOG_LEVEL": "WARNING",
            "CONTEST_VAR_DIR": str(self.run_dir),
        }
        if self.bare:
            self._start_apps([sys.executable, "-m", "loadtests.bare_app"])
            return self._start_nginx(nginx)
        self._contest("db", "upgrade", "heads")
        if self.seed_users:
            self._contest(
                "loadtest",
                "seed-users",
                "--count",
                str(self.seed_users),
                "--prefix",
                self.user_prefix,
                "--password",
                self.user_password,
                *(["--light-hash"] if self.light_hash else []),
            )
        self._start_worker()
        self._start_apps([sys.executable, "-m", "server.serve"])
        return self._start_nginx(nginx)

    @property
    def backlog(self) -> int:
        return min(self.somaxconn or 4096, 65535)

    def _start_apps(self, command: list[str]):
        for index in range(self.procs):
            port = free_port()
            process = Process(
                [*command, "--host", "127.0.0.1", "--port", str(port), "--backlog", str(self.backlog)],
                name=f"app-{index}",
                log_path=self._log(f"app-{index}.log"),
                env=self.env,
                cwd=PROJECT_ROOT,
            ).start()
            self.app_ports.append(port)
            self.app_processes.append(process)
        for port, process in zip(self.app_ports, self.app_processes):
            process.wait_http(f"http://127.0.0.1:{port}/healthz", HEALTHY_TIMEOUT, interval=0.2, probe_timeout=1)

    def _start_nginx(self, nginx: str):
        nginx_dir = self.run_dir / "nginx"
        for sub in ("body", "proxy", "fastcgi", "uwsgi", "scgi"):
            (nginx_dir / "tmp" / sub).mkdir(parents=True, exist_ok=True)
        conf = nginx_dir / "nginx.conf"
        conf.write_text(
            render_nginx_conf(
                nginx_dir,
                self.nginx_port,
                self.app_ports,
                self.nofile,
                target_connections=self.target_connections,
                backlog=self.backlog,
            )
        )
        self.nginx = Process(
            [nginx, "-p", str(nginx_dir), "-c", str(conf), "-e", str(nginx_dir / "error.log")],
            name="nginx",
            log_path=self._log("nginx.log"),
            new_session=True,  # a forced stop kills the master and its workers together
        ).start()
        self.nginx.wait_http(self.url + "/readyz", HEALTHY_TIMEOUT, interval=0.2, probe_timeout=1)
        return self

    def open_round_id(self) -> int | None:
        """An open round of a published contest, after loading the demo data (which brings one)."""
        self._contest("seed-demo")
        now = datetime.now(UTC).replace(tzinfo=None)
        engine = create_engine(self.database_url)
        try:
            with engine.connect() as conn:
                return conn.scalar(
                    select(Round.id)
                    .join(Contest, Round.contest_id == Contest.id)
                    .where(Contest.published.is_(True), Round.opens_at <= now, Round.closes_at > now)
                    .order_by(Round.id)
                )
        finally:
            engine.dispose()

    def create_load_round(self, questions: int, minutes: int) -> int:
        """A dedicated round (`contest loadtest create-round`): long attempts keep users answering."""
        self._contest("seed-demo")
        return int(
            self._contest("loadtest", "create-round", "--questions", str(questions), "--minutes", str(minutes))
            .stdout.strip()
            .splitlines()[-1]
        )

    def _start_worker(self):
        # `contest worker` (write-behind from the Redis stream to SQL) comes with the live-attempt code.
        if self._contest("worker", "--help", check=False).returncode != 0:
            return
        self.worker_metrics_port = free_port()
        self.worker = Process(
            [str(VENV_BIN / "contest"), "worker", "--metrics-port", str(self.worker_metrics_port)],
            name="worker",
            log_path=self._log("worker.log"),
            env=self.env,
            cwd=PROJECT_ROOT,
        ).start()

    def server_pids(self) -> dict[str, int]:
        """Named processes whose CPU and memory the summary reports."""
        pids = {f"app-{i}": p.pid for i, p in enumerate(self.app_processes) if p.running}
        if self.worker and self.worker.running:
            pids["worker"] = self.worker.pid
        if self.redis and self.redis.process and self.redis.process.running:
            pids["redis"] = self.redis.process.pid
        if self.nginx and self.nginx.running:
            pids["nginx"] = self.nginx.pid  # the master; its workers are counted as children
        if self.postgres and self.postgres.pid():
            pids["postgres"] = self.postgres.pid()
        return pids

    def stop(self):
        if self.nginx:
            self.nginx.stop(grace=10, sig=signal.SIGQUIT)  # graceful: finish the requests in flight
        stop_all([*self.app_processes, self.worker], grace=15)
        if self.redis:
            self.redis.stop()
        if self.postgres:
            self.postgres.stop()
            shutil.rmtree(self.postgres.base_dir, ignore_errors=True)

    def __enter__(self):
        try:
            return self.start()
        except BaseException:
            self.stop()
            raise

    def __exit__(self, *exc):
        self.stop()
