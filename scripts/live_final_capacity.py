"""Capacity of a live final: N players on P app processes (Redis message queue), one host, 10 questions.

    PYTHONPATH=. .venv/bin/python scripts/live_final_capacity.py N [P]

Starts a project-local Redis, migrates a throwaway SQLite database, seeds N players (light password hashes),
an organiser and a points session of 10 questions × 10 s, starts P `python -m server.serve` processes and one
Locust per process (loadtests/live_final.py; the host on the first), the players answering in the first 3 s
of each window. Prints, per Locust, the question-broadcast latency (Redis's clock at show → arrival at the
player) and the answer-ack latency, p50/p99, with the number of requests and failures.
"""

import csv
import subprocess
import sys
import tempfile
from pathlib import Path

from flask_migrate import upgrade

from contest.accounts.models import User
from contest.live import services
from infra.extensions import db
from infra.localredis import LocalRedis
from loadtests.seed import seed_users
from tests.conftest import PASSWORD, make_app
from tests.contest.live.livekit import make_live
from tests.harness import ServerProcess

ROOT = Path(__file__).resolve().parent.parent
NAMES = ("question broadcast", "answer ack", "join ack", "host next")


def main(players: int, procs: int) -> None:
    base = Path(tempfile.mkdtemp(prefix="live-capacity-"))
    redis_server = LocalRedis(base / "redis")
    redis_server.start()
    servers = []
    try:
        database_url = f"sqlite:///{base}/live.db"
        app = make_app(database_url, redis_server.url)
        with app.app_context():
            upgrade(directory=app.extensions["migrate"].directory, revision="heads")
        session_id, organiser_id, _ = make_live(app, mode="points", count=10, seconds=10)
        with app.app_context():
            seed_users(players, prefix="0597", password="thitai12345", light_hash=True)
            pin = services.get_session(session_id).pin
            host_phone = db.session.get(User, organiser_id).phone
        for i in range(procs):
            env = {
                "CONTEST_ENV": "testing",
                "DATABASE_URL": database_url,
                "REDIS_URL": redis_server.url,
                "SOCKETIO_MESSAGE_QUEUE": redis_server.url,
                "SECRET_KEY": "capacity",
                "CCCD_HASH_KEY": "capacity",
                "RATELIMIT_ENABLED": "0",
            }
            servers.append(ServerProcess(env, log_path=base / f"server-{i}.log"))
            servers[-1].start()
        env = {
            "PATH": "/usr/bin:/bin",
            "PYTHONPATH": str(ROOT),
            "LOADTEST_PREFIX": "0597",
            "LOADTEST_SEEDED": str(players),
            "LOADTEST_REDIS_URL": redis_server.url,
            "LIVE_PIN": pin,
            "LIVE_SESSION_ID": str(session_id),
            "LIVE_HOST_PHONE": host_phone,
            "LIVE_HOST_PASSWORD": PASSWORD,
            "LIVE_QUESTIONS": "10",
            "LIVE_SECONDS": "10",
            "LIVE_ANSWER_WITHIN_S": "3",
            "LIVE_GAP_S": "1",
            "LIVE_PLAYERS": str(players),
        }
        locusts = []
        for i, server in enumerate(servers):
            users = players // procs + (players % procs if i == 0 else 0) + (1 if i == 0 else 0)
            args = [sys.executable, "-m", "locust", "-f", "loadtests/live_final.py", "--host", server.url]
            args += ["--headless", "-u", str(users), "-r", "50", "--run-time", "200s"]
            args += ["--csv", str(base / f"locust-{i}"), "--only-summary"]
            if i > 0:
                args.append("LivePlayer")  # the host drives from the first Locust only
            with open(base / f"locust-{i}.log", "w") as log:
                locusts.append(subprocess.Popen(args, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=log))
        for locust in locusts:
            locust.wait()
        for i in range(procs):
            with open(base / f"locust-{i}_stats.csv", encoding="utf-8") as stats:
                for row in csv.DictReader(stats):
                    if row["Name"] in NAMES:
                        print(
                            f"locust {i} {row['Name']:>18}: {row['Request Count']:>6} requests, "
                            f"{row['Failure Count']} failures, p50 {row['50%']} ms, p99 {row['99%']} ms"
                        )
        with app.app_context():
            print("session", services.get_session(session_id).status, "— logs in", base)
    finally:
        for server in servers:
            server.stop()
        redis_server.stop()


if __name__ == "__main__":
    main(int(sys.argv[1]), int(sys.argv[2]) if len(sys.argv) > 2 else 2)
