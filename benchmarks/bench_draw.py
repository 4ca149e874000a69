"""Draw benchmark: builds a 100,000-question bank, imports it in 10,000-question CSV files, and prints
import time per file and p50/p99 of draw_questions for 30 questions (target: p99 under 5 ms).

    .venv/bin/python benchmarks/bench_draw.py [--questions 100000] [--draws 2000] [--postgres | --database-url URL]

Without a database option it uses a throwaway SQLite file; --postgres starts a throwaway PostgreSQL
cluster (the test harness's); it always starts its own redis-server. It also times the organiser
list's accent-insensitive search on the same bank.
"""

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def percentile(values, p):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--questions", type=int, default=100_000)
    parser.add_argument("--draws", type=int, default=2000)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--postgres", action="store_true")
    parser.add_argument("--stats-rows", type=int, default=1_000_000, help="rows for the item_statistics timing")
    args = parser.parse_args()
    bench_item_statistics(args.stats_rows)

    from flask_migrate import upgrade

    from infra.config import TestingConfig
    from infra.extensions import db
    from infra.localredis import LocalRedis
    from question_bank.draw import BlueprintRule, bump_bank_version, check_blueprint, draw_questions
    from question_bank.formats import ParsedOption, ParsedQuestion, write
    from question_bank.models import Category
    from question_bank.services import find_category_by_path, import_questions
    from server.app import create_app

    workdir = Path(tempfile.mkdtemp(prefix="bench-draw-"))
    redis = LocalRedis(workdir / "redis").start()
    url = args.database_url or f"sqlite:///{workdir / 'bench.db'}"
    cluster = None
    if args.postgres:
        import os

        from tests.harness import PostgresCluster

        os.chmod(workdir, 0o755)
        cluster = PostgresCluster(workdir / "pg").start()
        url = cluster.url()
    app = create_app(TestingConfig, SQLALCHEMY_DATABASE_URI=url, REDIS_URL=redis.url, RATELIMIT_STORAGE_URI=redis.url)
    try:
        with app.app_context():
            upgrade(directory=app.extensions["migrate"].directory, revision="heads")
            topics = [
                ("Hiến pháp", "Quyền con người"),
                ("Hiến pháp", "Bộ máy nhà nước"),
                ("Giao thông", "Đường bộ"),
                ("Dân sự", "Hợp đồng"),
                ("Hôn nhân và gia đình",),
                ("Phổ biến, giáo dục pháp luật",),
            ]
            difficulties = ("easy", "medium", "hard")
            chunk = 10_000
            import_times = []
            for start in range(0, args.questions, chunk):
                batch = [
                    ParsedQuestion(
                        line=0,
                        stem=f"Câu hỏi số {i}: theo quy định của pháp luật, nội dung nào đúng?",
                        category=topics[i % len(topics)],
                        difficulty=difficulties[i % 3],
                        options=[ParsedOption(f"Phương án {j} của câu {i}", j == i % 4) for j in range(4)],
                    )
                    for i in range(start, min(start + chunk, args.questions))
                ]
                data = write("csv", batch)
                t0 = time.perf_counter()
                report = import_questions(data, "csv", status="approved")
                import_times.append(time.perf_counter() - t0)
                assert not report.refused, report.errors[:3]
            db.session.execute(db.text("UPDATE qb_questions SET status='approved'"))
            db.session.commit()
            bump_bank_version()
            print(
                f"bank: {args.questions} approved questions in {db.session.query(Category).count()} categories ({db.engine.dialect.name})"
            )
            print(
                f"import of a 10,000-question CSV file: median {statistics.median(import_times):.2f} s, "
                f"max {max(import_times):.2f} s ({len(import_times)} files)"
            )

            hp = find_category_by_path("Hiến pháp")
            road = find_category_by_path("Giao thông > Đường bộ")
            blueprint = [
                BlueprintRule(hp.id, 10, None),
                BlueprintRule(road.id, 5, "hard"),
                BlueprintRule(None, 15, None),
            ]
            t0 = time.perf_counter()
            check_blueprint(blueprint)
            print(f"first check_blueprint after a bank change (cold cache): {(time.perf_counter() - t0) * 1000:.1f} ms")
            timings = []
            for n in range(args.draws):
                # a returning contestant: 30 questions seen in an earlier attempt of the round
                seen = {d.question_id: 1 for d in draw_questions(blueprint, seed=f"prev-{n}")} if n % 2 else None
                t0 = time.perf_counter()
                drawn = draw_questions(blueprint, seed=f"attempt-{n}", seen_counts=seen)
                timings.append((time.perf_counter() - t0) * 1000)
                assert len(drawn) == 30
            print(
                f"draw_questions, 30 questions, {args.draws} draws (half with seen_counts): "
                f"p50 {percentile(timings, 50):.3f} ms, p99 {percentile(timings, 99):.3f} ms, max {max(timings):.3f} ms"
            )
            print("target p99 < 5 ms:", "MET" if percentile(timings, 99) < 5 else "NOT MET")

            from question_bank.services import QuestionFilter, search_questions

            for label, f in [
                ("first page, no filter", QuestionFilter()),
                ("search 'quy dinh phap luat' (no accents)", QuestionFilter(q="quy dinh phap luat")),
                ("search 'cau hoi so 99999'", QuestionFilter(q="cau hoi so 99999")),
                (
                    "category Hiến pháp (with subcategories) + medium",
                    QuestionFilter(category_id=hp.id, difficulty="medium"),
                ),
            ]:
                runs = []
                for _ in range(20):
                    t0 = time.perf_counter()
                    rows, _more = search_questions(f, page=1, per_page=50)
                    runs.append((time.perf_counter() - t0) * 1000)
                print(f"organiser list, {label}: median {statistics.median(runs):.1f} ms ({len(rows)} rows)")
            db.session.remove()
            db.engine.dispose()
    finally:
        redis.stop()
        if cluster:
            cluster.stop()


def bench_item_statistics(n_rows):
    """item_statistics over a generated stream (30 questions per attempt, 200 questions in the bank)."""
    import random
    import tracemalloc

    from question_bank.stats import item_statistics

    rng = random.Random(1)

    def rows():
        for attempt in range(n_rows // 30):
            skill = rng.random()
            for qid in rng.sample(range(200), 30):
                yield attempt, qid, rng.random() < skill

    tracemalloc.start()
    t0 = time.perf_counter()
    stats = item_statistics(rows())
    elapsed = time.perf_counter() - t0
    _current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(
        f"item_statistics over {n_rows:,} streamed rows ({len(stats)} questions): {elapsed:.1f} s, "
        f"peak traced memory {peak / 2**20:.2f} MiB"
    )


if __name__ == "__main__":
    main()
