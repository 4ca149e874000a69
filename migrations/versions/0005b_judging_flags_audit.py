"""judging: stored review flags and provisional ranking; organiser actions in the audit log (object type/id); append-only triggers

Revision ID: 0005b_judging_flags_audit
Revises: 0005_judging
Create Date: 2026-11-23 12:05:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0005b_judging_flags_audit"
down_revision = "0005_judging"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "judging_review_flags",
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("flag", sa.String(length=20), nullable=False),
        sa.ForeignKeyConstraint(
            ["round_id"], ["rounds.id"], name=op.f("fk_judging_review_flags_round_id_rounds"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_judging_review_flags_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("round_id", "user_id", "flag", name=op.f("pk_judging_review_flags")),
    )
    with op.batch_alter_table("judging_review_flags", schema=None) as batch_op:
        batch_op.create_index("ix_judging_review_flags_round_flag", ["round_id", "flag"], unique=False)

    op.create_table(
        "judging_ranking_entries",
        sa.Column("round_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("rank", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("attempt_id", sa.BigInteger(), nullable=False),
        sa.Column("correct_count", sa.Integer(), nullable=True),
        sa.Column("question_count", sa.Integer(), nullable=False),
        sa.Column("time_taken_ms", sa.BigInteger(), nullable=True),
        sa.Column("submitted_at", sa.DateTime(), nullable=True),
        sa.Column("prediction", sa.BigInteger(), nullable=True),
        sa.Column("attempts_used", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["round_id"], ["rounds.id"], name=op.f("fk_judging_ranking_entries_round_id_rounds"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name=op.f("fk_judging_ranking_entries_user_id_users"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("round_id", "position", name=op.f("pk_judging_ranking_entries")),
    )
    with op.batch_alter_table("judging_ranking_entries", schema=None) as batch_op:
        batch_op.create_index("ix_judging_ranking_entries_round_user", ["round_id", "user_id"], unique=False)

    with op.batch_alter_table("judging_settings", schema=None) as batch_op:
        batch_op.add_column(sa.Column("flags_computed_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("flags_thresholds", sa.JSON(), nullable=True))
        batch_op.add_column(sa.Column("ranking_computed_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("ranking_key", sa.String(length=255), nullable=True))

    with op.batch_alter_table("judging_audit_log", schema=None) as batch_op:
        batch_op.add_column(sa.Column("object_type", sa.String(length=20), nullable=True))
        batch_op.add_column(sa.Column("object_id", sa.Integer(), nullable=True))
        batch_op.create_index("ix_judging_audit_log_object", ["object_type", "object_id"], unique=False)

    # The audit log is append-only in the database too, not only through the ORM.
    if op.get_bind().dialect.name == "postgresql":
        op.execute("""
            CREATE FUNCTION judging_audit_log_append_only() RETURNS trigger AS $$
            BEGIN
                RAISE EXCEPTION 'judging_audit_log is append-only';
            END;
            $$ LANGUAGE plpgsql
        """)
        op.execute("""
            CREATE TRIGGER judging_audit_log_append_only BEFORE UPDATE OR DELETE ON judging_audit_log
            FOR EACH ROW EXECUTE FUNCTION judging_audit_log_append_only()
        """)
    else:
        for event in ("UPDATE", "DELETE"):
            op.execute(f"""
                CREATE TRIGGER judging_audit_log_no_{event.lower()} BEFORE {event} ON judging_audit_log
                BEGIN SELECT RAISE(ABORT, 'judging_audit_log is append-only'); END
            """)


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER judging_audit_log_append_only ON judging_audit_log")
        op.execute("DROP FUNCTION judging_audit_log_append_only()")
    else:
        op.execute("DROP TRIGGER judging_audit_log_no_update")
        op.execute("DROP TRIGGER judging_audit_log_no_delete")

    with op.batch_alter_table("judging_audit_log", schema=None) as batch_op:
        batch_op.drop_index("ix_judging_audit_log_object")
        batch_op.drop_column("object_id")
        batch_op.drop_column("object_type")

    with op.batch_alter_table("judging_settings", schema=None) as batch_op:
        batch_op.drop_column("ranking_key")
        batch_op.drop_column("ranking_computed_at")
        batch_op.drop_column("flags_thresholds")
        batch_op.drop_column("flags_computed_at")

    with op.batch_alter_table("judging_ranking_entries", schema=None) as batch_op:
        batch_op.drop_index("ix_judging_ranking_entries_round_user")

    op.drop_table("judging_ranking_entries")

    with op.batch_alter_table("judging_review_flags", schema=None) as batch_op:
        batch_op.drop_index("ix_judging_review_flags_round_flag")

    op.drop_table("judging_review_flags")
