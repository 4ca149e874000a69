"""The legal question bank: categories, versioned questions and their options."""

from datetime import datetime

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from infra.clock import utcnow
from infra.extensions import Model

DIFFICULTIES = ("easy", "medium", "hard")
STATUSES = ("draft", "approved", "retired")


class Category(Model):
    """A node of the category tree, e.g. Hiến pháp › Quyền con người.

    `path` is the materialised path of ids ("/1/4/") so "this category and its subcategories"
    is one indexed prefix match.
    """

    __tablename__ = "qb_categories"

    id: Mapped[int] = mapped_column(primary_key=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("qb_categories.id", ondelete="RESTRICT"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    path: Mapped[str] = mapped_column(String(500), default="/", index=True)

    parent: Mapped["Category | None"] = relationship(remote_side=[id], back_populates="children")
    children: Mapped[list["Category"]] = relationship(back_populates="parent", order_by="Category.name")

    def names(self):
        node: Category | None = self
        names: list[str] = []
        while node is not None:
            names.append(node.name)
            node = node.parent
        return list(reversed(names))


class Question(Model):
    """One version of a question. Editing a used question makes a new row with the same `family_id`."""

    __tablename__ = "qb_questions"
    __table_args__ = (
        CheckConstraint("difficulty IN ('easy','medium','hard')", name="difficulty_valid"),
        CheckConstraint("status IN ('draft','approved','retired')", name="status_valid"),
        Index("ix_qb_questions_draw", "status", "category_id", "difficulty"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    family_id: Mapped[int | None] = mapped_column(index=True)
    version: Mapped[int] = mapped_column(default=1)
    is_current: Mapped[bool] = mapped_column(default=True)
    category_id: Mapped[int] = mapped_column(ForeignKey("qb_categories.id", ondelete="RESTRICT"))
    title: Mapped[str | None] = mapped_column(String(200))
    stem: Mapped[str] = mapped_column(Text)
    # Lower-cased, diacritics-stripped stem: accent-insensitive search and near-duplicate detection.
    stem_normalized: Mapped[str] = mapped_column(Text, default="")
    multi_select: Mapped[bool] = mapped_column(default=False)
    explanation: Mapped[str | None] = mapped_column(Text)
    legal_document: Mapped[str | None] = mapped_column(String(300))
    legal_article: Mapped[str | None] = mapped_column(String(200))
    difficulty: Mapped[str] = mapped_column(String(8), default="medium")
    tags: Mapped[str] = mapped_column(String(500), default="")
    status: Mapped[str] = mapped_column(String(10), default="draft")
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    reviewer_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    reviewed_at: Mapped[datetime | None]
    # Set while a reviewer has returned this draft to its author (ReviewNote "return"); cleared when it is edited.
    returned_at: Mapped[datetime | None]

    category: Mapped[Category] = relationship()
    options: Mapped[list["QuestionOption"]] = relationship(
        back_populates="question", order_by="QuestionOption.position", cascade="all, delete-orphan"
    )

    @property
    def correct_positions(self):
        return [o.position for o in self.options if o.is_correct]


class QuestionOption(Model):
    __tablename__ = "qb_options"

    id: Mapped[int] = mapped_column(primary_key=True)
    question_id: Mapped[int] = mapped_column(ForeignKey("qb_questions.id", ondelete="CASCADE"), index=True)
    position: Mapped[int]
    text: Mapped[str] = mapped_column(Text)
    is_correct: Mapped[bool] = mapped_column(default=False)

    question: Mapped[Question] = relationship(back_populates="options")


REVIEW_NOTE_KINDS = ("return", "resubmit")


class ReviewNote(Model):
    """The review history of a question family: a reviewer returning a draft to its author with a comment,
    the author sending it back for review. Kept per family, so a new version keeps the history of the old."""

    __tablename__ = "qb_review_notes"
    __table_args__ = (CheckConstraint("kind IN ('return','resubmit')", name="kind_valid"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    family_id: Mapped[int] = mapped_column(index=True)
    question_id: Mapped[int | None] = mapped_column(ForeignKey("qb_questions.id", ondelete="SET NULL"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    kind: Mapped[str] = mapped_column(String(10))
    comment: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
