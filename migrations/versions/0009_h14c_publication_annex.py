"""verifiable publication and decision annex: a snapshot's public file (names and units as published, digest
format), the issuing body and place of a contest's decisions

Revision ID: 0009_h14c
Revises: 0009_h14a
Create Date: 2026-11-27 11:55:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0009_h14c"
down_revision = "0009_h14a"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("contests") as batch:
        batch.add_column(sa.Column("issuing_body", sa.String(length=300), nullable=False, server_default=""))
        batch.add_column(sa.Column("issuing_place", sa.String(length=100), nullable=False, server_default="Hà Nội"))
    with op.batch_alter_table("judging_snapshots") as batch:
        # 1: the digest of the original canonical lines (ids, microseconds); 2: SHA-256 of the public CSV file
        batch.add_column(sa.Column("digest_format", sa.Integer(), nullable=False, server_default="1"))
    with op.batch_alter_table("judging_snapshot_entries") as batch:
        batch.add_column(sa.Column("public_name", sa.String(length=200), nullable=True))
        batch.add_column(sa.Column("public_unit", sa.String(length=300), nullable=True))
        batch.add_column(sa.Column("public_province", sa.String(length=300), nullable=True))


def downgrade():
    with op.batch_alter_table("judging_snapshot_entries") as batch:
        batch.drop_column("public_province")
        batch.drop_column("public_unit")
        batch.drop_column("public_name")
    with op.batch_alter_table("judging_snapshots") as batch:
        batch.drop_column("digest_format")
    with op.batch_alter_table("contests") as batch:
        batch.drop_column("issuing_place")
        batch.drop_column("issuing_body")
