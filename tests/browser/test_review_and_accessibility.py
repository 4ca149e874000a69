"""The review that teaches (issue 13, finding 8), and axe-core on every page of the contestant's journey.

Once the key may be shown (contest.rounds.keys), each question shows ✓/✗, the contestant's choice, the correct option,
the explanation and the legal basis the bank stores for it. Before that, none of it is in the page at all: not as
text, not as a class name, not as an id.
"""

from datetime import timedelta

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from contest.accounts.models import User
from contest.rounds.models import Contest, Round
from contest.rounds.services import save_answer, start_attempt, submit_attempt
from infra.clock import utcnow
from infra.extensions import db
from question_bank.models import Question
from tests.browser.axe import assert_accessible
from tests.browser.session import log_in
from tests.conftest import create_account, make_app
from tests.contest.roundkit import key_of, make_round, wrong_of

pytestmark = pytest.mark.browser

LAW = "Luật Phổ biến, giáo dục pháp luật số 14/2012/QH13"
# What only the key may bring: none of it may be in the page while the key is withheld.
KEY_TRACES = [
    "✓",
    "✗",
    "Trả lời đúng",
    "Trả lời sai",
    "Giải thích",
    "Căn cứ pháp lý",
    LAW,
    "khoản 2 Điều",
    "đáp án đúng",
    "Đáp án đúng",
    "verdict",
    'class="right',
]


def _explanation(question_id):
    return f"Theo quy định, câu {question_id} được giải thích như sau: người dân có quyền được phổ biến pháp luật."


def _finished_attempt(app):
    """A closed-to-be round of 4 questions with explanations and legal bases; right, wrong, blank, right."""
    with app.app_context():
        rnd = make_round(count=4, bank_size=4, prediction=False)
        for q in db.session.scalars(select(Question)):
            q.explanation = _explanation(q.id)
            q.legal_document = LAW
            q.legal_article = f"khoản 2 Điều {q.id + 40}"
        db.session.commit()
        user_id, phone = create_account(app, full_name="Lê Thị Hồng")
        attempt = start_attempt(db.session.get(User, user_id), rnd)
        qids = [aq.question_id for aq in attempt.questions]
        save_answer(attempt.id, user_id, qids[0], key_of(qids[0]), 1)
        save_answer(attempt.id, user_id, qids[1], wrong_of(qids[1]), 2)
        save_answer(attempt.id, user_id, qids[3], key_of(qids[3]), 3)
        submit_attempt(attempt.id, user_id)
        return rnd.id, attempt.id, phone, qids


def _assert_no_key(page):
    html = page.content()
    traces = [t for t in KEY_TRACES if t in html]
    assert traces == [], traces
    for qid in range(1, 5):
        assert _explanation(qid) not in html


def test_review_shows_verdicts_choice_key_explanation_and_legal_basis_only_once_the_key_may_be_shown(
    page, live_server, server_factory, redis_url
):
    app = make_app(server_factory.database_url, redis_url)
    round_id, attempt_id, phone, qids = _finished_attempt(app)
    base = live_server.url
    result_url = f"{base}/luot-thi/{attempt_id}/ket-qua"
    log_in(page, base, phone)

    # The round is open: the page says the answers come after it closes, and nothing of the key is in it.
    page.goto(result_url)
    expect(page.get_by_role("heading", name="Kết quả lượt thi")).to_be_visible()
    expect(page.locator("#key-withheld-reason")).to_have_text("Đáp án sẽ được công bố sau khi tuần thi kết thúc.")
    _assert_no_key(page)
    assert_accessible(page, "the result page")

    # Closed, but another contest's open round can still draw the same questions: the contestant sees their own
    # choices and why the key is hidden, still nothing of the key.
    with app.app_context():
        rnd = db.session.get(Round, round_id)
        rnd.closes_at = utcnow() - timedelta(minutes=1)
        other = Contest(slug="cuoc-thi-khac", title="Cuộc thi khác", published=True)
        second = Round(
            contest=other,
            number=1,
            title="Vòng thi khác",
            opens_at=utcnow() - timedelta(hours=1),
            closes_at=utcnow() + timedelta(days=3),
            blueprint=list(rnd.blueprint),
            attempts_allowed=1,
            prediction_enabled=False,
        )
        db.session.add(second)
        db.session.commit()
        second_id = second.id
    page.reload()
    expect(page.get_by_role("heading", name="Bài làm của bạn")).to_be_visible()
    expect(page.locator("#key-withheld-reason")).to_contain_text("vòng thi đang mở hoặc sắp mở")
    expect(page.locator(".review-item")).to_have_count(4)
    expect(page.locator(".review-item").nth(0)).to_contain_text("bạn chọn")
    expect(page.get_by_text("Đáp án câu này tạm ẩn.")).to_have_count(4)
    _assert_no_key(page)
    assert_accessible(page, "the review with keys withheld")

    # No round can draw them any more: the review teaches.
    with app.app_context():
        db.session.delete(db.session.get(Round, second_id))
        db.session.commit()
    page.reload()
    expect(page.get_by_role("heading", name="Đáp án", exact=True)).to_be_visible()
    expect(page.locator("#key-withheld-reason")).to_have_count(0)
    items = page.locator(".review-item")
    expect(items).to_have_count(4)
    for i, verdict in enumerate(["✓ Trả lời đúng", "✗ Trả lời sai", "✗ Không trả lời", "✓ Trả lời đúng"]):
        item = items.nth(i)
        expect(item.locator(".verdict")).to_have_text(verdict)
        expect(item.locator(".review-explanation")).to_have_text("Giải thích" + _explanation(qids[i]))
        expect(item.locator(".review-law")).to_have_text(f"khoản 2 Điều {qids[i] + 40}, {LAW}")
        right = item.locator(".review-options li.right")
        expect(right).to_have_count(1)
        expect(right).to_contain_text("(đáp án đúng)")
        letter = right.locator(".letter").text_content().rstrip(".")
        facts = item.locator(".review-facts dd")
        expect(facts.nth(1)).to_have_text(letter)  # the correct option, by the letter it had in this attempt
        chosen = item.locator(".review-options li.chosen")
        if i == 2:
            expect(chosen).to_have_count(0)
            expect(facts.nth(0)).to_have_text("Không trả lời")
        else:
            expect(facts.nth(0)).to_have_text(chosen.locator(".letter").text_content().rstrip("."))
            expect(chosen).to_contain_text("bạn chọn")
    # The mark is not colour alone: ✓ and ✗ are in the text, the words are read out.
    assert items.nth(0).locator(".verdict").evaluate("v => getComputedStyle(v).color") != items.nth(1).locator(
        ".verdict"
    ).evaluate("v => getComputedStyle(v).color")
    assert_accessible(page, "the review")


def test_home_contest_registration_and_attempt_pages_have_no_axe_violations(
    page, live_server, server_factory, redis_url
):
    app = make_app(server_factory.database_url, redis_url)
    with app.app_context():
        rnd = make_round(count=4, bank_size=4)
        slug, round_id = rnd.contest.slug, rnd.id
    user_id, phone = create_account(app, full_name="Trần Văn Đức")
    base = live_server.url

    page.goto(base + "/")
    assert_accessible(page, "the home page")
    page.goto(base + "/dang-ky")
    assert_accessible(page, "the registration page")
    page.get_by_role("button", name="Đăng ký").click()  # every field's error shown, tied to its field
    assert_accessible(page, "the registration page with errors")
    page.goto(f"{base}/cuoc-thi/{slug}")
    assert_accessible(page, "the contest page (signed out)")

    log_in(page, base, phone)
    page.goto(f"{base}/cuoc-thi/{slug}")
    assert_accessible(page, "the contest page")
    with app.app_context():
        attempt_id = start_attempt(db.session.get(User, user_id), db.session.get(Round, round_id)).id
    page.goto(f"{base}/luot-thi/{attempt_id}")
    expect(page.locator("#conn")).to_have_text("Đã kết nối")
    assert_accessible(page, "the attempt page")
