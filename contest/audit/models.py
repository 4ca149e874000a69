"""The audit log's table: one row per organiser or judge action, never edited."""

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String, Text, event
from sqlalchemy.orm import Mapped, mapped_column, relationship

from infra.clock import utcnow
from infra.extensions import Model


class AuditEntry(Model):
    """One judge or organiser action: who, when, what, on which round, person or object, and why. Never edited.

    Judging actions name their round (round_id). Organiser actions name the object they changed by type and id
    (contest, round, unit, question, import...) without a foreign key, so the record outlives a deleted round or
    draft. The ORM refuses updates and deletes; database triggers (migration 0005b) refuse them in SQL too.
    """

    # The table keeps its historical name: it began as the judges' log (the triggers name it too).
    __tablename__ = "judging_audit_log"
    __table_args__ = (
        Index("ix_judging_audit_log_round_at", "round_id", "at"),
        Index("ix_judging_audit_log_object", "object_type", "object_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    action: Mapped[str] = mapped_column(String(40))
    round_id: Mapped[int | None] = mapped_column(ForeignKey("rounds.id", ondelete="RESTRICT"))
    subject_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    object_type: Mapped[str | None] = mapped_column(String(20))
    object_id: Mapped[int | None]
    reason: Mapped[str | None] = mapped_column(Text)
    details: Mapped[dict] = mapped_column(JSON, default=dict)

    actor = relationship("User", foreign_keys=[actor_id])
    subject = relationship("User", foreign_keys=[subject_user_id])


def refuse_change(mapper, connection, target):
    """An ORM before_update/before_delete listener for append-only records (the log, published snapshots)."""
    raise PermissionError(f"{type(target).__name__} is append-only: publish a new version or add an entry instead")


event.listen(AuditEntry, "before_update", refuse_change)
event.listen(AuditEntry, "before_delete", refuse_change)
