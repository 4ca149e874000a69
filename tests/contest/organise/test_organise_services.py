"""Organiser services for contests and rounds, on SQLite and PostgreSQL: every refusal changes nothing."""

import io
from datetime import date, datetime, timedelta

import pytest
from PIL import Image
from sqlalchemy import func, select

from contest.accounts.models import Unit, User
from contest.organise.banners import MAX_BANNER_BYTES, check_banner, save_banner
from contest.organise.services import (
    OrganiseError,
    RoundInput,
    create_contest,
    create_round,
    delete_round,
    set_published,
    slugify,
    update_contest,
    update_round,
    validate_round,
)
from contest.rounds.eligibility import user_is_eligible
from contest.rounds.models import DEFAULT_RANKING_RULE, Attempt, Contest, Round
from infra.clock import format_vn_time, from_vn_time, to_vn_time, utcnow
from infra.extensions import db
from question_bank.draw import BlueprintRule
from question_bank.models import Category, Question, QuestionOption
from tests.conftest import create_account

OPENS = datetime(2026, 12, 1, 1, 0)  # 08:00 in Hà Nội
CLOSES = datetime(2026, 12, 7, 13, 0)  # 20:00 in Hà Nội


def seed_bank(easy=6, hard=2, child_easy=0):
    """A 'Hiến pháp' category (with a 'Quyền con người' child) of approved questions; returns (parent_id, child_id)."""
    parent = Category(name="Hiến pháp")
    db.session.add(parent)
    db.session.flush()
    parent.path = f"/{parent.id}/"
    child = Category(name="Quyền con người", parent_id=parent.id)
    db.session.add(child)
    db.session.flush()
    child.path = f"{parent.path}{child.id}/"
    specs = [(parent.id, "easy")] * easy + [(parent.id, "hard")] * hard + [(child.id, "easy")] * child_easy
    for n, (category_id, difficulty) in enumerate(specs):
        q = Question(category_id=category_id, stem=f"Câu hỏi số {n}?", difficulty=difficulty, status="approved")
        q.options = [QuestionOption(position=1, text="Đúng", is_correct=True), QuestionOption(position=2, text="Sai")]
        db.session.add(q)
    # a draft never counts towards a blueprint
    db.session.add(Question(category_id=parent.id, stem="Bản nháp", difficulty="easy", status="draft"))
    db.session.commit()
    return parent.id, child.id


def round_input(category_id=None, **overrides):
    values = dict(
        number=1,
        title="Tuần thi thứ nhất",
        opens_at=OPENS,
        closes_at=CLOSES,
        time_limit_minutes=20,
        attempts_allowed=1,
        blueprint=[BlueprintRule(category_id=category_id, count=5)],
        prediction_text="Bao nhiêu người trả lời đúng tất cả?",
    )
    values.update(overrides)
    return RoundInput(**values)


def add_attempt(rnd, user_id):
    attempt = Attempt(
        round_id=rnd.id, user_id=user_id, number=1, seed="s1", deadline_at=rnd.opens_at + timedelta(minutes=20)
    )
    db.session.add(attempt)
    db.session.commit()
    return attempt


def png_bytes(size=(40, 20), fmt="PNG"):
    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(buffer, format=fmt)
    return buffer.getvalue()


def test_vietnam_time_round_trips_through_utc():
    local = datetime(2026, 12, 1, 8, 0)
    assert from_vn_time(local) == datetime(2026, 12, 1, 1, 0)
    assert to_vn_time(from_vn_time(local)) == local
    # crossing midnight backwards: 05:30 on the 2nd in Hà Nội is 22:30 on the 1st in UTC
    assert from_vn_time(datetime(2026, 12, 2, 5, 30)) == datetime(2026, 12, 1, 22, 30)
    assert format_vn_time(datetime(2026, 12, 7, 13, 0)) == "07/12/2026 20:00"


def test_slugify_strips_vietnamese_diacritics():
    assert slugify("Tìm hiểu Hiến pháp nước CHXHCN Việt Nam 2026") == "tim-hieu-hien-phap-nuoc-chxhcn-viet-nam-2026"
    assert slugify("Đường bộ & đô thị") == "duong-bo-do-thi"
    assert slugify("!!!") == "cuoc-thi"


def test_create_and_update_contest(any_db_app):
    with any_db_app.app_context():
        province = Unit(name="Tỉnh Nghệ An")
        db.session.add(province)
        db.session.commit()
        first = create_contest(title="Tìm hiểu Hiến pháp", rules_text="Điều 1.\n\nĐiều 2.", unit_ids=[province.id])
        twin = create_contest(title="Tìm hiểu Hiến pháp")
        assert (first.slug, twin.slug) == ("tim-hieu-hien-phap", "tim-hieu-hien-phap-2")
        assert [u.name for u in first.eligible_units] == ["Tỉnh Nghệ An"]
        assert first.published is False

        update_contest(first, title="Tìm hiểu Luật Đất đai", description="Mô tả", unit_ids=[])
        db.session.expire_all()
        again = db.session.get(Contest, first.id)
        assert again.title == "Tìm hiểu Luật Đất đai"
        assert again.slug == "tim-hieu-hien-phap"  # shared links keep working
        assert again.eligible_units == []


def test_contest_refusals_change_nothing(any_db_app):
    with any_db_app.app_context():
        with pytest.raises(OrganiseError) as exc:
            create_contest(title="   ")
        assert exc.value.errors == {"title": "Vui lòng nhập tên cuộc thi."}
        with pytest.raises(OrganiseError) as exc:
            create_contest(title="Cuộc thi", unit_ids=[999999])
        assert "unit_ids" in exc.value.errors
        db.session.rollback()
        assert db.session.scalar(select(func.count(Contest.id))) == 0


def test_publish_needs_a_round_and_deleting_the_last_round_unpublishes(any_db_app):
    with any_db_app.app_context():
        category_id, _ = seed_bank()
        contest = create_contest(title="Cuộc thi")
        with pytest.raises(OrganiseError) as exc:
            set_published(contest, True)
        assert exc.value.errors["published"] == "Cuộc thi cần ít nhất một tuần thi trước khi công bố."
        db.session.rollback()
        assert db.session.get(Contest, contest.id).published is False

        rnd = create_round(contest, round_input(category_id))
        set_published(contest, True)
        assert db.session.get(Contest, contest.id).published is True
        delete_round(rnd)
        db.session.expire_all()
        contest = db.session.get(Contest, contest.id)
        assert contest.rounds == [] and contest.published is False


def test_publish_rechecks_the_blueprint_of_rounds_still_to_come(any_db_app):
    with any_db_app.app_context():
        category_id, _ = seed_bank(easy=6, hard=0)
        contest = create_contest(title="Cuộc thi")
        soon = utcnow().replace(microsecond=0) + timedelta(days=1)
        create_round(contest, round_input(category_id, opens_at=soon, closes_at=soon + timedelta(days=7)))
        # two questions are retired after the round was saved: 4 approved remain for a 5-question blueprint
        for question in db.session.scalars(select(Question).where(Question.status == "approved").limit(2)):
            question.status = "retired"
        db.session.commit()
        with pytest.raises(OrganiseError) as exc:
            set_published(contest, True)
        assert exc.value.errors["published"] == (
            "Chưa thể công bố: tuần thi số 1: Quy tắc 1: cần 5 câu nhưng ngân hàng chỉ còn 4 câu đã duyệt phù hợp."
        )
        db.session.rollback()
        assert db.session.get(Contest, contest.id).published is False


def test_create_round_stores_every_setting(any_db_app):
    with any_db_app.app_context():
        category_id, child_id = seed_bank(child_easy=2)
        contest = create_contest(title="Cuộc thi")
        data = round_input(
            category_id,
            attempts_allowed=None,
            prediction_basis="attempts",
            shuffle_options=False,
            show_key_after_close=False,
            time_limit_minutes=30,
            blueprint=[
                BlueprintRule(category_id, 4, "easy"),
                BlueprintRule(category_id, 2, "hard"),
                BlueprintRule(child_id, 2, None),
            ],
            ranking_rule=["correct_desc", "time_taken_asc", "prediction_distance_asc"],
        )
        rnd = create_round(contest, data)
        db.session.expire_all()
        rnd = db.session.get(Round, rnd.id)
        assert (rnd.opens_at, rnd.closes_at) == (OPENS, CLOSES)
        assert rnd.time_limit_seconds == 1800
        assert rnd.attempts_allowed is None
        assert rnd.blueprint == [
            {"category_id": category_id, "count": 4, "difficulty": "easy"},
            {"category_id": category_id, "count": 2, "difficulty": "hard"},
            {"category_id": child_id, "count": 2, "difficulty": None},
        ]
        assert rnd.question_count == 8
        assert rnd.prediction_basis == "attempts" and rnd.shuffle_options is False and rnd.shuffle_questions is True
        assert rnd.show_key_after_close is False and rnd.show_score_after_submit is True
        assert rnd.ranking_rule == ["correct_desc", "time_taken_asc", "prediction_distance_asc"]
        assert RoundInput.from_round(rnd).blueprint == data.blueprint


def test_round_defaults_to_the_usual_ranking_rule(any_db_app):
    with any_db_app.app_context():
        category_id, _ = seed_bank()
        rnd = create_round(create_contest(title="Cuộc thi"), round_input(category_id))
        assert db.session.get(Round, rnd.id).ranking_rule == DEFAULT_RANKING_RULE


@pytest.mark.parametrize(
    "overrides, field, message",
    [
        ({"closes_at": OPENS - timedelta(hours=1)}, "closes_at", "Thời gian đóng phải sau thời gian mở."),
        ({"closes_at": OPENS}, "closes_at", "Thời gian đóng phải sau thời gian mở."),
        ({"opens_at": None}, "opens_at", "Vui lòng nhập thời gian mở."),
        ({"title": "  "}, "title", "Vui lòng nhập tên tuần thi."),
        ({"number": 0}, "number", "Số thứ tự tuần thi phải là số nguyên dương."),
        ({"time_limit_minutes": 0}, "time_limit_minutes", "Thời gian làm bài phải từ 1 đến 180 phút."),
        ({"time_limit_minutes": 181}, "time_limit_minutes", "Thời gian làm bài phải từ 1 đến 180 phút."),
        (
            {"closes_at": OPENS + timedelta(minutes=10)},
            "time_limit_minutes",
            "Thời gian làm bài dài hơn khoảng thời gian mở của tuần thi.",
        ),
        (
            {"attempts_allowed": 0},
            "attempts_allowed",
            "Số lượt thi phải từ 1 trở lên, hoặc để trống nếu không giới hạn.",
        ),
        ({"prediction_text": " "}, "prediction_text", "Vui lòng nhập nội dung câu hỏi dự đoán."),
        ({"prediction_basis": "percent"}, "prediction_basis", "Cách tính của câu hỏi dự đoán không hợp lệ."),
        ({"ranking_rule": []}, "ranking_rule", "Vui lòng chọn ít nhất một tiêu chí xếp hạng."),
        (
            {"ranking_rule": ["correct_desc", "time_taken_asc", "time_taken_asc"]},
            "ranking_rule",
            "Mỗi tiêu chí xếp hạng chỉ được chọn một lần.",
        ),
        (
            {"ranking_rule": ["time_taken_asc", "correct_desc"]},
            "ranking_rule",
            "Tiêu chí xếp hạng đầu tiên phải là “Nhiều câu trả lời đúng hơn”.",
        ),
        ({"ranking_rule": ["correct_desc", "luck_desc"]}, "ranking_rule", "Tiêu chí xếp hạng không hợp lệ: luck_desc."),
        (
            {"prediction_enabled": False},
            "ranking_rule",
            "Câu hỏi dự đoán đang tắt nên không thể dùng tiêu chí “Dự đoán gần đúng hơn”.",
        ),
        ({"blueprint": []}, "blueprint", "Đề thi cần ít nhất một quy tắc chọn câu hỏi."),
        ({"blueprint": [BlueprintRule(None, 2, "legendary")]}, "blueprint", "Mức độ khó không hợp lệ."),
        ({"blueprint": [BlueprintRule(None, 0)]}, "blueprint", "Quy tắc 1: số câu phải lớn hơn 0."),
        (
            {"blueprint": [BlueprintRule(None, 3, "hard")]},
            "blueprint",
            "Quy tắc 1: cần 3 câu nhưng ngân hàng chỉ còn 2 câu đã duyệt phù hợp.",
        ),
        # rules compete for the same questions: 6 easy in total, the second rule finds only 1 left
        (
            {"blueprint": [BlueprintRule(None, 5, "easy"), BlueprintRule(None, 2, "easy")]},
            "blueprint",
            "Quy tắc 2: cần 2 câu nhưng ngân hàng chỉ còn 1 câu đã duyệt phù hợp.",
        ),
        ({"blueprint": [BlueprintRule(987654, 1)]}, "blueprint", "Không tìm thấy chủ đề #987654."),
    ],
)
def test_round_refusals_are_specific_and_change_nothing(any_db_app, overrides, field, message):
    with any_db_app.app_context():
        seed_bank()
        contest = create_contest(title="Cuộc thi")
        with pytest.raises(OrganiseError) as exc:
            create_round(contest, round_input(**overrides))
        assert exc.value.errors[field] == message
        db.session.rollback()
        assert db.session.scalar(select(func.count(Round.id))) == 0


def test_neighbouring_rounds_may_touch_but_not_overlap(any_db_app):
    with any_db_app.app_context():
        category_id, _ = seed_bank()
        contest = create_contest(title="Cuộc thi")
        create_round(contest, round_input(category_id))
        # week 2 opens exactly when week 1 closes: allowed
        week2 = create_round(
            contest, round_input(category_id, number=2, opens_at=CLOSES, closes_at=CLOSES + timedelta(days=7))
        )
        errors = validate_round(
            contest,
            round_input(
                category_id, number=3, opens_at=CLOSES + timedelta(days=6), closes_at=CLOSES + timedelta(days=14)
            ),
        )
        assert errors["opens_at"] == (
            "Thời gian trùng với tuần thi số 2 (07/12/2026 20:00 – 14/12/2026 20:00). "
            "Các tuần thi của một cuộc thi không được chồng lên nhau."
        )
        assert (
            validate_round(contest, round_input(category_id, number=2), None)["number"]
            == "Cuộc thi đã có tuần thi số 2."
        )
        # a round does not overlap itself when it is edited
        data = RoundInput.from_round(week2)
        data.title = "Tuần thi thứ hai (sửa)"
        assert validate_round(contest, data, week2) == {}


def test_rounds_with_attempts_refuse_blueprint_and_time_limit_changes(any_db_app):
    with any_db_app.app_context():
        category_id, _ = seed_bank()
        contest = create_contest(title="Cuộc thi")
        rnd = create_round(contest, round_input(category_id))
        user_id, _ = create_account(any_db_app)
        add_attempt(rnd, user_id)

        changed = RoundInput.from_round(rnd)
        changed.blueprint = [BlueprintRule(category_id, 4)]
        changed.time_limit_minutes = 25
        changed.prediction_enabled = False
        changed.ranking_rule = ["correct_desc", "time_taken_asc"]
        with pytest.raises(OrganiseError) as exc:
            update_round(rnd, changed)
        assert exc.value.errors == {
            "blueprint": "Tuần thi đã có lượt thi nên không thể thay đổi đề thi (cấu trúc câu hỏi).",
            "time_limit_minutes": "Tuần thi đã có lượt thi nên không thể thay đổi thời gian làm bài.",
            "prediction_enabled": "Tuần thi đã có lượt thi nên không thể bật/tắt câu hỏi dự đoán.",
        }
        db.session.rollback()
        stored = db.session.get(Round, rnd.id)
        assert stored.blueprint == [{"category_id": category_id, "count": 5, "difficulty": None}]
        assert stored.time_limit_seconds == 1200 and stored.prediction_enabled is True

        # other settings may still change, e.g. extending the closing time or the title
        harmless = RoundInput.from_round(stored)
        harmless.title = "Tuần thi thứ nhất (gia hạn)"
        harmless.closes_at = CLOSES + timedelta(days=1)
        update_round(stored, harmless)
        db.session.expire_all()
        assert db.session.get(Round, rnd.id).closes_at == CLOSES + timedelta(days=1)

        with pytest.raises(OrganiseError) as exc:
            delete_round(db.session.get(Round, rnd.id))
        assert exc.value.errors == {"round": "Tuần thi đã có lượt thi nên không thể xóa."}
        db.session.rollback()
        assert db.session.get(Round, rnd.id) is not None


def test_eligibility_follows_the_unit_tree(any_db_app):
    with any_db_app.app_context():
        hanoi, nghean = Unit(name="Thành phố Hà Nội"), Unit(name="Tỉnh Nghệ An")
        db.session.add_all([hanoi, nghean])
        db.session.flush()
        school = Unit(name="Trường THPT Chu Văn An", parent_id=hanoi.id)
        db.session.add(school)
        db.session.commit()
        student = User(
            phone="0911000001", full_name="A", date_of_birth=date(2005, 1, 1), password_hash="x", unit_id=school.id
        )
        outsider = User(
            phone="0911000002", full_name="B", date_of_birth=date(2005, 1, 1), password_hash="x", unit_id=nghean.id
        )
        db.session.add_all([student, outsider])
        db.session.commit()
        everyone = create_contest(title="Mở cho mọi người")
        hanoi_only = create_contest(title="Riêng Hà Nội", unit_ids=[hanoi.id])
        assert user_is_eligible(everyone, outsider)
        assert user_is_eligible(hanoi_only, student)  # the school sits under the chosen province
        assert not user_is_eligible(hanoi_only, outsider)


def test_banner_checks_decode_the_image(app, tmp_path):
    with app.app_context():
        assert check_banner(png_bytes()) == "png"
        assert check_banner(png_bytes(fmt="JPEG")) == "jpg"
        assert check_banner(png_bytes(fmt="WEBP")) == "webp"
        cases = [
            (b"", "Tệp ảnh bìa trống."),
            (b"<svg onload=alert(1)></svg>", "Tệp tải lên không phải ảnh hợp lệ. Chỉ nhận ảnh JPEG, PNG hoặc WebP."),
            (png_bytes()[:40], "Tệp tải lên không phải ảnh hợp lệ. Chỉ nhận ảnh JPEG, PNG hoặc WebP."),
            (png_bytes(fmt="GIF"), "Định dạng ảnh không được hỗ trợ. Chỉ nhận ảnh JPEG, PNG hoặc WebP."),
            (png_bytes() + b"\0" * MAX_BANNER_BYTES, "Ảnh bìa quá lớn: tối đa 2 MB."),
            (png_bytes(size=(5000, 4000)), "Ảnh bìa có kích thước quá lớn (tối đa 4096 × 4096 điểm ảnh)."),
        ]
        for data, message in cases:
            with pytest.raises(OrganiseError) as exc:
                check_banner(data)
            assert exc.value.errors == {"banner": message}


def test_a_new_banner_replaces_the_old_file(app, tmp_path):
    app.config["UPLOAD_DIR"] = str(tmp_path)
    with app.app_context():
        contest = create_contest(title="Cuộc thi")
        first = save_banner(contest, png_bytes())
        assert (tmp_path / "banners" / first).read_bytes() == png_bytes()
        second = save_banner(contest, png_bytes(fmt="JPEG"))
        assert second.endswith(".jpg") and second != first
        assert not (tmp_path / "banners" / first).exists()
        assert db.session.get(Contest, contest.id).banner_path == second


@pytest.fixture
def pg_app(postgres, pg_template, redis_url):
    """An app on a fresh PostgreSQL database: row locks are what this test is about."""
    import uuid

    from tests.conftest import make_app

    if postgres is None:
        pytest.fail("PostgreSQL server binaries are not installed (make test installs them)")
    name = "t_" + uuid.uuid4().hex[:12]
    postgres.psql(f"CREATE DATABASE {name} TEMPLATE {pg_template}")
    app = make_app(postgres.url(name), redis_url)
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def test_an_attempt_starting_during_an_edit_is_not_missed(pg_app):
    """The attempt's insert is still uncommitted when the organiser saves: the save waits for it, then refuses."""
    import threading

    from sqlalchemy import text

    with pg_app.app_context():
        category_id, _ = seed_bank()
        rnd = create_round(create_contest(title="Cuộc thi"), round_input(category_id))
        round_id = rnd.id
    user_id, _ = create_account(pg_app)

    with pg_app.app_context():
        contestant = db.engine.connect()
        starting = contestant.begin()
        contestant.execute(
            text(
                "INSERT INTO attempts (round_id, user_id, number, seed, status, started_at, deadline_at, question_count) "
                "VALUES (:r, :u, 1, 's', 'in_progress', now(), now() + interval '20 minutes', 5)"
            ),
            {"r": round_id, "u": user_id},
        )

        outcome = {}

        def organiser_saves():
            with pg_app.app_context():
                stored = db.session.get(Round, round_id)
                changed = RoundInput.from_round(stored)
                changed.blueprint = [BlueprintRule(category_id, 4)]
                try:
                    update_round(stored, changed)
                    outcome["result"] = "saved"
                except OrganiseError as exc:
                    db.session.rollback()
                    outcome["result"] = exc.errors
                finally:
                    db.session.remove()

        worker = threading.Thread(target=organiser_saves)
        worker.start()
        worker.join(timeout=1.5)
        assert worker.is_alive(), "the save must wait for the attempt being started"
        starting.commit()
        contestant.close()
        worker.join(timeout=15)
        assert outcome["result"] == {
            "blueprint": "Tuần thi đã có lượt thi nên không thể thay đổi đề thi (cấu trúc câu hỏi)."
        }
        db.session.expire_all()
        assert db.session.get(Round, round_id).question_count == 5
