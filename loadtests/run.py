"""`make loadtest`: bring up the stack, run Locust headless against nginx, check answers, write the report.

    python -m loadtests.run --users 500 --spawn-rate 50 --duration 2m --procs 2 --db postgres --scenario http
    python -m loadtests.run --scenario live --users 1000 --spawn-rate 20 --procs 2 --light-hash
The "live" scenario (loadtests/live_final.py): one host (the `host` role) drives --questions (default 10) of
--live-seconds each; --users players join by PIN and answer in the first seconds of each window. The report's
"live" section gives the question broadcast and answer-ack latencies (p50/p99) and the players held.
Exit status 0 only when Locust saw no failure and no acknowledged answer is missing from SQL.
"""

import argparse
import json
import os
import re
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

if __package__ in (None, ""):  # `python loadtests/run.py`
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import redis
from sqlalchemy import create_engine, func, select

from contest.live.models import LiveAnswer
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
    "live": ["LivePlayer", "LiveHost"],
}
LIVE = {"steady", "rush", "reconnect"}
LOCUSTFILES = {"live": "live_final.py"}  # the others: locustfile.py
LIVE_GAP_S = 2.0  # between a reveal and the next question


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
    parser.add_argument("--live-seconds", type=int, default=10, help="live scenario: seconds per question")
    parser.add_argument(
        "--live-answer-within", type=float, default=3.0, help="live scenario: players answer within these seconds"
    )
    parser.add_argument("--appendfsync", choices=("always", "everysec"), default="always")
    parser.add_argument("--results", default=str(PROJECT_ROOT / "loadtests" / "results"))
    args = parser.parse_args(argv)
    args.duration_s = duration_seconds(args.duration)
    if args.scenario == "live":
        args.questions = args.questions or 10
        # Long enough for the joins and every question: a shorter --duration would stop the game half-way.
        needed = live_game_seconds(args)
        if args.duration_s < needed:
            args.duration_s, args.duration = needed, f"{needed}s"
    return args


def live_join_seconds(args) -> int:
    """How long the host waits for every player: the spawn ramp plus slack for a slow login wave (a busy machine
    takes minutes to log a thousand players in); the game starts as soon as they all joined."""
    return int(args.users / max(args.spawn_rate, 0.1)) + 600


def live_game_seconds(args) -> int:
    """Locust's run time: joining, then each question's window, reveal and gap, then the end. An upper bound: the
    run stops a few seconds after the host ended the game (stop_after_the_game)."""
    return int(live_join_seconds(args) + args.questions * (args.live_seconds + 5 + LIVE_GAP_S) + 60)


def seeded_accounts(users: int) -> int:
    """Accounts to seed: one per user plus spares, because Locust's master re-spawns the users of a
    worker that missed its heartbeats (a CPU-starved worker), and each new user needs its own."""
    return users + users // 4 + 10


def run_locust(args, stack: Stack, run_dir: Path, sampler=None, extra_env=None) -> int:
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
        **(extra_env or {}),
    }
    if args.round_id:
        env["LOADTEST_ROUND_ID"] = str(args.round_id)
    command = [
        str(VENV_BIN / "locust"),
        "-f",
        str(PROJECT_ROOT / "loadtests" / LOCUSTFILES.get(args.scenario, "locustfile.py")),
        "--headless",
        "-u",
        str(args.users + (1 if args.scenario == "live" else 0)),  # live: the players and their host
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
        if args.scenario == "live":
            stop_after_the_game(process, stack)
        return process.wait()


def stop_after_the_game(process, stack: Stack, linger_s: float = 10.0) -> None:
    """The live scenario ends with the game: once the host ended it (loadtest:live_over), Locust gets SIGTERM after
    the last broadcasts had time to arrive, and writes its statistics as at the end of its run time."""
    shared = redis.Redis.from_url(stack.redis.url)
    while process.poll() is None:
        if shared.get("loadtest:live_over"):
            time.sleep(linger_s)
            if process.poll() is None:
                process.terminate()
            return
        time.sleep(1)


def create_live(stack: Stack, args) -> dict:
    """A live session in the stack (`contest loadtest create-live`) and the environment live_final.py reads."""
    out = stack._contest(
        "loadtest",
        "create-live",
        "--questions",
        str(args.questions),
        "--seconds",
        str(args.live_seconds),
        "--password",
        stack.user_password,
    )
    session_id, pin, host_phone = out.stdout.strip().splitlines()[-1].split()
    return {
        "LIVE_PIN": pin,
        "LIVE_SESSION_ID": session_id,
        "LIVE_HOST_PHONE": host_phone,
        "LIVE_HOST_PASSWORD": stack.user_password,
        "LIVE_QUESTIONS": str(args.questions),
        "LIVE_SECONDS": str(args.live_seconds),
        "LIVE_ANSWER_WITHIN_S": str(args.live_answer_within),
        "LIVE_GAP_S": str(LIVE_GAP_S),
        "LIVE_PLAYERS": str(args.users),
        "LIVE_JOIN_TIMEOUT_S": str(live_join_seconds(args)),
    }


def live_outcome(stack: Stack, live_env: dict, stats: dict, players: int) -> dict:
    """The live final's numbers: latencies, players held, and every acknowledged answer found in SQL."""
    shared = redis.Redis.from_url(stack.redis.url)
    held = int(shared.get("loadtest:live_held") or 0)
    acked = int(shared.get("loadtest:live_acked") or 0)
    engine = create_engine(stack.database_url)
    try:
        with engine.connect() as conn:
            stored = conn.scalar(
                select(func.count(LiveAnswer.id)).where(
                    LiveAnswer.session_id == int(live_env["LIVE_SESSION_ID"]), LiveAnswer.option_id.is_not(None)
                )
            )
    finally:
        engine.dispose()

    def pick(name):
        row = stats["rows"].get(f"SIO {name}") or {}
        return {
            "count": int(float(row.get("Request Count") or 0)),
            "failures": int(float(row.get("Failure Count") or 0)),
            "p50_ms": float(row.get("50%") or 0),
            "p99_ms": float(row.get("99%") or 0),
        }

    broadcast, ack, joined = pick("question broadcast"), pick("answer ack"), pick("join ack")
    joined_ok = joined["count"] - joined["failures"]
    return {
        "players": players,
        "players_joined": joined_ok,  # the others' login failed three times (the login wave, not the game)
        "players_held": held,
        "questions": int(live_env["LIVE_QUESTIONS"]),
        "seconds_per_question": int(live_env["LIVE_SECONDS"]),
        "question_broadcast": broadcast,
        "answer_ack": ack,
        "join_ack": joined,
        "reconnects": pick("reconnect")["count"],
        "answers_acknowledged": acked,
        "answers_in_sql": stored,
        "targets_met": 0 < held == joined_ok and broadcast["p99_ms"] < 1000 and ack["p99_ms"] < 250,
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }


def render_live(live: dict) -> str:
    b, a = live["question_broadcast"], live["answer_ack"]
    return "\n".join(
        [
            "## Live final",
            f"- players: {live['players']}, joined {live['players_joined']}, held {live['players_held']} "
            "(received every question and the end)",
            f"- question broadcast (server clock at show -> arrival): p50 {b['p50_ms']:.0f} ms, "
            f"p99 {b['p99_ms']:.0f} ms ({b['count']} deliveries, {b['failures']} failures)",
            f"- answer ack: p50 {a['p50_ms']:.0f} ms, p99 {a['p99_ms']:.0f} ms ({a['count']} answers, "
            f"{a['failures']} failures)",
            f"- answers acknowledged {live['answers_acknowledged']}, in SQL {live['answers_in_sql']}; "
            f"sockets reconnected {live['reconnects']}",
            f"- targets (every joined player held, broadcast p99 < 1 s, ack p99 < 250 ms): "
            f"{'met' if live['targets_met'] else 'MISSED'}",
            f"- load average at the end: {live['load_average']}",
        ]
    )


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
        live_env = create_live(stack, args) if args.scenario == "live" else None
        if live_env:
            params.update(
                live_questions=args.questions, live_seconds=args.live_seconds, load_average_before=os.getloadavg()
            )
        limits = kernel_limits()
        metrics_urls = [f"http://127.0.0.1:{port}/metrics" for port in stack.app_ports]
        sampler = ProcessSampler(stack.server_pids(), metrics_urls).start()
        print(f"==> locust: {args.users} users, {args.spawn_rate}/s, {args.duration} against {stack.url}")
        locust_exit = run_locust(args, stack, run_dir, sampler, live_env)
        processes = sampler.stop()
        server = server_view(metrics_urls)
        answers = check_answers(stack.database_url, run_dir / "acks")
        stats = read_locust_stats(run_dir / "locust")
        live = live_outcome(stack, live_env, stats, args.users) if live_env else None
    summary = build_summary(
        params,
        stats,
        processes,
        answers.as_dict(),
        sampler.peak_connected,
        limits,
        locust_exit,
        capacity_curve(run_dir / "locust"),
        server,
    )
    if live:
        summary["live"] = live
    write_summary(run_dir, summary)
    if live:
        (run_dir / "live.json").write_text(json.dumps(live, indent=2))
    latest = Path(args.results) / "latest"
    if latest.is_symlink() or not latest.exists():
        latest.unlink(missing_ok=True)
        latest.symlink_to(run_dir.name)
    print(render_markdown(summary))
    if live:
        print(render_live(live))
    print(f"==> report: {run_dir}")
    healthy = summary["requests"] > 0 and summary["failures"] == 0 and answers.ok and locust_exit == 0
    if live:
        healthy = healthy and live["answers_in_sql"] == live["answers_acknowledged"]
    return 0 if healthy else 1


if __name__ == "__main__":
    sys.exit(main())
