"""the prediction's target counts valid entries (not disqualified) unless a round's judges choose all entries

Revision ID: 0009_h14b
Revises: 0009_h14c
Create Date: 2026-11-27 11:20:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0009_h14b"
down_revision = "0009_h14c"
branch_labels = None
depends_on = None


def upgrade():
    op.add_column(
        "judging_settings",
        sa.Column("prediction_scope", sa.String(length=10), server_default="valid", nullable=False),
    )
    # A target fixed before this revision counted every entry: those rounds keep saying so.
    op.execute(
        "UPDATE judging_settings SET prediction_scope = 'all' "
        "WHERE round_id IN (SELECT id FROM rounds WHERE perfect_count_actual IS NOT NULL)"
    )


def downgrade():
    with op.batch_alter_table("judging_settings") as batch_op:
        batch_op.drop_column("prediction_scope")
