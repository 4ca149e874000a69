"""The "live final" Locust scenario in small, against a real server: one host, five players, two questions."""

import csv
import subprocess
import sys

from contest.accounts.models import User
from contest.live import services
from infra.extensions import db
from loadtests.seed import seed_users
from loadtests.stack import PROJECT_ROOT
from tests.conftest import PASSWORD, make_app
from tests.contest.live.livekit import make_live


def test_live_final_scenario_measures_broadcast_and_ack(server_factory, redis_url, tmp_path):
    server = server_factory()
    app = make_app(server_factory.database_url, redis_url)
    sid, organiser_id, _ = make_live(app, mode="points", count=2, seconds=5)
    with app.app_context():
        seed_users(5, prefix="0598", password="thitai12345", light_hash=True)
        pin = services.get_session(sid).pin
        host_phone = db.session.get(User, organiser_id).phone
    env = {
        "PATH": "/usr/bin:/bin",
        "PYTHONPATH": str(PROJECT_ROOT),
        "LOADTEST_PREFIX": "0598",
        "LOADTEST_SEEDED": "5",
        "LIVE_PIN": pin,
        "LIVE_SESSION_ID": str(sid),
        "LIVE_HOST_PHONE": host_phone,
        "LIVE_HOST_PASSWORD": PASSWORD,
        "LIVE_QUESTIONS": "2",
        "LIVE_SECONDS": "5",
        "LIVE_ANSWER_WITHIN_S": "1",
        "LIVE_GAP_S": "0.5",
    }
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "locust",
            "-f",
            "loadtests/live_final.py",
            "--host",
            server.url,
            "--headless",
            "-u",
            "6",
            "-r",
            "6",
            "--run-time",
            "30s",
            "--csv",
            str(tmp_path / "live"),
            "--only-summary",
        ],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    stats = {row["Name"]: row for row in csv.DictReader(open(tmp_path / "live_stats.csv", encoding="utf-8"))}
    assert result.returncode == 0, result.stderr[-3000:]
    assert int(stats["question broadcast"]["Request Count"]) == 10
    assert int(stats["answer ack"]["Request Count"]) == 10 and int(stats["answer ack"]["Failure Count"]) == 0
    assert int(stats["join ack"]["Request Count"]) == 5
    assert float(stats["question broadcast"]["99%"]) < 1000
    with app.app_context():
        assert services.get_session(sid).status == "ended"
