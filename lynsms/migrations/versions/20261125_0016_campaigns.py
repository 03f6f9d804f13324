"""campaigns and their frozen, paid-for recipients; messages by bulk and status

Revision ID: 0016
Revises: 0014
Create Date: 2026-11-25 19:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import lynsms.models.base

revision = "0016"
down_revision = "0014"
branch_labels = None
depends_on = "0008"  # lynsms_notify_work()

_TS = lynsms.models.base.UTCDateTime


def upgrade() -> None:
    op.create_table(
        "campaigns",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("account_id", sa.String(length=32), nullable=False),
        sa.Column("mode", sa.String(length=8), nullable=False),
        sa.Column("api_key_id", sa.String(length=32), nullable=True),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("from_number", sa.String(length=32), nullable=True),
        sa.Column("template_id", sa.String(length=32), nullable=True),
        sa.Column("body", sa.Text(), nullable=True),
        sa.Column("variables", sa.JSON(), nullable=False),
        sa.Column("audience", sa.JSON(), nullable=True),
        sa.Column("send_at", _TS(timezone=True), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.Column("skipped_opted_out", sa.Integer(), nullable=False),
        sa.Column("failed_at_launch", sa.Integer(), nullable=False),
        sa.Column("recipients", sa.Integer(), nullable=False),
        sa.Column("cursor", sa.Integer(), nullable=False),
        sa.Column("withdrawn", sa.Integer(), nullable=False),
        sa.Column("reserved_units", sa.BigInteger(), nullable=False),
        sa.Column("next_run_at", _TS(timezone=True), nullable=True),
        sa.Column("created_at", _TS(timezone=True), nullable=False),
        sa.Column("updated_at", _TS(timezone=True), nullable=False),
        sa.Column("launched_at", _TS(timezone=True), nullable=True),
        sa.Column("started_at", _TS(timezone=True), nullable=True),
        sa.Column("completed_at", _TS(timezone=True), nullable=True),
        sa.Column("cancelled_at", _TS(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_campaigns_account_id_accounts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_campaigns")),
    )
    with op.batch_alter_table("campaigns", schema=None) as batch_op:
        batch_op.create_index("ix_campaigns_account_id_id", ["account_id", "id"], unique=False)
        batch_op.create_index("ix_campaigns_due", ["status", "next_run_at"], unique=False)
    op.create_table(
        "campaign_recipients",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("campaign_id", sa.String(length=32), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("contact_id", sa.String(length=32), nullable=False),
        sa.Column("to_number", sa.String(length=32), nullable=False),
        sa.Column("country", sa.String(length=2), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("encoding", sa.String(length=8), nullable=False),
        sa.Column("segments", sa.Integer(), nullable=False),
        sa.Column("cost_units", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["campaign_id"],
            ["campaigns.id"],
            name=op.f("fk_campaign_recipients_campaign_id_campaigns"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_campaign_recipients")),
    )
    with op.batch_alter_table("campaign_recipients", schema=None) as batch_op:
        batch_op.create_index("uq_campaign_recipients_seq", ["campaign_id", "seq"], unique=True)
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.create_index(
            "ix_messages_bulk_id_status",
            ["bulk_id", "status"],
            unique=False,
            sqlite_where=sa.text("bulk_id IS NOT NULL"),
            postgresql_where=sa.text("bulk_id IS NOT NULL"),
        )

    if op.get_bind().dialect.name == "postgresql":  # a launch wakes every worker
        op.execute(
            "CREATE TRIGGER campaign_recipients_notify_work AFTER INSERT ON campaign_recipients "
            "FOR EACH STATEMENT EXECUTE FUNCTION lynsms_notify_work()"
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS campaign_recipients_notify_work ON campaign_recipients")
    with op.batch_alter_table("messages", schema=None) as batch_op:
        batch_op.drop_index("ix_messages_bulk_id_status")
    op.drop_table("campaign_recipients")
    op.drop_table("campaigns")
