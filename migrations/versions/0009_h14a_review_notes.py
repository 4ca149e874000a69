"""question bank: a reviewer returns a draft to its author with a comment (qb_review_notes, qb_questions.returned_at)

Revision ID: 0009_h14a
Revises: 0009_h13b
Create Date: 2026-11-27 11:10:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0009_h14a"
down_revision = "0009_h13b"
branch_labels = None
depends_on = None


def upgrade():
    # A plain nullable column: ADD COLUMN on both SQLite and PostgreSQL, no rebuild of the questions table.
    op.add_column("qb_questions", sa.Column("returned_at", sa.DateTime(), nullable=True))
    op.create_table(
        "qb_review_notes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("family_id", sa.Integer(), nullable=False),
        sa.Column("question_id", sa.Integer(), nullable=True),
        sa.Column("user_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("comment", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.CheckConstraint("kind IN ('return','resubmit')", name=op.f("ck_qb_review_notes_kind_valid")),
        sa.ForeignKeyConstraint(
            ["question_id"],
            ["qb_questions.id"],
            name=op.f("fk_qb_review_notes_question_id_qb_questions"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_qb_review_notes_user_id_users"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_qb_review_notes")),
    )
    with op.batch_alter_table("qb_review_notes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_qb_review_notes_family_id"), ["family_id"], unique=False)


def downgrade():
    with op.batch_alter_table("qb_review_notes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_qb_review_notes_family_id"))
    op.drop_table("qb_review_notes")
    with op.batch_alter_table("qb_questions", schema=None) as batch_op:
        batch_op.drop_column("returned_at")
