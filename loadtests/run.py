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
import signal
import subprocess
import sys
import threading
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
    cpu_per_answer,
    gc_view,
    histogram_quantiles,
    hold_cpu_per_answer,
    node_as_locust,
    read_locust_stats,
    read_node_stats,
    render_extras,
    render_markdown,
    scrape,
    server_view,
    use_metrics_token,
    write_summary,
)
from loadtests.stack import (
    PROJECT_ROOT,
    VENV_BIN,
    Stack,
    app_processes_for,
    kernel_limits,
    raise_nofile_limit,
)

# Which Locust user classes each scenario runs.
SCENARIOS = {
    "http": ["ContestantBrowsing", "PublicReader"],
    "read": ["PublicReader"],
    "steady": ["SocketContestant"],
    "rush": ["SocketContestant"],
    "reconnect": ["SocketContestant"],
    "live": ["LivePlayer", "LiveHost"],
    # GENERATOR=node only: every contestant answers as fast as the answer rate limit allows (10/s): the
    # peak throughput of the answer path (docs/runbook.md).
    "peak": ["SocketContestant"],
}
LIVE = {"steady", "rush", "reconnect", "peak"}
LOCUSTFILES = {"live": "live_final.py"}  # the others: locustfile.py
LIVE_GAP_S = 2.0  # between a reveal and the next question
NODE_SCENARIOS = {"steady", "peak"}  # what loadtests/node/contestant.mjs implements
PEAK_THINK = "0.1,0.1"
BARE_SPAWN_RATE = 50  # contestants a second in the bare app's ramp at least
RAMP_LIMIT_S = 300  # GENERATOR=node: the hold phase starts at the latest this long after the planned ramp


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
    parser.add_argument(
        "--procs",
        type=int,
        default=0,
        help="gevent app processes behind nginx (0: enough for the users' file descriptors, at least 2)",
    )
    parser.add_argument(
        "--generator",
        choices=("locust", "node"),
        default="locust",
        help="locust (the ops tool) or node (loadtests/node: thousands of connections for ~1 %% of a core)",
    )
    parser.add_argument(
        "--bare",
        action="store_true",
        help="then run the same load against a bare Flask-SocketIO app behind the same nginx (the ceiling)",
    )
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
    parser.add_argument(
        "--bare-async",
        choices=("gevent", "eventlet"),
        default="gevent",
        help="async library of the bare app (eventlet: pip install eventlet first; figures in docs/runbook.md)",
    )
    parser.add_argument(
        "--profile",
        type=int,
        default=0,
        metavar="SECONDS",
        help="the in-process sampler (infra/profiling.py) records app-0 and the worker for this long after the ramp",
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
    if args.generator == "node" and args.scenario not in NODE_SCENARIOS:
        parser.error(f"GENERATOR=node runs the scenarios {sorted(NODE_SCENARIOS)}")
    if args.scenario == "peak":
        if args.generator != "node":
            parser.error("SCENARIO=peak needs GENERATOR=node")
        args.think = PEAK_THINK
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


def run_node(args, stack: Stack, run_dir: Path, sampler=None, label="project") -> tuple[int, Path]:
    """The Node.js generator (loadtests/node/contestant.mjs): one process holds every connection."""
    script = PROJECT_ROOT / "loadtests" / "node" / "contestant.mjs"
    if not (script.parent / "node_modules" / "socket.io-client").is_dir():
        raise RuntimeError("loadtests/node/node_modules is missing: scripts/bootstrap.sh --load installs it")
    out = run_dir / f"node-{label}.jsonl"
    env = {
        **os.environ,
        "LOADTEST_HOST": stack.url,
        "LOADTEST_USERS": str(args.users),
        "LOADTEST_SPAWN_RATE": str(args.spawn_rate),
        "LOADTEST_DURATION_S": str(args.duration_s),
        "LOADTEST_THINK": args.think,
        "LOADTEST_ROUND_ID": str(args.round_id or 1),
        "LOADTEST_PREFIX": stack.user_prefix,
        "LOADTEST_PASSWORD": stack.user_password,
        "LOADTEST_ACK_DIR": str(run_dir / "acks") if label == "project" else "",
        "LOADTEST_NODE_OUT": str(out),
        "LOADTEST_SPREAD_ADDRESSES": "1" if spread_addresses() else "0",
        "LOADTEST_BARRIER": "1" if args.scenario == "peak" else "0",
        "LOADTEST_RAMP_LIMIT_S": str(RAMP_LIMIT_S + args.users / args.spawn_rate),
    }
    with open(run_dir / "logs" / f"node-{label}.log", "ab") as log:
        process = subprocess.Popen(
            # LOADTEST_NODE_FLAGS: V8/Node options the environment variable NODE_OPTIONS refuses (--trace-gc)
            ["node", *os.environ.get("LOADTEST_NODE_FLAGS", "").split(), str(script)],
            env=env,
            cwd=PROJECT_ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        if sampler is not None:
            sampler.add("generator", process.pid)
        try:
            code = process.wait(timeout=args.users / args.spawn_rate + RAMP_LIMIT_S + args.duration_s + 120)
        except subprocess.TimeoutExpired:
            process.kill()
            code = process.wait()
    return code, out


def start_profiles(
    args, pids: dict[str, int], run_dir: Path, label: str = "", watch: Path | None = None
) -> list[threading.Thread]:
    """Samples app-0 and the worker for --profile seconds once the ramp is over (infra/profiling.py, started and
    stopped by SIGUSR2): 10 s after the Node generator's hold phase began (`watch`: its output), else after the
    planned ramp. The collapsed stacks land in the run dir as profile-<label><name>.txt."""
    if not args.profile:
        return []
    profile_dir = Path(os.environ["CONTEST_PROFILE_DIR"])

    def hold_begun() -> bool:
        return watch is not None and watch.exists() and "hold_start" in watch.read_text()

    def sample(name, pid):
        if watch is None:
            time.sleep(args.users / args.spawn_rate + 20)
        else:
            deadline = time.monotonic() + args.users / args.spawn_rate + RAMP_LIMIT_S
            while not hold_begun() and time.monotonic() < deadline:
                time.sleep(1)
            time.sleep(10)
        try:
            os.kill(pid, signal.SIGUSR2)
            time.sleep(args.profile)
            os.kill(pid, signal.SIGUSR2)
        except ProcessLookupError:
            return
        written = profile_dir / f"profile-{pid}.txt"
        for _ in range(50):
            if written.exists():
                written.rename(run_dir / f"profile-{label}{name}.txt")
                return
            time.sleep(0.2)

    threads = [
        threading.Thread(target=sample, args=(name, pids[name]), daemon=True)
        for name in ("app-0", "worker")
        if name in pids
    ]
    for thread in threads:
        thread.start()
    return threads


def spread_addresses() -> bool:
    """Whether Locust gives each simulated user its own loopback source address (loadtests/locustfile.py)."""
    return os.environ.get("LOADTEST_SPREAD_ADDRESSES", "1") not in ("0", "", "false", "no")


def _sizing(args) -> tuple[int, int]:
    """(file limit, app processes): enough processes for two descriptors per WebSocket (stack.py)."""
    nofile = raise_nofile_limit()
    return nofile, args.procs or app_processes_for(args.users, nofile)


def _bare_run(args, run_dir: Path, procs: int) -> dict:
    """The same generator against loadtests/bare_app.py behind the same nginx: the framework's ceiling."""
    # Same contestants, think time and hold; the ramp may be faster (the bare app's logins cost nothing).
    args = argparse.Namespace(**{**vars(args), "spawn_rate": max(args.spawn_rate, BARE_SPAWN_RATE)})
    print(f"==> bare: {procs} bare Flask-SocketIO processes ({args.bare_async}) behind nginx, same load")
    os.environ["BARE_ASYNC_MODE"] = args.bare_async
    with Stack(run_dir / "bare", procs=procs, bare=True, target_connections=max(args.users, 1)) as stack:
        metrics_urls = [f"http://127.0.0.1:{port}/metrics" for port in stack.app_ports]
        sampler = ProcessSampler(stack.server_pids()).start()
        profiles = start_profiles(args, stack.server_pids(), run_dir, "bare-", run_dir / "node-bare.jsonl")
        _, out = run_node(args, stack, run_dir, sampler, label="bare")
        for profile in profiles:
            profile.join(timeout=args.profile + 30)
        processes = sampler.stop()
        del metrics_urls
    stats = read_node_stats(out, ramp_s=args.users / args.spawn_rate)
    return {"node": stats, "processes": processes, "cpu_per_answer": hold_cpu_per_answer(sampler.samples, stats)}


def _figures(node: dict, efficiency: dict) -> dict:
    hold = node["hold"]
    return {
        "answers_per_s": hold["answers_per_s"],
        "peak_answers_per_s": hold["peak_answers_per_s"],
        "app_cpu_ms_per_answer": efficiency.get("app_cpu_ms_per_answer"),
        "p99_ms": hold["p99_ms"],
        "worst_window_p99_ms": hold["worst_window_p99_ms"],
        "errors": node["failures"],
    }


def main(argv=None) -> int:
    args = parse_args(argv)
    started = datetime.now(UTC)
    run_dir = Path(args.results) / f"{started:%Y%m%dT%H%M%SZ}-{args.scenario}-{args.db}-u{args.users}"
    run_dir.mkdir(parents=True, exist_ok=True)
    nofile, procs = _sizing(args)
    if args.profile:
        os.environ["CONTEST_PROFILE_DIR"] = str(run_dir / "profiles")  # the stack's processes install the sampler
    params = {
        "scenario": args.scenario,
        "users": args.users,
        "spawn_rate": args.spawn_rate,
        "duration": args.duration,
        "procs": procs,
        "db": args.db,
        "generator": args.generator,
        "locust_procs": args.locust_procs,
        "appendfsync": args.appendfsync,
        "think_s": args.think,
        "light_hash": args.light_hash,
        "started_at": started.isoformat(timespec="seconds"),
        "command": "python -m loadtests.run " + " ".join(sys.argv[1:] if argv is None else argv),
    }
    print(f"==> stack: {procs} app processes, nginx, Redis (appendfsync {args.appendfsync}), {args.db}")
    node = None
    with Stack(
        run_dir,
        procs=procs,
        db=args.db,
        appendfsync=args.appendfsync,
        seed_users=seeded_accounts(args.users),
        light_hash=args.light_hash,
        target_connections=max(args.users, 1),
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
        limits = {**kernel_limits(), "nofile": nofile}
        metrics_urls = [f"http://127.0.0.1:{port}/metrics" for port in stack.app_ports]
        gc_urls = {f"app-{i}": url for i, url in enumerate(metrics_urls)}
        if stack.worker_metrics_port:
            gc_urls["worker"] = f"http://127.0.0.1:{stack.worker_metrics_port}/metrics"
        sampler = ProcessSampler(stack.server_pids(), metrics_urls).start()
        print(f"==> {args.generator}: {args.users} users, {args.spawn_rate}/s, {args.duration} against {stack.url}")
        watch = run_dir / "node-project.jsonl" if args.generator == "node" else None
        profiles = start_profiles(args, stack.server_pids(), run_dir, watch=watch)
        if args.generator == "node":
            generator_exit, out = run_node(args, stack, run_dir, sampler)
            node = read_node_stats(out, ramp_s=args.users / args.spawn_rate)
        else:
            generator_exit = run_locust(args, stack, run_dir, sampler, live_env)
        for profile in profiles:
            profile.join(timeout=args.profile + 30)
        processes = sampler.stop()
        server = server_view(metrics_urls)
        gc_by_url = gc_view(list(gc_urls.values()))
        gc_stats = {name: gc_by_url[url] for name, url in gc_urls.items() if url in gc_by_url}
        worker_texts = scrape([gc_urls["worker"]]) if "worker" in gc_urls else []
        worker_lag = {
            "lag": histogram_quantiles(worker_texts, "contest_worker_lag_seconds"),
            "batch": histogram_quantiles(worker_texts, "contest_worker_batch_entries"),
        }
        answers = check_answers(stack.database_url, run_dir / "acks")
        stats = node_as_locust(node) if node is not None else read_locust_stats(run_dir / "locust")
        live = live_outcome(stack, live_env, stats, args.users) if live_env else None
    summary = build_summary(
        params,
        stats,
        processes,
        answers.as_dict(),
        sampler.peak_connected,
        limits,
        generator_exit,
        capacity_curve(run_dir / "locust") if node is None else None,
        server,
    )
    summary["gc"] = gc_stats
    summary["worker_lag"] = worker_lag if worker_lag["lag"] else None
    summary["load_average_max"] = sampler.load_average_max
    answered = node["answer_ack"]["count"] if node is not None else answers.acknowledged
    summary["cpu_per_answer"] = cpu_per_answer(processes, answered)
    if node is not None:
        summary["node"] = node
        summary["failures"] = node["failures"]
        summary["users_held"] = max(summary["users_held"], node["peak_connected"])
        summary["hold_cpu_per_answer"] = hold_cpu_per_answer(sampler.samples, node)
    if args.bare and node is not None:
        bare = _bare_run(args, run_dir, procs)
        summary["bare"] = {
            "async_mode": args.bare_async,
            "project": _figures(node, summary["hold_cpu_per_answer"]),
            "bare": _figures(bare["node"], bare["cpu_per_answer"]),
            "bare_processes": bare["processes"],
        }
    if live:
        summary["live"] = live
    write_summary(run_dir, summary)
    if live:
        (run_dir / "live.json").write_text(json.dumps(live, indent=2))
    latest = Path(args.results) / "latest"
    if latest.is_symlink() or not latest.exists():
        latest.unlink(missing_ok=True)
        latest.symlink_to(run_dir.name)
    print(render_markdown(summary) + render_extras(summary))
    if live:
        print(render_live(live))
    print(f"==> report: {run_dir}")
    healthy = summary["requests"] > 0 and summary["failures"] == 0 and answers.ok and generator_exit == 0
    if live:
        healthy = healthy and live["answers_in_sql"] == live["answers_acknowledged"]
    return 0 if healthy else 1


if __name__ == "__main__":
    sys.exit(main())
