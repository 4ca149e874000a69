"""Results at scale: builds a round of N attempts by M people, then times ranking, statistics and exports.

    .venv/bin/python benchmarks/bench_results.py                      # 1,000,000 attempts / 700,000 people, SQLite
    .venv/bin/python benchmarks/bench_results.py --pg                 # same on a throwaway PostgreSQL cluster
    DATABASE_URL=postgresql+psycopg://... .venv/bin/python benchmarks/bench_results.py
    .venv/bin/python benchmarks/bench_results.py --attempts 5000 --people 3500   # quick

Prints one line per phase: seconds and the process's peak RSS so far (resource.getrusage). The data is built
in chunks so the build itself does not set the peak. First the worker's settle step (what `contest worker` does
once the round has settled: target, review flags, ranking board), then the targets (issues 5 and 14): ranking,
statistics and CSV < 30 s together, XLSX < 120 s, with bounded memory; then the judge's pages (the first view of
the settled round < 1 s, a deep page, the flagged entries) through the Flask test client, logged in, with a
throwaway Redis for the session.
"""

import argparse
import itertools
import os
import random
import resource
import shutil
import sys
import tempfile
import time
from datetime import date, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

QUESTIONS = 20
CHUNK = 50_000


def peak_rss_mb(who=resource.RUSAGE_SELF):
    return resource.getrusage(who).ru_maxrss / 1024


def _cpu_seconds():
    """This process's CPU time and its ended children's (the CSV's forked writer, infra/forked.py)."""
    times = os.times()
    return times.user + times.system + times.children_user + times.children_system


_cpu_mark = [_cpu_seconds()]


def report(phase, seconds, extra=""):
    """One phase: wall seconds, then the CPU seconds of this process and its children since the previous line (on
    a shared machine the wall time grows with the load; on SQLite the CPU time includes the database's work, on
    PostgreSQL it does not; CPU above wall time is work done on both cores) and the peak RSS so far (in brackets the
    largest of the ended child processes', when there were any: the CSV's writer, initdb)."""
    cpu, _cpu_mark[0] = _cpu_seconds() - _cpu_mark[0], _cpu_seconds()
    children = peak_rss_mb(resource.RUSAGE_CHILDREN)
    print(
        f"{phase:<28} {seconds:8.2f} s  cpu {cpu:7.2f} s   peak RSS {peak_rss_mb():8.1f} MB"
        + (f" (children {children:.0f} MB)" if children else "")
        + f"   {extra}  (load {os.getloadavg()[0]:.1f})",
        flush=True,
    )
    return cpu


def make_app(database_url, redis_url="redis://127.0.0.1:1/0"):
    from infra.config import TestingConfig
    from server.app import create_app

    # Only the judge's pages talk to Redis (the login session); the other phases need a URL that parses.
    return create_app(
        TestingConfig,
        SQLALCHEMY_DATABASE_URI=database_url,
        REDIS_URL=redis_url,
        RATELIMIT_ENABLED=False,
        RATELIMIT_STORAGE_URI="memory://",
        SQLALCHEMY_ECHO=False,
        WTF_CSRF_ENABLED=False,
    )


def _insert(conn, table, columns, rows, dialect):
    """Bulk insert: COPY on PostgreSQL, executemany of a prepared INSERT on SQLite."""
    if dialect == "postgresql":
        raw = conn.connection.driver_connection
        with raw.cursor() as cursor:
            with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
    else:
        placeholders = ", ".join("?" for _ in columns)
        conn.exec_driver_sql(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({placeholders})", list(rows))


def _chunks(iterable, size=CHUNK):
    chunk = []
    for item in iterable:
        chunk.append(item)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def build(app, attempts, people, item_attempts, seed=5):
    """Units, people, one closed round, attempts (and answers for the first item_attempts attempts)."""
    from contest.rounds.models import Contest, Round
    from infra.extensions import db

    rng = random.Random(seed)
    with app.app_context():
        dialect = db.engine.dialect.name
        now = datetime.utcnow().replace(microsecond=0)
        opens, closes = now - timedelta(days=7), now - timedelta(hours=1)  # settled: the target can be fixed
        contest = Contest(slug="bench", title="Cuộc thi tìm hiểu pháp luật (bench)")
        round_ = Round(
            contest=contest,
            number=1,
            title="Tuần thi bench",
            opens_at=opens,
            closes_at=closes,
            blueprint=[{"category_id": 1, "count": QUESTIONS, "difficulty": None}],
            attempts_allowed=3,
        )
        db.session.add(round_)
        db.session.commit()
        round_id = round_.id
        with db.engine.begin() as conn:
            units = []
            unit_id = 0
            for p in range(63):  # provinces, each with 15 units
                unit_id += 1
                province = unit_id
                units.append((province, None, f"Tỉnh {p + 1:02d}", None, p))
                for u in range(15):
                    unit_id += 1
                    units.append(
                        (unit_id, province, f"Đơn vị {p + 1:02d}.{u + 1:02d}", rng.choice([None, 800, 2000]), u)
                    )
            _insert(conn, "units", ["id", "parent_id", "name", "headcount", "sort_order"], units, dialect)
            leaf_units = [u[0] for u in units if u[1] is not None]
            dob = date(1990, 1, 1)
            reg = datetime(2026, 1, 1)
            for chunk in _chunks(
                (
                    i + 1,
                    f"09{i:08d}",
                    "!",
                    f"Người dự thi {i}",
                    dob,
                    rng.choice(leaf_units),
                    "contestant",
                    reg + timedelta(seconds=i),
                    True,
                    f"{i % 10000:04d}",
                )
                for i in range(people)
            ):
                _insert(
                    conn,
                    "users",
                    [
                        "id",
                        "phone",
                        "password_hash",
                        "full_name",
                        "date_of_birth",
                        "unit_id",
                        "role",
                        "created_at",
                        "active",
                        "cccd_last4",
                    ],
                    chunk,
                    dialect,
                )

            def attempt_rows():
                extra = attempts - people
                repeaters = rng.sample(range(1, people + 1), min(extra, people)) if extra > 0 else []
                # Lazy, so the build does not set the process's peak RSS (the measured phases should).
                plan = itertools.chain(
                    ((user, 1) for user in range(1, people + 1)),
                    ((user, 2) for user in repeaters),
                    ((user, 3) for user in repeaters[: max(0, extra - len(repeaters))]),
                )
                for attempt_id, (user, number) in enumerate(itertools.islice(plan, attempts), start=1):
                    correct = QUESTIONS if rng.random() < 0.3 else rng.randint(8, QUESTIONS - 1)
                    taken = rng.randint(40_000, 1_200_000)
                    submitted = opens + timedelta(seconds=rng.randint(0, 7 * 86400 - 3700))
                    yield (
                        attempt_id,
                        round_id,
                        user,
                        number,
                        "bench",
                        rng.choice(("submitted", "submitted", "expired")),
                        submitted - timedelta(milliseconds=taken),
                        submitted + timedelta(minutes=20),
                        submitted,
                        QUESTIONS,
                        correct,
                        taken,
                        rng.randint(0, 300_000),
                        f"10.{user % 250}.{user % 199}.{user % 97}",
                        None,
                    )

            for chunk in _chunks(attempt_rows()):
                _insert(
                    conn,
                    "attempts",
                    [
                        "id",
                        "round_id",
                        "user_id",
                        "number",
                        "seed",
                        "status",
                        "started_at",
                        "deadline_at",
                        "submitted_at",
                        "question_count",
                        "correct_count",
                        "time_taken_ms",
                        "prediction",
                        "client_ip",
                        "device_id",
                    ],
                    chunk,
                    dialect,
                )
            if item_attempts:
                _insert(conn, "qb_categories", ["id", "name", "path"], [(1, "Bench", "/1/")], dialect)
                _insert(
                    conn,
                    "qb_questions",
                    [
                        "id",
                        "category_id",
                        "stem",
                        "stem_normalized",
                        "version",
                        "is_current",
                        "multi_select",
                        "difficulty",
                        "tags",
                        "status",
                        "created_at",
                    ],
                    [(q, 1, f"Câu hỏi {q}", "", 1, True, False, "medium", "", "approved", now) for q in range(1, 201)],
                    dialect,
                )

                def answers():
                    answer_id = 0
                    for attempt_id in range(1, item_attempts + 1):
                        ability = rng.random()
                        for q in rng.sample(range(1, 201), QUESTIONS):
                            answer_id += 1
                            yield (answer_id, attempt_id, q, "[1]", 0, now, rng.random() < 0.4 + 0.55 * ability)

                for chunk in _chunks(answers()):
                    _insert(
                        conn,
                        "attempt_answers",
                        ["id", "attempt_id", "question_id", "selected", "seq", "answered_at", "is_correct"],
                        chunk,
                        dialect,
                    )
            if dialect == "postgresql":
                # COPY with explicit ids leaves the sequences at 1: move them past the data (the judge's
                # account is created through the ORM later).
                for table in ("units", "users", "attempts", "attempt_answers", "qb_categories", "qb_questions"):
                    conn.exec_driver_sql(
                        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                        f"(SELECT COALESCE(MAX(id), 0) + 1 FROM {table}), false)"
                    )
            conn.exec_driver_sql("ANALYZE")
    return round_id


JUDGE_PASSWORD = "mat-khau-giam-khao-bench"


def judge_pages(app, round_id, pages):
    """Times the judge's pages through the test client (real routes, templates and session), logged in."""
    from datetime import date

    from contest.accounts.services import create_user

    with app.app_context():
        judge = create_user(
            phone="0399999999",
            password=JUDGE_PASSWORD,
            full_name="Giám khảo (bench)",
            date_of_birth=date(1980, 1, 1),
            role="judge",
        )
        phone = judge.phone
    client = app.test_client()
    assert client.post("/dang-nhap", data={"login": phone, "password": JUDGE_PASSWORD}).status_code == 302
    results = {}
    for label, path in pages:
        started = time.perf_counter()
        response = client.get(path.format(round_id=round_id))
        results[label] = time.perf_counter() - started
        assert response.status_code == 200, (path, response.status_code)
        report(label, results[label], f"GET {path.format(round_id=round_id)}: {len(response.data) // 1024} KB")
    return results


def measure(app, round_id, out_dir, skip_xlsx=False, item_attempts=0, pages=True):
    from contest.judging import settler
    from contest.judging.exports import ExportSource, write_csv, write_xlsx
    from contest.judging.prizes import TierSpec, set_prize_tiers
    from contest.judging.ranking import rank_entries
    from contest.judging.stats import round_statistics
    from contest.rounds.models import Round
    from infra.extensions import db

    results = {}
    with app.app_context():
        round_ = db.session.get(Round, round_id)
        # What `contest worker` does once the round has settled (contest.judging.settler): fix the prediction's
        # target, compute and store the review flags, store the ranking board. The judge's pages only read.
        started = time.perf_counter()
        settler.settle_round(round_)
        results["worker_settle"] = time.perf_counter() - started
        report(
            "worker settle",
            results["worker_settle"],
            f"target + flags + ranking board (perfect people = {round_.perfect_count_actual})",
        )
        set_prize_tiers(
            round_,
            [
                TierSpec("Giải Nhất", 1, True),
                TierSpec("Giải Nhì", 2, True),
                TierSpec("Giải Ba", 3, True),
                TierSpec("Khuyến khích", 10),
            ],
            None,
        )

        started = time.perf_counter()
        count, last = 0, None
        for entry in rank_entries(round_):
            count += 1
            last = entry
        results["ranking"] = time.perf_counter() - started
        cpu = report(
            "ranking (all entries)", results["ranking"], f"{count} entries, last rank {last.rank if last else '-'}"
        )

        started = time.perf_counter()
        stats = round_statistics(round_, include_items=False)
        results["statistics"] = time.perf_counter() - started
        cpu += report(
            "statistics",
            results["statistics"],
            f"{stats.attempts} attempts, {stats.participants} people, {len(stats.by_unit)} units, "
            f"perfect rate {stats.perfect_rate:.3f} (from the stored ranking)",
        )

        csv_path = out_dir / "ranking.csv"
        started = time.perf_counter()
        source = ExportSource(round_)
        write_csv(source, csv_path)
        results["csv"] = time.perf_counter() - started
        cpu += report(
            "CSV export",
            results["csv"],
            f"{csv_path.stat().st_size / 1e6:.1f} MB ({'stored ranking' if source.stored else 'ranked live'})",
        )
        results["rank_stats_csv"] = results["ranking"] + results["statistics"] + results["csv"]
        print(
            f"{'rank + statistics + CSV':<28} {results['rank_stats_csv']:8.2f} s  cpu {cpu:7.2f} s   combined "
            "(target: < 30 s at 10^6)",
            flush=True,
        )

        if item_attempts:
            from contest.judging.stats import _items

            started = time.perf_counter()
            items = _items(round_)
            results["item_statistics"] = time.perf_counter() - started
            report(
                "item statistics",
                results["item_statistics"],
                f"{len(items)} questions from {item_attempts * QUESTIONS} answers",
            )

        if not skip_xlsx:
            xlsx_path = out_dir / "ranking.xlsx"
            started = time.perf_counter()
            write_xlsx(ExportSource(round_), xlsx_path)
            results["xlsx"] = time.perf_counter() - started
            report("XLSX export", results["xlsx"], f"{xlsx_path.stat().st_size / 1e6:.1f} MB")
    if pages:
        # The worker has settled the round: the first view, like every later one, only reads stored rows.
        results.update(
            judge_pages(
                app,
                round_id,
                [
                    ("judge round page (first view)", "/giam-khao/vong/{round_id}"),
                    ("judge round page 2", "/giam-khao/vong/{round_id}"),
                    ("judge round page #7000", "/giam-khao/vong/{round_id}?trang=7000"),
                    ("flagged entries page", "/giam-khao/vong/{round_id}/can-xem-xet"),
                    ("flagged entries page #100", "/giam-khao/vong/{round_id}/can-xem-xet?trang=100"),
                    ("entry review page", "/giam-khao/vong/{round_id}/bai/5"),
                ],
            )
        )
    return results


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--attempts", type=int, default=1_000_000)
    parser.add_argument("--people", type=int, default=700_000)
    parser.add_argument(
        "--item-attempts",
        type=int,
        default=20_000,
        help="attempts that also get per-question answers (item statistics)",
    )
    parser.add_argument("--pg", action="store_true", help="run on a throwaway PostgreSQL cluster")
    parser.add_argument("--skip-xlsx", action="store_true")
    parser.add_argument("--skip-pages", action="store_true", help="do not time the judge's pages (they need Redis)")
    parser.add_argument("--keep", action="store_true", help="keep the work directory")
    args = parser.parse_args(argv)
    if args.people > args.attempts:
        parser.error("--people cannot exceed --attempts")
    work = Path(tempfile.mkdtemp(prefix="bench-results-"))
    os.chmod(work, 0o755)
    cluster = redis_server = None
    try:
        redis_url = "redis://127.0.0.1:1/0"
        if not args.skip_pages:
            from infra.localredis import LocalRedis

            redis_server = LocalRedis(work / "redis").start()
            redis_url = redis_server.url
        if os.environ.get("DATABASE_URL"):
            url = os.environ["DATABASE_URL"]
        elif args.pg:
            from tests.harness import PostgresCluster

            cluster = PostgresCluster(work / "pg").start()
            cluster.psql("CREATE DATABASE bench")
            url = cluster.url("bench")
        else:
            url = f"sqlite:///{work / 'bench.db'}"
        app = make_app(url, redis_url)
        from flask_migrate import upgrade

        with app.app_context():
            upgrade(directory=app.extensions["migrate"].directory, revision="heads")
        print(
            f"database: {url.split('@')[-1]}; {args.attempts} attempts by {args.people} people, {QUESTIONS} questions",
            flush=True,
        )
        started = time.perf_counter()
        round_id = build(app, args.attempts, args.people, min(args.item_attempts, args.attempts))
        report("build (bulk insert)", time.perf_counter() - started)
        # ru_maxrss only grows: the phases below show their own peak only where it exceeds the build's.
        return measure(
            app,
            round_id,
            work,
            skip_xlsx=args.skip_xlsx,
            item_attempts=min(args.item_attempts, args.attempts),
            pages=not args.skip_pages,
        )
    finally:
        if cluster is not None:
            cluster.stop()
        if redis_server is not None:
            redis_server.stop()
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
        else:
            print(f"kept {work}")


if __name__ == "__main__":
    main()
