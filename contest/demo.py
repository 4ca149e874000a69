"""Idempotent demo data for `make run`: a unit tree, one account per role, demo contestants."""
from datetime import date

from sqlalchemy import select

from contest.accounts.models import Unit, User
from contest.accounts.services import create_user
from contest.extensions import db

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
                phone=phone, password=DEMO_PASSWORD, full_name=name, date_of_birth=date(1990, 5, 17),
                unit_id=units[unit].id, role=role, commit=False,
            )
    db.session.commit()
    from question_bank.demo import load_demo_bank

    organisers = db.session.scalars(select(User.id).where(User.phone.in_(["0900000002", "0900000003"])).order_by(User.phone)).all()
    load_demo_bank(*organisers[:2])  # written by the first demo organiser, approved by the second
    return [(role, phone, name) for role, phone, name, _ in DEMO_ACCOUNTS]
