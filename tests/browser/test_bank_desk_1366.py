"""The organiser's desk on a 1366×768 laptop: the question list shows questions and their count on the first
screen, an import finishes in one flow (check → every error listed → "Nhập ngay" with the same file), and the
round form shows the approved questions available to each blueprint rule while the counts are typed."""

import pytest
from playwright.sync_api import expect
from sqlalchemy import func, select

from contest.organise.services import create_contest
from infra.extensions import db
from question_bank.models import Question
from question_bank.services import import_questions
from tests.browser.session import log_in, log_out
from tests.conftest import create_account, make_app
from tests.contest.organise.test_organise_services import seed_bank

pytestmark = pytest.mark.browser


@pytest.fixture
def laptop(browser):
    context = browser.new_context(
        locale="vi-VN", viewport={"width": 1366, "height": 768}, timezone_id="Asia/Ho_Chi_Minh"
    )
    page = context.new_page()
    page.set_default_timeout(15000)
    yield page
    context.close()


def _in_viewport(locator):
    box = locator.bounding_box()
    return box is not None and box["y"] >= 0 and box["y"] + box["height"] <= 768


def test_bank_list_shows_questions_and_count_on_the_first_screen(laptop, live_server, server_factory, redis_url):
    app = make_app(server_factory.database_url, redis_url)
    with app.app_context():
        text = "\n".join(f"Câu hỏi giao thông số {i}? {{=Đúng ~Sai}}\n" for i in range(60))
        import_questions(text.encode(), "gift", default_category=["Giao thông đường bộ"])
        db.session.remove()
    _uid, phone = create_account(app, role="organiser")
    page = laptop
    log_in(page, live_server.url, phone)
    page.goto(live_server.url + "/quan-tri/ngan-hang/")
    count = page.locator("#result-count")
    expect(count).to_have_text("60 câu hỏi")
    first = page.locator(".bank-item").first
    expect(first).to_be_visible()
    assert _in_viewport(count) and _in_viewport(first), first.bounding_box()
    assert _in_viewport(page.locator(".bank-item").nth(2))  # several rows, not one squeezed in
    # filters folded, bulk toolbar hidden until something is selected
    expect(page.get_by_label("Độ khó")).to_be_hidden()
    expect(page.locator("#bulk-toolbar")).to_be_hidden()
    page.get_by_label("Chọn câu #60").check()
    expect(page.locator("#bulk-toolbar")).to_be_visible()
    expect(page.locator("#bulk-selected")).to_have_text("(1 đã chọn)")
    page.get_by_label("Chọn câu #60").uncheck()
    expect(page.locator("#bulk-toolbar")).to_be_hidden()
    # diacritic-free search keeps working, with its count
    page.get_by_label("Tìm theo nội dung (không cần gõ dấu)").fill("giao thong so 42")
    page.get_by_role("button", name="Tìm", exact=True).click()
    expect(page.locator("#result-count")).to_have_text("1 câu hỏi phù hợp")
    expect(page.get_by_role("link", name="Câu hỏi giao thông số 42?")).to_be_visible()
    # the compact question form: two option rows at first, another added by the button; buttons look different
    page.goto(live_server.url + "/quan-tri/ngan-hang/cau-hoi/moi")
    expect(page.locator("[data-option-row]:visible")).to_have_count(2)
    page.get_by_role("button", name="Thêm phương án").click()
    expect(page.get_by_label("Phương án C", exact=True)).to_be_visible()
    save = page.get_by_role("button", name="Lưu câu hỏi")
    preview = page.get_by_role("button", name="Xem trước")
    colours = [b.evaluate("el => getComputedStyle(el).backgroundColor") for b in (save, preview)]
    assert colours[0] != colours[1], colours


CSV_BROKEN = (
    "Chủ đề,Câu hỏi,Phương án A,Phương án B,Phương án C,Đáp án đúng,Độ khó\n"
    "Hiến pháp,,Có,Không,,D,rất khó\n"
    "Hiến pháp,Câu ba?,Có,Có,,,dễ\n"
    "Hiến pháp,Câu bốn?,Có,Không,,A,dễ\n"
)
CSV_GOOD = (
    "Chủ đề,Câu hỏi,Phương án A,Phương án B,Phương án C,Đáp án đúng,Độ khó\n"
    "Hiến pháp,Quốc hội có nhiệm kỳ mấy năm?,5 năm,4 năm,,A,dễ\n"
    'Hiến pháp,Các cơ quan nào do Quốc hội bầu?,Chủ tịch nước,Thủ tướng,Chủ tịch UBND xã,"A, B",khó\n'
)


def _choose(page, name, text):
    page.get_by_label("Tệp câu hỏi (.gift, .txt, .csv, .xlsx)").set_input_files(
        {"name": name, "mimeType": "text/csv", "buffer": text.encode("utf-8")}
    )
    page.get_by_role("button", name="Kiểm tra tệp").click()


def test_import_in_one_flow(laptop, live_server, server_factory, redis_url):
    app = make_app(server_factory.database_url, redis_url)
    _uid, phone = create_account(app, role="organiser")
    page = laptop
    log_in(page, live_server.url, phone)
    page.goto(live_server.url + "/quan-tri/ngan-hang/nhap")

    _choose(page, "bo-de.csv", CSV_BROKEN)
    report = page.locator("#import-report")
    expect(report).to_contain_text("5 lỗi ở 2 dòng", timeout=30000)  # the file is read in a child process
    errors = page.locator("#import-errors li")
    expect(errors).to_have_count(5)
    expect(errors.filter(has_text="Dòng 2")).to_have_count(3)
    expect(errors.filter(has_text="Dòng 3")).to_have_count(2)
    expect(page.get_by_role("button", name="Nhập ngay")).to_have_count(0)

    _choose(page, "bo-de.csv", CSV_GOOD)
    expect(page.locator("#import-report")).to_contain_text("Kiểm tra xong: sẽ tạo 2 câu hỏi.", timeout=30000)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Question)) == 0
        db.session.remove()
    page.get_by_role("button", name="Nhập ngay").click()
    expect(page.locator("#import-report")).to_contain_text("Đã nhập 2 câu hỏi", timeout=30000)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(Question)) == 2
        db.session.remove()
    page.get_by_role("link", name="Xem các câu nháp").click()
    expect(page.locator("#result-count")).to_have_text("2 câu hỏi phù hợp")
    expect(page.get_by_role("link", name="Quốc hội có nhiệm kỳ mấy năm?")).to_be_visible()


def test_blueprint_shows_available_questions_live(laptop, live_server, server_factory, redis_url):
    app = make_app(server_factory.database_url, redis_url)
    with app.app_context():
        seed_bank(easy=6, hard=2, child_easy=3)  # Hiến pháp: 9 easy (3 in its child), 2 hard
        contest = create_contest(title="Tìm hiểu Hiến pháp")
        contest_id = contest.id
        db.session.remove()
    _uid, phone = create_account(app, role="organiser")
    page = laptop
    log_in(page, live_server.url, phone)
    page.goto(live_server.url + f"/quan-tri/cuoc-thi/{contest_id}/tuan-thi/moi")
    hint = page.locator("[data-row]").first.locator(".blueprint-available")
    expect(hint).to_have_text("Ngân hàng có 11 câu đã duyệt phù hợp với chủ đề và mức độ này.")  # whole bank
    page.locator("#blueprint-0-category_id").select_option(label="Hiến pháp")
    page.locator("#blueprint-0-difficulty").select_option(label="Dễ")
    expect(hint).to_have_text("Ngân hàng có 9 câu đã duyệt phù hợp với chủ đề và mức độ này.")
    page.locator("#blueprint-0-count").fill("10")
    expect(hint).to_have_text(
        "Không đủ câu: các quy tắc cùng chủ đề và mức độ này cần 10 câu, ngân hàng chỉ có 9 câu đã duyệt."
    )
    page.locator("#blueprint-0-count").fill("9")
    expect(hint).to_have_text("Ngân hàng có 9 câu đã duyệt phù hợp với chủ đề và mức độ này.")
    page.locator("#blueprint-1-category_id").select_option(label="— Quyền con người")
    expect(page.locator("[data-row]").nth(1).locator(".blueprint-available")).to_contain_text("có 3 câu")
    # the table for every category and difficulty (also without the script)
    page.get_by_text("Số câu đã duyệt trong ngân hàng theo chủ đề và mức độ").click()
    expect(page.locator("#bank-counts-table tr", has_text="Hiến pháp")).to_contain_text("9")


def test_reviewer_returns_a_question_and_the_author_resubmits(laptop, live_server, server_factory, redis_url):
    app = make_app(server_factory.database_url, redis_url)
    _a, phone_a = create_account(app, role="organiser", full_name="Nguyễn Văn Soạn")
    _b, phone_b = create_account(app, role="organiser", full_name="Trần Thị Duyệt")
    with app.app_context():
        import_questions(
            "Luật Giao thông quy định tuổi lái xe mô tô hạng A1? {=Đủ 18 tuổi ~Đủ 16 tuổi}\n".encode(),
            "gift",
            default_category=["Giao thông"],
            author_id=_a,
        )
        qid = db.session.scalar(select(Question.id))
        db.session.remove()
    page, base = laptop, live_server.url

    log_in(page, base, phone_b)
    page.goto(f"{base}/quan-tri/ngan-hang/cau-hoi/{qid}")
    page.get_by_text("Trả lại người soạn kèm nhận xét").click()
    page.get_by_role("button", name="Trả lại người soạn").click()
    expect(page.get_by_text("Vui lòng ghi nhận xét để người soạn biết cần sửa gì.")).to_be_visible()
    page.get_by_label("Nhận xét gửi người soạn").fill("Ghi rõ hạng A1 theo Luật năm 2024.")
    page.get_by_role("button", name="Trả lại người soạn").click()
    expect(page.get_by_text(f"Đã trả lại câu hỏi #{qid} cho người soạn kèm nhận xét.")).to_be_visible()
    expect(page.get_by_role("button", name="Duyệt câu hỏi")).to_have_count(0)
    log_out(page)

    log_in(page, base, phone_a)
    page.goto(f"{base}/quan-tri/ngan-hang/?status=returned")
    expect(page.locator("#result-count")).to_have_text("1 câu hỏi phù hợp")
    page.get_by_role("link", name="Luật Giao thông quy định tuổi lái xe mô tô hạng A1?").click()
    expect(page.locator("#returned-note")).to_contain_text("Trần Thị Duyệt đã trả lại câu hỏi")
    expect(page.locator("#returned-note")).to_contain_text("Ghi rõ hạng A1 theo Luật năm 2024.")
    page.get_by_role("link", name="Sửa").click()
    page.get_by_label("Văn bản pháp luật làm căn cứ").fill("Luật Trật tự, an toàn giao thông đường bộ năm 2024")
    page.get_by_role("button", name="Lưu câu hỏi").click()
    expect(page.get_by_text("Câu hỏi đã được gửi duyệt lại.")).to_be_visible()
    expect(page.locator("#review-history li")).to_have_count(2)
    log_out(page)

    log_in(page, base, phone_b)
    page.goto(f"{base}/quan-tri/ngan-hang/cau-hoi/{qid}")
    page.get_by_role("button", name="Duyệt câu hỏi").click()
    expect(page.get_by_text("Đã duyệt 1 câu hỏi.")).to_be_visible()
