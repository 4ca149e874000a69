"""Answer-acknowledgement latency with a few hundred simulated contestants on ONE app process,
and the throughput cost of Redis AOF fsync on every write (always) versus once a second (everysec).

    .venv/bin/python benchmarks/bench_ack.py --contestants 300 --answers 10
    .venv/bin/python benchmarks/bench_ack.py --fsync-only

Everything runs on this machine: a private redis-server (AOF, appendfsync always, as in
production), a SQLite database, one `python -m server.serve` process and `contest worker`;
clients are real python-socketio clients in threads. The clients share the CPU with the server,
so the numbers are pessimistic for a machine where load comes from the network.
"""

import argparse
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import requests  # noqa: E402
import socketio  # noqa: E402

from infra.localredis import LocalRedis  # noqa: E402
from infra.processes import free_port  # noqa: E402


def percentile(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def setup_database(db_url, redis_url, contestants):
    from datetime import date

    from flask_migrate import upgrade

    from contest.accounts.models import User
    from infra.config import TestingConfig
    from infra.extensions import db
    from server.app import create_app
    from tests.contest.roundkit import make_round

    app = create_app(TestingConfig, SQLALCHEMY_DATABASE_URI=db_url, REDIS_URL=redis_url, RATELIMIT_ENABLED=False)
    with app.app_context():
        upgrade(directory=app.extensions["migrate"].directory, revision="heads")
        rnd = make_round(count=10, bank_size=40, prediction=False, time_limit_seconds=1800)
        template = User(phone="0900000000", full_name="Mẫu", date_of_birth=date(1990, 1, 1))
        template.set_password("matkhau123")  # scrypt once; every simulated contestant shares the hash
        users = [
            User(
                phone=f"08{i:08d}",
                full_name=f"Thí sinh {i}",
                date_of_birth=date(1990, 1, 1),
                password_hash=template.password_hash,
            )
            for i in range(contestants)
        ]
        db.session.add_all(users)
        db.session.commit()
        keys = {}
        from question_bank.models import QuestionOption

        for o in db.session.query(QuestionOption).filter_by(is_correct=True):
            keys[o.question_id] = o.id
        return rnd.id, [u.phone for u in users], keys


def login_and_start(base, phone, round_id):
    from tests.live import csrf_token

    http = requests.Session()
    token = csrf_token(http.get(base + "/dang-nhap").text)
    r = http.post(
        base + "/dang-nhap", data={"login": phone, "password": "matkhau123", "csrf_token": token}, allow_redirects=False
    )
    assert r.status_code == 302, r.status_code
    token = csrf_token(http.get(base + "/").text)  # login starts a fresh session with a fresh token
    r = http.post(
        f"{base}/vong-thi/{round_id}/bat-dau", data={"csrf_token": token, "confirm": "1"}, allow_redirects=False
    )
    assert r.status_code == 302, r.text[:200]
    return http, int(r.headers["Location"].rstrip("/").split("/")[-1])


def contestant(base, http, attempt_id, keys, answers, think, latencies, errors, ready, go):
    client = socketio.Client(reconnection=False)
    cookie = "; ".join(f"{c.name}={c.value}" for c in http.cookies)
    try:
        client.connect(base, headers={"Cookie": cookie}, transports=["websocket"], wait_timeout=30)
        state = client.call("attempt:join", {"attempt_id": attempt_id}, timeout=60)["state"]
    except Exception as exc:
        errors.append(f"connect: {exc}")
        ready.release()
        return
    ready.release()
    go.wait()
    rng = random.Random(attempt_id)
    try:
        for seq, q in enumerate(state["questions"][:answers], start=1):
            time.sleep(rng.uniform(*think))
            # Clients see per-attempt references only (no key, no bank ids): a blind pick spreads the scores.
            choice = rng.choice(q["options"])["id"]
            t0 = time.perf_counter()
            ack = client.call(
                "answer",
                {"attempt_id": attempt_id, "question_id": q["id"], "selected": [choice], "seq": seq},
                timeout=30,
            )
            latencies.append((time.perf_counter() - t0) * 1000)
            if not ack.get("ok"):
                errors.append(ack.get("error"))
        client.call("submit", {"attempt_id": attempt_id}, timeout=60)
    except Exception as exc:
        errors.append(f"answer: {exc}")
    finally:
        client.disconnect()


def bench_acks(args):
    tmp = Path(tempfile.mkdtemp(prefix="bench-ack-"))
    redis_server = LocalRedis(tmp / "redis", appendfsync="always").start()
    db_url = f"sqlite:///{tmp / 'bench.db'}"
    procs = []
    try:
        round_id, phones, keys = setup_database(db_url, redis_server.url, args.contestants)
        port = free_port()
        env = {
            **os.environ,
            "CONTEST_ENV": "testing",
            "DATABASE_URL": db_url,
            "REDIS_URL": redis_server.url,
            "SECRET_KEY": "bench",
            "CCCD_HASH_KEY": "bench",
            "RATELIMIT_ENABLED": "0",
            "LOG_LEVEL": "WARNING",
        }
        procs.append(
            subprocess.Popen(
                [sys.executable, "-m", "server.serve", "--port", str(port)],
                env=env,
                cwd=ROOT,
                stdout=open(tmp / "server.log", "wb"),
                stderr=subprocess.STDOUT,
            )
        )
        procs.append(
            subprocess.Popen(
                [sys.executable, "-c", "from server.cli import main; main()", "worker"],
                env=env,
                cwd=ROOT,
                stdout=open(tmp / "worker.log", "wb"),
                stderr=subprocess.STDOUT,
            )
        )
        base = f"http://127.0.0.1:{port}"
        for _ in range(300):
            try:
                if requests.get(base + "/healthz", timeout=0.5).ok:
                    break
            except requests.RequestException:
                time.sleep(0.1)
        t0 = time.perf_counter()
        sessions = []
        lock = threading.Lock()

        def prepare(batch):
            for phone in batch:
                pair = login_and_start(base, phone, round_id)
                with lock:
                    sessions.append(pair)

        workers = [threading.Thread(target=prepare, args=(phones[i::8],)) for i in range(8)]
        for w in workers:
            w.start()
        for w in workers:
            w.join()
        print(f"logged in and started {len(sessions)} attempts in {time.perf_counter() - t0:.1f}s")
        latencies, errors = [], []
        ready, go = threading.Semaphore(0), threading.Event()
        threads = [
            threading.Thread(
                target=contestant,
                args=(
                    base,
                    http,
                    aid,
                    keys,
                    args.answers,
                    (args.think_min, args.think_max),
                    latencies,
                    errors,
                    ready,
                    go,
                ),
                daemon=True,
            )
            for http, aid in sessions
        ]
        for t in threads:
            t.start()
        for _ in threads:
            ready.acquire()
        print(f"{len(threads)} sockets connected and joined; answering...")
        t0 = time.perf_counter()
        go.set()
        for t in threads:
            t.join()
        elapsed = time.perf_counter() - t0
        print(
            f"contestants={len(threads)} answers={len(latencies)} errors={len(errors)} in {elapsed:.1f}s "
            f"({len(latencies) / elapsed:.0f} answers/s)"
        )
        if errors:
            print("  first errors:", errors[:5])
        if latencies:
            print(
                f"ack latency ms: p50={percentile(latencies, 50):.1f} p90={percentile(latencies, 90):.1f} "
                f"p99={percentile(latencies, 99):.1f} max={max(latencies):.1f} mean={statistics.mean(latencies):.1f}"
            )
    finally:
        for p in procs:
            p.terminate()
            p.wait(timeout=10)
        redis_server.stop()
        shutil.rmtree(tmp, ignore_errors=True)


def bench_fsync(args):
    """Writes shaped like the answer path (HSET + XADD in one script), with 50 concurrent clients."""
    script = (
        "redis.call('HSET', KEYS[1], ARGV[1], ARGV[2]) "
        "redis.call('XADD', KEYS[2], '*', 'a', ARGV[1], 's', ARGV[2]) return 1"
    )
    for mode in ("always", "everysec"):
        tmp = Path(tempfile.mkdtemp(prefix=f"bench-fsync-{mode}-"))
        server = LocalRedis(tmp, appendfsync=mode).start()
        try:
            out = subprocess.run(
                [
                    "redis-benchmark",
                    "-p",
                    str(server.port),
                    "-n",
                    str(args.requests),
                    "-c",
                    "50",
                    "-q",
                    "EVAL",
                    script,
                    "2",
                    "att:bench:ans",
                    "answers",
                    "__rand_int__",
                    "1,2",
                ],
                capture_output=True,
                text=True,
                check=True,
            ).stdout
            line = [x for x in out.replace("\r", "\n").splitlines() if "requests per second" in x][-1]
            print(
                f"appendfsync {mode:<8} answer-shaped EVAL (HSET+XADD), 50 clients: {line.rsplit(': ', 1)[-1].strip()}"
            )
        finally:
            server.stop()
            shutil.rmtree(tmp, ignore_errors=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--contestants", type=int, default=300)
    parser.add_argument("--answers", type=int, default=10, help="answers per contestant")
    parser.add_argument("--think-min", type=float, default=0.5, help="seconds between answers, at least")
    parser.add_argument("--think-max", type=float, default=3.0)
    parser.add_argument("--requests", type=int, default=50000, help="requests per fsync mode")
    parser.add_argument("--fsync-only", action="store_true")
    parser.add_argument("--skip-fsync", action="store_true")
    args = parser.parse_args()
    if not args.fsync_only:
        bench_acks(args)
    if not args.skip_fsync:
        bench_fsync(args)


if __name__ == "__main__":
    main()
