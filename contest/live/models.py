"""A live session (chung kết trực tiếp), its questions, players and their answers.

The game itself runs in Redis (contest.live.state); SQL holds the set-up, who joined, every answer
(written at each reveal, for the audit) and the final ranking (written at the end).
"""

from datetime import datetime

from sqlalchemy import JSON, BigInteger, CheckConstraint, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from infra.clock import utcnow
from infra.extensions import Model

MODES = ("points", "elimination")
RESCUES = ("none", "question", "manual")
LATE_JOINS = ("watch", "refuse")
MIN_SECONDS, MAX_SECONDS = 5, 120


class LiveSession(Model):
    __tablename__ = "live_sessions"
    __table_args__ = (
        CheckConstraint("mode IN ('points','elimination')", name="mode_valid"),
        CheckConstraint("rescue IN ('none','question','manual')", name="rescue_valid"),
        CheckConstraint("late_join IN ('watch','refuse')", name="late_join_valid"),
        CheckConstraint("status IN ('open','ended')", name="status_valid"),
        CheckConstraint("seconds_per_question BETWEEN 5 AND 120", name="seconds_valid"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    contest_id: Mapped[int] = mapped_column(ForeignKey("contests.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(300))
    pin: Mapped[str] = mapped_column(String(6))
    # The PIN while the session is open, NULL once it ended: unique among open sessions (NULLs never collide).
    open_pin: Mapped[str | None] = mapped_column(String(6), unique=True)
    mode: Mapped[str] = mapped_column(String(12), default="points")
    seconds_per_question: Mapped[int] = mapped_column(default=20)
    rescue: Mapped[str] = mapped_column(String(10), default="none")
    late_join: Mapped[str] = mapped_column(String(8), default="watch")
    status: Mapped[str] = mapped_column(String(8), default="open")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    ended_at: Mapped[datetime | None]
    published_at: Mapped[datetime | None]  # the judges published the final ranking
    published_digest: Mapped[str | None] = mapped_column(String(64))  # SHA-256 of the published ranking's lines

    contest = relationship("Contest")
    questions: Mapped[list["LiveSessionQuestion"]] = relationship(
        order_by="LiveSessionQuestion.position", cascade="all, delete-orphan"
    )


class LiveSessionQuestion(Model):
    """One question of the session, in the order the host shows them, with its options shuffled once."""

    __tablename__ = "live_session_questions"

    session_id: Mapped[int] = mapped_column(ForeignKey("live_sessions.id", ondelete="CASCADE"), primary_key=True)
    position: Mapped[int] = mapped_column(primary_key=True)  # 0-based
    question_id: Mapped[int] = mapped_column(ForeignKey("qb_questions.id", ondelete="RESTRICT"), index=True)
    option_order: Mapped[list] = mapped_column(JSON)  # option ids as shown A, B, C, D
    is_rescue: Mapped[bool] = mapped_column(default=False)

    question = relationship("Question")


class LivePlayer(Model):
    """Who joined (or watches); the final fields are written when the host ends the session."""

    __tablename__ = "live_players"
    __table_args__ = (UniqueConstraint("session_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("live_sessions.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    watch_only: Mapped[bool] = mapped_column(default=False)
    joined_at: Mapped[datetime] = mapped_column(default=utcnow)
    score: Mapped[int] = mapped_column(default=0)
    correct_count: Mapped[int] = mapped_column(default=0)
    total_time_ms: Mapped[int] = mapped_column(BigInteger, default=0)
    eliminated_at: Mapped[int | None]  # 1-based question number that eliminated the player (final state)
    final_order: Mapped[int | None]  # the game's order at the end (1 = best), kept when judges disqualify
    final_rank: Mapped[int | None]  # the rank among those not disqualified
    disqualified_reason: Mapped[str | None] = mapped_column(String(500))
    client_ip: Mapped[str | None] = mapped_column(String(45))  # at joining, for the judges' review flags

    user = relationship("User")


class LiveAnswer(Model):
    """One player's answer to one question (or its absence), as decided at the reveal."""

    __tablename__ = "live_answers"
    __table_args__ = (UniqueConstraint("session_id", "position", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("live_sessions.id", ondelete="CASCADE"), index=True)
    position: Mapped[int]
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    option_id: Mapped[int | None] = mapped_column(ForeignKey("qb_options.id", ondelete="RESTRICT"))
    elapsed_ms: Mapped[int | None]  # from the window's start, on Redis's clock
    is_correct: Mapped[bool] = mapped_column(default=False)
    points: Mapped[int] = mapped_column(default=0)
    outcome: Mapped[str] = mapped_column(String(12), default="")  # eliminated | rescued | "" (nothing changed)
