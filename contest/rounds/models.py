"""Contests, their rounds, attempts, the questions each attempt drew and the answers it saved.

Times are stored as naive UTC datetimes; the UI shows Asia/Ho_Chi_Minh.
"""

from datetime import datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    String,
    Table,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from contest.rounds.ranking_rule import DEFAULT_RANKING_RULE
from infra.clock import utcnow
from infra.extensions import Model, db

contest_units = Table(
    "contest_units",
    db.metadata,
    Column("contest_id", ForeignKey("contests.id", ondelete="CASCADE"), primary_key=True),
    Column("unit_id", ForeignKey("units.id", ondelete="CASCADE"), primary_key=True),
)


class Contest(Model):
    __tablename__ = "contests"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(120), unique=True)
    title: Mapped[str] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text, default="")
    rules_text: Mapped[str] = mapped_column(Text, default="")  # thể lệ
    banner_path: Mapped[str | None] = mapped_column(String(300))
    published: Mapped[bool] = mapped_column(default=False)
    # Who issues the contest's decisions and where (the printed decision annex): "Ban Tổ chức ...", "Hà Nội".
    issuing_body: Mapped[str] = mapped_column(String(300), default="", server_default="")
    issuing_place: Mapped[str] = mapped_column(String(100), default="Hà Nội", server_default="Hà Nội")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    rounds: Mapped[list["Round"]] = relationship(
        back_populates="contest", order_by="Round.number", cascade="all, delete-orphan"
    )
    eligible_units = relationship("Unit", secondary=contest_units)  # empty: everyone may take part


class Round(Model):
    """A weekly round (tuần thi): its window, time limit, blueprint, attempt limit and ranking rule."""

    __tablename__ = "rounds"
    __table_args__ = (
        UniqueConstraint("contest_id", "number"),
        CheckConstraint("closes_at > opens_at", name="window_valid"),
        CheckConstraint("time_limit_seconds > 0", name="time_limit_positive"),
        CheckConstraint("attempts_allowed IS NULL OR attempts_allowed > 0", name="attempts_positive"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    contest_id: Mapped[int] = mapped_column(ForeignKey("contests.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column(default=1)
    title: Mapped[str] = mapped_column(String(300))
    opens_at: Mapped[datetime]
    closes_at: Mapped[datetime]
    time_limit_seconds: Mapped[int] = mapped_column(default=20 * 60)
    blueprint: Mapped[list] = mapped_column(JSON, default=list)  # [BlueprintRule.to_dict(), ...]
    attempts_allowed: Mapped[int | None] = mapped_column(default=1)  # None: unlimited
    prediction_enabled: Mapped[bool] = mapped_column(default=True)
    prediction_text: Mapped[str] = mapped_column(
        Text, default="Theo bạn, sẽ có bao nhiêu người trả lời đúng tất cả các câu hỏi của tuần thi này?"
    )
    prediction_basis: Mapped[str] = mapped_column(String(10), default="people")  # or "attempts"
    shuffle_questions: Mapped[bool] = mapped_column(default=True)
    shuffle_options: Mapped[bool] = mapped_column(default=True)
    show_score_after_submit: Mapped[bool] = mapped_column(default=True)
    show_key_after_close: Mapped[bool] = mapped_column(default=True)
    ranking_rule: Mapped[list] = mapped_column(JSON, default=lambda: list(DEFAULT_RANKING_RULE))
    # Fixed when the round closes: the actual number of perfect-score entries (the prediction's target).
    perfect_count_actual: Mapped[int | None]

    contest: Mapped[Contest] = relationship(back_populates="rounds")

    @property
    def question_count(self):
        return sum(int(rule["count"]) for rule in self.blueprint or [])


class Attempt(Model):
    """One try at a round (lượt thi). The server's clock decides started_at, deadline_at, submitted_at."""

    __tablename__ = "attempts"
    __table_args__ = (
        UniqueConstraint("round_id", "user_id", "number"),
        CheckConstraint("status IN ('in_progress','submitted','expired')", name="status_valid"),
        Index("ix_attempts_round_user", "round_id", "user_id"),
        Index("ix_attempts_round_status", "round_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("rounds.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column(default=1)  # 1..attempts_allowed for this user in this round
    seed: Mapped[str] = mapped_column(String(64))  # reproduces the draw for an audit
    status: Mapped[str] = mapped_column(String(12), default="in_progress")
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    deadline_at: Mapped[datetime]
    submitted_at: Mapped[datetime | None]
    question_count: Mapped[int] = mapped_column(default=0)
    correct_count: Mapped[int | None]
    time_taken_ms: Mapped[int | None] = mapped_column(BigInteger)
    prediction: Mapped[int | None] = mapped_column(BigInteger)
    client_ip: Mapped[str | None] = mapped_column(String(64))
    device_id: Mapped[str | None] = mapped_column(String(64))

    round: Mapped[Round] = relationship()
    user = relationship("User")
    questions: Mapped[list["AttemptQuestion"]] = relationship(
        order_by="AttemptQuestion.position", cascade="all, delete-orphan"
    )


class AttemptQuestion(Model):
    """The questions an attempt drew, in the order shown, with the option order shown (for audit and scoring)."""

    __tablename__ = "attempt_questions"

    attempt_id: Mapped[int] = mapped_column(ForeignKey("attempts.id", ondelete="CASCADE"), primary_key=True)
    position: Mapped[int] = mapped_column(primary_key=True)
    question_id: Mapped[int] = mapped_column(ForeignKey("qb_questions.id", ondelete="RESTRICT"), index=True)
    option_order: Mapped[list] = mapped_column(JSON)
    # What the contestant's client sees instead of bank ids: a random reference for the question and one for each
    # option (aligned with option_order), drawn at start and unique within the attempt. They carry no order or
    # identity from the bank. NULL only on rows written before they existed (filled on the next load).
    ref: Mapped[str | None] = mapped_column(String(16))
    option_refs: Mapped[list | None] = mapped_column(JSON)


class AttemptAnswer(Model):
    """The latest saved answer to one question of an attempt, as written behind from the Redis stream."""

    __tablename__ = "attempt_answers"
    __table_args__ = (UniqueConstraint("attempt_id", "question_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    attempt_id: Mapped[int] = mapped_column(ForeignKey("attempts.id", ondelete="CASCADE"))
    question_id: Mapped[int] = mapped_column(ForeignKey("qb_questions.id", ondelete="RESTRICT"))
    selected: Mapped[list] = mapped_column(JSON)  # option ids
    seq: Mapped[int] = mapped_column(
        BigInteger, default=0
    )  # per-attempt sequence: a later write never loses to an earlier one
    answered_at: Mapped[datetime]
    is_correct: Mapped[bool | None]  # filled when the attempt is scored
