"""Writing and reading the audit log: one entry per action, in the caller's transaction; pages of history."""

from dataclasses import asdict
from datetime import datetime

from sqlalchemy import and_, or_, select

from contest.accounts.models import User
from contest.accounts.services import account_action, sessions_ended
from contest.audit.models import AuditEntry
from infra.clock import utcnow
from infra.extensions import db


def record_action(
    actor, action, round_=None, subject_user_id=None, reason=None, object_type=None, object_id=None, **details
):
    """Appends one entry to the audit log, in the caller's transaction (it commits with the change it records).

    Judging actions pass round_ (a foreign key: the round's judging history). Organiser actions pass the object
    they changed as object_type/object_id ("contest", "round", "unit", "question", "bank_import"...), kept without a
    foreign key so deleting a round or a draft does not have to delete its history. `actor` is a user, a user
    id, or None for the system; `details` is any JSON-serialisable summary of the change.
    """
    entry = AuditEntry(
        actor_id=getattr(actor, "id", actor),
        action=action,
        round_id=getattr(round_, "id", round_),
        subject_user_id=subject_user_id,
        reason=reason,
        details=details,
        at=utcnow(),
        object_type=object_type,
        object_id=getattr(object_id, "id", object_id),
    )
    db.session.add(entry)
    return entry


@sessions_ended.connect
def _record_sessions_ended(user, actor=None, reason=None, **_):
    """A password change or "sign out everywhere" ended every session of an account: one entry, same transaction."""
    record_action(actor, "sessions_ended", subject_user_id=user.id, reason=reason)


@account_action.connect
def _record_account_action(user, actor=None, action=None, **details):
    """Password-reset requests, links issued by an organiser and resets: one entry, same transaction."""
    record_action(actor, action, subject_user_id=user.id, object_type="user", object_id=user.id, **details)


def _jsonable(value):
    if isinstance(value, datetime):
        return value.isoformat(timespec="seconds")
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if hasattr(value, "__dataclass_fields__"):
        return _jsonable(asdict(value))
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)


def audit_changes(before: dict, after: dict) -> dict:
    """{field: [old, new]} for the fields that differ, as JSON values (for an audit entry's details)."""
    return {
        key: [_jsonable(before.get(key)), _jsonable(after.get(key))]
        for key in after
        if _jsonable(before.get(key)) != _jsonable(after.get(key))
    }


def audit_log(round_id, limit=200):
    """A round's history: judging actions on it and organiser actions on the round itself, newest first."""
    return db.session.scalars(
        select(AuditEntry)
        .where(
            or_(
                AuditEntry.round_id == round_id,
                and_(AuditEntry.object_type == "round", AuditEntry.object_id == round_id),
            )
        )
        .order_by(AuditEntry.id.desc())
        .limit(limit)
    ).all()


def audit_query(
    action_prefix=None, object_type=None, object_id=None, actor_id=None, action=None, since=None, until=None
):
    """The whole log (organisers' and judges' actions), newest first, filtered: by object, by the person who acted,
    by action code, and by time (naive UTC, since inclusive, until exclusive)."""
    query = select(AuditEntry)
    if action_prefix:
        query = query.where(AuditEntry.action.startswith(action_prefix, autoescape=True))
    if object_type:
        query = query.where(AuditEntry.object_type == object_type)
    if object_id is not None:
        query = query.where(AuditEntry.object_id == object_id)
    if actor_id is not None:
        query = query.where(AuditEntry.actor_id == actor_id)
    if action:
        query = query.where(AuditEntry.action == action)
    if since is not None:
        query = query.where(AuditEntry.at >= since)
    if until is not None:
        query = query.where(AuditEntry.at < until)
    return query.order_by(AuditEntry.id.desc())


def audit_entries(limit=100, offset=0, **filters):
    """One page of the filtered log (see audit_query)."""
    return db.session.scalars(audit_query(**filters).limit(limit).offset(offset)).all()


def audit_actors():
    """[(id, full name)] of everyone who has an entry in the log, by name (the log's person filter)."""
    return db.session.execute(
        select(User.id, User.full_name)
        .where(User.id.in_(select(AuditEntry.actor_id).where(AuditEntry.actor_id.is_not(None)).distinct()))
        .order_by(User.full_name, User.id)
    ).all()
