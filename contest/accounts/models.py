"""Accounts and the organiser-maintained tree of units (đơn vị dự thi)."""

from datetime import date, datetime

from flask_login import UserMixin
from sqlalchemy import CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from infra.clock import utcnow
from infra.extensions import Model, db, login_manager
from infra.offload import run_blocking

# host: runs a live final's console (contest.live) and nothing else of the organisers' pages.
ROLES = ("contestant", "organiser", "judge", "host", "admin")
OCCUPATIONS = ("civil_servant", "student", "worker", "other")


class Unit(Model):
    """A node of the unit tree: a province at the top, agencies/schools/districts below it."""

    __tablename__ = "units"

    id: Mapped[int] = mapped_column(primary_key=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("units.id", ondelete="RESTRICT"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    code: Mapped[str | None] = mapped_column(String(32), unique=True)
    # Known headcount lets judges rank units by participation rate.
    headcount: Mapped[int | None]
    sort_order: Mapped[int] = mapped_column(default=0)

    parent: Mapped["Unit | None"] = relationship(remote_side=[id], back_populates="children")
    children: Mapped[list["Unit"]] = relationship(back_populates="parent", order_by="Unit.sort_order, Unit.name")

    def path(self):
        node: Unit | None = self
        names = []
        while node is not None:
            names.append(node.name)
            node = node.parent
        return " › ".join(reversed(names))

    def province(self):
        node = self
        while node.parent is not None:
            node = node.parent
        return node


class User(UserMixin, Model):
    __tablename__ = "users"
    __table_args__ = (CheckConstraint("role IN ('contestant','organiser','judge','host','admin')", name="role_valid"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    phone: Mapped[str] = mapped_column(String(15), unique=True)
    email: Mapped[str | None] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    full_name: Mapped[str] = mapped_column(String(120))
    date_of_birth: Mapped[date]
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("units.id", ondelete="RESTRICT"), index=True)
    occupation: Mapped[str | None] = mapped_column(String(32))
    # HMAC of the 12-digit ID-card number: uniqueness without storing the number itself.
    cccd_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    cccd_last4: Mapped[str | None] = mapped_column(String(4))
    role: Mapped[str] = mapped_column(String(16), default="contestant")
    consent_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    active: Mapped[bool] = mapped_column(default=True)
    # Bumped by a password change and by "sign out everywhere": every session and remember-me cookie
    # carries the version it was issued under (get_id) and dies when it no longer matches.
    session_version: Mapped[int] = mapped_column(default=1, server_default="1")

    unit: Mapped[Unit | None] = relationship()

    @property
    def is_active(self):
        return self.active

    # Set by a login (contest.accounts.services.start_session): a random tag that makes this login's session id
    # and remember-me cookie unique, so logging out can revoke exactly that cookie. Not a column.
    login_nonce = None  # type: str | None

    def get_id(self):
        nonce = f":{self.login_nonce}" if self.login_nonce else ""
        return f"{self.id}:{self.session_version}{nonce}"

    def end_sessions(self):
        """Every session and remember-me cookie issued before this call stops working (commit to apply)."""
        self.session_version = (self.session_version or 1) + 1

    def set_password(self, password):
        self.password_hash = run_blocking(generate_password_hash, password, method="scrypt")

    def check_password(self, password):
        return run_blocking(check_password_hash, self.password_hash, password)

    def has_role(self, *roles):
        return self.role == "admin" or self.role in roles

    @property
    def masked_cccd(self):
        return f"********{self.cccd_last4}" if self.cccd_last4 else ""

    @property
    def masked_phone(self):
        return f"{self.phone[:3]}****{self.phone[-3:]}"


@login_manager.user_loader
def load_user(session_id):
    """Loads the user of a session or remember-me cookie ("id:version:nonce"); a stale version loads nobody."""
    user_id, _, rest = str(session_id).partition(":")
    version = rest.partition(":")[0]
    if not (user_id.isdigit() and version.isdigit()) or len(user_id) > 18 or len(version) > 18:
        return None
    user = db.session.get(User, int(user_id))
    if user is None or user.session_version != int(version):
        return None
    return user


class PasswordReset(Model):
    """A one-time password-reset link: only the SHA-256 of its secret is stored; used once, then dead.

    Requested by the account holder (sent by e-mail) or issued by an organiser (shown once to hand over);
    `issued_by_id` tells which. A reset, or a newer link, ends every other open link of the account.
    """

    __tablename__ = "password_resets"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    issued_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    requested_ip: Mapped[str | None] = mapped_column(String(64))

    user: Mapped[User] = relationship(foreign_keys=[user_id])
