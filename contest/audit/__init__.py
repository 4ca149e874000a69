"""The append-only audit log of organisers' and judges' actions, and the page that shows all of it."""

from contest.audit.presentation import OBJECT_LABELS, present
from contest.audit.routes import bp
from contest.audit.services import audit_changes, audit_entries, audit_log, record_action

__all__ = ["OBJECT_LABELS", "audit_changes", "audit_entries", "audit_log", "bp", "present", "record_action"]
