"""The round's board (issue 13, finding 7): a projector mode for a 1920×1080 hall screen (podium, top 10, numbers so
far, the round's countdown, a QR code that opens the contest page) and a phone board where the contestant's own row is
highlighted and no cell wraps. Both keep following the live pushes; axe-core finds nothing on either."""

import io
import re
from datetime import timedelta

import pytest
import requests
import zxingcpp
from PIL import Image
from playwright.sync_api import expect

from contest.accounts.models import Unit, User
from contest.rounds import leaderboard
from contest.rounds.models import Attempt, Round
from infra.extensions import db
from tests.browser.axe import assert_accessible
from tests.browser.session import log_in
from tests.conftest import create_account, make_app
from tests.contest.judging_data import add_attempt, make_person, make_round
from tests.contest.roundkit import make_round as make_open_round

pytestmark = pytest.mark.browser

# (name, correct, time in ms): the board's order is more correct, then faster
PEOPLE = [
    ("Trần Thị Bình", 9, 200_000),
    ("Nguyễn Văn An", 10, 300_000),
    ("Lê Minh Châu", 9, 150_000),
    ("Phạm Thu Dung", 8, 100_000),
    ("Hoàng Quốc Huy", 7, 659_000),
]


def _board_round(app, people=PEOPLE, running=1):
    """An open, published round with finished attempts on the board and `running` attempts still answering."""
    with app.app_context():
        round_ = make_round(questions=10, closed=False)
        round_.contest.published = True
        ids = {}
        for name, correct, time_ms in people:
            person = make_person(full_name=name)
            ids[name] = person.id
            add_attempt(round_, person, correct, time_ms=time_ms)
        for i in range(running):
            add_attempt(round_, make_person(full_name=f"Người đang thi {i}"), 0, status="in_progress")
        db.session.commit()
        for attempt in db.session.query(Attempt).filter_by(round_id=round_.id, status="submitted"):
            leaderboard.record(attempt)
        return round_.id, round_.contest.slug, ids


# The board's cells shown cut (ending in "…"): names and units may be, rank, score, time and the headers may not.
_CUT = """() => [...document.querySelectorAll('#board td:not(:nth-child(2)):not(:nth-child(3)), #board th')]
  .filter(c => c.offsetParent !== null && c.scrollWidth > c.clientWidth).map(c => c.textContent)"""


def _decode(png: bytes) -> list[str]:
    return [r.text for r in zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))]


def test_projector_at_1920_shows_podium_top_ten_numbers_countdown_and_a_qr_code_of_the_contest_page(
    browser, live_server, server_factory, redis_url
):
    app = make_app(server_factory.database_url, redis_url)
    round_id, slug, _ = _board_round(app)
    base = live_server.url
    contest_url = f"{base}/cuoc-thi/{slug}"

    context = browser.new_context(locale="vi-VN", viewport={"width": 1920, "height": 1080})
    screen = context.new_page()
    screen.set_default_timeout(15000)
    try:
        screen.goto(f"{base}/vong-thi/{round_id}/trinh-chieu")
        expect(screen.get_by_role("heading", name="Bảng xếp hạng trực tiếp")).to_be_visible()
        expect(screen.locator("#board-status")).to_have_text("Đang cập nhật trực tiếp")
        # Full screen: no site header, the page uses the whole width and fits the screen's height.
        expect(screen.locator(".site-header")).to_be_hidden()
        box = screen.locator("#leaderboard").bounding_box()
        assert box["width"] > 1800
        assert screen.evaluate("document.documentElement.scrollHeight") <= 1080
        assert screen.evaluate("document.documentElement.scrollWidth") <= 1920

        # The podium: the top 3 in order, first in the middle and highest, second on the left, third on the right.
        names = [screen.locator(f'#podium [data-place="{n}"] .podium-name').text_content() for n in (1, 2, 3)]
        assert names == ["Nguyễn Văn An", "Lê Minh Châu", "Trần Thị Bình"]
        steps = [screen.locator(f'#podium [data-place="{n}"] .podium-step').bounding_box() for n in (1, 2, 3)]
        assert steps[1]["x"] < steps[0]["x"] < steps[2]["x"]
        assert steps[0]["height"] > steps[1]["height"] > steps[2]["height"]
        expect(screen.locator('#podium [data-place="1"]')).to_contain_text("10 câu đúng")
        # ... and the rest of the top 10 below it, in large type.
        rows = screen.locator("#board tbody tr")
        expect(rows).to_have_count(2)
        expect(rows.nth(0)).to_contain_text("Phạm Thu Dung")
        expect(rows.nth(0).locator("td").first).to_have_text("4")
        assert float(rows.nth(0).evaluate("r => getComputedStyle(r).fontSize").removesuffix("px")) >= 24
        expect(rows.nth(1)).to_contain_text("10:59 phút")
        assert screen.evaluate(_CUT) == []

        # Participants and attempts so far (the running attempt counts), the round's countdown from the server's clock.
        expect(screen.locator("#stat-participants")).to_have_text("6")
        expect(screen.locator("#stat-attempts")).to_have_text("6")
        expect(screen.locator("#countdown-label")).to_have_text("Còn lại")
        expect(screen.locator("#round-countdown")).to_have_text(re.compile(r"^(\d ngày )?\d\d:\d\d:\d\d$"))
        stats = requests.get(f"{base}/vong-thi/{round_id}/so-lieu", timeout=10).json()
        assert (stats["participants"], stats["attempts"]) == (6, 6) and stats["closes_ms"] > stats["server_ms"]

        # The QR code is an <svg> in the page, drawn on the server, and it opens the contest page.
        qr = screen.locator(".board-qr svg")
        expect(qr).to_be_visible()
        assert qr.get_attribute("role") == "img" and screen.get_by_role("img", name="Mã QR mở trang cuộc thi").count()
        assert _decode(qr.screenshot()) == [contest_url]
        expect(screen.locator(".board-url")).to_have_text(contest_url)
        assert_accessible(screen, "the projector page")

        # A new leader submits: the open projector follows the push without reloading.
        with app.app_context():
            leader = make_person(full_name="Đỗ Thành Nam")
            attempt = add_attempt(db.session.get(Round, round_id), leader, 10, time_ms=90_000)
            db.session.commit()
            leaderboard.record(attempt)
        expect(screen.locator('#podium [data-place="1"] .podium-name')).to_have_text("Đỗ Thành Nam")
        expect(screen.locator('#podium [data-place="2"] .podium-name')).to_have_text("Nguyễn Văn An")
        expect(rows).to_have_count(3)
        expect(rows.nth(0)).to_contain_text("Trần Thị Bình")

        # A round that has not opened yet counts down to its opening, on the server's clock.
        with app.app_context():
            upcoming = make_open_round(count=3, bank_size=3, opens_in=timedelta(hours=2), slug="sap-mo").id
        screen.goto(f"{base}/vong-thi/{upcoming}/trinh-chieu")
        expect(screen.locator("#countdown-label")).to_have_text("Mở sau")
        expect(screen.locator("#round-countdown")).to_have_text(re.compile(r"^01:59:\d\d$"))
        expect(screen.locator("#stat-participants")).to_have_text("0")
        expect(screen.locator("#board tbody tr")).to_have_text("Chưa có bài dự thi nào.")
    finally:
        context.close()

    # The same code as an SVG file, for posters: image/svg+xml, and it decodes to the contest page too.
    svg = requests.get(f"{contest_url}/ma-qr.svg", timeout=10)
    assert svg.status_code == 200 and svg.headers["Content-Type"].startswith("image/svg+xml")
    assert svg.text.lstrip().startswith("<?xml") and "<svg" in svg.text and "<script" not in svg.text
    assert requests.get(f"{base}/cuoc-thi/khong-co/ma-qr.svg", timeout=10).status_code == 404
    picture = browser.new_context(viewport={"width": 400, "height": 400}).new_page()
    try:
        picture.goto(f"{contest_url}/ma-qr.svg")
        assert _decode(picture.screenshot()) == [contest_url]
    finally:
        picture.context.close()


LONG_UNIT = "Trường Trung học phổ thông chuyên Lê Hồng Phong, Thành phố Hồ Chí Minh"


def _line_boxes(page):
    """Each board cell's content height in lines (1 = no wrapping), and the page's width."""
    return page.evaluate(
        """() => {
          const cells = [...document.querySelectorAll('#board th, #board tbody tr:not(.empty) td')];
          const lines = cells.map(c => {
            const s = getComputedStyle(c);
            const inner = c.clientHeight - parseFloat(s.paddingTop) - parseFloat(s.paddingBottom);
            const line = parseFloat(s.lineHeight) || parseFloat(s.fontSize) * 1.5;
            return Math.round(inner / line * 10) / 10;
          });
          const rows = [...document.querySelectorAll('#board tbody tr')].map(r => r.getBoundingClientRect().height);
          return {lines, rows, width: document.documentElement.scrollWidth};
        }"""
    )


def test_phone_board_highlights_own_row_and_keeps_every_cell_on_one_line(page, live_server, server_factory, redis_url):
    app = make_app(server_factory.database_url, redis_url)
    with app.app_context():
        unit = Unit(name=LONG_UNIT)
        db.session.add(unit)
        db.session.commit()
        unit_id = unit.id
    me_id, phone = create_account(app, full_name="Nguyễn Thị Phương Thảo Nguyên", unit_id=unit_id)
    others = [
        (f"Người dự thi có tên rất dài số {i}", 9 if i == 0 else 8 - i % 4, 100_000 + i * 1000) for i in range(11)
    ]
    others[1] = (others[1][0], others[1][1], 659_000)  # a time of two-digit minutes: 10:59 phút
    round_id, _, _ = _board_round(app, people=others, running=0)
    with app.app_context():
        me = db.session.get(User, me_id)
        mine = add_attempt(db.session.get(Round, round_id), me, 9, time_ms=120_000)
        db.session.commit()
        leaderboard.record(mine)  # second: one 9 is faster
    base = live_server.url

    log_in(page, base, phone)
    page.goto(f"{base}/vong-thi/{round_id}/bang-xep-hang")
    expect(page.locator("#board-status")).to_have_text("Đang cập nhật trực tiếp")
    rows = page.locator("#board tbody tr")
    expect(rows).to_have_count(10)
    own = page.locator("#board tbody tr.mine")
    expect(own).to_have_count(1)
    expect(own).to_contain_text("Nguyễn Thị Phương Thảo Nguyên")
    expect(own.locator("td").first).to_have_text("2")
    assert own.get_attribute("aria-current") == "true"
    other_bg = rows.nth(0).locator("td").nth(1).evaluate("c => getComputedStyle(c).backgroundColor")
    own_bg = own.locator("td").nth(1).evaluate("c => getComputedStyle(c).backgroundColor")
    assert own_bg != other_bg
    expect(page.locator("#my-rank")).to_be_hidden()  # the row itself shows the rank

    # No wrapping at 390 px: every cell is one line high, every row the same height, nothing wider than the phone.
    boxes = _line_boxes(page)
    assert max(boxes["lines"]) <= 1.1, boxes["lines"]
    assert max(boxes["rows"]) - min(boxes["rows"]) < 1, boxes["rows"]
    assert boxes["width"] <= 390
    # Rank, score, time and the headers are never cut (only names are).
    assert page.evaluate(_CUT) == []
    expect(page.locator("#board")).to_contain_text("10:59 phút")
    # A long name ends in "…" on screen, not in the page: a screen reader reads it whole. Below 480 px the unit column
    # is left out (the wider board and the projector show it).
    name = own.locator("td").nth(1)
    expect(name).to_have_text("Nguyễn Thị Phương Thảo Nguyên (bạn)")
    assert name.evaluate("c => c.scrollWidth > c.clientWidth && getComputedStyle(c).textOverflow === 'ellipsis'")
    expect(own.locator("td").nth(2)).to_be_hidden()
    expect(page.locator("#board th").nth(2)).to_be_hidden()
    assert_accessible(page, "the phone board")

    # Live: two faster people pass the contestant; after the push (on "/") the highlighted row is rank 4, then
    # pushed below the top 10 the page shows the rank under the table.
    with app.app_context():
        for i in range(2):
            quick = add_attempt(
                db.session.get(Round, round_id), make_person(full_name=f"Nhanh {i}"), 10, time_ms=50_000
            )
            db.session.commit()
            leaderboard.record(quick)
    expect(own.locator("td").first).to_have_text("4")
    expect(page.locator("#board tbody tr.mine")).to_have_count(1)
    with app.app_context():
        for i in range(8):
            quick = add_attempt(db.session.get(Round, round_id), make_person(full_name=f"Giỏi {i}"), 10, time_ms=60_000)
            db.session.commit()
            leaderboard.record(quick)
    expect(page.locator("#board tbody tr.mine")).to_have_count(0)
    expect(page.locator("#my-rank")).to_be_visible()
    expect(page.locator("#my-rank-value")).to_have_text("12")
