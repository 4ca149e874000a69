"""A live final in browsers: an organiser sets up and hosts a 3-question "Rung chuông vàng" game with a rescue
round; three players on phones join by PIN, one is eliminated and rescued; the projector shows the
distribution and the podium."""

import pytest
from playwright.sync_api import expect

from contest.live.models import LiveSession
from contest.rounds.models import Contest
from infra.extensions import db
from question_bank.models import Question
from tests.conftest import PASSWORD, create_account, make_app
from tests.contest.live.livekit import key_index
from tests.contest.roundkit import make_bank

pytestmark = pytest.mark.browser
PHONE = {"viewport": {"width": 390, "height": 844}, "locale": "vi-VN", "timezone_id": "Asia/Ho_Chi_Minh"}


def _login(page, base, phone):
    page.goto(base + "/dang-nhap")
    page.locator("#login").fill(phone)
    page.locator("#password").fill(PASSWORD)
    page.locator("main [type=submit]").first.click()
    expect(page.get_by_role("link", name="Tài khoản")).to_be_visible()


def test_elimination_final_with_rescue(browser, live_server, server_factory, redis_url):
    base = live_server.url
    app = make_app(server_factory.database_url, redis_url)
    _, organiser_phone = create_account(app, role="organiser", full_name="Trần Thị Dẫn")
    with app.app_context():
        category = make_bank(4)
        db.session.add(Contest(slug="chung-ket-tinh", title="Cuộc thi tìm hiểu Hiến pháp", published=True))
        db.session.commit()
        ids = list(db.session.scalars(db.select(Question.id).where(Question.category_id == category.id)))[:3]
    names = ["Lê Văn Bình", "Phạm Thị Cúc", "Đỗ Minh Đức"]
    phones = [create_account(app, full_name=n)[1] for n in names]

    host_ctx = browser.new_context(viewport={"width": 1280, "height": 900}, locale="vi-VN")
    host = host_ctx.new_page()
    host.set_default_timeout(15000)
    _login(host, base, organiser_phone)
    host.goto(base + "/quan-tri/chung-ket/")
    host.locator("#title").fill("Rung chuông vàng toàn tỉnh")
    host.locator("#mode").select_option("elimination")
    host.locator("#seconds_per_question").fill("30")
    host.locator("#rescue").select_option("question")
    host.locator("#rescue_positions").fill("2")
    host.locator("#question_ids").fill(", ".join(map(str, ids)))
    host.get_by_role("button", name="Tạo phiên").click()
    expect(host.get_by_text("Đã tạo phiên chung kết")).to_be_visible()
    with app.app_context():
        session = db.session.scalar(db.select(LiveSession).where(LiveSession.title == "Rung chuông vàng toàn tỉnh"))
        sid, pin = session.id, session.pin
        keys = [key_index(sid, i) for i in range(3)]
    expect(host.locator("#conn")).to_have_text("Đã kết nối")

    screen = host_ctx.new_page()
    screen.set_default_timeout(15000)
    screen.goto(f"{base}/quan-tri/chung-ket/{sid}/man-hinh")
    expect(screen.locator("#screen-pin")).to_have_text(pin)
    expect(screen.locator(".live-qr svg")).to_be_visible()

    players = []
    for phone in phones:
        ctx = browser.new_context(**PHONE)
        page = ctx.new_page()
        page.set_default_timeout(15000)
        _login(page, base, phone)
        page.goto(base + "/chung-ket")
        page.locator("#pin").fill(pin)
        page.get_by_role("button", name="Vào phòng").click()
        expect(page.locator("#status")).to_contain_text("Đã vào phòng chờ")
        players.append(page)
    expect(screen.locator("#lobby-count")).to_have_text("3")
    bình, cúc, đức = players

    # question 1: Bình and Đức right, Cúc wrong -> Cúc is out
    host.locator("#btn-next").click()
    for page in players:
        expect(page.locator("#qnum")).to_contain_text("Câu 1")
    expect(screen.locator("#stem")).not_to_be_empty()
    bình.locator(f'[data-choice="{keys[0]}"]').click()
    đức.locator(f'[data-choice="{keys[0]}"]').click()
    cúc.locator(f'[data-choice="{(keys[0] + 1) % 4}"]').click()
    for page in players:
        expect(page.locator("#status")).to_have_text("Đã ghi nhận câu trả lời. Chờ công bố đáp án…")
    host.locator("#btn-close").click()
    expect(screen.locator("#chart")).to_be_visible()
    host.locator("#btn-reveal").click()
    expect(screen.locator(".live-bar.correct")).to_have_attribute("data-option", "ABCD"[keys[0]])
    expect(screen.locator(".live-bar.correct .live-bar-count")).to_have_text("2")
    expect(screen.locator("#standing")).to_have_text("Còn lại 2 người")
    expect(cúc.locator("#result")).to_contain_text("Bị loại")
    expect(bình.locator("#result")).to_contain_text("Đúng")

    # question 2 is the rescue question: only Cúc answers, correctly -> back in
    host.locator("#btn-next").click()
    expect(cúc.locator("#qnum")).to_contain_text("Câu hỏi cứu trợ")
    expect(bình.locator(f'[data-choice="{keys[1]}"]')).to_be_disabled()
    cúc.locator(f'[data-choice="{keys[1]}"]').click()
    expect(cúc.locator("#status")).to_have_text("Đã ghi nhận câu trả lời. Chờ công bố đáp án…")
    host.locator("#btn-close").click()
    host.locator("#btn-reveal").click()
    expect(screen.locator("#standing")).to_have_text("Còn lại 3 người")
    expect(cúc.locator("#result")).not_to_contain_text("Bị loại")

    # question 3: Bình right, Cúc and Đức wrong
    host.locator("#btn-next").click()
    expect(cúc.locator("#qnum")).to_contain_text("Câu 3")
    bình.locator(f'[data-choice="{keys[2]}"]').click()
    cúc.locator(f'[data-choice="{(keys[2] + 1) % 4}"]').click()
    đức.locator(f'[data-choice="{(keys[2] + 2) % 4}"]').click()
    expect(đức.locator("#status")).to_have_text("Đã ghi nhận câu trả lời. Chờ công bố đáp án…")
    host.locator("#btn-close").click()
    host.locator("#btn-reveal").click()
    expect(screen.locator("#standing")).to_have_text("Còn lại 1 người")
    expect(bình.locator("#result")).to_contain_text("Hạng 1")
    host.locator("#btn-end").click()
    expect(screen.locator("#podium li")).to_have_count(3)
    expect(screen.locator("#podium li").first).to_have_text("Lê Văn Bình")
    expect(bình.locator("#status")).to_have_text("Phiên đã kết thúc. Cảm ơn bạn đã tham gia!")

    host.goto(f"{base}/quan-tri/chung-ket/{sid}/ket-qua")
    expect(host.locator("#live-ranking tbody tr").first).to_contain_text("Lê Văn Bình")
    for page in players:
        page.context.close()
    host_ctx.close()
