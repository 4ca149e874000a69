"""attempt_questions: per-attempt opaque references for the question and its options (no bank ids to clients)

Revision ID: 0006a_attempt_refs
Revises: 0006_session_version
Create Date: 2026-11-27 09:00:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0006a_attempt_refs"
down_revision = "0006_session_version"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("attempt_questions") as batch:
        batch.add_column(sa.Column("ref", sa.String(length=16), nullable=True))
        batch.add_column(sa.Column("option_refs", sa.JSON(), nullable=True))


def downgrade():
    with op.batch_alter_table("attempt_questions") as batch:
        batch.drop_column("option_refs")
        batch.drop_column("ref")
