"""Synthetic contestants for load tests, inserted in bulk so a test measures the contest, not registration."""
from datetime import date

from sqlalchemy import delete, insert, select
from werkzeug.security import generate_password_hash

from contest.accounts.models import User, utcnow
from contest.accounts.validators import normalize_phone
from contest.extensions import db

DEFAULT_PREFIX = "0599"  # a block no real subscriber is likely to bring to a test deployment
DEFAULT_PASSWORD = "thitai12345"
BATCH = 2000


def loadtest_phone(index: int, prefix: str = DEFAULT_PREFIX) -> str:
    """The phone number of synthetic contestant `index` (1-based); Locust computes the same numbers."""
    width = 10 - len(prefix)
    if index < 1 or index >= 10 ** width:
        raise ValueError(f"index {index} does not fit after prefix {prefix}")
    phone = f"{prefix}{index:0{width}d}"
    if normalize_phone(phone) != phone:
        raise ValueError(f"prefix {prefix} does not make valid mobile numbers")
    return phone


def seed_users(count: int, prefix: str = DEFAULT_PREFIX, password: str = DEFAULT_PASSWORD,
               start: int = 1, unit_id: int | None = None) -> tuple[int, int]:
    """Creates contestants start..start+count-1; returns (created, already there). Idempotent.

    One scrypt hash is computed and shared by every synthetic account: hashing each one would
    take ~50 ms of CPU per user (minutes for 10,000) and tells nothing about the contest.
    """
    phones = [loadtest_phone(i, prefix) for i in range(start, start + count)]
    existing = set(db.session.scalars(select(User.phone).where(User.phone.like(prefix + "%"))))
    password_hash = generate_password_hash(password, method="scrypt")
    now = utcnow()
    rows = [
        dict(phone=phone, password_hash=password_hash, full_name=f"Thí sinh thử tải {phone[-6:]}",
             date_of_birth=date(1990, 1, 1), unit_id=unit_id, role="contestant", consent_at=now,
             created_at=now, active=True)
        for phone in phones if phone not in existing
    ]
    for offset in range(0, len(rows), BATCH):
        db.session.execute(insert(User), rows[offset:offset + BATCH])
    db.session.commit()
    return len(rows), len(phones) - len(rows)


def remove_users(prefix: str = DEFAULT_PREFIX) -> int:
    """Deletes the synthetic contestants of `prefix` (their attempts go with them, by cascade)."""
    result = db.session.execute(
        delete(User).where(User.phone.like(prefix + "%"), User.role == "contestant")
    )
    db.session.commit()
    return result.rowcount
