"""accounts: the `host` role (runs a live final's console without the organisers' other rights); live finals:
the published ranking's digest and each player's address at joining (review flags)

Revision ID: 0009_h15
Revises: 0009_h14b
Create Date: 2026-11-27 11:10:00

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "0009_h15"
down_revision = "0009_h14b"
branch_labels = None
depends_on = None

OLD = "role IN ('contestant','organiser','judge','admin')"
NEW = "role IN ('contestant','organiser','judge','host','admin')"


def _users_check(old, new):
    if op.get_context().dialect.name == "sqlite":
        # SQLite cannot alter a CHECK; rebuilding `users` would cascade-delete through its foreign keys. The
        # documented way for a change that leaves the stored rows valid: edit the table's SQL in the schema and
        # bump the schema version (https://sqlite.org/lang_altertable.html, "otheralter").
        bind = op.get_bind()
        version = bind.exec_driver_sql("PRAGMA schema_version").scalar()
        bind.exec_driver_sql("PRAGMA writable_schema=ON")
        bind.exec_driver_sql(
            "UPDATE sqlite_master SET sql = replace(sql, ?, ?) WHERE type = 'table' AND name = 'users'", (old, new)
        )
        bind.exec_driver_sql(f"PRAGMA schema_version={int(version) + 1}")
        bind.exec_driver_sql("PRAGMA writable_schema=OFF")
    else:
        op.drop_constraint(op.f("ck_users_role_valid"), "users", type_="check")
        op.create_check_constraint(op.f("ck_users_role_valid"), "users", new)


def upgrade():
    _users_check(OLD, NEW)
    with op.batch_alter_table("live_sessions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("published_digest", sa.String(length=64), nullable=True))
    with op.batch_alter_table("live_players", schema=None) as batch_op:
        batch_op.add_column(sa.Column("client_ip", sa.String(length=45), nullable=True))


def downgrade():
    with op.batch_alter_table("live_players", schema=None) as batch_op:
        batch_op.drop_column("client_ip")
    with op.batch_alter_table("live_sessions", schema=None) as batch_op:
        batch_op.drop_column("published_digest")
    op.execute("UPDATE users SET role = 'contestant' WHERE role = 'host'")
    _users_check(NEW, OLD)
