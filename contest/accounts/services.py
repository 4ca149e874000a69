"""Account operations that routes, the CLI and tests call directly."""

import hashlib
import math
import re
import secrets
from datetime import date
from functools import cache

from blinker import Namespace
from flask import current_app, session
from flask_babel import gettext as _
from flask_login import login_user
from sqlalchemy import func, or_, select
from werkzeug.security import check_password_hash, generate_password_hash

from contest.accounts.models import ROLES, User
from contest.accounts.validators import hash_cccd, name_problem, normalize_cccd, normalize_name, normalize_phone
from infra.clock import utcnow
from infra.extensions import db, get_redis
from infra.offload import run_blocking

_signals = Namespace()
# Sent (sender: the user) when every session of an account was ended, with actor= and reason=; the audit
# log listens (contest.audit sits above accounts and records it in the same transaction).
sessions_ended = _signals.signal("sessions-ended")
# Sent (sender: the user the action concerns) with actor=, action= and JSON-serialisable details for the audit
# log (contest.audit records it in the caller's transaction): password-reset requests, links issued, resets.
account_action = _signals.signal("account-action")


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
    # The same rules as the registration form, for every caller (the CLI, demo and load-test seeding too).
    full_name = normalize_name(full_name)
    if name_problem(full_name):
        raise AccountError("full_name", _("Họ và tên phải có chữ cái và không chứa ký tự điều khiển hay ký tự ẩn."))
    if cccd:
        cccd = normalize_cccd(cccd)
        if not re.fullmatch(r"[0-9]{12}", cccd):
            raise AccountError("cccd", _("Số CCCD phải gồm đúng 12 chữ số 0-9."))
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
        full_name=full_name,
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


@cache
def _dummy_hash() -> str:
    """A scrypt hash with the parameters of real ones, checked when the login names no account."""
    return run_blocking(generate_password_hash, "no account has this password", method="scrypt")


def check_login(user: User | None, password: str) -> bool:
    """The password check of the login form: the same scrypt work whether or not the account exists,
    through infra.offload the same way, so the answer time does not tell which phone numbers are registered."""
    if user is None:
        run_blocking(check_password_hash, _dummy_hash(), password or "")
        return False
    return user.check_password(password or "")


def _failure_key(login: str, user: User | None) -> str:
    if user is not None:
        return f"login-fail:user:{user.id}"
    ident = normalize_phone(login or "") or (login or "").strip().lower()
    return "login-fail:name:" + hashlib.sha256(ident.encode()).hexdigest()[:32]


def login_lock_minutes(login: str, user: User | None) -> int:
    """Minutes left on the account's lock after too many wrong passwords (0: not locked).

    Counted per account (per login name when no account has it, so a lock says nothing about which exist),
    whatever address the attempts come from; beside the per-address LOGIN_RATE_LIMIT.
    """
    redis = get_redis()
    key = _failure_key(login, user)
    failures = int(redis.get(key) or 0)
    if failures < current_app.config["ACCOUNT_LOGIN_FAILURES"]:
        return 0
    ttl = redis.ttl(key)
    return max(1, math.ceil(max(ttl, 0) / 60))


def record_login_failure(login: str, user: User | None) -> None:
    redis = get_redis()
    key = _failure_key(login, user)
    pipe = redis.pipeline()
    pipe.incr(key)
    pipe.expire(key, current_app.config["ACCOUNT_LOCK_SECONDS"], nx=True)
    pipe.execute()


def clear_login_failures(login: str, user: User | None) -> None:
    get_redis().delete(_failure_key(login, user))


def new_session_id() -> None:
    """Gives the current request's session a fresh id and drops the old one from Redis (no fixation)."""
    interface = current_app.session_interface
    old_sid = getattr(session, "sid", None)
    if old_sid is None:
        return
    interface._delete_session(interface._get_store_id(old_sid))  # type: ignore[attr-defined]
    session.sid = interface._generate_sid(interface.sid_length)  # type: ignore[attr-defined]
    session.modified = True


def start_session(user: User, remember: bool = False) -> None:
    """Logs the user in on a fresh session id with a cleared session (the language choice is kept)."""
    lang = session.get("lang")
    new_session_id()
    session.clear()
    if lang:
        session["lang"] = lang
    user.login_nonce = secrets.token_urlsafe(12)
    login_user(user, remember=remember)


def end_other_sessions(user: User, actor=None, reason: str | None = None, keep_current: bool = True) -> None:
    """Every session and remember-me cookie of the account dies; the current request's session is reissued
    under the new version when it belongs to that user (keep_current). The caller commits."""
    user.end_sessions()
    sessions_ended.send(user, actor=actor, reason=reason)
    if keep_current:
        start_session(user, remember=False)


def _remember_key(cookie_value: str) -> str:
    return "remember-revoked:" + hashlib.sha256(cookie_value.encode()).hexdigest()


def revoke_remember_cookie(cookie_value: str | None) -> None:
    """Logout: this remember-me cookie stops working on the server too, even if a copy of it survives."""
    if cookie_value:
        duration = current_app.config.get("REMEMBER_COOKIE_DURATION") or 365 * 24 * 3600
        seconds = int(getattr(duration, "total_seconds", lambda: duration)())
        get_redis().set(_remember_key(cookie_value), 1, ex=max(seconds, 1))


def remember_cookie_revoked(cookie_value: str | None) -> bool:
    if not cookie_value:
        return False
    return bool(get_redis().exists(_remember_key(cookie_value)))


def refuse_revoked_remember_cookies(manager) -> None:
    """A remember-me cookie revoked at logout loads nobody, for pages and Socket.IO connections alike.

    Flask-Login has no hook between reading the cookie and loading its user, so its cookie loader is wrapped.
    """
    load_from_cookie = manager._load_user_from_remember_cookie

    def checked(cookie):
        if remember_cookie_revoked(cookie):
            return None
        return load_from_cookie(cookie)

    manager._load_user_from_remember_cookie = checked
