"""Idempotent demo data for `make run`: a unit tree, one account per role, demo contestants."""

from datetime import date, timedelta

from sqlalchemy import select

from contest.accounts.models import Unit, User
from contest.accounts.services import create_user
from contest.rounds.models import Contest, Round
from infra.clock import utcnow
from infra.extensions import db
from question_bank.demo import load_demo_bank
from question_bank.models import Category, Question, QuestionOption

DEMO_PASSWORD = "demo12345"

UNIT_TREE = {
    "Bộ Tư pháp": ["Vụ Phổ biến, giáo dục pháp luật", "Cục Công nghệ thông tin", "Trường Đại học Luật Hà Nội"],
    "Thành phố Hà Nội": ["Sở Tư pháp Hà Nội", "Quận Ba Đình", "Trường THPT Chu Văn An"],
    "Tỉnh Nghệ An": ["Sở Tư pháp Nghệ An", "Thành phố Vinh", "Trường Đại học Vinh"],
    "Thành phố Hồ Chí Minh": ["Sở Tư pháp TP. Hồ Chí Minh", "Quận 1", "Đại học Quốc gia TP. Hồ Chí Minh"],
}

DEMO_ACCOUNTS = [
    ("admin", "0900000001", "Quản Trị Viên", "Bộ Tư pháp"),
    ("organiser", "0900000002", "Nguyễn Văn Tổ Chức", "Vụ Phổ biến, giáo dục pháp luật"),
    ("organiser", "0900000003", "Trần Thị Thẩm Định", "Vụ Phổ biến, giáo dục pháp luật"),
    ("judge", "0900000004", "Lê Văn Giám Khảo", "Vụ Phổ biến, giáo dục pháp luật"),
    ("contestant", "0912345678", "Phạm Thị Thí Sinh", "Trường THPT Chu Văn An"),
    ("contestant", "0987654321", "Hoàng Văn Dự Thi", "Sở Tư pháp Nghệ An"),
]


def seed_units():
    by_name = {u.name: u for u in db.session.scalars(select(Unit))}
    for order, (province, children) in enumerate(UNIT_TREE.items()):
        parent = by_name.get(province)
        if parent is None:
            parent = by_name[province] = Unit(name=province, sort_order=order)
            db.session.add(parent)
            db.session.flush()
        for child_order, child in enumerate(children):
            if child not in by_name:
                by_name[child] = Unit(name=child, parent_id=parent.id, sort_order=child_order, headcount=200)
                db.session.add(by_name[child])
    db.session.commit()
    return by_name


def seed_demo():
    units = seed_units()
    existing = set(db.session.scalars(select(User.phone)))
    for role, phone, name, unit in DEMO_ACCOUNTS:
        if phone not in existing:
            create_user(
                phone=phone,
                password=DEMO_PASSWORD,
                full_name=name,
                date_of_birth=date(1990, 5, 17),
                unit_id=units[unit].id,
                role=role,
                commit=False,
            )
    db.session.commit()
    organisers = db.session.scalars(
        select(User.id).where(User.phone.in_(["0900000002", "0900000003"])).order_by(User.phone)
    ).all()
    load_demo_bank(*organisers[:2])  # written by the first demo organiser, approved by the second
    seed_demo_contest()
    return [(role, phone, name) for role, phone, name, _ in DEMO_ACCOUNTS]


DEMO_CONTEST_SLUG = "tim-hieu-phap-luat-ve-pbgdpl"
DEMO_QUESTIONS = [
    ("Luật Phổ biến, giáo dục pháp luật hiện hành được Quốc hội thông qua năm nào?", ["2012", "2008", "2015", "2018"]),
    (
        "Ngày Pháp luật nước Cộng hòa xã hội chủ nghĩa Việt Nam là ngày nào?",
        ["Ngày 09 tháng 11", "Ngày 02 tháng 9", "Ngày 19 tháng 5", "Ngày 01 tháng 6"],
    ),
    (
        "Cơ quan nào giúp Chính phủ thống nhất quản lý nhà nước về phổ biến, giáo dục pháp luật?",
        ["Bộ Tư pháp", "Bộ Công an", "Bộ Nội vụ", "Văn phòng Chính phủ"],
    ),
    (
        "Hội đồng phối hợp phổ biến, giáo dục pháp luật ở trung ương do ai làm Chủ tịch?",
        ["Bộ trưởng Bộ Tư pháp", "Thủ tướng Chính phủ", "Chủ tịch Quốc hội", "Chánh án Tòa án nhân dân tối cao"],
    ),
    (
        "Báo cáo viên pháp luật trung ương do ai ra quyết định công nhận?",
        ["Bộ trưởng Bộ Tư pháp", "Chủ tịch nước", "Chủ tịch Ủy ban nhân dân cấp tỉnh", "Bộ trưởng Bộ Nội vụ"],
    ),
    ("Tuyên truyền viên pháp luật hoạt động ở cấp nào?", ["Cấp xã", "Cấp tỉnh", "Trung ương", "Cấp bộ"]),
    ("Luật Hòa giải ở cơ sở được ban hành năm nào?", ["2013", "2010", "2016", "2020"]),
    ("Hiến pháp hiện hành của nước ta được thông qua năm nào?", ["2013", "1992", "2001", "1980"]),
    (
        "Tủ sách pháp luật được xây dựng nhằm mục đích gì?",
        [
            "Phục vụ nhu cầu tìm hiểu pháp luật của người dân",
            "Kinh doanh sách",
            "Lưu trữ hồ sơ",
            "Thay thế thư viện công cộng",
        ],
    ),
    (
        "Độ tuổi được thực hiện quyền bầu cử theo Hiến pháp năm 2013 là bao nhiêu?",
        ["Đủ 18 tuổi", "Đủ 16 tuổi", "Đủ 20 tuổi", "Đủ 21 tuổi"],
    ),
    ("Luật Tiếp cận thông tin có hiệu lực từ ngày nào?", ["01/7/2018", "01/01/2017", "01/7/2016", "01/01/2019"]),
    (
        "Ai có trách nhiệm phổ biến, giáo dục pháp luật cho thành viên trong gia đình?",
        ["Cha mẹ và thành viên gia đình", "Chỉ nhà trường", "Chỉ Ủy ban nhân dân", "Chỉ Công an xã"],
    ),
]


def seed_demo_contest():
    """A published contest with one round open now for 30 days (10 questions, 15 minutes, 3 attempts)."""
    if db.session.scalar(select(Contest.id).where(Contest.slug == DEMO_CONTEST_SLUG)):
        return
    approved = db.session.scalar(
        select(db.func.count(Question.id)).where(Question.status == "approved", Question.is_current.is_(True))
    )
    category_id = None
    if approved < 10:
        category = Category(name="Phổ biến, giáo dục pháp luật (demo)")
        db.session.add(category)
        db.session.flush()
        category.path = f"/{category.id}/"
        for stem, options in DEMO_QUESTIONS:
            question = Question(
                category_id=category.id,
                stem=stem,
                stem_normalized=stem.lower(),
                status="approved",
                is_current=True,
                legal_document="Luật Phổ biến, giáo dục pháp luật 2012",
            )
            # The first listed option is the right one; the draw shuffles what contestants see.
            question.options = [
                QuestionOption(position=i, text=text, is_correct=i == 0) for i, text in enumerate(options)
            ]
            db.session.add(question)
        category_id = category.id
    now = utcnow().replace(microsecond=0)
    contest = Contest(
        slug=DEMO_CONTEST_SLUG,
        published=True,
        title="Cuộc thi tìm hiểu pháp luật về phổ biến, giáo dục pháp luật",
        description="Cuộc thi trực tuyến dành cho mọi công dân, tìm hiểu Luật Phổ biến, giáo dục pháp luật và các văn bản liên quan.",
        rules_text=(
            "Mỗi tuần thi có 10 câu hỏi trắc nghiệm, thời gian làm bài 15 phút, mỗi người được thi tối đa 3 lượt; "
            "lượt có kết quả cao nhất được tính. Xếp hạng theo số câu đúng, dự đoán gần đúng nhất, "
            "thời gian làm bài ngắn hơn và thời điểm nộp bài sớm hơn."
        ),
    )
    contest.rounds = [
        Round(
            number=1,
            title="Tuần thi thứ nhất",
            opens_at=now - timedelta(minutes=5),
            closes_at=now + timedelta(days=30),
            time_limit_seconds=15 * 60,
            attempts_allowed=3,
            blueprint=[{"category_id": category_id, "count": 10, "difficulty": None}],
        )
    ]
    db.session.add(contest)
    db.session.commit()
