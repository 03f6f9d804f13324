"""sinch batches: the batches of the Sinch XMS dialect and their messages

Revision ID: 0013
Revises: 0004
Create Date: 2026-11-25 16:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

import lynsms.models.base

revision = "0013"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "sinch_batches",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("account_id", sa.String(length=32), nullable=False),
        sa.Column("mode", sa.String(length=8), nullable=False),
        sa.Column("sender", sa.String(length=32), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("to", sa.JSON(), nullable=False),
        sa.Column("refused", sa.JSON(), nullable=False),
        sa.Column("parameters", sa.JSON(), nullable=True),
        sa.Column("delivery_report", sa.String(length=24), nullable=False),
        sa.Column("callback_url", sa.String(length=2048), nullable=True),
        sa.Column("client_reference", sa.String(length=2048), nullable=True),
        sa.Column("send_at", lynsms.models.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("expire_at", lynsms.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("canceled", sa.Boolean(), nullable=False),
        sa.Column("reported", sa.Boolean(), nullable=False),
        sa.Column("created_at", lynsms.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("modified_at", lynsms.models.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"], ["accounts.id"], name=op.f("fk_sinch_batches_account_id_accounts")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sinch_batches")),
    )
    op.create_index(
        "ix_sinch_batches_account_id_mode_id",
        "sinch_batches",
        ["account_id", "mode", "id"],
        unique=False,
    )
    op.create_table(
        "sinch_batch_messages",
        sa.Column("message_id", sa.String(length=32), nullable=False),
        sa.Column("batch_id", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["batch_id"],
            ["sinch_batches.id"],
            name=op.f("fk_sinch_batch_messages_batch_id_sinch_batches"),
        ),
        sa.PrimaryKeyConstraint("message_id", name=op.f("pk_sinch_batch_messages")),
    )
    op.create_index(
        op.f("ix_sinch_batch_messages_batch_id"),
        "sinch_batch_messages",
        ["batch_id"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index(op.f("ix_sinch_batch_messages_batch_id"), table_name="sinch_batch_messages")
    op.drop_table("sinch_batch_messages")
    op.drop_index("ix_sinch_batches_account_id_mode_id", table_name="sinch_batches")
    op.drop_table("sinch_batches")
