"""judging: a prize tier can require a minimum number of correct answers

Revision ID: 0006b_prize_tier_min_correct
Revises: 0006a_attempt_refs
Create Date: 2026-11-27 09:00:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0006b_prize_tier_min_correct"
down_revision = "0006a_attempt_refs"
branch_labels = None
depends_on = None


def upgrade():
    # A plain nullable column: ADD COLUMN on both SQLite and PostgreSQL, no table rebuild. NULL: no minimum.
    op.add_column("judging_prize_tiers", sa.Column("min_correct", sa.Integer(), nullable=True))


def downgrade():
    with op.batch_alter_table("judging_prize_tiers", schema=None) as batch_op:
        batch_op.drop_column("min_correct")
