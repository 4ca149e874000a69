"""The board pages, the QR code and the review without a browser: what they serve, refuse and never leak."""

from datetime import timedelta

from sqlalchemy import select

from contest.accounts.models import User
from contest.rounds import participation
from contest.rounds.models import Attempt, Round
from contest.rounds.services import save_answer, start_attempt, submit_attempt
from infra.clock import utcnow
from infra.extensions import db
from infra.qr import qr_svg_document
from question_bank.models import Question
from tests.conftest import create_account, login
from tests.contest.roundkit import key_of, make_round
from tests.contest.test_i18n import _english


def _explain_all():
    for q in db.session.scalars(select(Question)):
        q.explanation = f"Lời giải thích bí mật {q.id}"
        q.legal_document = "Bộ luật Dân sự 2015"
        q.legal_article = f"Điều {q.id + 100}"
    db.session.commit()


def _no_key(html):
    assert "Lời giải thích bí mật" not in html and "Bộ luật Dân sự 2015" not in html
    assert "đáp án đúng" not in html and "verdict" not in html and "✓" not in html and "✗" not in html


def test_review_says_why_and_leaks_nothing_while_attempts_run_or_when_the_organisers_hide_keys(app, client):
    with app.app_context():
        rnd = make_round(count=3, bank_size=3, prediction=False, attempts_allowed=None)
        _explain_all()
        user_id, phone = create_account(app)
        other_id, _ = create_account(app)
        user = db.session.get(User, user_id)
        attempt = start_attempt(user, rnd)
        qid = attempt.questions[0].question_id
        save_answer(attempt.id, user_id, qid, key_of(qid), 1)
        submit_attempt(attempt.id, user_id)
        running = start_attempt(db.session.get(User, other_id), rnd)  # someone still answering
        rnd.closes_at = utcnow() - timedelta(seconds=5)
        db.session.commit()
        attempt_id = attempt.id
        login(client, phone)
        html = client.get(f"/luot-thi/{attempt_id}/ket-qua").get_data(as_text=True)
        assert 'id="key-withheld-reason"' in html and "vẫn còn lượt thi của vòng này chưa kết thúc" in html
        _no_key(html)
        submit_attempt(running.id, other_id)
        html = client.get(f"/luot-thi/{attempt_id}/ket-qua").get_data(as_text=True)
        assert "Lời giải thích bí mật" in html and "Bộ luật Dân sự 2015" in html and "✓" in html

        rnd.show_key_after_close = False
        db.session.commit()
        html = client.get(f"/luot-thi/{attempt_id}/ket-qua").get_data(as_text=True)
        assert "Ban tổ chức không công bố đáp án của vòng thi này." in html
        _no_key(html)


def test_board_pages_stats_and_qr_code(app, client):
    participation.forget()
    with app.app_context():
        rnd = make_round(count=3, bank_size=3, prediction=False, attempts_allowed=2)
        round_id, slug = rnd.id, rnd.contest.slug
        user_id, phone = create_account(app, full_name="Vũ Thị Lan")
        user = db.session.get(User, user_id)
        first = start_attempt(user, rnd)
        submit_attempt(first.id, user_id)
        start_attempt(user, rnd)  # a second, still running
        assert db.session.query(Attempt).count() == 2

    stats = client.get(f"/vong-thi/{round_id}/so-lieu")
    assert stats.status_code == 200 and stats.headers["Cache-Control"] == "no-store"
    data = stats.get_json()
    assert (data["participants"], data["attempts"]) == (1, 2) and data["opens_ms"] < data["server_ms"] < data[
        "closes_ms"
    ]

    projector = client.get(f"/vong-thi/{round_id}/trinh-chieu").get_data(as_text=True)
    assert 'class="board-page projector"' in projector and 'id="podium"' in projector and "<svg" in projector
    assert f"http://localhost/cuoc-thi/{slug}" in projector and 'data-me=""' in projector
    assert "Vũ Thị Lan" in projector and "user_id" not in projector

    # Signed in, the phone board marks the contestant's own row (and only there is their user id, for the pushes).
    login(client, phone)
    board = client.get(f"/vong-thi/{round_id}/bang-xep-hang").get_data(as_text=True)
    assert f'data-me="{user_id}"' in board and 'class="mine" aria-current="true"' in board
    assert 'id="podium"' not in board and "<svg" not in board
    projector = client.get(f"/vong-thi/{round_id}/trinh-chieu").get_data(as_text=True)
    assert 'data-me=""' in projector and 'class="mine"' not in projector  # a hall screen highlights no one

    qr = client.get(f"/cuoc-thi/{slug}/ma-qr.svg")
    assert qr.status_code == 200 and qr.mimetype == "image/svg+xml"
    assert qr.headers["Content-Security-Policy"] == "default-src 'none'"
    assert qr.get_data() == qr_svg_document(f"http://localhost/cuoc-thi/{slug}")  # the contest page's address
    assert "<script" not in qr.get_data(as_text=True)

    for url in (
        "/cuoc-thi/khong-co/ma-qr.svg",
        "/vong-thi/999999/trinh-chieu",
        "/vong-thi/999999/so-lieu",
        "/vong-thi/999999/bang-xep-hang",
    ):
        assert client.get(url).status_code == 404, url
    with app.app_context():
        db.session.get(Round, round_id).contest.published = False
        db.session.commit()
    for url in (f"/cuoc-thi/{slug}/ma-qr.svg", f"/vong-thi/{round_id}/trinh-chieu", f"/vong-thi/{round_id}/so-lieu"):
        assert client.get(url).status_code == 404, url


def test_projector_and_review_are_english(app, client):
    client.post("/ngon-ngu/en", data={"next": "/"})
    with app.app_context():
        rnd = make_round(count=3, bank_size=3, prediction=False)
        _explain_all()
        user_id, phone = create_account(app, full_name="Vũ Thị Lan")
        attempt = start_attempt(db.session.get(User, user_id), rnd)
        qid = attempt.questions[0].question_id
        save_answer(attempt.id, user_id, qid, key_of(qid), 1)
        submit_attempt(attempt.id, user_id)
        data = [rnd.contest.title, rnd.title, "Vũ Thị Lan"]
        round_id, attempt_id = rnd.id, attempt.id
        questions = list(db.session.scalars(select(Question)))
        data += [q.stem for q in questions] + [o.text for q in questions for o in q.options]
        data += [q.explanation for q in questions] + [q.legal_article for q in questions] + ["Bộ luật Dân sự 2015"]
    _english(
        client,
        f"/vong-thi/{round_id}/trinh-chieu",
        [
            "Live leaderboard",
            "Participants",
            "Attempts",
            "Scan the code to open the contest",
            "Time left",
            "Full screen",
        ],
        data,
    )
    login(client, phone)
    with app.app_context():
        db.session.get(Round, round_id).closes_at = utcnow() - timedelta(minutes=1)
        db.session.commit()
    _english(
        client,
        f"/luot-thi/{attempt_id}/ket-qua",
        ["Right answer", "Not answered", "Your choice", "Correct answer", "Legal basis", "Explanation"],
        data,
    )
