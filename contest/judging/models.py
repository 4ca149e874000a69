"""Judging records: settings, review flags, prize tiers, disqualifications, snapshots, the stored ranking."""

from datetime import datetime
from typing import ClassVar

from sqlalchemy import JSON, BigInteger, CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint, event
from sqlalchemy.orm import Mapped, declared_attr, mapped_column, relationship

from contest.audit.models import refuse_change
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
    # Whose perfect scores the prediction's target counts: "valid" entries (not disqualified; the published rules'
    # default) or "all" entries. See ranking.count_perfect.
    prediction_scope: Mapped[str] = mapped_column(String(10), default="valid", server_default="valid")


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
    min_correct: Mapped[int | None]  # an entry with fewer correct answers does not get this tier; None: no minimum


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
    digest: Mapped[str] = mapped_column(String(64))  # SHA-256 hex (digest_format says of what)
    # 1: of the canonical lines with internal ids (versions published before issue 14); 2: of the public CSV file
    # (publishing.public_csv_chunks), which anyone can download and check with sha256sum.
    digest_format: Mapped[int] = mapped_column(default=2, server_default="1")
    note: Mapped[str] = mapped_column(Text, default="")

    published_by = relationship("User")


# The columns a ranked entry is stored with, in table order, shared by a published snapshot's rows and the stored
# provisional ranking (RankedEntryColumns). It is also the order of ranking.Entry's first fields: the code that
# writes or reads these tables lists its columns from here (a test checks the three agree).
RANKED_COLUMNS = (
    "position",
    "rank",
    "user_id",
    "attempt_id",
    "correct_count",
    "question_count",
    "time_taken_ms",
    "submitted_at",
    "prediction",
    "attempts_used",
)


def _at(name):
    """A shared column's place in the table: after the table's own key (0), before any column it adds after."""
    return RANKED_COLUMNS.index(name) + 1


AFTER_RANKED_COLUMNS = len(RANKED_COLUMNS) + 1


class RankedEntryColumns:
    """The RANKED_COLUMNS of a ranked-entry table; each table declares its own key first and may add columns."""

    position: Mapped[int] = mapped_column(primary_key=True, sort_order=_at("position"))
    rank: Mapped[int] = mapped_column(sort_order=_at("rank"))

    @declared_attr
    def user_id(cls) -> Mapped[int]:
        # A snapshot keeps its people (RESTRICT, indexed to find a person's results); the stored ranking is a
        # cache that goes with them (CASCADE).
        return mapped_column(
            ForeignKey("users.id", ondelete=cls.user_ondelete), index=cls.user_indexed, sort_order=_at("user_id")
        )

    attempt_id: Mapped[int] = mapped_column(BigInteger, sort_order=_at("attempt_id"))
    correct_count: Mapped[int | None] = mapped_column(sort_order=_at("correct_count"))
    question_count: Mapped[int] = mapped_column(default=0, sort_order=_at("question_count"))
    time_taken_ms: Mapped[int | None] = mapped_column(BigInteger, sort_order=_at("time_taken_ms"))
    submitted_at: Mapped[datetime | None] = mapped_column(sort_order=_at("submitted_at"))
    prediction: Mapped[int | None] = mapped_column(BigInteger, sort_order=_at("prediction"))
    attempts_used: Mapped[int] = mapped_column(default=1, sort_order=_at("attempts_used"))

    user_ondelete: ClassVar[str]
    user_indexed: ClassVar[bool]


class SnapshotEntry(RankedEntryColumns, Model):
    """One ranked entry of a snapshot, with the personal data it was published with."""

    __tablename__ = "judging_snapshot_entries"
    user_ondelete = "RESTRICT"
    user_indexed = True

    snapshot_id: Mapped[int] = mapped_column(
        ForeignKey("judging_snapshots.id", ondelete="RESTRICT"), primary_key=True, sort_order=0
    )
    prize: Mapped[str | None] = mapped_column(String(120), sort_order=AFTER_RANKED_COLUMNS)
    # As published in the public file (a later change of name or unit does not change a published file).
    public_name: Mapped[str | None] = mapped_column(String(200), sort_order=AFTER_RANKED_COLUMNS)
    public_unit: Mapped[str | None] = mapped_column(String(300), sort_order=AFTER_RANKED_COLUMNS)
    public_province: Mapped[str | None] = mapped_column(String(300), sort_order=AFTER_RANKED_COLUMNS)


class RankingEntry(RankedEntryColumns, Model):
    """One row of a settled round's provisional ranking, stored so the judge's pages read a page by position
    instead of ranking a million attempts per view. Disqualified people are kept in it (the pages skip them
    and shift positions and ranks), so a disqualification or a reinstatement needs no recomputation."""

    __tablename__ = "judging_ranking_entries"
    __table_args__ = (Index("ix_judging_ranking_entries_round_user", "round_id", "user_id"),)
    user_ondelete = "CASCADE"
    user_indexed = False

    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id", ondelete="CASCADE"), primary_key=True, sort_order=0)


for _model in (ResultSnapshot, SnapshotEntry):
    event.listen(_model, "before_update", refuse_change)
    event.listen(_model, "before_delete", refuse_change)
