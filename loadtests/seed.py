"""Synthetic contestants for load tests, inserted in bulk so a test measures the contest, not registration."""

from datetime import date, timedelta

from sqlalchemy import delete, func, insert, null, select
from werkzeug.security import generate_password_hash

from contest.accounts.models import User
from contest.accounts.validators import normalize_phone
from contest.rounds.models import Contest, Round
from infra.clock import utcnow
from infra.extensions import db

DEFAULT_PREFIX = "0599"  # a block no real subscriber is likely to bring to a test deployment
DEFAULT_PASSWORD = "thitai12345"
BATCH = 2000


def loadtest_phone(index: int, prefix: str = DEFAULT_PREFIX) -> str:
    """The phone number of synthetic contestant `index` (1-based); Locust computes the same numbers."""
    width = 10 - len(prefix)
    if index < 1 or index >= 10**width:
        raise ValueError(f"index {index} does not fit after prefix {prefix}")
    phone = f"{prefix}{index:0{width}d}"
    if normalize_phone(phone) != phone:
        raise ValueError(f"prefix {prefix} does not make valid mobile numbers")
    return phone


LIGHT_HASH = "scrypt:4096:8:1"  # 8x cheaper than Werkzeug's default scrypt:32768:8:1


def seed_users(
    count: int,
    prefix: str = DEFAULT_PREFIX,
    password: str = DEFAULT_PASSWORD,
    start: int = 1,
    unit_id: int | None = None,
    light_hash: bool = False,
) -> tuple[int, int]:
    """Creates contestants start..start+count-1; returns (created, already there). Idempotent.

    One scrypt hash is computed and shared by every synthetic account: hashing each one would
    take ~50 ms of CPU per user (minutes for 10,000) and tells nothing about the contest.
    `light_hash` stores a cheaper scrypt (LIGHT_HASH) so a ramp of thousands of logins on a small
    test machine measures the contest, not the login wave; loadtests/run.py records the choice
    in its summary, and login throughput with the real cost is measured on its own.
    """
    phones = [loadtest_phone(i, prefix) for i in range(start, start + count)]
    existing = set(db.session.scalars(select(User.phone).where(User.phone.like(prefix + "%"))))
    password_hash = generate_password_hash(password, method=LIGHT_HASH if light_hash else "scrypt")
    now = utcnow()
    rows = [
        dict(
            phone=phone,
            password_hash=password_hash,
            full_name=f"Thí sinh thử tải {phone[-6:]}",
            date_of_birth=date(1990, 1, 1),
            unit_id=unit_id,
            role="contestant",
            consent_at=now,
            created_at=now,
            active=True,
        )
        for phone in phones
        if phone not in existing
    ]
    for offset in range(0, len(rows), BATCH):
        db.session.execute(insert(User), rows[offset : offset + BATCH])
    db.session.commit()
    return len(rows), len(phones) - len(rows)


def remove_users(prefix: str = DEFAULT_PREFIX) -> int:
    """Deletes the synthetic contestants of `prefix` (their attempts go with them, by cascade)."""
    result = db.session.execute(delete(User).where(User.phone.like(prefix + "%"), User.role == "contestant"))
    db.session.commit()
    return result.rowcount


def create_load_round(contest_slug: str, questions: int = 30, minutes: int = 45) -> int:
    """A round for a capacity test, in the demo contest (run seed-demo first): `questions` drawn
    from the whole approved bank, `minutes` per attempt, unlimited attempts, open now for a day.

    Real rounds have 10-30 questions and 10-45 minutes (DOMAIN.md); a long attempt keeps every
    simulated contestant answering for the whole test instead of finishing early and idling.
    """
    contest = db.session.scalar(select(Contest).where(Contest.slug == contest_slug))
    if contest is None:
        raise ValueError(f"no contest {contest_slug!r}: run `contest seed-demo` first")
    number = (db.session.scalar(select(func.max(Round.number)).where(Round.contest_id == contest.id)) or 0) + 1
    now = utcnow().replace(microsecond=0)
    round_ = Round(
        contest_id=contest.id,
        number=number,
        title=f"Tuần thi thử tải {number}",
        opens_at=now - timedelta(minutes=1),
        closes_at=now + timedelta(days=1),
        time_limit_seconds=minutes * 60,
        attempts_allowed=null(),  # None would take the column default
        blueprint=[{"category_id": None, "count": questions, "difficulty": None}],
    )
    db.session.add(round_)
    db.session.commit()
    return round_.id
