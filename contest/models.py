"""Imports every model module so db.metadata (and Alembic) sees all tables."""
from contest.accounts.models import Unit, User  # noqa: F401
from question_bank.models import Category, Question, QuestionOption  # noqa: F401
