"""Account operations that routes, the CLI and tests call directly."""

from datetime import date

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import func, or_, select

from contest.accounts.models import ROLES, User
from contest.accounts.validators import hash_cccd, normalize_phone
from infra.clock import utcnow
from infra.extensions import db


class AccountError(ValueError):
    """A registration problem tied to one field; `field` names it for the form."""

    def __init__(self, field, message):
        super().__init__(message)
        self.field = field
        self.message = message


def cccd_digest(cccd: str) -> str:
    return hash_cccd(cccd, current_app.config["CCCD_HASH_KEY"])


def find_by_login(login: str) -> User | None:
    """A login is a phone number (any common spelling) or an email address."""
    login = (login or "").strip()
    phone = normalize_phone(login)
    if phone:
        return db.session.scalar(select(User).where(User.phone == phone))
    if "@" in login:
        return db.session.scalar(select(User).where(func.lower(User.email) == login.lower()))
    return None


def create_user(
    *,
    phone: str,
    password: str,
    full_name: str,
    date_of_birth: date,
    unit_id: int | None = None,
    cccd: str | None = None,
    email: str | None = None,
    occupation: str | None = None,
    role: str = "contestant",
    consent: bool = True,
    commit: bool = True,
) -> User:
    normalized = normalize_phone(phone)
    if not normalized:
        raise AccountError("phone", _("Số điện thoại không hợp lệ."))
    if role not in ROLES:
        raise AccountError("role", _("Vai trò không hợp lệ."))
    email = (email or "").strip().lower() or None
    checks = [User.phone == normalized]
    if email:
        checks.append(func.lower(User.email) == email)
    digest = cccd_digest(cccd) if cccd else None
    if digest:
        checks.append(User.cccd_hash == digest)
    for existing in db.session.scalars(select(User).where(or_(*checks))):
        if existing.phone == normalized:
            raise AccountError("phone", _("Số điện thoại này đã được đăng ký."))
        if digest and existing.cccd_hash == digest:
            raise AccountError("cccd", _("Số CCCD này đã được đăng ký cho một tài khoản khác."))
        raise AccountError("email", _("Email này đã được đăng ký."))
    user = User(
        phone=normalized,
        email=email,
        full_name=" ".join(full_name.split()),
        date_of_birth=date_of_birth,
        unit_id=unit_id,
        occupation=occupation,
        cccd_hash=digest,
        cccd_last4=cccd[-4:] if cccd else None,
        role=role,
        consent_at=utcnow() if consent else None,
    )
    user.set_password(password)
    db.session.add(user)
    if commit:
        db.session.commit()
    return user
