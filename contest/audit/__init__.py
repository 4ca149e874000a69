"""The append-only audit log of organisers' and judges' actions, and the page that shows all of it."""

from contest.audit.routes import bp
from contest.audit.services import OBJECT_LABELS, audit_changes, audit_entries, audit_log, record_action

__all__ = ["OBJECT_LABELS", "audit_changes", "audit_entries", "audit_log", "bp", "record_action"]
