"""`make loadtest`: bring up the stack, run Locust headless against nginx, check answers, write the report.

    python -m loadtests.run --users 500 --spawn-rate 50 --duration 2m --procs 2 --db postgres --scenario http
Exit status 0 only when Locust saw no failure and no acknowledged answer is missing from SQL.
"""

import argparse
import os
import re
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

if __package__ in (None, ""):  # `python loadtests/run.py`
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from loadtests.answer_check import check_answers
from loadtests.report import (
    ProcessSampler,
    build_summary,
    capacity_curve,
    read_locust_stats,
    render_markdown,
    server_view,
    use_metrics_token,
    write_summary,
)
from loadtests.stack import PROJECT_ROOT, VENV_BIN, Stack, kernel_limits

# Which Locust user classes each scenario runs.
SCENARIOS = {
    "http": ["ContestantBrowsing", "PublicReader"],
    "read": ["PublicReader"],
    "steady": ["SocketContestant"],
    "rush": ["SocketContestant"],
    "reconnect": ["SocketContestant"],
}
LIVE = {"steady", "rush", "reconnect"}


def duration_seconds(text: str) -> int:
    """Locust's run-time syntax: 90, 30s, 2m, 1h30m."""
    if re.fullmatch(r"\d+", text):
        return int(text)
    parts = re.findall(r"(\d+)([hms])", text)
    if not parts or "".join(n + u for n, u in parts) != text:
        raise argparse.ArgumentTypeError(f"bad duration {text!r} (use 30s, 2m, 1h30m)")
    return sum(int(n) * {"h": 3600, "m": 60, "s": 1}[u] for n, u in parts)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--users", type=int, default=100)
    parser.add_argument("--spawn-rate", type=float, default=20)
    parser.add_argument("--duration", default="60s")
    parser.add_argument("--procs", type=int, default=2, help="gevent app processes behind nginx")
    parser.add_argument("--db", choices=("sqlite", "postgres"), default="sqlite")
    parser.add_argument("--scenario", choices=sorted(SCENARIOS), default="http")
    parser.add_argument("--locust-procs", type=int, default=1, help="Locust processes (one core each)")
    parser.add_argument("--round-id", help="open round for the live scenarios (default: the demo data's)")
    parser.add_argument(
        "--questions",
        type=int,
        default=0,
        help="live scenarios: a dedicated round with this many questions (0: the demo round)",
    )
    parser.add_argument("--minutes", type=int, default=45, help="time limit of the dedicated round")
    parser.add_argument(
        "--think",
        default=os.environ.get("LOADTEST_THINK", "2,6"),
        help="seconds between answers, min,max (default 2,6; real contestants take 20-90)",
    )
    parser.add_argument(
        "--light-hash",
        action="store_true",
        help="seed accounts with a cheaper scrypt so a big ramp measures the contest, not logins",
    )
    parser.add_argument("--appendfsync", choices=("always", "everysec"), default="always")
    parser.add_argument("--results", default=str(PROJECT_ROOT / "loadtests" / "results"))
    args = parser.parse_args(argv)
    args.duration_s = duration_seconds(args.duration)
    return args


def seeded_accounts(users: int) -> int:
    """Accounts to seed: one per user plus spares, because Locust's master re-spawns the users of a
    worker that missed its heartbeats (a CPU-starved worker), and each new user needs its own."""
    return users + users // 4 + 10


def run_locust(args, stack: Stack, run_dir: Path, sampler=None) -> int:
    env = {
        **os.environ,
        "PYTHONPATH": str(PROJECT_ROOT),
        "LOADTEST_USERS": str(args.users),
        "LOADTEST_SEEDED": str(seeded_accounts(args.users)),
        "LOADTEST_PREFIX": stack.user_prefix,
        "LOADTEST_PASSWORD": stack.user_password,
        "LOADTEST_REDIS_URL": stack.redis.url,
        "LOADTEST_ACK_DIR": str(run_dir / "acks"),
        "LOADTEST_MODE": args.scenario,
        "LOADTEST_DURATION_S": str(args.duration_s),
        "LOADTEST_START_EPOCH": str(time.time()),
        "LOADTEST_THINK": args.think,
    }
    if args.round_id:
        env["LOADTEST_ROUND_ID"] = str(args.round_id)
    command = [
        str(VENV_BIN / "locust"),
        "-f",
        str(PROJECT_ROOT / "loadtests" / "locustfile.py"),
        "--headless",
        "-u",
        str(args.users),
        "-r",
        str(args.spawn_rate),
        "-t",
        args.duration,
        "--host",
        stack.url,
        "--csv",
        str(run_dir / "locust"),
        "--csv-full-history",
        "--html",
        str(run_dir / "locust.html"),
        "--only-summary",
        "--stop-timeout",
        "10",
        "--loglevel",
        "WARNING",
    ]
    if args.locust_procs > 1:
        command += ["--processes", str(args.locust_procs)]
    command += SCENARIOS[args.scenario]
    with open(run_dir / "logs" / "locust.log", "ab") as log:
        process = subprocess.Popen(command, env=env, cwd=PROJECT_ROOT, stdout=log, stderr=subprocess.STDOUT)
        if sampler is not None:
            sampler.add("locust", process.pid)  # the load generator shares the machine: show its CPU too
        return process.wait()


def spread_addresses() -> bool:
    """Whether Locust gives each simulated user its own loopback source address (loadtests/locustfile.py)."""
    return os.environ.get("LOADTEST_SPREAD_ADDRESSES", "1") not in ("0", "", "false", "no")


def main(argv=None) -> int:
    args = parse_args(argv)
    started = datetime.now(UTC)
    run_dir = Path(args.results) / f"{started:%Y%m%dT%H%M%SZ}-{args.scenario}-{args.db}-u{args.users}"
    run_dir.mkdir(parents=True, exist_ok=True)
    params = {
        "scenario": args.scenario,
        "users": args.users,
        "spawn_rate": args.spawn_rate,
        "duration": args.duration,
        "procs": args.procs,
        "db": args.db,
        "locust_procs": args.locust_procs,
        "appendfsync": args.appendfsync,
        "think_s": args.think,
        "light_hash": args.light_hash,
        "started_at": started.isoformat(timespec="seconds"),
    }
    print(f"==> stack: {args.procs} app processes, nginx, Redis (appendfsync {args.appendfsync}), {args.db}")
    with Stack(
        run_dir,
        procs=args.procs,
        db=args.db,
        appendfsync=args.appendfsync,
        seed_users=seeded_accounts(args.users),
        light_hash=args.light_hash,
    ) as stack:
        use_metrics_token(stack.metrics_token)
        params["security"] = {**stack.security_settings(), "spread_source_addresses": spread_addresses()}
        if args.scenario in LIVE and not args.round_id and args.questions:
            args.round_id = stack.create_load_round(args.questions, args.minutes)
            params.update(round_id=args.round_id, questions=args.questions, minutes=args.minutes)
        if args.scenario in LIVE and not args.round_id:
            args.round_id = stack.open_round_id()
            if args.round_id is None:
                print("Không có tuần thi nào đang mở / no open round: pass --round-id", file=sys.stderr)
                return 2
            params["round_id"] = args.round_id
        limits = kernel_limits()
        metrics_urls = [f"http://127.0.0.1:{port}/metrics" for port in stack.app_ports]
        sampler = ProcessSampler(stack.server_pids(), metrics_urls).start()
        print(f"==> locust: {args.users} users, {args.spawn_rate}/s, {args.duration} against {stack.url}")
        locust_exit = run_locust(args, stack, run_dir, sampler)
        processes = sampler.stop()
        server = server_view(metrics_urls)
        answers = check_answers(stack.database_url, run_dir / "acks")
    summary = build_summary(
        params,
        read_locust_stats(run_dir / "locust"),
        processes,
        answers.as_dict(),
        sampler.peak_connected,
        limits,
        locust_exit,
        capacity_curve(run_dir / "locust"),
        server,
    )
    write_summary(run_dir, summary)
    latest = Path(args.results) / "latest"
    if latest.is_symlink() or not latest.exists():
        latest.unlink(missing_ok=True)
        latest.symlink_to(run_dir.name)
    print(render_markdown(summary))
    print(f"==> report: {run_dir}")
    healthy = summary["requests"] > 0 and summary["failures"] == 0 and answers.ok and locust_exit == 0
    return 0 if healthy else 1


if __name__ == "__main__":
    sys.exit(main())
