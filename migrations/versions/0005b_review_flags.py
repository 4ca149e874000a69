"""judging: stored review flags (computed once, not on every page view)

Revision ID: 0005b_review_flags
Revises: 0005_judging
Create Date: 2026-11-23 12:05:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0005b_review_flags'
down_revision = '0005_judging'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('judging_review_flags',
    sa.Column('round_id', sa.Integer(), nullable=False),
    sa.Column('user_id', sa.Integer(), nullable=False),
    sa.Column('flag', sa.String(length=20), nullable=False),
    sa.ForeignKeyConstraint(['round_id'], ['rounds.id'], name=op.f('fk_judging_review_flags_round_id_rounds'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_judging_review_flags_user_id_users'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('round_id', 'user_id', 'flag', name=op.f('pk_judging_review_flags'))
    )
    with op.batch_alter_table('judging_review_flags', schema=None) as batch_op:
        batch_op.create_index('ix_judging_review_flags_round_flag', ['round_id', 'flag'], unique=False)

    with op.batch_alter_table('judging_settings', schema=None) as batch_op:
        batch_op.add_column(sa.Column('flags_computed_at', sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column('flags_thresholds', sa.JSON(), nullable=True))


def downgrade():
    with op.batch_alter_table('judging_settings', schema=None) as batch_op:
        batch_op.drop_column('flags_thresholds')
        batch_op.drop_column('flags_computed_at')

    with op.batch_alter_table('judging_review_flags', schema=None) as batch_op:
        batch_op.drop_index('ix_judging_review_flags_round_flag')

    op.drop_table('judging_review_flags')
