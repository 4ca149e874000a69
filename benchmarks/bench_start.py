"""CPU cost of the ramp's heaviest steps on ONE process: starting an attempt and joining it.

    .venv/bin/python benchmarks/bench_start.py [--pg] [--questions 30] [--starts 300]

In-process and sequential (no server, no contention): what one contestant's start and join cost
in CPU, which bounds how fast a process can admit contestants (admissions/s ≈ 1000 / ms per user).
Real parts: a private redis-server (appendfsync always) and SQLite or a throwaway PostgreSQL.
"""

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from infra.localredis import LocalRedis  # noqa: E402


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pg", action="store_true", help="PostgreSQL instead of SQLite")
    parser.add_argument("--questions", type=int, default=30)
    parser.add_argument("--starts", type=int, default=300)
    args = parser.parse_args(argv)

    from datetime import date

    from flask_migrate import upgrade

    from contest.accounts.models import User
    from contest.rounds.services import attempt_view, start_attempt
    from infra.config import TestingConfig
    from infra.extensions import db
    from server.app import create_app
    from tests.contest.roundkit import make_round

    work = Path(tempfile.mkdtemp(prefix="bench-start-"))
    redis = LocalRedis(work / "redis", appendfsync="always").start()
    pg = None
    try:
        if args.pg:
            from loadtests.stack import PostgresServer

            pg = PostgresServer(Path(f"/tmp/bench-start-pg-{time.time_ns()}")).start()
            url = pg.url
        else:
            url = f"sqlite:///{work / 'bench.db'}"
        app = create_app(TestingConfig, SQLALCHEMY_DATABASE_URI=url, REDIS_URL=redis.url, RATELIMIT_ENABLED=False)
        with app.app_context():
            upgrade(directory=app.extensions["migrate"].directory, revision="heads")
            round_ = make_round(
                count=args.questions,
                bank_size=max(70, args.questions),
                prediction=True,
                time_limit_seconds=2700,
                attempts_allowed=None,
            )
            users = [
                User(phone=f"08{i:08d}", full_name=f"Thí sinh {i}", date_of_birth=date(1990, 1, 1), password_hash="x")
                for i in range(args.starts)
            ]
            db.session.add_all(users)
            db.session.commit()
            user_ids, round_id = [u.id for u in users], round_.id
        start_ms, join_ms = [], []
        for uid in user_ids:
            with app.test_request_context():  # a request's lifetime: its own session, as in the server
                user = db.session.get(User, uid)
                from contest.rounds.models import Round

                rnd = db.session.get(Round, round_id)
                t0 = time.process_time()
                attempt = start_attempt(user, rnd)
                start_ms.append((time.process_time() - t0) * 1000)
                attempt_id = attempt.id
            with app.test_request_context():
                from contest.rounds.models import Attempt

                t0 = time.process_time()
                attempt_view(db.session.get(Attempt, attempt_id))
                join_ms.append((time.process_time() - t0) * 1000)
        kind = "PostgreSQL" if args.pg else "SQLite"
        for name, values in (("start_attempt", start_ms), ("attempt_view (join)", join_ms)):
            values = values[10:]  # warm-up: first-use caches (the bank snapshot, compiled statements)
            print(
                f"{kind} {args.questions} questions, {name}: CPU mean {statistics.mean(values):.2f} ms, "
                f"p50 {statistics.median(values):.2f} ms, max {max(values):.2f} ms ({len(values)} runs)"
            )
    finally:
        if pg is not None:
            pg.stop()
        redis.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
