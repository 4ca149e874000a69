"""CLI commands registered on the app: seed-demo, users, serve, dev, worker, questions, results, loadtest."""

import contextlib
import os
import signal
import sys
import time
from datetime import date
from urllib.parse import urlsplit

import click
from flask import current_app
from flask.cli import with_appcontext
from flask_migrate import upgrade

from contest.accounts.models import ROLES
from contest.accounts.services import AccountError, create_user, end_other_sessions, find_by_login
from contest.bank.cli import questions_group
from contest.judging.cli import results_group
from contest.judging.settler import settle_due_rounds
from contest.rounds.worker import run as run_worker
from infra.config import VAR_DIR
from infra.extensions import db
from infra.gc_tuning import policy_from_config
from infra.localredis import LocalRedis, reachable
from infra.metrics import serve_standalone as serve_metrics
from infra.processes import Process, ProcessError, stop_all
from infra.profiling import install_from_environment as install_profiler
from loadtests.live_setup import DEFAULT_HOST_PHONE, create_live_final
from loadtests.seed import create_load_round, remove_users, seed_users
from server.demo import DEMO_CONTEST_SLUG, DEMO_PASSWORD, seed_demo


def register_commands(app):
    app.cli.add_command(seed_demo_command)
    app.cli.add_command(users_group)
    app.cli.add_command(serve_command)
    app.cli.add_command(dev_command)
    app.cli.add_command(questions_group)
    app.cli.add_command(worker_command)
    app.cli.add_command(results_group)
    app.cli.add_command(loadtest_group)


@click.command("seed-demo")
@with_appcontext
def seed_demo_command():
    """Load demo data (idempotent) and print the demo accounts."""
    accounts = seed_demo()
    click.echo(f"Tài khoản demo / demo accounts (mật khẩu / password: {DEMO_PASSWORD}):")
    for role, phone, name in accounts:
        click.echo(f"  {role:<11} {phone}  {name}")


@click.group("users")
def users_group():
    """Manage accounts."""


@users_group.command("create")
@click.option("--role", type=click.Choice(ROLES), default="contestant", show_default=True)
@click.option("--phone", required=True, help="Số điện thoại (đăng nhập)")
@click.option("--name", "full_name", required=True, help="Họ và tên")
@click.option("--dob", "date_of_birth", default="1990-01-01", show_default=True, help="Ngày sinh YYYY-MM-DD")
@click.option("--email", default=None)
@click.option("--cccd", default=None, help="Số CCCD 12 chữ số")
@click.option("--unit-id", type=int, default=None)
@click.password_option("--password", help="Mật khẩu (hỏi nếu không nhập)")
@with_appcontext
def users_create(role, phone, full_name, date_of_birth, email, cccd, unit_id, password):
    """Create an account with a role."""
    try:
        dob = date.fromisoformat(date_of_birth)
    except ValueError:
        raise click.BadParameter("Ngày sinh phải theo dạng YYYY-MM-DD", param_hint="--dob") from None
    try:
        user = create_user(
            phone=phone,
            password=password,
            full_name=full_name,
            date_of_birth=dob,
            email=email,
            cccd=cccd,
            unit_id=unit_id,
            role=role,
        )
    except AccountError as exc:
        db.session.rollback()
        raise click.ClickException(f"{exc.field}: {exc.message}") from None
    click.echo(f"Đã tạo tài khoản #{user.id} ({user.role}) {user.phone}")


@users_group.command("sign-out-everywhere")
@click.option("--login", "login_name", required=True, help="Số điện thoại hoặc email của tài khoản")
@click.option("--reason", default="admin", show_default=True, help="Lý do (ghi vào nhật ký)")
@with_appcontext
def users_sign_out_everywhere(login_name, reason):
    """End every session and remember-me cookie of an account (a stolen phone, a leaked password); audited."""
    user = find_by_login(login_name)
    if user is None:
        raise click.ClickException("Không có tài khoản nào với số điện thoại/email này.")
    end_other_sessions(user, actor=None, reason=reason, keep_current=False)
    db.session.commit()
    click.echo(f"Đã đăng xuất tài khoản #{user.id} {user.phone} trên mọi thiết bị.")


@click.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.option("--access-log", is_flag=True)
def serve_command(host, port, access_log):
    """Serve with gevent (production-style, WebSocket included)."""
    args = [sys.executable, "-m", "server.serve", "--host", host, "--port", str(port)]
    if access_log:
        args.append("--access-log")
    # gevent must patch the process before anything else is imported: start a fresh interpreter.
    os.execv(sys.executable, args)


@click.command("dev")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
def dev_command(host, port):
    """What `make run` does: local Redis if needed, migrations, demo data, then the server and the worker.

    Ctrl-C in the terminal or SIGTERM to this process stops the server, the worker and the Redis it started.
    """
    # SIGTERM takes the same way out as Ctrl-C, so nothing this command started outlives it.
    signal.signal(signal.SIGTERM, _interrupt)
    url = current_app.config["REDIS_URL"]
    local = None
    children: list[Process] = []
    log_dir = VAR_DIR / "log"
    try:
        log_dir.mkdir(parents=True, exist_ok=True)
        if reachable(url):
            click.echo(f"Dùng Redis có sẵn / using Redis at {url}")
        else:
            parts = urlsplit(url)
            if parts.hostname not in ("127.0.0.1", "localhost"):
                raise click.ClickException(f"Không kết nối được Redis tại {url} / Redis unreachable")
            local = LocalRedis(VAR_DIR / "redis", port=parts.port or 6379)
            local.start()
            click.echo(f"Redis cục bộ / project-local Redis: cổng / port {local.port}, AOF in {local.data_dir}")
        # Alembic's logging config writes to whatever sys.stderr is when it runs: keep its chatter in a file.
        with open(log_dir / "migrations.log", "a") as migrations_log, contextlib.redirect_stderr(migrations_log):
            upgrade(directory=current_app.extensions["migrate"].directory, revision="heads")
        accounts = seed_demo()
        # Own sessions: Ctrl-C reaches this process only, which then stops the children in order.
        server = Process(
            [sys.executable, "-m", "server.serve", "--host", host, "--port", str(port)],
            name="server",
            log_path=log_dir / "server.log",
            new_session=True,
        )
        # The worker drains saved answers into SQL and closes expired attempts.
        worker = Process(
            [sys.executable, "-c", "from server.cli import main; main()", "worker"],
            name="worker",
            log_path=log_dir / "worker.log",
            new_session=True,
        )
        children += [server.start(), worker.start()]
        try:
            server.wait_port(port, timeout=60, host="127.0.0.1" if host in ("0.0.0.0", "::") else host)
        except ProcessError as exc:
            raise click.ClickException(str(exc)) from None
        shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host
        click.echo("")
        click.echo(f"  Sẵn sàng / ready:  http://{shown}:{port}")
        click.echo(f"  Tài khoản demo / demo accounts (mật khẩu / password {DEMO_PASSWORD}):")
        for role, phone, name in accounts:
            click.echo(f"    {role:<11} {phone}  {name}")
        click.echo(f"  Nhật ký / logs: {log_dir}/server.log, worker.log")
        click.echo("  Ctrl-C để dừng / to stop")
        click.echo("")
        while all(child.running for child in children):
            time.sleep(0.5)
        stopped = next(child for child in children if not child.running)
        raise click.ClickException(f"{stopped.name} đã dừng / stopped; see {stopped.log_path}")
    except KeyboardInterrupt:
        pass
    finally:
        # A second Ctrl-C or SIGTERM (people press twice) must not cut the clean-up short.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        stop_all(children, grace=10)
        if local:
            local.stop()
        click.echo("Đã dừng / stopped")


def _interrupt(signum, frame):
    raise KeyboardInterrupt


@click.command("worker")
@click.option("--batch", default=500, show_default=True, help="stream entries per SQL transaction")
@click.option("--consumer", default=None, help="consumer name in the group (default host-pid)")
@click.option("--claim-idle-ms", default=30000, show_default=True, help="take over entries a dead worker left pending")
@click.option("--block-ms", default=1000, show_default=True)
@click.option(
    "--settle-every",
    default=10.0,
    show_default=True,
    help="seconds between looks for settled rounds to settle (0: never)",
)
@click.option(
    "--fill-wait-ms",
    type=click.IntRange(0, 10000),
    default=500,
    show_default=True,
    help="after a part-full batch, wait this long so the next one fills (bounds the added lag)",
)
@click.option(
    "--metrics-port", type=click.IntRange(0, 65535), default=0, help="serve /metrics on 127.0.0.1:PORT (0: off)"
)
@with_appcontext
def worker_command(batch, consumer, claim_idle_ms, block_ms, settle_every, fill_wait_ms, metrics_port):
    """Drain saved answers from Redis into SQL, close expired attempts and settle closed rounds (run one or more)."""
    stopping = []
    signal.signal(signal.SIGTERM, lambda *_: stopping.append(True))
    serve_metrics(metrics_port)
    install_profiler()  # kill -USR2 samples the stacks (CONTEST_PROFILE_DIR, load tests only)
    try:
        run_worker(
            consumer=consumer,
            count=batch,
            block_ms=block_ms,
            claim_idle_ms=claim_idle_ms,
            stop=lambda: bool(stopping),
            settle=settle_due_rounds if settle_every > 0 else None,
            settle_every_s=settle_every,
            fill_wait_s=fill_wait_ms / 1000,
            gc_policy=policy_from_config(current_app.config).install(),
        )
    except KeyboardInterrupt:
        pass


@click.group("loadtest")
def loadtest_group():
    """Load-test helpers (synthetic contestants)."""


@loadtest_group.command("seed-users")
@click.option("--count", type=click.IntRange(min=1), required=True, help="Số thí sinh giả lập")
@click.option("--prefix", default="0599", show_default=True, help="Đầu số điện thoại của thí sinh giả lập")
@click.option("--password", default="thitai12345", show_default=True)
@click.option("--start", type=click.IntRange(min=1), default=1, show_default=True)
@click.option(
    "--light-hash", is_flag=True, help="Băm mật khẩu nhẹ hơn (scrypt N=4096) để tăng tốc đăng nhập khi thử tải"
)
@with_appcontext
def loadtest_seed_users(count, prefix, password, start, light_hash):
    """Bulk-create synthetic contestants (one shared password hash)."""
    try:
        created, existing = seed_users(count, prefix=prefix, password=password, start=start, light_hash=light_hash)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--prefix/--count") from None
    click.echo(f"Đã tạo {created} thí sinh giả lập, {existing} đã có sẵn / created {created}, existing {existing}")


@loadtest_group.command("create-round")
@click.option("--questions", type=click.IntRange(1, 200), default=30, show_default=True, help="Số câu hỏi mỗi lượt")
@click.option("--minutes", type=click.IntRange(1, 300), default=45, show_default=True, help="Thời gian làm bài (phút)")
@with_appcontext
def loadtest_create_round(questions, minutes):
    """Open a round for a capacity test in the demo contest; prints its id."""
    try:
        click.echo(create_load_round(DEMO_CONTEST_SLUG, questions=questions, minutes=minutes))
    except ValueError as exc:
        raise click.ClickException(str(exc)) from None


@loadtest_group.command("create-live")
@click.option("--questions", type=click.IntRange(1, 100), default=10, show_default=True, help="Số câu hỏi")
@click.option("--seconds", type=click.IntRange(5, 120), default=10, show_default=True, help="Số giây mỗi câu")
@click.option("--mode", type=click.Choice(("points", "elimination")), default="points", show_default=True)
@click.option("--host-phone", default=DEFAULT_HOST_PHONE, show_default=True, help="Tài khoản người dẫn (vai trò host)")
@click.option("--password", default="thitai12345", show_default=True)
@with_appcontext
def loadtest_create_live(questions, seconds, mode, host_phone, password):
    """Open a live final for a load test; prints "session_id pin host_phone"."""
    final = create_live_final(questions, seconds, mode, host_phone, password)
    click.echo(f"{final.session_id} {final.pin} {final.host_phone}")


@loadtest_group.command("remove-users")
@click.option("--prefix", default="0599", show_default=True)
@with_appcontext
def loadtest_remove_users(prefix):
    """Delete the synthetic contestants of a prefix."""
    click.echo(f"Đã xóa {remove_users(prefix)} thí sinh giả lập / removed")
