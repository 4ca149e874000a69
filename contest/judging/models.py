"""Judging records: per-round settings, prize tiers, disqualifications, published snapshots, the audit log."""

from datetime import datetime

from sqlalchemy import JSON, BigInteger, CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint, event
from sqlalchemy.orm import Mapped, mapped_column, relationship

from infra.clock import utcnow
from infra.extensions import Model


class JudgingSettings(Model):
    """Review thresholds of one round (the ranking rule itself lives on Round.ranking_rule)."""

    __tablename__ = "judging_settings"

    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id", ondelete="CASCADE"), primary_key=True)
    min_time_seconds: Mapped[int] = mapped_column(default=60)
    max_accounts_per_ip: Mapped[int] = mapped_column(default=5)  # offices share one NAT address
    max_accounts_per_device: Mapped[int] = mapped_column(default=1)
    # When the stored review flags (judging_review_flags) were last computed, and under which thresholds.
    flags_computed_at: Mapped[datetime | None]
    flags_thresholds: Mapped[dict | None] = mapped_column(JSON)
    # The stored provisional ranking (judging_ranking_entries): when, and for which inputs (see board.py).
    ranking_computed_at: Mapped[datetime | None]
    ranking_key: Mapped[str | None] = mapped_column(String(255))


class ReviewFlag(Model):
    """One reason to check a person's entry by hand, computed once (when the round is settled, when the thresholds
    change, or when a judge asks) and stored: the judge's pages read these rows instead of re-running the
    GROUP BY queries over a million attempts on every view."""

    __tablename__ = "judging_review_flags"
    __table_args__ = (Index("ix_judging_review_flags_round_flag", "round_id", "flag"),)

    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True)
    flag: Mapped[str] = mapped_column(String(20), primary_key=True)


class PrizeTier(Model):
    """One prize of a round, e.g. 2 × Giải Nhì; tiers are awarded in `position` order."""

    __tablename__ = "judging_prize_tiers"
    __table_args__ = (
        UniqueConstraint("round_id", "position"),
        CheckConstraint("winners > 0", name="winners_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id", ondelete="CASCADE"), index=True)
    position: Mapped[int]
    name: Mapped[str] = mapped_column(String(120))
    winners: Mapped[int]
    perfect_required: Mapped[bool] = mapped_column(default=False)


class Disqualification(Model):
    """A person's entry excluded from a round's ranking; reinstating deletes the row (the audit log keeps both)."""

    __tablename__ = "judging_disqualifications"
    __table_args__ = (UniqueConstraint("round_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    reason: Mapped[str] = mapped_column(Text)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    decided_at: Mapped[datetime] = mapped_column(default=utcnow)

    user = relationship("User", foreign_keys=[user_id])
    decided_by = relationship("User", foreign_keys=[decided_by_id])


class AuditEntry(Model):
    """One judge or organiser action: who, when, what, on which round, person or object, and why. Never edited.

    Judging actions name their round (round_id). Organiser actions name the object they changed by type and id
    (contest, round, unit, question, import...) without a foreign key, so the record outlives a deleted round or
    draft. The ORM refuses updates and deletes; database triggers (migration 0005b) refuse them in SQL too.
    """

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


class ResultSnapshot(Model):
    """A published, frozen ranking of a round. A later change publishes a new version; old ones stay."""

    __tablename__ = "judging_snapshots"
    __table_args__ = (UniqueConstraint("round_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id", ondelete="RESTRICT"), index=True)
    version: Mapped[int]
    published_at: Mapped[datetime] = mapped_column(default=utcnow)
    published_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"))
    ranking_rule: Mapped[list] = mapped_column(JSON)
    perfect_count_actual: Mapped[int | None]
    question_count: Mapped[int] = mapped_column(default=0)
    entry_count: Mapped[int] = mapped_column(default=0)
    winner_count: Mapped[int] = mapped_column(default=0)
    digest: Mapped[str] = mapped_column(String(64))  # SHA-256 hex of the canonical ranking lines
    note: Mapped[str] = mapped_column(Text, default="")

    published_by = relationship("User")


class SnapshotEntry(Model):
    """One ranked entry of a snapshot, with the personal data it was published with."""

    __tablename__ = "judging_snapshot_entries"

    snapshot_id: Mapped[int] = mapped_column(ForeignKey("judging_snapshots.id", ondelete="RESTRICT"), primary_key=True)
    position: Mapped[int] = mapped_column(primary_key=True)
    rank: Mapped[int]
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="RESTRICT"), index=True)
    attempt_id: Mapped[int] = mapped_column(BigInteger)
    correct_count: Mapped[int | None]
    question_count: Mapped[int] = mapped_column(default=0)
    time_taken_ms: Mapped[int | None] = mapped_column(BigInteger)
    submitted_at: Mapped[datetime | None]
    prediction: Mapped[int | None] = mapped_column(BigInteger)
    attempts_used: Mapped[int] = mapped_column(default=1)
    prize: Mapped[str | None] = mapped_column(String(120))


class RankingEntry(Model):
    """One row of a settled round's provisional ranking, stored so the judge's pages read a page by position
    instead of ranking a million attempts per view. Disqualified people are kept in it (the pages skip them
    and shift positions and ranks), so a disqualification or a reinstatement needs no recomputation."""

    __tablename__ = "judging_ranking_entries"
    __table_args__ = (Index("ix_judging_ranking_entries_round_user", "round_id", "user_id"),)

    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id", ondelete="CASCADE"), primary_key=True)
    position: Mapped[int] = mapped_column(primary_key=True)
    rank: Mapped[int]
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    attempt_id: Mapped[int] = mapped_column(BigInteger)
    correct_count: Mapped[int | None]
    question_count: Mapped[int] = mapped_column(default=0)
    time_taken_ms: Mapped[int | None] = mapped_column(BigInteger)
    submitted_at: Mapped[datetime | None]
    prediction: Mapped[int | None] = mapped_column(BigInteger)
    attempts_used: Mapped[int] = mapped_column(default=1)


def _refuse_change(mapper, connection, target):
    raise PermissionError(f"{type(target).__name__} is append-only: publish a new version or add an entry instead")


for _model in (AuditEntry, ResultSnapshot, SnapshotEntry):
    event.listen(_model, "before_update", _refuse_change)
    event.listen(_model, "before_delete", _refuse_change)
