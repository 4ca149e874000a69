"""accounts: users.session_version, so a password change or "sign out everywhere" ends every other session

Revision ID: 0006_session_version
Revises: 0005b_judging_flags_audit
Create Date: 2026-11-27 09:00:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0006_session_version"
down_revision = "0005b_judging_flags_audit"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.add_column(sa.Column("session_version", sa.Integer(), server_default="1", nullable=False))


def downgrade():
    with op.batch_alter_table("users", schema=None) as batch_op:
        batch_op.drop_column("session_version")
