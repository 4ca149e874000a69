"""Takes the README's screenshots (docs/screenshots/*.png) of a fresh demo site in headless Chromium.

    .venv/bin/python scripts/screenshots.py        (needs `make test`'s set-up: Playwright and Chromium)

It runs `contest dev` on a throwaway data folder, adds a few finished attempts so the boards have
rows, then photographs, on a phone (390×844), the contestant's attempt page, their result and (once the round has
closed) the review that teaches; the projector mode of the board at 1920×1080; the organiser's question bank and the
judge's ranking.
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
from datetime import date, timedelta
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


def add_finished_attempts():
    """Demo data plus a dozen contestants with finished attempts in the demo round; returns the app and the round's id.

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
            attempt.started_at -= timedelta(seconds=rng.randint(150, 800))  # time taken, as if they had thought
            db.session.commit()
            for seq, aq in enumerate(attempt.questions, start=1):
                options = db.session.get(Question, aq.question_id).options
                right = [o.id for o in options if o.is_correct]
                wrong = [o.id for o in options if not o.is_correct][:1]
                save_answer(attempt.id, user.id, aq.question_id, right if rng.random() < 0.8 else wrong, seq)
            submit_attempt(attempt.id, user.id, prediction=rng.randint(1, 6) if round_.prediction_enabled else None)
        return app, round_.id


def finish_attempt(app, attempt_id: int) -> None:
    """Answers the contestant's attempt (all but two right, one left blank) and submits it, as the page would."""
    # Imported here, like add_finished_attempts' imports: the app's modules load after main() set the environment.
    from contest.rounds.models import Attempt
    from contest.rounds.services import save_answer, submit_attempt
    from infra.extensions import db
    from question_bank.models import Question

    with app.app_context():
        attempt = db.session.get(Attempt, attempt_id)
        attempt.started_at -= timedelta(seconds=372)
        db.session.commit()
        for seq, aq in enumerate(attempt.questions, start=100):
            if aq.position == 4:
                continue
            options = db.session.get(Question, aq.question_id).options
            right = [o.id for o in options if o.is_correct]
            wrong = [o.id for o in options if not o.is_correct][:1]
            save_answer(attempt.id, attempt.user_id, aq.question_id, wrong if aq.position == 2 else right, seq)
        submit_attempt(attempt.id, attempt.user_id, prediction=3 if attempt.round.prediction_enabled else None)


def close_round(app, round_id: int) -> None:
    """The round closes (every attempt has ended): the review may show the keys."""
    # Imported here, like add_finished_attempts' imports.
    from contest.rounds.models import Round
    from infra.clock import utcnow
    from infra.extensions import db

    with app.app_context():
        db.session.get(Round, round_id).closes_at = utcnow() - timedelta(minutes=1)
        db.session.commit()


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
    app, round_id = add_finished_attempts()
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

            # The attempt page (taken as this branch has it), then the result once submitted.
            phone = session(390, 844, "0912345678")
            phone.goto(f"{base}/cuoc-thi/{DEMO_CONTEST_SLUG}")
            phone.locator("a[href*='/bat-dau']").first.click()  # opens the confirmation dialog
            phone.locator("dialog[open] button[type=submit]").click()
            phone.wait_for_url("**/luot-thi/**")
            phone.locator("fieldset label").first.click()
            phone.wait_for_timeout(800)
            phone.screenshot(path=str(OUT / "contestant-phone.png"))
            attempt_id = int(phone.url.rstrip("/").split("/")[-1])
            finish_attempt(app, attempt_id)
            phone.goto(f"{base}/luot-thi/{attempt_id}/ket-qua")
            phone.wait_for_load_state("networkidle")
            phone.screenshot(path=str(OUT / "result-phone.png"))

            # Projector mode at 1920×1080, while the round is open (countdown, numbers so far, QR code).
            board = session(1920, 1080)
            board.goto(f"{base}/vong-thi/{round_id}/trinh-chieu")
            board.wait_for_timeout(2500)
            board.screenshot(path=str(OUT / "projector.png"))

            bank = session(1366, 768, "0900000002")
            bank.goto(base + "/quan-tri/ngan-hang/")
            bank.screenshot(path=str(OUT / "organiser-bank.png"))

            judge = session(1366, 768, "0900000004")
            judge.goto(f"{base}/giam-khao/vong/{round_id}")
            judge.locator("table").first.evaluate("t => window.scrollTo(0, t.getBoundingClientRect().top - 120)")
            judge.screenshot(path=str(OUT / "judge-ranking.png"))

            # The round closes: the same result page now teaches (✓/✗, the key, the explanation, the legal basis).
            close_round(app, round_id)
            phone.goto(f"{base}/luot-thi/{attempt_id}/ket-qua")
            phone.locator("#review").evaluate(
                "r => window.scrollTo(0, r.getBoundingClientRect().top + window.scrollY - 8)"
            )
            phone.screenshot(path=str(OUT / "review-phone.png"))
            browser.close()
    finally:
        os.kill(dev.pid, signal.SIGTERM)
        dev.wait(timeout=60)
        redis_server.stop()
    print("\n".join(str(p.relative_to(ROOT)) for p in sorted(OUT.glob("*.png"))))


if __name__ == "__main__":
    main()
