"""Password reset by a one-time link: requested by the account holder (sent by e-mail through infra.mail) or
issued by an organiser (shown once, handed over by phone or message).

Only the SHA-256 of a link's secret is stored; a link expires (PASSWORD_RESET_MINUTES, an organiser's
PASSWORD_RESET_ORGANISER_HOURS), works once (a conditional UPDATE claims it, so two tabs cannot both use it),
and a newer link or a reset ends the account's other open links. A reset ends every session of the account
(session_version) and clears its login lock. Every step is audited through the account_action signal.
"""

import hashlib
import logging
import re
import secrets
from datetime import timedelta

from flask import current_app, url_for
from flask_babel import gettext as _
from sqlalchemy import func, select, update

from contest.accounts.models import PasswordReset, User
from contest.accounts.services import (
    AccountError,
    account_action,
    clear_login_failures,
    end_other_sessions,
    find_by_login,
)
from infra.clock import format_vn_time, utcnow
from infra.extensions import db
from infra.mail import MailError, send_mail

log = logging.getLogger(__name__)
TOKEN_PATTERN = re.compile(r"^[A-Za-z0-9_-]{32,64}$")


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _new_link(user: User, lifetime: timedelta, issued_by: User | None, ip: str | None) -> str:
    """A fresh secret for `user` (its hash stored); the account's other open links end. The caller commits."""
    now = utcnow()
    _end_open_links(user, now)
    token = secrets.token_urlsafe(32)
    db.session.add(
        PasswordReset(
            user_id=user.id,
            token_hash=token_hash(token),
            created_at=now,
            expires_at=now + lifetime,
            issued_by_id=issued_by.id if issued_by is not None else None,
            requested_ip=(ip or "")[:64] or None,
        )
    )
    return token


def _end_open_links(user: User, now) -> None:
    db.session.execute(
        update(PasswordReset)
        .where(PasswordReset.user_id == user.id, PasswordReset.used_at.is_(None), PasswordReset.expires_at > now)
        .values(expires_at=now)
    )


def reset_url(token: str) -> str:
    """The link as a person receives it: built on PUBLIC_URL when set, never on a Host header in production."""
    path = url_for("accounts.reset_password", token=token)
    base = current_app.config.get("PUBLIC_URL")
    return base.rstrip("/") + path if base else url_for("accounts.reset_password", token=token, _external=True)


def request_reset(login: str, ip: str | None = None) -> None:
    """The "Quên mật khẩu" form. Whatever happens, the caller shows the same message (no account is revealed):
    no account, no e-mail address, a locked account or too many links this hour send nothing."""
    user = find_by_login(login)
    if user is None or not user.is_active or not user.email:
        return
    if current_app.config.get("REQUIRE_PUBLIC_URL") and not current_app.config.get("PUBLIC_URL"):
        log.error("password reset for user %s not sent: PUBLIC_URL is not set", user.id)
        return
    since = utcnow() - timedelta(hours=1)
    recent = db.session.scalar(
        select(func.count())
        .select_from(PasswordReset)
        .where(
            PasswordReset.user_id == user.id,
            PasswordReset.issued_by_id.is_(None),
            PasswordReset.created_at > since,
        )
    )
    if recent >= current_app.config["PASSWORD_RESET_PER_ACCOUNT_HOUR"]:
        account_action.send(user, actor=None, action="password_reset_throttled", ip=ip)
        db.session.commit()
        return
    minutes = current_app.config["PASSWORD_RESET_MINUTES"]
    token = _new_link(user, timedelta(minutes=minutes), None, ip)
    account_action.send(user, actor=None, action="password_reset_requested", ip=ip)
    db.session.commit()
    body = _(
        "Xin chào %(name)s,\n\n"
        "Có người (có thể là bạn) vừa yêu cầu đặt lại mật khẩu tài khoản thi tìm hiểu pháp luật của bạn. "
        "Mở liên kết sau để đặt mật khẩu mới (dùng được một lần, trong %(minutes)d phút):\n\n%(url)s\n\n"
        "Nếu bạn không yêu cầu, hãy bỏ qua thư này; mật khẩu của bạn không thay đổi.",
        name=user.full_name,
        minutes=minutes,
        url=reset_url(token),
    )
    try:
        send_mail(user.email, _("Đặt lại mật khẩu"), body)
    except MailError:
        log.exception("password reset mail for user %s failed", user.id)


def issue_reset(user: User, actor: User) -> tuple[str, PasswordReset]:
    """An organiser's link for a contestant who cannot receive e-mail: shown once to the organiser. The caller
    commits. The organiser never learns the new password: the contestant chooses it."""
    if user.role != "contestant" and not actor.has_role("admin"):
        raise AccountError("user", _("Ban tổ chức chỉ có thể đặt lại mật khẩu của thí sinh."))
    if user.id == actor.id:
        raise AccountError("user", _("Hãy đổi mật khẩu của chính bạn ở trang Tài khoản."))
    if not user.is_active:
        raise AccountError("user", _("Tài khoản này đang bị khóa: liên kết đặt lại mật khẩu sẽ không dùng được."))
    hours = current_app.config["PASSWORD_RESET_ORGANISER_HOURS"]
    token = _new_link(user, timedelta(hours=hours), actor, None)
    db.session.flush()
    link = db.session.scalars(select(PasswordReset).where(PasswordReset.token_hash == token_hash(token))).one()
    account_action.send(user, actor=actor, action="password_reset_issued", expires_at=format_vn_time(link.expires_at))
    return token, link


def valid_link(token: str) -> PasswordReset | None:
    """The open link for this secret, or None (unknown, used, expired, malformed, or its account locked)."""
    if not isinstance(token, str) or not TOKEN_PATTERN.match(token):
        return None
    link = db.session.scalar(select(PasswordReset).where(PasswordReset.token_hash == token_hash(token)))
    if link is None or link.used_at is not None or link.expires_at <= utcnow() or not link.user.is_active:
        return None
    return link


def reset_password(token: str, password: str, ip: str | None = None) -> User:
    """Sets the new password if the link is still open, claiming it first (one conditional UPDATE: of two
    concurrent uses exactly one wins). Every session of the account ends. The caller commits."""
    link = valid_link(token)
    now = utcnow()
    claimed = (
        link is not None
        and db.session.execute(  # type: ignore[attr-defined]  # an UPDATE's result is a CursorResult
            update(PasswordReset)
            .where(PasswordReset.id == link.id, PasswordReset.used_at.is_(None), PasswordReset.expires_at > now)
            .values(used_at=now)
        ).rowcount
        == 1
    )
    if link is None or not claimed:
        raise AccountError(
            "password",
            _("Liên kết đặt lại mật khẩu không còn hiệu lực (đã dùng hoặc đã hết hạn). Hãy yêu cầu liên kết mới."),
        )
    user = link.user
    user.set_password(password)
    _end_open_links(user, now)
    end_other_sessions(user, actor=user, reason="password_reset", keep_current=False)
    account_action.send(
        user,
        actor=user,
        action="password_reset",
        ip=ip,
        issued_by=link.issued_by_id,
        link_created=link.created_at.isoformat(timespec="seconds"),
    )
    clear_login_failures(user.phone, user)
    return user
