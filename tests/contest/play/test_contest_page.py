"""Issue 13: the contest page (banner, rules as paragraphs, who may take part, status and countdown, why a
contestant cannot start, results and prizes after the close) and the confirmation before an attempt starts."""

import re
from datetime import datetime, timedelta

from sqlalchemy import func, select

from contest.accounts.models import Unit, User
from contest.judging.models import PrizeTier, ResultSnapshot
from contest.rounds.models import Attempt
from contest.rounds.services import start_attempt, submit_attempt
from infra.clock import to_ms, utcnow
from infra.extensions import db
from tests.conftest import create_account, login
from tests.contest.roundkit import make_round

START = re.compile(r'href="/vong-thi/\d+/bat-dau"')


def _page(client, rnd):
    return client.get(f"/cuoc-thi/{rnd.contest.slug}").get_data(as_text=True)


def _attempts(user_id):
    return db.session.scalar(select(func.count()).select_from(Attempt).where(Attempt.user_id == user_id))


def test_banner_rules_as_paragraphs_eligibility_badge_and_closing_countdown(ctx, client):
    rnd = make_round()
    contest = rnd.contest
    contest.banner_path = f"{contest.id}-0123456789abcdef.png"
    contest.rules_text = "Điều 1. Đối tượng dự thi.\n\nĐiều 2. Mỗi người <b>một</b> lượt.\nThi trực tuyến."
    province = Unit(name="Tỉnh Nghệ An")
    db.session.add(province)
    contest.eligible_units = [province]
    db.session.commit()
    html = _page(client, rnd)
    assert f'src="/anh-bia/{contest.id}-0123456789abcdef.png"' in html
    assert (
        "<p>Điều 1. Đối tượng dự thi.</p><p>Điều 2. Mỗi người &lt;b&gt;một&lt;/b&gt; lượt.<br>Thi trực tuyến.</p>"
        in html
    )
    assert "<li>Tỉnh Nghệ An</li>" in html
    assert re.search(r'class="badge badge-open"[^>]*>Đang mở<', html)
    assert "Tuần thi đóng sau" in html and f'data-countdown-to="{to_ms(rnd.closes_at)}"' in html
    # without script the countdown still reads right: 7 days minus the hour since the opening
    assert re.search(r'class="countdown-value">6 ngày 2[23]:\d\d:\d\d<', html)
    # anonymous: log in or register, both returning here
    slug = contest.slug
    assert f'href="/dang-nhap?next=/cuoc-thi/{slug}"' in html and f'href="/dang-ky?next=/cuoc-thi/{slug}"' in html
    assert not START.search(html)


def test_an_ineligible_contestant_sees_why_instead_of_a_start_button(ctx, client):
    rnd = make_round()
    province, other = Unit(name="Tỉnh Nghệ An"), Unit(name="Thành phố Hà Nội")
    db.session.add_all([province, other])
    db.session.flush()
    rnd.contest.eligible_units = [province]
    db.session.commit()
    user_id, phone = create_account(ctx, unit_id=other.id)
    login(client, phone)
    html = _page(client, rnd)
    assert not START.search(html) and "Bắt đầu thi" not in html
    assert "Bạn chưa thể dự thi tuần thi này." in html
    assert "Đơn vị của bạn không thuộc đối tượng dự thi của cuộc thi này." in html
    assert "Đơn vị trong tài khoản của bạn: Thành phố Hà Nội." in html
    # the confirmation page and the start itself refuse too, and nothing is written
    for response in (
        client.get(f"/vong-thi/{rnd.id}/bat-dau"),
        client.post(f"/vong-thi/{rnd.id}/bat-dau", data={"confirm": "1"}),
    ):
        assert response.status_code == 302 and response.headers["Location"].endswith(f"/cuoc-thi/{rnd.contest.slug}")
    assert _attempts(user_id) == 0


def test_no_attempts_left_is_said_instead_of_a_start_button(ctx, client):
    rnd = make_round(prediction=False)
    user_id, phone = create_account(ctx)
    attempt = start_attempt(db.session.get(User, user_id), rnd)
    submit_attempt(attempt.id, user_id)
    login(client, phone)
    html = _page(client, rnd)
    assert not START.search(html) and "Bạn đã dùng hết số lượt thi của tuần thi này." in html


def test_starting_asks_first_with_attempts_left_and_time_limit(ctx, client):
    rnd = make_round(attempts_allowed=3, time_limit_seconds=900)
    user_id, phone = create_account(ctx)
    login(client, phone)
    html = _page(client, rnd)
    assert START.search(html)  # a link to the confirmation page (no script needed) ...
    assert '<dialog id="start-dialog-' in html  # ... that the script turns into this dialog
    assert "Bạn còn 3/3 lượt thi; xác nhận sẽ dùng 1 lượt." in html
    assert "Thời gian làm bài: 15 phút" in html

    confirm = client.get(f"/vong-thi/{rnd.id}/bat-dau")
    assert (
        confirm.status_code == 200
        and "Bạn còn 3/3 lượt thi" in confirm.text
        and 'name="confirm" value="1"' in confirm.text
    )
    # a start without the confirmation (an old page, a script) uses no attempt: it asks
    unconfirmed = client.post(f"/vong-thi/{rnd.id}/bat-dau")
    assert unconfirmed.status_code == 409 and "Bắt đầu lượt thi?" in unconfirmed.text
    assert _attempts(user_id) == 0
    started = client.post(f"/vong-thi/{rnd.id}/bat-dau", data={"confirm": "1"})
    assert started.status_code == 302 and "/luot-thi/" in started.headers["Location"]
    assert _attempts(user_id) == 1
    # a running attempt is continued without asking, and without using another one
    again = client.post(f"/vong-thi/{rnd.id}/bat-dau")
    assert again.status_code == 302 and again.headers["Location"] == started.headers["Location"]
    assert "Tiếp tục làm bài" in _page(client, rnd)
    assert _attempts(user_id) == 1


def test_the_next_attempt_from_the_result_page_asks_first(ctx, client):
    rnd = make_round(attempts_allowed=2, prediction=False)
    user_id, phone = create_account(ctx)
    attempt = start_attempt(db.session.get(User, user_id), rnd)
    submit_attempt(attempt.id, user_id)
    login(client, phone)
    html = client.get(f"/luot-thi/{attempt.id}/ket-qua").get_data(as_text=True)
    assert "Thi lượt tiếp theo" in html and START.search(html)
    assert "Bạn còn 1/2 lượt thi; xác nhận sẽ dùng 1 lượt." in html


def test_the_close_cuts_the_time_a_new_attempt_would_have(ctx, client):
    rnd = make_round(time_limit_seconds=1800)
    rnd.closes_at = utcnow() + timedelta(minutes=10, seconds=30)
    db.session.commit()
    _, phone = create_account(ctx)
    login(client, phone)
    assert "nên lượt thi này chỉ còn khoảng 10 phút" in client.get(f"/vong-thi/{rnd.id}/bat-dau").text


def test_after_the_close_results_not_yet_published_then_the_link_and_the_prizes(ctx, client):
    rnd = make_round()
    rnd.opens_at, rnd.closes_at = utcnow() - timedelta(days=8), utcnow() - timedelta(days=1)
    db.session.add(PrizeTier(round_id=rnd.id, position=1, name="Giải Nhất", winners=1, perfect_required=True))
    db.session.add(PrizeTier(round_id=rnd.id, position=2, name="Giải Khuyến khích", winners=1500, min_correct=8))
    db.session.commit()
    html = _page(client, rnd)
    assert re.search(r'class="badge badge-closed"[^>]*>Đã kết thúc<', html)
    assert "Kết quả: chưa công bố." in html and f'href="/ket-qua/vong/{rnd.id}"' in html
    assert "Giải Nhất: 1 giải (phải trả lời đúng tất cả các câu)" in html
    assert "Giải Khuyến khích: 1.500 giải (ít nhất 8 câu đúng)" in html  # Vietnamese number format
    db.session.add(
        ResultSnapshot(
            round_id=rnd.id, version=1, published_at=datetime(2026, 11, 20, 3, 0), ranking_rule=[], digest="0" * 64
        )
    )
    db.session.commit()
    html = _page(client, rnd)
    assert "Xem kết quả chính thức" in html and "Công bố lúc 20/11/2026 10:00 (giờ Việt Nam)." in html
    assert "chưa công bố" not in html


def test_numbers_follow_the_chosen_language(app, client):
    """(No `ctx` here: Flask-Babel keeps the locale on `g`, which an outer app context would share across requests.)"""
    with app.app_context():
        rnd = make_round()
        db.session.add(PrizeTier(round_id=rnd.id, position=1, name="Giải Khuyến khích", winners=1500))
        db.session.commit()
        path = f"/cuoc-thi/{rnd.contest.slug}"
    assert "Giải Khuyến khích: 1.500" in client.get(path).text
    client.post("/ngon-ngu/en")
    assert "Giải Khuyến khích: 1,500" in client.get(path).text


def test_the_account_page_shows_the_consent_time_in_vietnam_time(ctx, client):
    user_id, phone = create_account(ctx)
    user = db.session.get(User, user_id)
    user.consent_at = datetime(2026, 11, 27, 20, 30)  # UTC: 03:30 the next day in Việt Nam
    db.session.commit()
    login(client, phone)
    html = client.get("/tai-khoan").get_data(as_text=True)
    assert "28/11/2026 03:30 (giờ Việt Nam)" in html and "(UTC)" not in html


def test_the_contest_lists_say_which_round_is_open_or_next_in_vietnam_time(ctx, client):
    rnd = make_round()
    rnd.closes_at = datetime(2030, 1, 5, 16, 59)  # 23:59 in Việt Nam
    db.session.commit()
    for path in ("/cuoc-thi", "/"):
        html = client.get(path).get_data(as_text=True)
        assert re.search(r'badge-open">Đang mở</span> Tuần thi thứ nhất, đóng lúc 05/01/2030 23:59', html), path
    upcoming = make_round(opens_in=timedelta(days=2), slug="sap-mo")
    html = client.get("/cuoc-thi").get_data(as_text=True)
    assert f"Tuần thi thứ nhất, mở lúc {upcoming.opens_at + timedelta(hours=7):%d/%m/%Y %H:%M}" in html
