"""usage rollup: messages summed per account, environment, UTC hour and day

Revision ID: 0017
Revises: 0014
Create Date: 2026-11-25 17:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import lynsms.models.base

revision = "0017"
down_revision = "0014"
branch_labels = None
depends_on = None

_KEY = ("account_id", "mode", "bucket", "direction", "provider", "country", "status")


def upgrade() -> None:
    op.create_table(
        "usage_rollup",
        sa.Column("account_id", sa.String(length=32), nullable=False),
        sa.Column("mode", sa.String(length=8), nullable=False),
        sa.Column("bucket", sa.String(length=16), nullable=False),
        sa.Column("direction", sa.String(length=8), nullable=False),
        sa.Column("provider", sa.String(length=16), nullable=False),
        sa.Column("country", sa.String(length=2), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("messages", sa.BigInteger(), nullable=False),
        sa.Column("segments", sa.BigInteger(), nullable=False),
        sa.Column("cost_units", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint(*_KEY, name=op.f("pk_usage_rollup")),
    )
    op.create_table(
        "usage_rollup_state",
        sa.Column("account_id", sa.String(length=32), nullable=False),
        sa.Column("mode", sa.String(length=8), nullable=False),
        sa.Column("watermark", lynsms.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_usage_rollup_state_account_id_accounts"),
        ),
        sa.PrimaryKeyConstraint("account_id", "mode", name=op.f("pk_usage_rollup_state")),
    )
    op.create_table(
        "usage_rollup_dirty",
        sa.Column("account_id", sa.String(length=32), nullable=False),
        sa.Column("mode", sa.String(length=8), nullable=False),
        sa.Column("hour", sa.String(length=13), nullable=False),
        sa.PrimaryKeyConstraint("account_id", "mode", "hour", name=op.f("pk_usage_rollup_dirty")),
    )
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.create_index(
            "ix_messages_changes", ["account_id", "mode", "updated_at", "created_at"], unique=False
        )
    if _sqlite_has_statistics():
        op.execute("ANALYZE ix_messages_changes")


def downgrade() -> None:
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.drop_index("ix_messages_changes")
    op.drop_table("usage_rollup_dirty")
    op.drop_table("usage_rollup_state")
    op.drop_table("usage_rollup")


def _sqlite_has_statistics() -> bool:
    bind = op.get_bind()
    if bind.dialect.name != "sqlite":
        return False
    found = bind.execute(sa.text("SELECT 1 FROM sqlite_master WHERE name = 'sqlite_stat1'"))
    return found.first() is not None
