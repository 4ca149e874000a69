"""Takes the README's screenshots (docs/screenshots/*.png) of a fresh demo site in headless Chromium.

    .venv/bin/python scripts/screenshots.py        (needs `make test`'s set-up: Playwright and Chromium)

It runs `contest dev` on a throwaway data folder, adds a few finished attempts so the boards have
rows, then photographs the contestant's attempt page on a phone, the projector board, the
organiser's question bank and the judge's ranking.
"""

import contextlib
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

from infra.localredis import LocalRedis
from server.demo import DEMO_CONTEST_SLUG

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "screenshots"
CHROMIUM = "/usr/bin/chromium"
PASSWORD = "demo12345"
NAMES = [
    "Nguyễn Văn An",
    "Trần Thị Bình",
    "Lê Minh Châu",
    "Phạm Thu Dung",
    "Hoàng Quốc Huy",
    "Vũ Thị Lan",
    "Đặng Văn Khoa",
    "Bùi Thị Mai",
    "Đỗ Thành Nam",
    "Hồ Thị Oanh",
    "Ngô Đức Phúc",
    "Dương Thị Quỳnh",
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(port: int, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.3)
    raise SystemExit(f"the demo server did not answer on port {port}")


def add_finished_attempts() -> int:
    """Demo data plus a dozen contestants with finished attempts in the demo round; returns the round's id.

    Runs before `contest dev` starts its worker, so the attempts are written by the submit path alone.
    """
    # Imported here: the app reads its configuration from the environment set in main().
    from flask_migrate import upgrade
    from sqlalchemy import select

    from contest.accounts.models import Unit, User
    from contest.accounts.services import create_user
    from contest.rounds.models import Round
    from contest.rounds.services import save_answer, start_attempt, submit_attempt
    from infra.extensions import db
    from question_bank.models import Question
    from server.app import create_app
    from server.demo import seed_demo

    rng = random.Random(7)
    app = create_app()
    with app.app_context():
        with open(os.devnull, "w") as quiet, contextlib.redirect_stderr(quiet):  # Alembic's INFO lines
            upgrade(directory=app.extensions["migrate"].directory, revision="heads")
        seed_demo()
        round_ = db.session.scalars(select(Round).order_by(Round.id)).first()
        units = db.session.scalars(select(Unit).where(Unit.parent_id.is_not(None))).all()
        for i, name in enumerate(NAMES):
            phone = f"09770000{i:02d}"
            user = db.session.scalar(select(User).where(User.phone == phone)) or create_user(
                phone=phone,
                password=PASSWORD,
                full_name=name,
                date_of_birth=date(1990 + i, 1 + i % 12, 10),
                unit_id=rng.choice(units).id,
                role="contestant",
            )
            attempt = start_attempt(user, round_)
            for seq, aq in enumerate(attempt.questions, start=1):
                options = db.session.get(Question, aq.question_id).options
                right = [o.id for o in options if o.is_correct]
                wrong = [o.id for o in options if not o.is_correct][:1]
                save_answer(attempt.id, user.id, aq.question_id, right if rng.random() < 0.8 else wrong, seq)
            submit_attempt(attempt.id, user.id, prediction=rng.randint(1, 6) if round_.prediction_enabled else None)
        return round_.id


def main() -> None:
    from playwright.sync_api import sync_playwright

    OUT.mkdir(parents=True, exist_ok=True)
    var = Path(tempfile.mkdtemp(prefix="screenshots-"))
    port, redis_port = free_port(), free_port()
    os.environ.update(
        CONTEST_VAR_DIR=str(var), REDIS_URL=f"redis://127.0.0.1:{redis_port}/0", CONTEST_ENV="development"
    )
    os.environ.pop("DATABASE_URL", None)
    redis_server = LocalRedis(var / "redis", port=redis_port).start()
    round_id = add_finished_attempts()
    dev = subprocess.Popen(
        [sys.executable, "-c", "from server.cli import main; main()", "dev", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        wait_for(port)
        base = f"http://127.0.0.1:{port}"
        with sync_playwright() as pw:
            browser = pw.chromium.launch(
                executable_path=CHROMIUM,
                headless=True,
                args=[
                    "--no-sandbox",
                    "--disable-gpu",
                    "--disable-quic",
                    "--no-first-run",
                    "--disable-background-networking",
                    "--disable-component-update",
                    "--disable-sync",
                ],
            )

            def session(width, height, phone=None):
                context = browser.new_context(
                    locale="vi-VN",
                    viewport={"width": width, "height": height},
                    timezone_id="Asia/Ho_Chi_Minh",
                    device_scale_factor=1,
                )
                page = context.new_page()
                if phone:
                    page.goto(base + "/dang-nhap")
                    page.fill("input[name=login]", phone)
                    page.fill("input[name=password]", PASSWORD)
                    page.locator("form:has(input[name=password]) [type=submit]").click()
                    page.wait_for_load_state("networkidle")
                return page

            phone = session(390, 844, "0912345678")
            phone.goto(f"{base}/cuoc-thi/{DEMO_CONTEST_SLUG}")
            phone.locator("a[href*='/bat-dau']").first.click()  # opens the confirmation dialog
            phone.locator("dialog[open] button[type=submit]").click()
            phone.wait_for_url("**/luot-thi/**")
            phone.locator("fieldset label").first.click()
            phone.wait_for_timeout(800)
            phone.screenshot(path=str(OUT / "contestant-phone.png"))

            board = session(1920, 1080)
            board.goto(f"{base}/vong-thi/{round_id}/bang-xep-hang")
            board.wait_for_timeout(2500)
            board.screenshot(path=str(OUT / "projector.png"))

            bank = session(1366, 768, "0900000002")
            bank.goto(base + "/quan-tri/ngan-hang/")
            bank.screenshot(path=str(OUT / "organiser-bank.png"))

            judge = session(1366, 768, "0900000004")
            judge.goto(f"{base}/giam-khao/vong/{round_id}")
            judge.locator("table").first.evaluate("t => window.scrollTo(0, t.getBoundingClientRect().top - 120)")
            judge.screenshot(path=str(OUT / "judge-ranking.png"))
            browser.close()
    finally:
        os.kill(dev.pid, signal.SIGTERM)
        dev.wait(timeout=60)
        redis_server.stop()
    print("\n".join(str(p.relative_to(ROOT)) for p in sorted(OUT.glob("*.png"))))


if __name__ == "__main__":
    main()
