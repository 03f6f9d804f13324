"""notify workers of new work (PostgreSQL LISTEN/NOTIFY)

Revision ID: 0008
Revises: 0004
Create Date: 2026-11-25 15:00:00
"""

from __future__ import annotations

from alembic import op

revision = "0008"
down_revision = "0004"
branch_labels = None
depends_on = None

TABLES = ("messages", "events")


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return  # SQLite: the one worker lives in the API process
    op.execute(
        """
        CREATE FUNCTION lynsms_notify_work() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            PERFORM pg_notify('lynsms_work', TG_TABLE_NAME);
            RETURN NULL;
        END $$
        """
    )
    for table in TABLES:  # once per statement: a bulk insert notifies once
        op.execute(
            f"CREATE TRIGGER {table}_notify_work AFTER INSERT ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION lynsms_notify_work()"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    for table in TABLES:
        op.execute(f"DROP TRIGGER IF EXISTS {table}_notify_work ON {table}")
    op.execute("DROP FUNCTION IF EXISTS lynsms_notify_work()")
