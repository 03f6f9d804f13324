"""early delivery reports: kept until the send they name is recorded

Revision ID: 0012
Revises: 0008
Create Date: 2026-11-25 15:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from lynsms.models.base import UTCDateTime

revision = "0012"
down_revision = "0008"  # uses 0008's lynsms_notify_work()
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "early_reports",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("provider", sa.String(length=32), nullable=False),
        sa.Column("provider_message_id", sa.String(length=128), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("provider_status", sa.String(length=64), nullable=False),
        sa.Column("error_code", sa.String(length=64), nullable=True),
        sa.Column("error_message", sa.String(length=500), nullable=True),
        sa.Column("occurred_at", UTCDateTime(timezone=True), nullable=True),
        sa.Column("received_at", UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("early_reports", schema=None) as batch_op:
        batch_op.create_index(
            "ix_early_reports_provider_message", ["provider", "provider_message_id"], unique=False
        )
        batch_op.create_index("ix_early_reports_received_at", ["received_at"], unique=False)
    if op.get_bind().dialect.name == "postgresql":  # wake the workers (see 0008)
        op.execute(
            "CREATE TRIGGER early_reports_notify_work AFTER INSERT ON early_reports "
            "FOR EACH STATEMENT EXECUTE FUNCTION lynsms_notify_work()"
        )


def downgrade() -> None:
    with op.batch_alter_table("early_reports", schema=None) as batch_op:
        batch_op.drop_index("ix_early_reports_received_at")
        batch_op.drop_index("ix_early_reports_provider_message")
    op.drop_table("early_reports")
