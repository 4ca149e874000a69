"""Imports every model module so db.metadata (and Alembic) sees all tables."""

from contest.accounts.models import Unit, User  # noqa: F401
from contest.audit.models import AuditEntry  # noqa: F401
from contest.judging.models import (  # noqa: F401
    Disqualification,
    JudgingSettings,
    PrizeTier,
    RankingEntry,
    ResultSnapshot,
    ReviewFlag,
    SnapshotEntry,
)
from contest.live.models import LiveAnswer, LivePlayer, LiveSession, LiveSessionQuestion  # noqa: F401
from contest.rounds.models import Attempt, AttemptAnswer, AttemptQuestion, Contest, Round  # noqa: F401
from question_bank.models import Category, Question, QuestionOption  # noqa: F401
